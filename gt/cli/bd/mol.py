from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from gt.cli.common import LazyGroup, Out, command as subcommand

if TYPE_CHECKING:
    from gt.beads.molecules import Molecule
    from gt.beads.tracker import Tracker


@click.group("mol", cls=LazyGroup)
def mol() -> None:
    """Molecules: formulas poured into beads (a root and a bead per step), and wisps that never sync.

    Example: bd mol pour quick-check --var target=api
    """


def _pour(out: Out, name: str, variables: tuple[str, ...], route_prefix: str | None, rig: str | None,
          wisp: bool) -> None:
    from gt.beads.formulas import load, parse_vars
    from gt.beads.molecules import pour
    from gt.dispatch.molecules import places
    from gt.town.context import routed

    given = parse_vars(variables)
    found = load(name, places(rig=rig))
    tracker = routed(prefix=route_prefix, rig=rig)
    edit = pour(tracker, out.signature(tracker.repo), found, given, wisp=wisp)
    root = edit.result
    steps = [i for i in edit.beads if i != root["id"]]
    out.emit({"root": root["id"], "formula": found.name, "steps": steps, "created": len(edit.beads),
              "phase": "vapor" if wisp else "liquid", "wisp": wisp}, root["id"])


VAR = click.option("--var", "variables", multiple=True, metavar="NAME=VALUE",
                   help="A value for the formula's {{NAME}} (repeatable).")
PREFIX = click.option("--prefix", "route_prefix", metavar="P", help="In a town: pour in the ledger whose prefix is P.")
RIG = click.option("--rig", metavar="NAME", help="In a town: pour in that rig's ledger.")


@subcommand("pour")
@click.argument("name")
@VAR
@PREFIX
@RIG
def pour_(out: Out, name: str, variables: tuple[str, ...], route_prefix: str | None, rig: str | None) -> None:
    """Pour formula NAME into a molecule (one commit: the root and a bead per step); prints the root's id.

    Example: bd mol pour quick-check --var target=api
    """
    _pour(out, name, variables, route_prefix, rig, wisp=False)


@subcommand("wisp")
@click.argument("name")
@VAR
@PREFIX
@RIG
def wisp(out: Out, name: str, variables: tuple[str, ...], route_prefix: str | None, rig: str | None) -> None:
    """Pour formula NAME as a wisp: a molecule on this machine's wisp ledger (refs/gt/wisps), never synced.

    Example: bd mol wisp quick-check --var target=api
    """
    _pour(out, name, variables, route_prefix, rig, wisp=True)


def _find(bead: str) -> tuple[Tracker, Molecule]:
    from gt.beads.molecules import locate, molecule
    from gt.town.context import routed

    holder, bead_id = locate(routed([bead]), bead)
    return holder, molecule(holder.view(), bead_id)


def _mine(out: Out) -> Molecule:
    """The molecule the caller works on: the one on its hook in a town; else the newest unclosed
    molecule assigned to it."""
    from gt.errors import GtError
    from gt.town.layout import find_town

    town = find_town()
    who = out.identity()
    if town is not None and who.role != "human":
        from gt.dispatch.molecules import hooked_molecule

        found = hooked_molecule(town, who.name)
        if found is None:
            raise GtError(f"no molecule on {who.name}'s hook: give a molecule id", code="not_found")
        return found
    from gt.beads.molecules import molecules
    from gt.town.context import routed

    tracker = routed()
    actor = out.signature(tracker.repo).name
    for candidate in molecules(tracker.view()):
        if candidate.root.get("status") != "closed" and candidate.root.get("assignee") == actor:
            return candidate
    raise GtError(f"no open molecule assigned to {actor}: give a molecule id", code="not_found")


def _step_line(number: int, step: Any, current: str | None) -> str:
    mark = "→" if step.id == current else " "
    state = "ready" if step.ready else step.status
    return f"{mark} {number}. [{state}] {step.id}: {step.title}"


@subcommand("show")
@click.argument("bead")
def show(out: Out, bead: str) -> None:
    """A molecule (its root or any step): its formula, values and steps with their status.

    Example: bd mol show gt-a3f8k
    """
    _, found = _find(bead)
    current = found.current()

    def text() -> str:
        lines = [f"{found.id}: {found.root.get('title')}  [{found.root.get('status')}]",
                 f"Formula: {found.formula}{'  (wisp)' if found.wisp else ''}   {found.done}/{len(found.steps)} steps closed"]
        values = found.as_dict()["vars"]
        if values:
            lines.append("Vars: " + ", ".join(f"{k}={v}" for k, v in values.items()))
        lines += [_step_line(n, s, current.id if current else None) for n, s in enumerate(found.steps, 1)]
        return "\n".join(lines)

    out.emit(found.as_dict(), text)


@subcommand("current")
@click.argument("bead", required=False)
def current(out: Out, bead: str | None) -> None:
    """The step to do now: the one in progress, else the first ready one in the formula's order.
    Without BEAD: the molecule on your hook (outside a town: the newest open one assigned to you).

    Example: bd mol current gt-a3f8k
    """
    found = _find(bead)[1] if bead else _mine(out)
    step = found.current()
    data = {"molecule": found.id, "formula": found.formula, "done": found.done, "total": len(found.steps),
            "complete": found.complete, "step": step.as_dict() if step else None,
            "next": [s.as_dict() for s in found.upcoming()]}

    def text() -> str:
        if step is not None:
            return f"{step.id}: {step.title}"
        if found.complete:
            return f"{found.id}: every step is closed"
        return f"{found.id}: no step is ready (the open ones wait)"

    out.emit(data, text)


@subcommand("progress")
@click.argument("bead")
def progress(out: Out, bead: str) -> None:
    """How far a molecule is: steps closed out of all, and each step's status.

    Example: bd mol progress gt-a3f8k
    """
    _, found = _find(bead)
    total = len(found.steps)
    data = {"molecule": found.id, "formula": found.formula, "done": found.done, "total": total,
            "percent": round(100 * found.done / total) if total else 100, "complete": found.complete,
            "steps": [{"id": s.id, "step": s.step, "status": s.status, "ready": s.ready} for s in found.steps]}

    def text() -> str:
        lines = [f"{found.id}: {found.done}/{total} steps closed ({data['percent']}%)"]
        lines += [f"  {s.step:20} {'ready' if s.ready else s.status}" for s in found.steps]
        return "\n".join(lines)

    out.emit(data, text)


@subcommand("squash")
@click.argument("bead")
@click.option("--summary", help="The digest's text (default: each step and how it ended).")
@click.option("--keep-children", is_flag=True, help="Leave the wisp in place after writing the digest.")
def squash(out: Out, bead: str, summary: str | None, keep_children: bool) -> None:
    """Condense a wisp into one closed digest bead on the shared ledger, and remove the wisp.

    A poured molecule is already permanent: it has nothing to squash.

    Example: bd mol squash gt-wisp-a3f8k --summary "lint and tests clean"
    """
    from gt.beads.molecules import squash as run
    from gt.town.context import routed

    tracker = routed([bead])
    result = run(tracker, out.signature(tracker.repo), bead, summary, keep_children)
    text = (f"Squashed {result['molecule_id']}: {result['squashed_count']} steps into digest {result['digest_id']}"
            if result["digest_id"] else f"{result['molecule_id']} is not a wisp: nothing to squash")
    out.emit(result, text)


@subcommand("burn")
@click.argument("bead")
def burn(out: Out, bead: str) -> None:
    """Discard a molecule with no digest: a wisp is removed; a poured molecule's beads are deleted.

    Example: bd mol burn gt-wisp-a3f8k
    """
    from gt.beads.molecules import burn as run
    from gt.town.context import routed

    tracker = routed([bead])
    result = run(tracker, out.signature(tracker.repo), bead)
    out.emit(result, f"Burned {result['molecule_id']}: {result['deleted_count']} beads")


for _command in (pour_, wisp, show, current, progress, squash, burn):
    mol.add_command(_command)

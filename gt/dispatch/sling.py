"""`gt sling`: put work on an agent's hook and start it (the propulsion principle).

A rig as target spawns (or reuses) a polecat: worktree and branch, identity, hook (before the
session starts), a convoy tracking the work unless it is tracked already, then the agent runtime.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from gt.errors import CapError, GtError, UsageError
from gt.ledger.store import Signature
from gt.town import rundir, settings as town_settings
from gt.town.settings import Settings
from gt.town.identity import parse
from gt.beads.tracker import Tracker
from gt.town.context import routed, Town

MERGE_MODES = ("mr", "direct", "local")


class Workers(Protocol):
    """What sling asks of the roles: polecats to name and set up, and agent runtimes to start."""

    def check_runtime(self, config: Settings, agent: str) -> None:
        """Refuse an agent runtime the settings do not define (before anything is written)."""

    def homes(self, town: Path, rig: str) -> list[str]:
        """The names of the rig's polecats that have a worktree."""

    def allocate(self, town: Path, rig: str, config: Settings, records: dict[str, dict[str, Any]],
                 taken: set[str]) -> str:
        """An idle polecat of the rig or a new name; CapError at the rig's cap (the bead is queued)."""

    def prepare(self, town: Path, rig: str, name: str, bead_id: str, config: Settings) -> tuple[Path, str]:
        """The polecat's worktree and branch for `bead_id`."""

    def start(self, town: Path, identity: str, worktree: Path, agent: str, config: Settings,
              model: str | None) -> int:
        """Start the agent's session; its pid."""


@dataclass
class Slung:
    bead: str
    agent: str
    worktree: str | None = None
    branch: str | None = None
    pid: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"bead": self.bead, "agent": self.agent, "worktree": self.worktree, "branch": self.branch,
                "pid": self.pid}


@dataclass
class Queued:
    """A bead slung at a rig at its cap: it waits on the ledger, status `queued` (gt.dispatch.queue)."""

    bead: str
    rig: str
    reason: str
    agent: str | None = None
    model: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"bead": self.bead, "rig": self.rig, "agent": self.agent, "model": self.model, "reason": self.reason}


@dataclass
class SlingReport:
    slung: list[Slung] = field(default_factory=list)
    queued: list[Queued] = field(default_factory=list)
    convoy: str | None = None
    skipped: list[str] = field(default_factory=list)  # dispatching: queued beads someone else took meanwhile

    def as_dict(self) -> dict[str, Any]:
        return {"slung": [s.as_dict() for s in self.slung], "queued": [q.as_dict() for q in self.queued],
                "convoy": self.convoy}


def split_target(town: Path, args: list[str], to: str | None) -> tuple[list[str], str | None]:
    """`BEAD… [TARGET]`: the last argument is the target when it names a rig or an agent."""
    from gt.town.rigs import registry

    if to or len(args) < 2:
        return args, to
    last = args[-1]
    if last in registry(town) or parse(last).role != "human" or "/" in last:
        return args[:-1], last
    return args, None


def sling(town: Path, actor: Signature, beads: list[str], target: str | None, workers: Workers, *,
          agent: str | None = None, model: str | None = None, convoy: bool = True, merge: str = "mr",
          force: bool = False, start: bool = True, dequeue: bool = False) -> SlingReport:
    """Hook each bead on an agent (a polecat each when the target is a rig), track them in a convoy and
    start the sessions; all or nothing up to the start. Beads beyond the rig's `max_polecats` or the
    town's `max_agents` are queued on the ledger instead (gt.dispatch.queue), in the same way.

    `dequeue` (the scheduler): the beads are queued ones; each is hooked only while it is still
    queued (else it is `skipped`), and one that finds no slot stays queued as it is."""
    from gt.dispatch import agents, convoys, queue
    from gt.town.rigs import registry

    if not beads:
        raise UsageError("which beads? give at least one bead id")
    if merge not in MERGE_MODES:
        raise UsageError(f"invalid merge mode {merge!r}: use one of {', '.join(MERGE_MODES)}")
    rigs = registry(town)
    target = target or actor.name
    who = parse(target)
    to_rig = target in rigs
    if not to_rig:
        agents.check_holder(target)  # dogs and infrastructure roles never hold project work
    if not to_rig and who.role == "human":
        raise GtError(f"no rig or agent named {target!r}", code="not_found")
    if not to_rig and who.rig and who.rig not in rigs:
        raise GtError(f"no rig named {who.rig}", code="not_found")
    if len(beads) > 1 and not to_rig:
        raise UsageError("several beads go to a rig (one polecat each); an agent's hook holds one")
    rig = target if to_rig else who.rig
    config = town_settings.load(town, rig)
    agent = agent or config.default_agent or None  # no built-in default: only what this machine's settings name
    if start:
        if not agent:
            raise UsageError("no agent runtime configured: the settings name no default_agent, so gt sling "
                             "would not know what to start; set default_agent (and its command under agents:) "
                             "in settings/config.yaml, pass --agent, or use --no-start")
        workers.check_runtime(config, agent)
    model = model or (config.models.get(agent) if agent else None)

    ids = []
    for query in beads:  # refuse before anything is written
        view = routed([query]).view()
        bead_id = Tracker.resolve(view, query)
        if not dequeue:  # the scheduler checks under the lock: a queued bead taken meanwhile is skipped
            agents.check_takeable(Tracker.get(view, bead_id), target, force)
        ids.append(bead_id)
    report = SlingReport()
    from filelock import FileLock

    with FileLock(str(queue.lock_path(town))):  # one allocation at a time: no polecat twice
        if dequeue:
            still = queue.still_queued(town, ids)
            report.skipped = [i for i in ids if i not in still]
            ids = still
        plan, waiting = _plan(town, rig, ids, target, to_rig, config, workers)
        reservations = [rundir.reserve(town, identity) for _, identity in plan]  # the witness keeps off
        try:
            for bead_id, identity in plan:
                slung = Slung(bead_id, identity)
                fields: dict[str, Any] = {"model": model, "agent": agent, "merge": merge}
                if parse(identity).role == "polecat":
                    home, branch = workers.prepare(town, str(rig), str(parse(identity).agent), bead_id, config)
                    slung.worktree, slung.branch = str(home), branch
                    fields.update(branch=branch, worktree=str(home.relative_to(town)))
                try:
                    agents.hook(town, actor, bead_id, identity, force=force,
                                only_from=queue.QUEUED if dequeue else None, **fields)
                except GtError as exc:
                    if exc.code != "skipped":
                        raise
                    report.skipped.append(bead_id)  # hooked or closed by someone else since the check
                    continue
                report.slung.append(slung)
            report.queued = [Queued(bead_id, str(rig), reason, agent, model) for bead_id, reason in waiting]
            if waiting and not dequeue:  # one commit per ledger, as a hook: the bead waits for a slot
                queue.enqueue(town, actor, [(q.bead, q.reason) for q in report.queued], str(rig), agent=agent,
                              model=model, merge=merge, start=start, convoy=convoy, force=force)
        except BaseException:
            for done in report.slung:  # all or nothing: the ones already hooked go back to open
                agents.unsling(town, actor, done.agent)
            for reservation in reservations:
                reservation.unlink(missing_ok=True)
            raise
    made = None  # the convoy this sling created, if any
    try:
        if convoy:  # after hooking: tracked work is never seen as stranded (ready, unhooked) meanwhile
            tracked = convoys.tracking(town, ids)
            untracked = [i for i in ids if i not in tracked]
            if untracked:
                report.convoy = made = convoys.create(town, actor, _title(untracked), untracked)["id"]
            elif tracked:
                report.convoy = next(iter(tracked.values()))[0]
        for number, slung in enumerate(report.slung):
            if start and slung.worktree is not None:
                try:
                    slung.pid = workers.start(town, slung.agent, Path(slung.worktree), str(agent), config, model)
                except GtError as exc:
                    for unstarted in report.slung[number:]:  # nobody would ever run them: back to open
                        agents.unsling(town, actor, unstarted.agent)
                    if made and not any(s.pid for s in report.slung):  # it would track work nobody runs
                        _drop_convoy(town, actor, made, f"gt sling could not start its work: {exc}")
                    raise
    finally:
        for reservation in reservations:
            reservation.unlink(missing_ok=True)
    return report


def _plan(town: Path, rig: str | None, ids: list[str], target: str, to_rig: bool,
          config: Settings, workers: Workers) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Which agent takes which bead: a polecat each in a rig (idle ones first), else the target; and
    the beads that wait, with why: those beyond the rig's or the town's cap, in the order given."""
    from gt.dispatch import agents, queue

    if not to_rig:
        return [(ids[0], target)] if ids else [], []
    records = agents.records(Town.at(town).rig_tracker(str(rig)).view())
    taken = {name for name in workers.homes(town, str(rig))
             if rundir.reserved(town, f"{rig}/polecats/{name}", 600)}  # being set up by another sling
    room = queue.town_room(town)  # None: no town-wide cap
    plan: list[tuple[str, str]] = []
    waiting: list[tuple[str, str]] = []
    for bead_id in ids:
        if waiting:  # the ones after a full slot wait too: the queue keeps the order they were given in
            waiting.append((bead_id, waiting[-1][1]))
            continue
        if room is not None and len(plan) >= room[0]:
            waiting.append((bead_id, f"town at its cap: max_agents {room[1]}"))
            continue
        try:
            name = workers.allocate(town, str(rig), config, records, taken)
        except CapError as exc:
            waiting.append((bead_id, f"rig at its cap: max_polecats {config.max_polecats}"
                                     + (f"; {exc.detail}" if exc.detail else "")))
            continue
        taken.add(name)
        plan.append((bead_id, f"{rig}/polecats/{name}"))
    return plan, waiting


def _drop_convoy(town: Path, actor: Signature, convoy_id: str, reason: str) -> None:
    """Delete the convoy a failed sling created (a tombstone: its history stays in the ledger)."""
    from gt.beads.operations import delete

    try:
        delete(Town.at(town).tracker(), actor, [convoy_id], force=True, reason=" ".join(reason.split())[:200])
    except GtError:
        pass  # the sling's own error is the one to report


def _title(ids: list[str]) -> str:
    if len(ids) == 1:
        return str(Tracker.get(routed(ids).view(), ids[0])["title"])  # a string: the model checks titles
    return f"Sling: {len(ids)} beads ({', '.join(ids[:3])}{', …' if len(ids) > 3 else ''})"


@dataclass
class PouredSling:
    """`gt sling --formula`: the molecule poured, and the sling of its root."""

    molecule: str
    formula: str
    steps: list[str]
    report: SlingReport

    def as_dict(self) -> dict[str, Any]:
        return {**self.report.as_dict(), "molecule": self.molecule, "formula": self.formula, "steps": self.steps}


def sling_formula(town: Path, actor: Signature, name: str, values: dict[str, str], target: str | None,
                  workers: Workers, **options: Any) -> PouredSling:
    """Pour formula `name` in the target's rig and sling the molecule's root (one agent walks every
    step; a convoy tracks the root). The formula, its values and the target are checked before
    anything is written; a sling that fails after the pour burns the molecule it poured."""
    from gt.beads.formulas import load
    from gt.beads.molecules import burn, pour
    from gt.dispatch.molecules import places
    from gt.town.rigs import registry

    if not target:
        raise UsageError("where to? give a rig (a polecat there walks the molecule) or an agent")
    rigs = registry(town)
    rig = target if target in rigs else parse(target).rig
    if not rig or rig not in rigs:
        raise GtError(f"no rig or rig agent named {target!r}: a molecule is poured in a rig's ledger", code="not_found")
    formula = load(name, places(str(town), rig=rig))
    formula.bind(values)  # refuse missing or unknown variables before the agent runtime is checked
    tracker = Town.at(town).rig_tracker(rig)
    edit = pour(tracker, actor, formula, values)
    root = str(edit.result["id"])
    try:
        report = sling(town, actor, [root], target, workers, **options)
    except BaseException:
        burn(tracker, actor, root)
        raise
    return PouredSling(root, formula.name, [i for i in edit.beads if i != root], report)

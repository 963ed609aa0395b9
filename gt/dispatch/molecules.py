"""Formulas and molecules in a town: the town's and rigs' formula folders, the molecule on an agent's
hook, and what `gt prime` and `gt done` say about it (the formats and pouring are gt.beads')."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from gt.beads.formulas import Place, repo_folder
from gt.beads.molecules import Molecule
from gt.town import layout

FOLDER = "formulas"  # a town's and a rig's own formulas: <town>/formulas/, <town>/<rig>/formulas/
SHOWN_NEXT = 4  # steps after the current one that `gt prime` names


def rig_of(town: Path, start: str | Path | None = None) -> str | None:
    """The rig whose folder holds `start` (default: cwd), if any."""
    here = Path(start or os.getcwd()).resolve()
    try:
        first = here.relative_to(town.resolve()).parts[:1]
    except ValueError:
        return None
    return first[0] if first and (town / first[0] / layout.RIG_REPO).is_dir() else None


def places(start: str | None = None, rig: str | None = None) -> list[Place]:
    """The formula search path from `start` (default: cwd), first match wins: the repository's
    `.beads/formulas/` (for a rig given by name: its mayor's checkout), the rig's `formulas/`, the
    town's `formulas/`; the built-ins come after these (gt.beads.formulas.load)."""
    from gt.ledger.gitdir import discover
    from gt.errors import GtError

    town = layout.find_town(start)
    found: list[Place] = []
    if rig and town is not None:
        found += repo_folder(str(town / rig / "mayor" / "rig"))
    else:
        try:
            found += repo_folder(discover(start).worktree)
        except GtError:
            pass  # not in a repository: no repository formulas
    if town is not None:
        rig = rig or rig_of(town, start)
        if rig:
            found.append(Place(f"rig {rig}", town / rig / FOLDER))
        found.append(Place("town", town / FOLDER))
    return found


def hooked_molecule(town: Path, identity: str) -> Molecule | None:
    """The molecule whose root is on `identity`'s hook (None: an empty hook or a plain bead)."""
    from gt.beads.molecules import molecule, root_info
    from gt.dispatch.agents import on_hook
    from gt.town.context import routed

    _, bead = on_hook(town, identity)
    if not bead or root_info(bead) is None:
        return None
    return molecule(routed([bead["id"]]).view(), str(bead["id"]))


def summary(mol: Molecule) -> dict[str, Any]:
    """What `gt prime --json` says of the molecule on the hook: progress, the current and next steps."""
    now = mol.current()
    return {"id": mol.id, "formula": mol.formula, "done": mol.done, "total": len(mol.steps),
            "current": now.as_dict() if now else None,
            "next": [s.as_dict() for s in mol.upcoming(SHOWN_NEXT)]}


def prime_lines(data: dict[str, Any]) -> list[str]:
    """The prime's lines about the molecule on the hook (`data` is `summary`'s)."""
    lines = ["", f"## Molecule {data['id']} (formula {data['formula']}): {data['done']}/{data['total']} steps closed"]
    now = data["current"]
    if now:
        lines.append(f"Current step: {now['id']}: {now['title']}")
        lines.append(f"Do it (`bd show {now['id']}` for the instructions), then `bd close {now['id']}`; "
                     "`bd mol current` says what is next.")
    elif data["done"] == data["total"]:
        lines.append("Every step is closed: run `gt done`.")
    else:
        lines.append("No step is ready: the open ones wait on something else (`bd mol show`).")
    for step in data["next"]:
        lines.append(f"- then {step['id']}: {step['title']}" + ("" if step["ready"] else " (waits)"))
    return lines


def check_done(town: Path, identity: str) -> None:
    """Refuse `gt done` for a molecule on the hook while some of its steps are open."""
    from gt.errors import GtError

    mol = hooked_molecule(town, identity)
    if mol is None or mol.complete:
        return
    left = [s.id for s in mol.steps if s.status != "closed"]
    raise GtError(f"molecule {mol.id} has {len(left)} open step{'s' if len(left) > 1 else ''} "
                  f"({', '.join(left[:5])}{', …' if len(left) > 5 else ''}): close them first "
                  "(`bd mol current`), or escalate with `gt done --status ESCALATED -m WHY`", code="refused")

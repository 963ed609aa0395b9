"""Polecats: transient workers, each a worktree of the rig's `.repo.git` at `<rig>/polecats/<name>/`
on its own branch, named from the town's name pool (names are unique in the town)."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from gt.errors import CapError, GtError, UsageError
from gt.ledger import git
from gt.town import layout
from gt.town.rigs import bind_identity, registry

if TYPE_CHECKING:
    from gt.dispatch.sling import SlingReport
    from gt.ledger.store import Signature
    from gt.town.settings import Settings


def homes(town: Path, rig: str) -> list[str]:
    folder = layout.rig_dir(town, rig) / "polecats"
    return sorted(p.name for p in folder.iterdir() if (p / ".git").exists()) if folder.is_dir() else []


def names_in_use(town: Path) -> set[str]:
    return {name for rig in registry(town) for name in homes(town, rig)}


PARKED_STATES = ("stuck", "escalated")  # waiting for a person: they keep their worktree but not a slot


def parked_state(record: dict[str, Any] | None) -> bool:
    """Whether the polecat waits for a person (stuck or escalated): it does not count against the cap."""
    return (record or {}).get("state") in PARKED_STATES


def allocate(town: Path, rig: str, settings: Settings, records: dict[str, dict[str, Any]],
             taken: set[str]) -> str:
    """An idle polecat of the rig with a clean worktree, or a new name from the pool; CapError at the
    rig's cap (stuck or escalated polecats, and idle ones with uncommitted changes, do not count)."""
    existing = homes(town, rig)
    unclean: list[str] = []  # idle, but its worktree has uncommitted changes: it waits for a person
    for name in existing:
        record = records.get(f"{rig}/polecats/{name}") or {}
        if name not in taken and not record.get("hook") and record.get("state", "idle") == "idle":
            if _clean(layout.rig_dir(town, rig) / "polecats" / name):
                return name
            unclean.append(name)
    parked = [n for n in existing if n not in taken and parked_state(records.get(f"{rig}/polecats/{n}"))]
    parked += unclean
    count = len(existing) - len(parked) + len(taken - set(existing))  # these wait for a person
    cap = settings.max_polecats
    if count >= cap:
        busy = [n for n in existing if n not in taken and n not in parked]  # the others: being set up by a sling
        parts = [f"{len(busy)} busy ({', '.join(busy[:5])}{', …' if len(busy) > 5 else ''})"] if busy else []
        if count - len(busy):
            parts.append(f"{count - len(busy)} being set up by gt sling (its other beads count too)")
        raise CapError(f"rig {rig} is at its cap (max_polecats: {cap}): {'; '.join(parts) or 'no polecat may run'}; "
                       "wait for one to finish, sling fewer beads at once, or raise the cap",
                       '; '.join(parts) or 'no polecat may run')
    used = names_in_use(town) | taken
    pool = settings.name_pool or ["polecat"]
    for round_number in range(1, 1000):
        for name in pool:
            candidate = name if round_number == 1 else f"{name}{round_number}"
            if candidate not in used:
                return candidate
    raise GtError("no free polecat name")


def _clean(home: Path) -> bool:
    """Whether the worktree has no uncommitted changes (one git cannot read is not clean)."""
    try:
        return not git.is_dirty(home)
    except GtError:
        return False


def prepare(town: Path, rig: str, name: str, bead_id: str, settings: Settings) -> tuple[Path, str]:
    """The polecat's worktree on a fresh branch for `bead_id` from the default branch."""
    config = registry(town)[rig]
    default = config.get("default_branch", "main")
    repo = layout.rig_dir(town, rig) / layout.RIG_REPO
    home = layout.rig_dir(town, rig) / "polecats" / name
    try:
        branch = settings.polecat_branch.format(name=name, bead=bead_id, rig=rig)
    except (KeyError, IndexError, ValueError):
        raise UsageError(f"polecat_branch {settings.polecat_branch!r}: the placeholders are {{name}}, {{bead}} "
                         "and {rig}") from None
    exists = git.run(f"--git-dir={repo}", "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}",
                        check=False).returncode == 0
    if home.exists():
        if git.is_dirty(home):
            raise GtError(f"{home} has uncommitted changes: clean it before reusing the polecat", code="refused")
        git.output("-C", str(home), "checkout", "--quiet", *( [branch] if exists else ["-b", branch, default]))
    else:
        start = [branch] if exists else ["-b", branch, default]
        git.output(f"--git-dir={repo}", "worktree", "add", "--quiet", str(home), *start)
    bind_identity(home, f"{rig}/polecats/{name}", worktree=True)
    return home, branch


class Workers:
    """The polecats and agent runtimes `gt sling` hands work to (see gt.dispatch.sling.Workers)."""

    homes = staticmethod(homes)
    allocate = staticmethod(allocate)
    prepare = staticmethod(prepare)

    @staticmethod
    def check_runtime(config: Settings, agent: str) -> None:
        from gt.roles import runtimes

        runtimes.check(config, agent)

    @staticmethod
    def start(town: Path, identity: str, worktree: Path, agent: str, config: Settings,
              model: str | None) -> int:
        from gt.roles import runtimes

        return int(runtimes.start(town, identity, worktree, agent, config, model)["pid"])


def sling(town: Path, actor: Signature, beads: list[str], target: str | None, **options: Any) -> SlingReport:
    """`gt sling` with this town's polecats and agent runtimes."""
    from gt.dispatch.sling import sling as hook_and_start

    return hook_and_start(town, actor, beads, target, Workers(), **options)


def dispatch(town: Path, actor: Signature, rig: str | None = None) -> list[dict[str, Any]]:
    """The scheduler's pass with this town's polecats and agent runtimes (see gt.dispatch.queue)."""
    from gt.dispatch import queue

    return queue.dispatch(town, actor, Workers(), rig)

"""Polecats: transient workers, each a worktree of the rig's `.repo.git` at `<rig>/polecats/<name>/`
on its own branch, named from the town's name pool (names are unique in the town)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from gt.errors import GtError
from gt.ledger import gitcmd
from gt.town import layout
from gt.work.rigs import bind_identity, git, owner_email, registry


def homes(town: Path, rig: str) -> list[str]:
    folder = layout.rig_dir(town, rig) / "polecats"
    return sorted(p.name for p in folder.iterdir() if (p / ".git").exists()) if folder.is_dir() else []


def names_in_use(town: Path) -> set[str]:
    return {name for rig in registry(town) for name in homes(town, rig)}


def allocate(town: Path, rig: str, settings: dict[str, Any], records: dict[str, dict[str, Any]],
             taken: set[str]) -> str:
    """An idle polecat of the rig, or a new name from the pool; refuses at the rig's cap."""
    existing = homes(town, rig)
    for name in existing:
        record = records.get(f"{rig}/polecats/{name}") or {}
        if name not in taken and not record.get("hook") and record.get("state", "idle") == "idle":
            return name
    count = len(existing) + len(taken - set(existing))
    cap = int(settings.get("max_polecats", 8))
    if count >= cap:
        raise GtError(f"rig {rig} has {count} polecats, its cap (max_polecats: {cap}): "
                      "wait for one to finish or raise the cap", code="cap")
    used = names_in_use(town) | taken
    pool = [str(n) for n in settings.get("name_pool") or []] or ["polecat"]
    for round_number in range(1, 1000):
        for name in pool:
            candidate = name if round_number == 1 else f"{name}{round_number}"
            if candidate not in used:
                return candidate
    raise GtError("no free polecat name")


def prepare(town: Path, rig: str, name: str, bead_id: str, settings: dict[str, Any]) -> tuple[Path, str]:
    """The polecat's worktree on a fresh branch for `bead_id` from the default branch."""
    config = registry(town)[rig]
    default = config.get("default_branch", "main")
    repo = layout.rig_dir(town, rig) / layout.RIG_REPO
    home = layout.rig_dir(town, rig) / "polecats" / name
    branch = str(settings.get("polecat_branch", "polecat/{name}/{bead}")).format(name=name, bead=bead_id, rig=rig)
    exists = gitcmd.run(f"--git-dir={repo}", "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}",
                        check=False).returncode == 0
    if home.exists():
        if git("-C", str(home), "status", "--porcelain").strip():
            raise GtError(f"{home} has uncommitted changes: clean it before reusing the polecat", code="refused")
        git("-C", str(home), "checkout", "--quiet", *( [branch] if exists else ["-b", branch, default]))
    else:
        start = [branch] if exists else ["-b", branch, default]
        git(f"--git-dir={repo}", "worktree", "add", "--quiet", str(home), *start)
    bind_identity(home, f"{rig}/polecats/{name}", owner_email(town), worktree=True)
    return home, branch

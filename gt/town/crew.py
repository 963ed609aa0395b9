"""`gt crew add/list/remove`: persistent, human-directed clones of a rig at `<rig>/crew/<name>/`.

A crew clone is a full clone of the rig's `.repo.git`, pushes to its default branch directly, and
commits as `<rig>/crew/<name>` (git config in the clone). Its `.beads/redirect` sends `bd` to the
rig's one ledger: no clone keeps a private copy that would need syncing.
"""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from gt.errors import GtError, UsageError
from gt.ledger import git
from gt.ledger.store import check_key
from gt.town import layout
from gt.town.rigs import bind_identity, registry


def _home(town: Path, rig: str, name: str) -> Path:
    if rig not in registry(town):
        raise GtError(f"no rig named {rig}", code="not_found")
    try:
        check_key(name)
    except GtError:
        raise UsageError(f"invalid crew name {name!r}: use lowercase letters, digits, '.', '_' and '-'") from None
    return layout.rig_dir(town, rig) / "crew" / name


def add(town: Path, rig: str, name: str) -> dict[str, Any]:
    home = _home(town, rig, name)
    if home.exists():
        raise GtError(f"{home} exists already", code="exists")
    repo = layout.rig_dir(town, rig) / layout.RIG_REPO
    identity = f"{rig}/crew/{name}"
    try:
        git.output("clone", "--quiet", str(repo), str(home))
        bind_identity(home, identity, worktree=False)
        from gt.ledger.gitdir import discover
        from gt.githooks import install as git_hooks

        git_hooks.install(discover(str(home), follow_redirect=False), git_hooks.CLONE_HOOKS)
        (home / ".beads").mkdir(exist_ok=True)
        (home / layout.REDIRECT).write_text(f"../../{layout.RIG_REPO}\n")
        exclude = home / ".git" / "info" / "exclude"
        exclude.parent.mkdir(parents=True, exist_ok=True)
        with exclude.open("a") as f:
            f.write(".beads/\n")
    except BaseException:
        shutil.rmtree(home, ignore_errors=True)
        raise
    return {"identity": identity, "path": str(home)}


def members(town: Path, rig: str) -> list[str]:
    folder = layout.rig_dir(town, rig) / "crew"
    return sorted(p.name for p in folder.iterdir() if (p / ".git").exists()) if folder.is_dir() else []


def remove(town: Path, rig: str, name: str, force: bool = False) -> None:
    home = _home(town, rig, name)
    if not home.exists():
        raise GtError(f"no crew member {rig}/crew/{name}", code="not_found")
    if not force:
        unpushed, dirty = git.unpushed(home), git.is_dirty(home)
        if unpushed or dirty:
            what = f"{unpushed} unpushed commits" if unpushed else "uncommitted changes"
            raise GtError(f"{rig}/crew/{name} has {what}: push them or use --force", code="refused")
    shutil.rmtree(home)

"""`gt worktree RIG/list/remove`: a crew member working in another rig keeps its own identity.

`gastown/crew/joe` running `gt worktree beads` gets `<town>/beads/crew/gastown-joe/`, a linked
worktree of the beads rig's `.repo.git` on branch `crew/gastown-joe`, whose own git config says
`gastown/crew/joe`: its commits and ledger writes land on joe's record. Landing the work is a push
into the rig's repository: `git push . HEAD:<default branch>` from the worktree.
"""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from gt.errors import GtError
from gt.ledger import git
from gt.town import layout
from gt.town.identity import Identity, git_config
from gt.town.rigs import bind_identity, registry


def _owner(who: Identity) -> tuple[str, str]:
    if who.role != "crew" or not who.rig or not who.agent:
        raise GtError(f"{who.name} is not a crew member: run this in your crew clone (<town>/<rig>/crew/<name>), "
                      "or pass --actor <rig>/crew/<name>", code="no_identity")
    return who.rig, who.agent


def _target(town: Path, rig: str, who: Identity) -> tuple[dict[str, Any], Path, str]:
    rigs = registry(town)
    if rig not in rigs:
        raise GtError(f"no rig named {rig}", code="not_found")
    source, name = _owner(who)
    if source == rig:
        raise GtError(f"{who.name} already has a clone of {rig}: work there", code="refused")
    label = f"{source}-{name}"
    return rigs[rig], layout.rig_dir(town, rig) / "crew" / label, f"crew/{label}"


def add(town: Path, rig: str, who: Identity) -> dict[str, Any]:
    """Create the caller's worktree of `rig`, committing as the caller."""
    config, path, branch = _target(town, rig, who)
    if path.exists():
        raise GtError(f"{path} exists already", code="exists")
    repo = layout.rig_dir(town, rig) / layout.RIG_REPO
    exists = git.run(f"--git-dir={repo}", "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}",
                        check=False).returncode == 0
    start = [branch] if exists else ["-b", branch, config.get("default_branch", "main")]
    try:
        git.output(f"--git-dir={repo}", "worktree", "add", "--quiet", str(path), *start)
        bind_identity(path, who.name, worktree=True)
    except BaseException:
        git.run(f"--git-dir={repo}", "worktree", "remove", "--force", str(path), check=False)
        shutil.rmtree(path, ignore_errors=True)
        raise
    return {"identity": who.name, "rig": rig, "path": str(path), "branch": branch}


def listing(town: Path, who: Identity | None) -> list[dict[str, Any]]:
    """The cross-rig worktrees in the town (only `who`'s when given)."""
    from gt.ledger.gitdir import discover

    found = []
    for rig in registry(town):
        folder = layout.rig_dir(town, rig) / "crew"
        for path in sorted(folder.iterdir()) if folder.is_dir() else ():
            if not (path / ".git").is_file():
                continue  # a crew member's own clone, not a worktree
            owner = git_config(discover(str(path), follow_redirect=False), "gt", "identity")
            if who is None or owner == who.name:
                found.append({"identity": owner, "rig": rig, "path": str(path), "branch": f"crew/{path.name}"})
    return found


def remove(town: Path, rig: str, who: Identity, force: bool = False) -> dict[str, Any]:
    """Remove the caller's worktree of `rig`; refuses uncommitted or unlanded work unless `force`."""
    config, path, branch = _target(town, rig, who)
    if not path.exists():
        raise GtError(f"{who.name} has no worktree in {rig}", code="not_found")
    from gt.ledger.gitdir import discover

    owner = git_config(discover(str(path), follow_redirect=False), "gt", "identity") if (path / ".git").is_file() else None
    if owner != who.name:
        raise GtError(f"{path} belongs to {owner or 'nobody'}, not {who.name}: not removed", code="refused")
    repo = layout.rig_dir(town, rig) / layout.RIG_REPO
    default = config.get("default_branch", "main")
    if not force:
        dirty, unlanded = git.is_dirty(path), git.unlanded(repo, branch, default)
        if dirty or unlanded != 0:
            what = "uncommitted changes" if dirty else \
                f"{unlanded} commits not on {default}" if unlanded else f"commits git cannot compare with {default}"
            raise GtError(f"{path} has {what}: land them (git push . HEAD:{default}) or use --force", code="refused")
    git.output(f"--git-dir={repo}", "worktree", "remove", "--force", str(path))
    if not force:
        git.run(f"--git-dir={repo}", "branch", "-D", branch, check=False)  # fully landed: nothing is lost
    return {"removed": str(path)}

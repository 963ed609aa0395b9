"""Installing the git hook scripts from `hooks/` into a repository (keeping any hook it had)."""
from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

from gt.errors import GtError
from gt.ledger.gitdir import RepoPaths
from gt.beads.guard import USER_HOOK_SUFFIX

HOOKS_DIR = Path(__file__).resolve().parents[2] / "hooks"
MARKER = "installed by `bd hooks install`"
SHIPPED = ("pre-receive",)  # what `bd hooks install` puts in a repository others push to
CLONE_HOOKS = ("prepare-commit-msg", "commit-msg", "post-commit")  # an agent's clone (crew)
RIG_HOOKS = ("pre-receive", "post-receive") + CLONE_HOOKS  # a rig's .repo.git: all its worktrees share them
ALL = RIG_HOOKS


def install(repo: RepoPaths, names: tuple[str, ...] = SHIPPED) -> list[str]:
    """Write our hooks into the repository's hooks folder; a foreign hook is kept as `<name>.user`."""
    target = Path(repo.commondir) / "hooks"
    target.mkdir(exist_ok=True)
    installed = []
    for name in names:
        source = HOOKS_DIR / name
        if not source.exists():
            raise GtError(f"hook template missing: {source}")
        text = source.read_text().replace("@PYTHON@", sys.executable)
        path = target / name
        if path.exists() and MARKER not in path.read_text(errors="replace"):
            kept = target / (name + USER_HOOK_SUFFIX)
            if kept.exists():
                raise GtError(f"{path} is not ours and {kept} exists already: merge them by hand")
            os.replace(path, kept)
        path.write_text(text)
        path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        installed.append(str(path))
    return installed


def listing(repo: RepoPaths) -> list[dict[str, object]]:
    """Each hook we ship: installed or not, and whether a hook the repository had is chained."""
    target = Path(repo.commondir) / "hooks"
    out = []
    for name in ALL:
        path = target / name
        ours = path.exists() and MARKER in path.read_text(errors="replace")
        out.append({"hook": name, "installed": ours, "chained": (target / (name + USER_HOOK_SUFFIX)).exists(),
                    "foreign": path.exists() and not ours})
    return out


def uninstall(repo: RepoPaths, names: tuple[str, ...] = ALL) -> list[str]:
    """Remove our hooks, putting back any hook they had chained."""
    target = Path(repo.commondir) / "hooks"
    removed = []
    for name in names:
        path = target / name
        if path.exists() and MARKER in path.read_text(errors="replace"):
            path.unlink()
            kept = target / (name + USER_HOOK_SUFFIX)
            if kept.exists():
                os.replace(kept, path)
            removed.append(str(path))
    return removed

"""Installing the git hook scripts into a repository (keeping any hook it had), and recognising ours.

The scripts are `hooks/` in the source tree, shipped inside the package as `gt._hooks` (see
pyproject.toml) and read with importlib.resources, so an installed wheel has them too. Each runs
`python -m gt.githooks NAME` with the Python that installed it (`py=` line), or `gt hook-impl NAME`
with the gt on PATH when that Python is gone. A hook of ours that is not today's script for the
Python it records (an older version's, or one whose Python is gone) is outdated: `gt doctor --fix`
rewrites it.
"""
from __future__ import annotations

import functools
import os
import re
import shlex
import stat
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from gt.errors import GtError
from gt.ledger.gitdir import RepoPaths
from gt.beads.guard import USER_HOOK_SUFFIX

if TYPE_CHECKING:
    from gt.beads.doctor import Finding

TEMPLATES = "gt._hooks"  # the package holding the scripts (hooks/ in the source tree)
MARKER = "# gastown-git hook: "  # the line `# gastown-git hook: NAME` in every hook we install
OLD_MARKERS = ("installed by `bd hooks install`",)  # what hooks installed by earlier versions say
SHIPPED = ("pre-receive",)  # what `bd hooks install` puts in a repository others push to
CLONE_HOOKS = ("prepare-commit-msg", "commit-msg", "post-commit")  # an agent's clone (crew)
RIG_HOOKS = ("pre-receive", "post-receive") + CLONE_HOOKS  # a rig's .repo.git: all its worktrees share them
ALL = RIG_HOOKS


def template(name: str) -> str:
    """Hook NAME's script as shipped (with `@PYTHON@` still in it)."""
    from importlib import resources

    try:
        return resources.files(TEMPLATES).joinpath(name).read_text(encoding="utf-8")
    except (ImportError, OSError) as exc:
        raise GtError(f"hook template missing: {TEMPLATES}/{name} ({exc}); reinstall gastown-git") from None


def render(name: str, python: str | None = None) -> str:
    """Hook NAME as installed: it runs `python -m gt.githooks NAME` with `python` (default: this Python)."""
    return template(name).replace("@PYTHON@", shlex.quote(python or sys.executable or "python3"))


def ours(text: str) -> bool:
    """Whether a hook script is one of ours (today's or an earlier version's)."""
    return any(marker in text for marker in (MARKER, *OLD_MARKERS))


def recorded_python(text: str) -> str | None:
    """The Python a hook of ours runs (its `py=` line); None for hooks older than that line."""
    found = re.search(r"^py=(.*)$", text, re.M)
    try:
        words = shlex.split(found.group(1)) if found else []
    except ValueError:
        return None
    return words[0] if len(words) == 1 else None


def outdated(name: str, text: str) -> bool:
    """A hook of ours that is not today's script, or whose Python is gone or no longer has Gas Town
    (`gt doctor --fix` rewrites it)."""
    python = recorded_python(text)
    return python is None or text != render(name, python) or not _runs_gt(python)


@functools.lru_cache(maxsize=None)
def _runs_gt(python: str) -> bool:
    """Whether `python -m gt.githooks` can run (this Python: yes; another: asked, once)."""
    if python == sys.executable:
        return True
    if not os.access(python, os.X_OK):
        return False
    probe = "import importlib.util, sys; sys.exit(importlib.util.find_spec('gt.githooks.__main__') is None)"
    try:
        return subprocess.run([python, "-P", "-c", probe], capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def install(repo: RepoPaths, names: tuple[str, ...] = SHIPPED) -> list[str]:
    """Write our hooks into the repository's hooks folder; a foreign hook is kept as `<name>.user`."""
    from gt.ledger.store import require_writable

    require_writable("installing hooks")
    target = Path(repo.commondir) / "hooks"
    target.mkdir(exist_ok=True)
    installed = []
    for name in names:
        text = render(name)
        path = target / name
        if path.exists() and not ours(path.read_text(errors="replace")):
            kept = target / (name + USER_HOOK_SUFFIX)
            if kept.exists():
                raise GtError(f"{path} is not ours and {kept} exists already: merge them by hand")
            os.replace(path, kept)
        path.write_text(text)
        path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        installed.append(str(path))
    return installed


def listing(repo: RepoPaths) -> list[dict[str, object]]:
    """Each hook we ship: installed or not (outdated: ours, but see `outdated`), and whether a hook
    the repository had is chained."""
    target = Path(repo.commondir) / "hooks"
    out = []
    for name in ALL:
        path = target / name
        text = path.read_text(errors="replace") if path.exists() else None
        mine = text is not None and ours(text)
        out.append({"hook": name, "installed": mine, "outdated": mine and outdated(name, text or ""),
                    "chained": (target / (name + USER_HOOK_SUFFIX)).exists(),
                    "foreign": text is not None and not mine})
    return out


def uninstall(repo: RepoPaths, names: tuple[str, ...] = ALL) -> list[str]:
    """Remove our hooks, putting back any hook they had chained."""
    target = Path(repo.commondir) / "hooks"
    removed = []
    for name in names:
        path = target / name
        if path.exists() and ours(path.read_text(errors="replace")):
            path.unlink()
            kept = target / (name + USER_HOOK_SUFFIX)
            if kept.exists():
                os.replace(kept, path)
            removed.append(str(path))
    return removed


def check(repo: RepoPaths, names: tuple[str, ...], required: bool, fix: bool) -> list[Finding]:
    """Doctor findings for our hooks in one repository: missing ones (where `required`) and outdated
    ones (an earlier version's script, or one whose Python can no longer run Gas Town); `fix`
    (re)installs them."""
    from gt.ledger.store import require_writable

    if fix:
        require_writable("bd doctor --fix")
    from gt.beads.doctor import Finding

    listed = [h for h in listing(repo) if h["hook"] in names]
    where = str(Path(repo.commondir) / "hooks")
    problems = []
    missing = tuple(str(h["hook"]) for h in listed if not h["installed"])
    if missing and required:
        problems.append((missing, f"not installed: {', '.join(missing)}", "install them"))
    stale = tuple(str(h["hook"]) for h in listed if h["outdated"])
    if stale:
        problems.append((stale, f"outdated (an earlier version's, or their Python cannot run Gas Town): "
                                f"{', '.join(stale)}", "rewrite them for this installation"))
    findings = []
    for hooks, problem, repair in problems:
        finding = Finding("hooks", where, problem, repair)
        if fix:
            try:
                install(repo, hooks)
                finding.fixed = True
            except GtError as exc:
                finding.problem += f" (fix failed: {exc})"
        findings.append(finding)
    return findings

"""Find a repository's git directories and read refs, without importing dulwich (the read fast path)."""
from __future__ import annotations

import os
import re
from typing import NamedTuple

from gt.patterns import lazy
from gt.errors import GtError, UsageError

ZERO = "0" * 40


class RepoPaths(NamedTuple):  # a NamedTuple: every command makes one, and defining it costs less
    """Where a repository lives: its work tree (None when bare), its git dir and the common dir worktrees share."""

    worktree: str | None
    gitdir: str
    commondir: str

    @property
    def objects(self) -> str:
        return os.path.join(self.commondir, "objects")

    @property
    def private(self) -> str:
        """Our own files inside the common git dir: locks and disposable caches."""
        return os.path.join(self.commondir, "gt")

    @property
    def settings_dir(self) -> str | None:
        """The work tree's `.beads/` folder of local settings (None for a bare repository)."""
        return os.path.join(self.worktree, ".beads") if self.worktree else None


def _looks_like_gitdir(path: str) -> bool:
    return (
        os.path.isfile(os.path.join(path, "HEAD"))
        and os.path.isdir(os.path.join(path, "objects"))
        and os.path.isdir(os.path.join(path, "refs"))
    ) or os.path.isfile(os.path.join(path, "commondir"))


def _read_gitfile(path: str) -> str:
    with open(path, encoding="utf-8") as f:
        line = f.readline().strip()
    if not line.startswith("gitdir:"):
        raise GtError(f"{path}: not a git link file")
    target = line[len("gitdir:"):].strip()
    return os.path.normpath(os.path.join(os.path.dirname(path), target))


def _commondir(gitdir: str) -> str:
    try:
        with open(os.path.join(gitdir, "commondir"), encoding="utf-8") as f:
            rel = f.read().strip()
    except FileNotFoundError:
        return gitdir
    return os.path.normpath(os.path.join(gitdir, rel))


def paths_for_gitdir(gitdir: str, worktree: str | None) -> RepoPaths:
    gitdir = os.path.abspath(gitdir)
    return RepoPaths(worktree and os.path.abspath(worktree), gitdir, _commondir(gitdir))


def discover(start: str | None = None, follow_redirect: bool = True) -> RepoPaths:
    """Find the repository containing `start` (default: cwd, or $GIT_DIR when set); a `.beads/redirect`
    on the way sends to the ledger's repository unless `follow_redirect` is off (the checkout itself)."""
    found = find_repository(start, follow_redirect)
    if found is None:
        here = os.path.abspath(start or os.getcwd())
        raise GtError(f"not in a git repository: {here} (run `git init` first, or pass -C PATH)")
    return found


def find_repository(start: str | None = None, follow_redirect: bool = True) -> RepoPaths | None:
    """`discover`, but None where no repository contains `start`."""
    env_gitdir = os.environ.get("GIT_DIR")
    if env_gitdir and start is None:
        return paths_for_gitdir(env_gitdir, os.environ.get("GIT_WORK_TREE"))
    path = os.path.abspath(start or os.getcwd())
    while True:
        redirect = os.path.join(path, ".beads", "redirect")
        if follow_redirect and os.path.isfile(redirect):  # this folder's ledger lives elsewhere: a town rig's, for its crew clones too
            with open(redirect, encoding="utf-8") as f:
                return paths_for_gitdir(os.path.normpath(os.path.join(path, f.read().strip())), None)
        dotgit = os.path.join(path, ".git")
        if os.path.isdir(dotgit):
            return paths_for_gitdir(dotgit, path)
        if os.path.isfile(dotgit):
            return paths_for_gitdir(_read_gitfile(dotgit), path)
        if _looks_like_gitdir(path):
            return paths_for_gitdir(path, None)
        parent = os.path.dirname(path)
        if parent == path:
            return None
        path = parent


_BAD_BRANCH = lazy(__name__, "_BAD_BRANCH", r"(^[-/.])|(/[./])|(\.\.)|(//)|(@\{)|([\x00-\x20~^:?*\[\\\x7f])|([./]$)|(\.lock$)|(\.lock/)")


def check_branch_name(name: str) -> str:
    """Refuse names git would refuse for a branch (the subset of `git check-ref-format` rules we need)."""
    if not name or name == "@" or _BAD_BRANCH.search(name):
        raise UsageError(f"invalid branch name {name!r}")
    return name


def current_branch(gitdir: str) -> str | None:
    """The branch HEAD points at in this work tree (even before its first commit), or None if detached."""
    try:
        with open(os.path.join(gitdir, "HEAD"), encoding="utf-8") as f:
            head = f.read().strip()
    except FileNotFoundError:
        return None
    return head[len("ref: refs/heads/"):] if head.startswith("ref: refs/heads/") else None


def read_ref(commondir: str, name: str) -> str | None:
    """The commit id a ref points at (following symbolic refs), or None if it does not exist."""
    for _ in range(5):
        try:
            with open(os.path.join(commondir, name), "rb") as f:
                value = f.read().strip().decode("ascii")
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return _packed_refs(commondir).get(name)
        if value.startswith("ref: "):
            name = value[5:]
            continue
        if len(value) != 40:
            return None  # a ref being written right now reads empty: treat as absent
        return value
    return None


def _packed_refs(commondir: str) -> dict[str, str]:
    refs: dict[str, str] = {}
    try:
        with open(os.path.join(commondir, "packed-refs"), "rb") as f:
            for raw in f:
                if raw.startswith((b"#", b"^")):
                    continue
                sha, _, ref = raw.strip().partition(b" ")
                refs[ref.decode("utf-8", "replace")] = sha.decode("ascii")
    except FileNotFoundError:
        pass
    return refs


def checked_out_in(commondir: str, ref: str) -> str | None:
    """The work tree that has `ref` checked out (git refuses to move such a branch under it), or None."""
    import glob

    heads = glob.glob(os.path.join(commondir, "worktrees", "*", "HEAD"))
    if not _is_bare(commondir):
        heads.append(os.path.join(commondir, "HEAD"))
    for head in heads:
        try:
            with open(head, encoding="utf-8") as f:
                if f.read().strip() == f"ref: {ref}":
                    gitdir = os.path.dirname(head)
                    try:
                        with open(os.path.join(gitdir, "gitdir"), encoding="utf-8") as g:
                            return os.path.dirname(g.read().strip())
                    except FileNotFoundError:
                        return os.path.dirname(gitdir)
        except FileNotFoundError:
            continue
    return None


def _is_bare(commondir: str) -> bool:
    try:
        with open(os.path.join(commondir, "config"), encoding="utf-8") as f:
            return re.search(r"^\s*bare\s*=\s*true\s*$", f.read(), re.M | re.I) is not None
    except FileNotFoundError:
        return False


def append_reflog(commondir: str, ref: str, old: str | None, new: str, identity: bytes, message: str) -> None:
    """Record a ref move in git's reflog, as git does for branches (so `git reflog beads` shows writes)."""
    import time

    if _is_bare(commondir) and not os.path.exists(os.path.join(commondir, "logs", ref)):
        return  # git keeps no reflogs in bare repositories unless asked to
    offset = time.localtime().tm_gmtoff
    sign = "-" if offset < 0 else "+"
    zone = f"{sign}{abs(offset) // 3600:02d}{abs(offset) % 3600 // 60:02d}"
    line = f"{old or ZERO} {new} {identity.decode('utf-8', 'replace')} {int(time.time())} {zone}\t{message}\n"
    path = os.path.join(commondir, "logs", ref)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "a", encoding="utf-8") as f:
        f.write(line)

"""Who is acting: the identity recorded as author of every ledger write.

Order: an explicit --actor, then $BD_ACTOR, then git's user.name (repository, then global config),
then the operating-system user. The town issue adds agent identities from the environment and the
current directory before git's user.
"""
from __future__ import annotations

import getpass
import os

from gt.ledger.gitdir import RepoPaths
from gt.ledger.store import Signature


def _git_config(repo: RepoPaths | None, name: str) -> str | None:
    from dulwich.config import ConfigFile, StackedConfig

    backends = StackedConfig.default_backends()
    if repo is not None:
        path = os.path.join(repo.commondir, "config")
        if os.path.exists(path):
            backends.insert(0, ConfigFile.from_path(path))
    try:
        value = StackedConfig(backends).get((b"user",), name.encode())
    except KeyError:
        return None
    return value.decode("utf-8", "replace").strip() or None


def detect_actor(explicit: str | None, repo: RepoPaths | None) -> Signature:
    """The acting identity and the email to record with it."""
    name = (explicit or "").strip() or os.environ.get("BD_ACTOR", "").strip()
    if not name:
        name = _git_config(repo, "name") or ""
    if not name:
        try:
            name = getpass.getuser()
        except (KeyError, OSError):
            name = "unknown"
    if any(c in name for c in "<>\n\x00"):
        from gt.errors import UsageError

        raise UsageError(f"invalid actor name {name!r}")
    return Signature(name, _git_config(repo, "email") or "")

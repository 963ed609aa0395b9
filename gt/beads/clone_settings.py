"""Local settings of a clone: which ledger branch and remote to use.

Kept in a work tree's `.beads/config.yaml` and in the common git dir (so linked worktrees and bare
repositories agree); never in the ledger or the code branch (`.beads/.gitignore` keeps them out).
The file is a flat `key: value` mapping, read without a YAML library on the read fast path.
"""
from __future__ import annotations

import os

from gt.patterns import lazy
from gt.ledger.gitdir import RepoPaths

CONFIG_NAME = "config.yaml"
# Beside it, for tools of the original beads that look for a workspace (the beads MCP server): what
# the ledger is stored in. Never read by bd; config.yaml is what counts.
METADATA_NAME = "metadata.json"
_PLAIN_LINE = lazy(__name__, "_PLAIN_LINE", r"([a-z_]+):\s*([A-Za-z0-9_./:@-]*)\s*")


class LocalSettings:  # a plain class: every bd process loads it, and a dataclass costs ~0.4 ms to define
    """This clone's own settings: the ledger branch and the remote it syncs with."""

    FIELDS = ("branch", "remote")

    def __init__(self, branch: str = "beads", remote: str = "origin") -> None:
        self.branch = branch
        self.remote = remote

    def as_dict(self) -> dict[str, str]:
        return {"branch": self.branch, "remote": self.remote}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LocalSettings) and self.as_dict() == other.as_dict()

    def __repr__(self) -> str:
        return f"LocalSettings(branch={self.branch!r}, remote={self.remote!r})"


def parse_flat(text: str, path: str) -> dict[str, str]:
    """A flat `key: value` file (plain scalars read without the YAML library; anything fancier with it)."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _PLAIN_LINE.fullmatch(line)
        if match is None:  # anything fancier than plain scalars: let the YAML library read it
            from gt.ledger.yamlio import load_mapping

            return {str(k): str(v) for k, v in load_mapping(text, path).items()}
        values[match.group(1)] = match.group(2)
    return values


def _paths(repo: RepoPaths) -> list[str]:
    """Where settings live: the work tree's `.beads/` (for people), then the common git dir (shared
    by every worktree of the repository, and the only place a bare repository has)."""
    paths = [os.path.join(repo.settings_dir, CONFIG_NAME)] if repo.settings_dir else []
    return paths + [os.path.join(repo.private, "settings.yaml")]


def load(repo: RepoPaths) -> LocalSettings:
    for path in _paths(repo):
        try:
            with open(path, encoding="utf-8") as f:
                values = parse_flat(f.read(), path)
        except FileNotFoundError:
            continue
        known = {k: v for k, v in values.items() if k in LocalSettings.FIELDS and v}
        return LocalSettings(**known)
    return LocalSettings()


def save(repo: RepoPaths, settings: LocalSettings) -> str:
    """Write the settings (and, in a work tree, a .gitignore that keeps `.beads/` out of commits, and
    metadata.json saying where the ledger is)."""
    if repo.settings_dir is not None:
        import json

        os.makedirs(repo.settings_dir, exist_ok=True)
        ignore = os.path.join(repo.settings_dir, ".gitignore")
        if not os.path.exists(ignore):
            with open(ignore, "w", encoding="utf-8") as f:
                f.write("# local settings of bd: never committed\n*\n")
        with open(os.path.join(repo.settings_dir, METADATA_NAME), "w", encoding="utf-8") as f:
            json.dump({"backend": "git", "branch": settings.branch}, f, indent=2)
            f.write("\n")
    paths = _paths(repo)
    for path in paths:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write("# bd local settings (the ledger's own config lives on the ledger branch)\n")
            for key, value in settings.as_dict().items():
                f.write(f"{key}: {value}\n")
    return paths[0]

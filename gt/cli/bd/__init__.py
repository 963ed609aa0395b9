"""`bd`: the beads data commands. Each subcommand lives in its own module, imported on use; the root
group that runs them is gt.cli.bd.root. This module imports no more than `sys`, so that `main` can
answer a no-op `bd sync` before Click is even imported (see gt.cli.bd.quick)."""
from __future__ import annotations

import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (~3 ms); mypy reads it as True
if TYPE_CHECKING:
    from typing import Any

    from gt.cli.bd.root import bd as bd

COMMANDS = {
    name: f"gt.cli.bd.{module}:{module}"
    for name, module in {
        "init": "init", "create": "create", "show": "show", "update": "update", "close": "close",
        "reopen": "reopen", "list": "list_", "ready": "ready", "blocked": "blocked", "dep": "dep",
        "label": "label", "comment": "comment", "comments": "comments", "delete": "delete",
        "compact": "compact", "history": "history", "search": "search", "count": "count",
        "stats": "stats", "audit": "audit", "export": "export", "import": "import_", "doctor": "doctor",
        "config": "config", "sync": "sync", "hooks": "hooks", "note": "note", "quickstart": "quickstart",
        "version": "version", "info": "info", "migrate": "migrate", "repair-deps": "repair_deps",
        "epic": "epic", "prime": "prime", "defer": "defer", "undefer": "undefer",
        "formula": "formula", "mol": "mol",
    }.items()
}
ALIASES = {"status": "stats", "new": "create", "view": "show"}  # the original's other names


SECTIONS = {
    "Work": ("create", "update", "close", "reopen", "delete", "defer", "undefer", "dep", "label", "comment", "note", "epic"),
    "Molecules": ("formula", "mol"),
    "Views": ("show", "list", "ready", "blocked", "search", "count", "comments", "history"),
    "Track records": ("stats", "audit"),
    "Workspace": ("init", "config", "sync", "export", "import", "hooks"),
    "Diagnostics": ("doctor", "compact", "info", "migrate", "repair-deps"),
    "About": ("quickstart", "prime", "version"),
}


def main() -> None:
    """The `bd` console script. A `bd sync` with nothing to exchange is answered before Click (and
    most of gt) is imported, by gt.cli.bd.quick; every other command line runs through Click."""
    if sys.argv[1:2] == ["sync"]:
        from gt.cli.bd.quick import sync_if_up_to_date

        sync_if_up_to_date(sys.argv[2:])  # exits when it answered
    from gt.cli.bd.root import main as run

    run()


def __getattr__(name: str) -> Any:
    """`bd`, the root group (gt.cli.bd.root), imported on first use."""
    if name == "bd":
        from gt.cli.bd.root import bd

        return bd
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

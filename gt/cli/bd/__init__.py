"""`bd`: the beads data commands. Each subcommand lives in its own module, imported on use."""
from __future__ import annotations

import os

import click

from gt.cli.common import LazyGroup, main_entry

COMMANDS = {
    name: f"gt.cli.bd.{module}:{module}"
    for name, module in {
        "init": "init", "create": "create", "show": "show", "update": "update", "close": "close",
        "reopen": "reopen", "list": "list_", "ready": "ready", "blocked": "blocked", "dep": "dep",
        "label": "label", "comment": "comment", "comments": "comments", "delete": "delete",
        "compact": "compact", "history": "history", "search": "search", "count": "count",
        "stats": "stats", "audit": "audit", "export": "export", "import": "import_", "doctor": "doctor",
        "config": "config", "sync": "sync", "hooks": "hooks", "note": "note", "quickstart": "quickstart",
        "version": "version",
    }.items()
}


SECTIONS = {
    "Work": ("create", "update", "close", "reopen", "delete", "dep", "label", "comment", "note"),
    "Views": ("show", "list", "ready", "blocked", "search", "count", "comments", "history"),
    "Track records": ("stats", "audit"),
    "Workspace": ("init", "config", "sync", "export", "import", "hooks"),
    "Diagnostics": ("doctor", "compact"),
    "About": ("quickstart", "version"),
}


@click.group(cls=LazyGroup, lazy=COMMANDS, sections=SECTIONS, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-C", "directory", metavar="PATH", help="Run as if started in PATH.")
@click.version_option(package_name="gastown-git", prog_name="bd")
def bd(directory: str | None) -> None:
    """Beads: work items stored as YAML on a git ledger branch; every change is a commit."""
    if directory:
        try:
            os.chdir(directory)
        except OSError as exc:
            raise click.UsageError(f"cannot change to {directory}: {exc.strerror}") from None


main = main_entry(bd)

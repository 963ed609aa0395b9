"""`bd`: the beads data commands. Each subcommand lives in its own module, imported on use."""
from __future__ import annotations

import os

import click

from gt.cli.cobra import CobraGroup
from gt.cli.common import main_entry

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
    }.items()
}
ALIASES = {"status": "stats", "new": "create", "view": "show"}  # the original's other names


SECTIONS = {
    "Work": ("create", "update", "close", "reopen", "delete", "defer", "undefer", "dep", "label", "comment", "note", "epic"),
    "Views": ("show", "list", "ready", "blocked", "search", "count", "comments", "history"),
    "Track records": ("stats", "audit"),
    "Workspace": ("init", "config", "sync", "export", "import", "hooks"),
    "Diagnostics": ("doctor", "compact", "info", "migrate", "repair-deps"),
    "About": ("quickstart", "prime", "version"),
}


def _version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        from gt.cli.bd.version import text

        click.echo(text())
        ctx.exit()


@click.group(cls=CobraGroup, lazy=COMMANDS, sections=SECTIONS, aliases=ALIASES, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-C", "--directory", "directory", metavar="PATH", help="Run as if started in PATH.")
@click.option("--version", is_flag=True, expose_value=False, is_eager=True, callback=_version,
              help="Print the version (as `bd version`).")
def bd(directory: str | None) -> None:
    """Beads: work items stored as YAML on a git ledger branch; every change is a commit.

    Root flags of the original bd (--json, --actor NAME, --readonly, -C PATH) go anywhere on the line;
    its database and daemon flags are accepted and ignored (see `bd info`). $BEADS_DIR names the
    .beads directory to work in.
    """
    if directory is None and os.environ.get("BEADS_DIR"):  # the original's variable: <workspace>/.beads
        beads_dir = os.path.abspath(os.environ["BEADS_DIR"])
        directory = os.path.dirname(beads_dir) if os.path.basename(beads_dir) == ".beads" else beads_dir
        if not os.path.isdir(directory):
            raise click.UsageError(f"BEADS_DIR={os.environ['BEADS_DIR']}: no such directory {directory}")
    if directory:
        try:
            os.chdir(directory)
        except OSError as exc:
            raise click.UsageError(f"cannot change to {directory}: {exc.strerror}") from None


main = main_entry(bd)

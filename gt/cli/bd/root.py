"""bd's root group (Click): the commands of gt.cli.bd.COMMANDS, imported on use, and the original's
root flags (gt.cli.cobra)."""
from __future__ import annotations

import os

import click

from gt.cli.bd import ALIASES, COMMANDS, SECTIONS
from gt.cli.cobra import CobraGroup
from gt.cli.common import main_entry


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

import click

from gt.cli.common import Out, command as subcommand


@click.group("boot")
def command() -> None:
    """Boot, the dog that watches the Deacon (run by `gt up`, or from cron: `* * * * * gt boot triage`)."""


@subcommand("triage")
def triage(out: Out) -> None:
    """Decide one thing about the Deacon: nothing, nudge or restart."""
    from gt.town.layout import require_town
    from gt.work import boot

    result = boot.triage(require_town())
    out.emit(result, f"{result['decision']}: {result['reason']}")


command.add_command(triage)

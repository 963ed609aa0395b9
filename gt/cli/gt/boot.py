import click

from gt.cli.common import Out, command as subcommand


@click.group("boot")
def boot() -> None:
    """Boot, the dog that watches the Deacon (run by `gt up`, or from cron: `* * * * * gt boot triage`).

    Example: gt boot triage

    Example: gt boot triage   (or from cron: * * * * * cd ~/gt && gt boot triage)
    """


@subcommand("triage")
def triage(out: Out) -> None:
    """Decide one thing about the Deacon: nothing, nudge or restart.

    Example: gt boot triage   (or from cron: * * * * * cd ~/gt && gt boot triage)
    """
    from gt.town.layout import require_town
    from gt.roles import boot

    result = boot.triage(require_town())
    out.emit(result, f"{result['decision']}: {result['reason']}")


boot.add_command(triage)

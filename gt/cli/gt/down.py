import click

from gt.cli.common import Out, command


@command("down")
@click.option("--force", is_flag=True, help="Kill at once instead of letting agents finish.")
def down(out: Out, force: bool) -> None:
    """Stop Boot, the Deacon and every agent session.

    Example: gt down
    """
    from gt.town.layout import require_town
    from gt.roles import services

    stopped = services.down(require_town(), force)
    agents = stopped.pop("agents")
    out.emit({**stopped, "agents": agents},
             "\n".join([f"{k}: {'stopped' if v else 'still running'}" for k, v in {**stopped, **agents}.items()]))

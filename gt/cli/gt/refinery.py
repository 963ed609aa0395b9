import click

from gt.cli.common import Out, command as subcommand


@click.group("refinery")
def refinery() -> None:
    """The refinery: lands merge requests on the default branch after the rig's gates pass.

    Example: gt refinery process gizmo

    Example: gt refinery process gizmo --once
    """


@subcommand("process")
@click.argument("rig", required=False)
@click.option("--once", is_flag=True, help="Only the best merge request.")
def process(out: Out, rig: str | None, once: bool) -> None:
    """Work through the rig's merge queue.

    Example: gt refinery process gizmo --once
    """
    from gt.roles import refinery

    town, rig = out.town_and_rig(rig)
    outcomes = refinery.process(town, rig, once)
    out.emit([o.as_dict() for o in outcomes],
             "\n".join(f"{o.mr}: {o.result}" + (f" ({o.detail})" if o.detail else "") for o in outcomes)
             or "The queue is empty")


refinery.add_command(process)

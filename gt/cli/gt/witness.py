import click

from gt.cli.common import Out, command as subcommand


@click.group("witness")
def witness() -> None:
    """The witness: watches a rig's polecats (restart, recover, escalate, clean up).

    Example: gt witness patrol gizmo

    Example: gt witness patrol gizmo --json
    """


@subcommand("patrol")
@click.argument("rig", required=False)
def patrol(out: Out, rig: str | None) -> None:
    """Run one patrol of the rig's polecats.

    Example: gt witness patrol gizmo --json
    """
    from gt.roles import witness

    town, rig = out.town_and_rig(rig)
    decisions = witness.patrol(town, rig)
    out.emit(decisions, "\n".join(f"{d['action']}: {d.get('agent')} {d.get('bead') or d.get('branch') or ''}"
                                  + (f" ({d['reason']})" if d.get("reason") else "") for d in decisions)
             or "Nothing to do")


witness.add_command(patrol)

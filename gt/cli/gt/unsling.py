import click

from gt.cli.common import Out, command


@command("unsling")
@click.argument("agent", required=False)
def unsling(out: Out, agent: str | None) -> None:
    """Take the bead off AGENT's hook (default: yours); the bead goes back to open.

    Example: gt unsling gizmo/polecats/nux
    """
    from gt.town.layout import require_town
    from gt.dispatch import agents

    target = agent or agents.require_agent(out.identity(), "gt unsling").name
    bead = agents.unsling(require_town(), out.signature(None), target)
    out.emit({"agent": target, "bead": bead}, f"Took {bead} off {target}'s hook (back to open)")

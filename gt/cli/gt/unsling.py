import click

from gt.cli.common import Out, command


@command("unsling")
@click.argument("agent", required=False)
def unsling(out: Out, agent: str | None) -> None:
    """Take the bead off AGENT's hook (default: yours); a hooked or started bead goes back to open,
    a closed one stays closed.

    Example: gt unsling gizmo/polecats/nux
    """
    from gt.town.layout import require_town
    from gt.dispatch import agents

    target = agent or agents.require_agent(out.identity(), "gt unsling").name
    bead = agents.unsling(require_town(), out.signature(None), target)
    status = _status(bead) if bead else None
    shown = "back to open" if status == "open" else f"it stays {status}" if status else "it no longer exists"
    out.emit({"agent": target, "bead": bead, "status": status}, f"Took {bead} off {target}'s hook ({shown})")


def _status(bead: str) -> str | None:
    """The bead's status now (None when it is gone)."""
    from gt.beads.tracker import Tracker
    from gt.errors import GtError
    from gt.town.context import routed

    try:
        return str(Tracker.get(routed([bead]).view(), bead).get("status"))
    except GtError:
        return None

import click

from gt.cli.common import Out, command


@command("unsling")
@click.argument("agent", required=False, metavar="[AGENT|BEAD]")
def unsling(out: Out, agent: str | None) -> None:
    """Take the bead off AGENT's hook (default: yours); a hooked or started bead goes back to open,
    a closed one stays closed. A queued BEAD (gt queue) leaves the queue, back to open.

    Example: gt unsling gizmo/polecats/nux

    Example: gt unsling gz-a3f8k
    """
    from gt.town.layout import require_town
    from gt.dispatch import agents
    from gt.town.identity import parse

    if agent and parse(agent).role == "human" and "/" not in agent:
        queued = _queued(agent)
        if queued is not None:
            from gt.dispatch import queue

            changed = queue.unqueue(require_town(), out.signature(None), queued, f"Taken out of the queue by {out.signature(None).name}.")
            out.emit({"agent": None, "bead": queued, "status": "open" if changed else _status(queued)},
                     f"Took {queued} out of the queue (back to open)" if changed else f"{queued} was not queued")
            return
    target = agent or agents.require_agent(out.identity(), "gt unsling").name
    bead = agents.unsling(require_town(), out.signature(None), target)
    status = _status(bead) if bead else None
    shown = "back to open" if status == "open" else f"it stays {status}" if status else "it no longer exists"
    out.emit({"agent": target, "bead": bead, "status": status}, f"Took {bead} off {target}'s hook ({shown})")


def _queued(query: str) -> str | None:
    """The id of the queued bead `query` names (None: it names no bead, or one not queued)."""
    from gt.beads.tracker import Tracker
    from gt.errors import GtError
    from gt.model.bead import QUEUED
    from gt.town.context import routed

    try:
        view = routed([query]).view()
        bead_id = Tracker.resolve(view, query)
        return bead_id if Tracker.get(view, bead_id).get("status") == QUEUED else None
    except GtError:
        return None


def _status(bead: str) -> str | None:
    """The bead's status now (None when it is gone)."""
    from gt.beads.tracker import Tracker
    from gt.errors import GtError
    from gt.town.context import routed

    try:
        return str(Tracker.get(routed([bead]).view(), bead).get("status"))
    except GtError:
        return None

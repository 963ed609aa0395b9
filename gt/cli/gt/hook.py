from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from gt.cli.common import Out, command

if TYPE_CHECKING:
    from pathlib import Path


@command("hook")
@click.argument("bead", required=False)
@click.argument("agent", required=False)
@click.option("--force", is_flag=True, help="Replace what is on a busy agent's hook.")
def hook(out: Out, bead: str | None, agent: str | None, force: bool) -> None:
    """Show your hook, or put BEAD on AGENT's hook (default: yours) without starting anything.

    Example: gt hook gz-a3f8k gizmo/polecats/nux
    """
    from gt.town.layout import require_town
    from gt.dispatch import agents

    town = require_town()
    who = out.identity()
    if bead:
        if agent is not None and any(part in ("", ".", "..") for part in agent.split("/")):
            from gt.errors import UsageError

            raise UsageError(f"invalid agent {agent!r}: give an identity such as mayor or <rig>/polecats/<name>")
        target = agent or agents.require_agent(who, "gt hook BEAD").name
        result = agents.hook(town, out.signature(None), bead, target, force=force)
        out.emit(result, f"Hooked {result['bead']} on {target}"
                 + (f" (released {', '.join(result['released'])})" if result["released"] else ""))
        return
    out.emit(*_show(town, who.name))


def _show(town: Path, identity: str) -> tuple[dict[str, Any], str]:
    from gt.dispatch import agents, convoys

    record, doc = agents.on_hook(town, identity)
    if record is None or not doc:
        return {"agent": identity, "bead": None}, f"{identity}: nothing on the hook"
    tracking = convoys.tracking(town, [doc["id"]]).get(doc["id"], [])
    attempt = agents.attempt(town, identity, doc["id"])
    data = {"agent": identity, "bead": doc, "since": record.get("hooked_at"), "convoy": tracking[0] if tracking else None,
            "state": record.get("state"), "attempt": attempt}
    text = f"{identity}: {doc['id']} {doc['title']}\n  status {doc.get('status')}, hooked since {record.get('hooked_at')}"
    if tracking:
        text += f"\n  convoy {tracking[0]}"
    return data, text

"""`gt handoff` and `gt nudge`: passing context to an agent's next session, and poking a running one."""
from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from gt.ledger.store import Signature
from gt.town import rundir
from gt.town.identity import Identity
from gt.dispatch import agents, mail


def handoff(town: Path, actor: Signature, who: Identity, subject: str, body: str) -> dict[str, Any]:
    """Mail to self (labelled `handoff`) and a recycle mark on the session."""
    agents.require_agent(who, "gt handoff")
    doc = mail.send(town, actor, [who.name], subject, body, labels=("handoff",), check=False)
    session = rundir.session(town, who.name)
    if session is not None:
        rundir.save_session(town, who.name, {**session, "recycle": True})
    return doc


def nudge(town: Path, sender: str, target: str, message: str) -> dict[str, Any]:
    """Queue a short message for a running agent. Typed into its tmux session only when nothing else
    would bring it there: never into a session a person works in (`gt mayor attach`), nor into a
    runtime whose own hooks deliver it at its next tool call (the presets)."""
    from gt.town import settings as town_settings
    from gt.town.identity import parse

    mail.check_address(town, target)
    rundir.nudge(town, target, message, sender)
    session = rundir.session(town, target) or {}
    typed = False
    entry = town_settings.load(town, parse(target).rig).agents.get(str(session.get("agent")))
    hooked = entry is not None and bool(entry.preset)
    if session.get("tmux") and not session.get("interactive") and not hooked and rundir.alive(session.get("pid")):
        result = subprocess.run(["tmux", "send-keys", "-t", f"={session['tmux']}:",
                                 f"[nudge from {sender}] {message}", "Enter"], capture_output=True)
        typed = result.returncode == 0
    return {"to": target, "message": message, "queued": True, "typed": typed}

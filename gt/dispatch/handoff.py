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
    """Queue a short message for a running agent; typed into its tmux session when it has one."""
    mail.check_address(town, target)
    rundir.nudge(town, target, message, sender)
    session = rundir.session(town, target) or {}
    typed = False
    if session.get("tmux") and rundir.alive(session.get("pid")):
        result = subprocess.run(["tmux", "send-keys", "-t", session["tmux"], f"[nudge from {sender}] {message}",
                                 "Enter"], capture_output=True)
        typed = result.returncode == 0
    return {"to": target, "message": message, "queued": True, "typed": typed}

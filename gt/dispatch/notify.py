"""What reaches a running agent between its turns: nudges and new mail, through its runtime's hooks.

Claude Code runs `gt runtime-hook post-tool-use` after every tool call (and `user-prompt-submit`
with each prompt of an interactive session); what this returns goes back to the model as added
context. Nudges are read from the runtime directory and delivered once. Mail is looked up only
when the town ledger has moved since the last look, and each message is announced once: the
messages the session's prompt already counted are marked seen when it starts.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

MAX_ANNOUNCED = 500


def _state_file(town: Path, identity: str) -> Path:
    from gt.town import rundir

    return rundir.folder(town, "notified") / f"{rundir.key(identity)}.json"


def _town_head(town: Path) -> dict[str, Any]:
    """Where the town ledger's head is (its repository and branch) and what it is now."""
    from gt.town.context import Town

    ledger = Town.at(town).tracker().ledger
    return {"commondir": ledger.repo.commondir, "branch": ledger.branch, "head": ledger.head()}


def mark_seen(town: Path, identity: str) -> None:
    """Count every unread message as announced (a session is starting with them in its prompt)."""
    from gt.dispatch import mail
    from gt.town import rundir

    where = _town_head(town)
    unread = [m["id"] for m in mail.inbox(town, identity, unread_only=True)]
    rundir.write_json(_state_file(town, identity), {**where, "announced": unread[-MAX_ANNOUNCED:]})


def new_mail(town: Path, identity: str) -> list[dict[str, Any]]:
    """Unread messages to `identity` not announced before. Cheap when the town ledger has not moved:
    one ref read, no ledger opened (this runs after every tool call of every agent)."""
    from gt.ledger.gitdir import read_ref
    from gt.town import rundir

    path = _state_file(town, identity)
    state = rundir.read_json(path) or {}
    commondir, branch = state.get("commondir"), state.get("branch")
    if isinstance(commondir, str) and isinstance(branch, str) and state.get("head") is not None \
            and read_ref(commondir, f"refs/heads/{branch}") == state["head"]:
        return []
    from filelock import FileLock

    from gt.dispatch import mail

    with FileLock(str(path) + ".lock", timeout=30):  # hooks of parallel tool calls: each message once
        state = rundir.read_json(path) or {}
        where = _town_head(town)  # read before the inbox: mail landing in between is seen next time
        announced = [str(i) for i in state.get("announced") or [] if isinstance(i, str)]
        unread = mail.inbox(town, identity, unread_only=True)
        fresh = [m for m in unread if m["id"] not in set(announced)]
        keep = [i for i in announced if i in {m["id"] for m in unread}] + [m["id"] for m in fresh]
        rundir.write_json(path, {**where, "announced": keep[-MAX_ANNOUNCED:]})
        return fresh


def pending(town: Path, identity: str) -> list[str]:
    """The lines to give a running agent now: its waiting nudges, then mail it has not been told of."""
    from gt.town import rundir

    fresh = new_mail(town, identity)  # first: if the ledger cannot be read, the nudges stay queued
    lines = [f"Nudge from {n.get('from')}: {n.get('message')}" for n in rundir.drain_nudges(town, identity)]
    for message in fresh:
        sender = (message.get("mail") or {}).get("from")
        lines.append(f"New mail {message['id']} from {sender}: {message.get('title')} (read it: `gt mail read {message['id']}`)")
    return lines

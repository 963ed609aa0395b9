"""Usage of an interactive Claude Code session, from its transcript, when the session ends.

A headless session's usage comes from the runtime's final report (gt.roles.runner). An
interactive one (`gt mayor attach`) prints no report, so its SessionEnd hook sums the `usage` of
each assistant message in the transcript Claude Code names (each message once, by its id). The
transcript carries no prices: the cost stays unknown.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from gt.dispatch.usage import Usage

MAX_TRANSCRIPT = 256 * 1024 * 1024


def transcript_usage(path: Path) -> Usage | None:
    """The summed usage of a Claude Code transcript (JSON lines), or None when it holds none."""
    per_message: dict[str, tuple[str | None, dict[str, Any]]] = {}
    session = None
    with open(path, "rb") as f:
        for number, raw in enumerate(f):
            if f.tell() > MAX_TRANSCRIPT:
                break
            try:
                entry = json.loads(raw)
            except (ValueError, RecursionError):  # not JSON, or nested deeper than the parser goes
                continue
            if not isinstance(entry, dict) or entry.get("type") != "assistant":
                continue
            message = entry.get("message")
            if not isinstance(message, dict) or not isinstance(message.get("usage"), dict):
                continue
            session = session or entry.get("sessionId")
            ident = str(message.get("id") or f"line-{number}")
            per_message[ident] = (message.get("model") if isinstance(message.get("model"), str) else None,
                                  message["usage"])
    if not per_message:
        return None

    def total(name: str) -> int:
        values = (u.get(name) for _, u in per_message.values())
        return sum(v for v in values if type(v) is int and v >= 0)

    models: dict[str, int] = {}
    for model, usage in per_message.values():
        if model:
            models[model] = models.get(model, 0) + 1
    return Usage(model=max(models, key=lambda m: models[m]) if models else None,
                 session=session if isinstance(session, str) else None,
                 tokens_in=total("input_tokens"), tokens_out=total("output_tokens"),
                 cache_read_tokens=total("cache_read_input_tokens"),
                 cache_write_tokens=total("cache_creation_input_tokens"), turns=len(per_message))


def record_interactive(town: Path, identity: str, given: dict[str, Any]) -> None:
    """Record an interactive session's usage: only for a session this machine started as interactive
    (`gt mayor attach`); a headless one is the runner's to record, from the runtime's report."""
    from gt.dispatch.usage import record
    from gt.ledger.store import Signature
    from gt.town import rundir

    session = rundir.session(town, identity) or {}
    if session.get("interactive") is not True:
        return
    transcript = given.get("transcript_path")
    if not isinstance(transcript, str) or not os.path.isfile(transcript):
        return
    usage = transcript_usage(Path(transcript))
    if usage is None:
        return
    record(town, Signature(identity), identity, session.get("bead"), usage, session.get("model"), session.get("agent"))

from __future__ import annotations

from typing import Any

import click

from gt.cli.common import Out, command

MAX_HOOK_INPUT = 1 << 20  # bytes of a runtime's hook event read from stdin, at most
HOOK_INPUT_WAIT = 1.0  # seconds to wait for it


@command("prime")
@click.option("--hook", is_flag=True,
              help="Run from an agent runtime's session-start hook: print the text, read the event JSON a runtime "
                   "gives on stdin (Claude Code's SessionStart), and never fail the hook (errors: one line on "
                   "stderr, exit 0).")
def prime(out: Out, hook: bool) -> None:
    """Your role, the bead on your hook, unread mail, handoff notes and nudges: what an agent starts
    from (at most 1,500 tokens: a bead's long fields are cut, saying so). --json gives the fields, not the text.

    Example: gt prime
    Example: gt prime --hook   (as Claude Code's SessionStart hook command)
    """
    from gt.dispatch.prime import prime
    from gt.town.layout import require_town

    if hook:
        hook_event()  # read so the runtime's write never blocks; every source (startup, resume, compact) primes
        try:
            data = prime(require_town(), out.identity())
        except Exception as exc:  # noqa: BLE001 (a failing hook would break the agent's session start)
            click.echo(f"gt prime: {' '.join(str(exc).split())}", err=True)
            return
        click.echo(data["text"].rstrip("\n"))
        return
    data = prime(require_town(), out.identity())
    out.emit({k: v for k, v in data.items() if k != "text"}, data["text"].rstrip("\n"))


def hook_event() -> dict[str, Any]:
    """The JSON object a runtime's hook gives on stdin (`session_id`, `source`, `hook_event_name`, …): at
    most MAX_HOOK_INPUT bytes, waiting at most HOOK_INPUT_WAIT seconds; {} for a terminal, nothing or bad JSON."""
    import json
    import os
    import select
    import sys
    import time

    try:
        fd = sys.stdin.fileno()
        if os.isatty(fd):
            return {}
        chunks: list[bytes] = []
        size, deadline = 0, time.monotonic() + HOOK_INPUT_WAIT
        while size < MAX_HOOK_INPUT:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                break
            chunk = os.read(fd, min(65536, MAX_HOOK_INPUT - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        found = json.loads(b"".join(chunks).decode("utf-8")) if size < MAX_HOOK_INPUT else None
    except (OSError, ValueError, AttributeError):  # no stdin, not a file, bad UTF-8 or JSON
        return {}
    return found if isinstance(found, dict) else {}

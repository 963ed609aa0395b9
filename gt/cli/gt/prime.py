from __future__ import annotations

import click

from gt.cli.common import Out, command, hook_input


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
        hook_input()  # read so the runtime's write never blocks; every source (startup, resume, compact) primes
        try:
            data = prime(require_town(), out.identity())
        except Exception as exc:  # noqa: BLE001 (a failing hook would break the agent's session start)
            click.echo(f"gt prime: {' '.join(str(exc).split())}", err=True)
            return
        click.echo(data["text"].rstrip("\n"))
        return
    data = prime(require_town(), out.identity())
    out.emit({k: v for k, v in data.items() if k != "text"}, data["text"].rstrip("\n"))


import click

from gt.cli.common import Out, command, hook_input

EVENTS = ("post-tool-use", "user-prompt-submit", "session-end")
HOOK_EVENT_NAMES = {"post-tool-use": "PostToolUse", "user-prompt-submit": "UserPromptSubmit"}


@command("runtime-hook", hidden=True)
@click.argument("event", type=click.Choice(EVENTS))
def runtime_hook(out: Out, event: str) -> None:
    """What an agent runtime's hook runs (Claude Code's --settings): nudges and new mail after a
    tool call or with a prompt, the session's usage at its end. Never fails the agent: a problem is
    one line on stderr and exit 0.

    Example: gt runtime-hook post-tool-use
    """
    import json
    import sys

    from gt.errors import GtError

    given = hook_input()
    try:
        from gt.town.identity import detect
        from gt.town.layout import require_town

        town, who = require_town(), detect(out.actor, None).name  # BD_ACTOR: the session's identity
        if event == "session-end":
            from gt.roles.usage_hook import record_interactive

            record_interactive(town, who, given)
            return
        from gt.dispatch.notify import pending

        lines = pending(town, who)
    except Exception as exc:  # a hook must not fail the agent's tool call: one line, and on it goes
        why = str(exc) if isinstance(exc, GtError) else f"{type(exc).__name__}: {exc}"
        print(f"gt runtime-hook {event}: {why}"[:500], file=sys.stderr)
        return
    if lines:
        context = "Gas Town, while you work:\n" + "\n".join(lines)
        print(json.dumps({"hookSpecificOutput": {"hookEventName": HOOK_EVENT_NAMES[event],
                                                 "additionalContext": context}}))

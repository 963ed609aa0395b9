import click

from gt.cli.common import Out, command as subcommand


@click.group("session")
def session() -> None:
    """Agent sessions: attach to one in tmux, or peek at any one's recent output.

    Example: gt session peek gizmo/polecats/nux
    """


@subcommand("attach")
@click.argument("agent")
def attach(out: Out, agent: str) -> None:
    """Attach to AGENT's tmux session.

    Example: gt session attach gizmo/polecats/nux
    """
    from gt.errors import GtError
    from gt.town import rundir
    from gt.town.layout import require_town

    session = rundir.session(require_town(), agent) or {}
    if not session.get("tmux"):
        raise GtError(f"{agent} does not run in tmux: read its log instead ({session.get('log', 'no session')})",
                      code="not_found")
    exec_attach(session["tmux"])


@subcommand("peek")
@click.argument("identity")
@click.option("-n", "--lines", default=50, show_default=True, type=click.IntRange(min=1),
              help="How many lines.")
def peek(out: Out, identity: str, lines: int) -> None:
    """The last lines of IDENTITY's session output: its tmux screen while it runs in tmux, else its log.

    Example: gt session peek mayor -n 20
    """
    from gt.roles import sessions
    from gt.town.layout import require_town

    data = sessions.peek(require_town(), identity, lines)

    def text() -> str:
        state = "running" if data["running"] else (data["ended"] or "not running")
        return "\n".join([*data["lines"], f"--- {identity} ({state}; from its {data['source']})"])

    out.emit(data, text)


def check_terminal(no_attach: bool, command: str) -> None:
    """Refuse, before anything starts, to attach without a terminal."""
    import sys

    from gt.errors import GtError

    if not no_attach and not sys.stdin.isatty():
        raise GtError(f"attaching needs a terminal (standard input is not one): run `{command}` in a terminal, "
                      "or add --no-attach to start the session only", code="refused")


def attached(out: Out, identity: str, data: dict[str, object], no_attach: bool) -> None:
    """Attach to the session (this process becomes tmux), or with `no_attach` say how to."""
    name = str(data["tmux"])
    if no_attach:
        state = "started" if data.get("started") else "running"
        out.emit({**data, "attach": f"tmux attach-session -t ={name}"},
                 f"{identity}: {state} in tmux session {name} (pid {data['pid']}, {data['agent']}); "
                 f"attach with `tmux attach-session -t ={name}`")
        return
    exec_attach(name)


def exec_attach(name: str) -> None:
    """Become `tmux attach-session` to session `name` (`switch-client` inside tmux)."""
    import os

    verb = "switch-client" if os.environ.get("TMUX") else "attach-session"
    os.execvp("tmux", ["tmux", verb, "-t", f"={name}"])


for sub in (attach, peek):
    session.add_command(sub)

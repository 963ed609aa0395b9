import click

from gt.cli.common import Out, command as subcommand


@click.group("session")
def session() -> None:
    """Agent sessions in tmux (optional: agents run without it).

    Example: gt session attach gizmo/polecats/nux
    """


@subcommand("attach")
@click.argument("agent")
def attach(out: Out, agent: str) -> None:
    """Attach to AGENT's tmux session.

    Example: gt session attach gizmo/polecats/nux
    """
    import os

    from gt.errors import GtError
    from gt.town import rundir
    from gt.town.layout import require_town

    session = rundir.session(require_town(), agent) or {}
    if not session.get("tmux"):
        raise GtError(f"{agent} does not run in tmux: read its log instead ({session.get('log', 'no session')})",
                      code="not_found")
    os.execvp("tmux", ["tmux", "attach-session", "-t", session["tmux"]])


session.add_command(attach)

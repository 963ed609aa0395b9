import click

from gt.cli.common import Out, command as subcommand


@click.group("mayor")
def mayor() -> None:
    """The mayor's agent session (in <town>/mayor, with the mayor's `gt prime` context).

    Example: gt mayor start --agent claude
    """


@subcommand("start")
@click.option("--agent", help="The agent runtime (default: settings mayor.agent, else default_agent).")
def start(out: Out, agent: str | None) -> None:
    """Start the mayor's session.

    Example: gt mayor start --agent claude
    """
    from gt.town.layout import require_town
    from gt.roles import sessions

    data = sessions.start_home(require_town(), "mayor", agent)
    out.emit(data, f"mayor: pid {data['pid']} ({data['agent']}), log {data['log']}")


@subcommand("stop")
def stop(out: Out) -> None:
    """Stop the mayor's session.

    Example: gt mayor stop
    """
    from gt.town.layout import require_town
    from gt.roles import sessions

    stopped = sessions.stop_home(require_town(), "mayor")
    out.emit({"stopped": stopped}, "mayor: stopped" if stopped else "mayor: was not running")


@subcommand("status")
def status(out: Out) -> None:
    """Whether the mayor's session runs.

    Example: gt mayor status
    """
    from gt.town.layout import require_town
    from gt.roles import sessions

    data = sessions.status(require_town(), "mayor")
    out.emit(data, f"mayor: {'running, pid ' + str(data['pid']) if data['running'] else 'not running'}")


@subcommand("attach")
@click.option("--agent", help="The agent runtime, when it starts (default: settings mayor.agent, else default_agent).")
@click.option("--model", help="The model, when it starts (default: settings mayor.model).")
@click.option("--no-attach", is_flag=True, help="Start it (or keep it) and say how to attach, without attaching.")
def attach(out: Out, agent: str | None, model: str | None, no_attach: bool) -> None:
    """Attach to the mayor's interactive session in tmux, starting it when it is not running.

    Example: gt mayor attach --agent claude
    """
    from gt.cli.gt.session import attached, check_terminal
    from gt.roles import sessions
    from gt.town.layout import require_town

    check_terminal(no_attach, "gt mayor attach")
    attached(out, "mayor", sessions.open_interactive(require_town(), "mayor", agent, model), no_attach)


for sub in (start, stop, status, attach):
    mayor.add_command(sub)

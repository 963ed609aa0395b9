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


for sub in (start, stop, status):
    mayor.add_command(sub)

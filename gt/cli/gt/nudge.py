import click

from gt.cli.common import Out, command


@command("nudge")
@click.argument("agent")
@click.argument("message")
def nudge(out: Out, agent: str, message: str) -> None:
    """Deliver a short message to a running agent (not mail: not kept in history).

    Example: gt nudge gizmo/polecats/nux "tests are red on main, rebase first"
    """
    from gt.town.layout import require_town
    from gt.dispatch import handoff, mail

    result = handoff.nudge(require_town(), mail.identity(out.actor).name, agent, message)
    out.emit(result, f"Nudged {agent}" + (" (typed into its tmux session)" if result["typed"] else ""))

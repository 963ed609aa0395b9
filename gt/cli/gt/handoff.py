import click

from gt.cli.common import Out, command


@command("handoff")
@click.option("-s", "--subject", default="Handoff", show_default=True)
@click.option("-m", "--message", "body", default="", help="What the next session needs to know.")
def handoff(out: Out, subject: str, body: str) -> None:
    """Mail yourself a handoff and mark the session for recycling; the next `gt prime` shows it.

    Example: gt handoff -m "tests pass; docs left to write"
    """
    from gt.town.layout import require_town
    from gt.dispatch import handoff

    doc = handoff.handoff(require_town(), out.signature(None), out.identity(), subject, body)
    out.emit(doc, f"Handoff {doc['id']} saved: the next session of {doc['mail']['to'][0]} starts from it")

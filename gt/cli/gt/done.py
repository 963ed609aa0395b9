import click

from gt.cli.common import Out, command


@command("done")
@click.option("--status", "status", default="COMPLETED", show_default=True,
              type=click.Choice(["COMPLETED", "ESCALATED", "DEFERRED"], case_sensitive=False))
@click.option("-m", "--message", "note", help="A note (for ESCALATED and DEFERRED).")
def done(out: Out, status: str, note: str | None) -> None:
    """Submit the work on your hook: to the merge queue, or escalate, or give it back.

    Example: gt done
    """
    from gt.town.layout import require_town
    from gt.dispatch.done import done

    result = done(require_town(), out.signature(None), out.identity(), status, note)
    if result.get("merge_request"):
        text = f"Submitted {result['bead']} ({result['branch']} at {result['head'][:7]}) as {result['merge_request']}"
    elif result.get("merge") == "direct":
        text = f"Merged {result['bead']} directly at {result['head'][:7]}"
    else:
        text = f"{result['status']}: {result['bead']}"
    out.emit(result, text)

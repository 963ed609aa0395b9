import click

from gt.cli.common import Out, command


@command("history")
@click.argument("bead")
def history(out: Out, bead: str) -> None:
    """The bead's history from the ledger's commits: who changed what, when.

    Example: bd history gt-a3f8k
    """
    from gt.beads.history import history
    from gt.beads.tracker import Tracker
    from gt.town.context import routed

    tracker = routed([bead])
    view = tracker.view()
    bead_id = Tracker.resolve(view, bead)
    events = history(tracker, bead_id)

    def text() -> str:
        lines = []
        for e in events:
            lines.append(f"{e['time']}  {e['commit'][:9]}  {e['author']}  {e['subject']}")
            for field, (old, new) in e["changes"].items():
                if e["op"] != "create" or field in ("status", "title"):
                    lines.append(f"    {field}: {_short(old)} -> {_short(new)}")
        return "\n".join(lines) or f"No history for {bead_id}"

    out.emit(events, text)


def _short(value: object) -> str:
    text = "-" if value is None else str(value).replace("\n", "⏎")
    return text if len(text) <= 60 else text[:57] + "..."

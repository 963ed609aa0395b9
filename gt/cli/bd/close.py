from __future__ import annotations

from typing import TYPE_CHECKING

import click

from gt.cli.common import Out, command, read_text

if TYPE_CHECKING:
    from gt.beads.tracker import Tracker


@command("close")
@click.argument("ids", nargs=-1, required=True)
@click.option("-r", "--reason", help="Why it is closed.")
@click.option("--resolution", "-m", "--message", "--comment", "reason_alias", hidden=True, help="Same as --reason.")
@click.option("--reason-file", metavar="FILE", help="Read the reason from FILE (- for stdin).")
@click.option("-f", "--force", is_flag=True, help="Close even with open children or open blockers.")
@click.option("--suggest-next", is_flag=True, help="Also print the beads this close made ready.")
def close(out: Out, ids: tuple[str, ...], reason: str | None, reason_alias: str | None, reason_file: str | None,
          force: bool, suggest_next: bool) -> None:
    """Close beads (one commit for all of them).

    Example: bd close gt-a3f8k -r "fixed in 4c1e2"
    """
    from gt.dispatch.lifecycle import close_beads
    from gt.errors import UsageError
    from gt.town.context import routed

    if reason is not None and reason_alias is not None and reason != reason_alias:
        raise UsageError("give the reason once (--reason)")
    reason = read_text(reason if reason is not None else reason_alias, reason_file, "reason")
    tracker = routed(list(ids))
    before = _ready(tracker) if suggest_next else set()
    edit, landed = close_beads(tracker, out.signature(tracker.repo), list(ids), reason, force)
    from gt.beads.contract import issue_json

    docs = [issue_json(d) for d in edit.result]
    text = f"Closed {', '.join(edit.beads)}" if edit.commit else "Already closed"
    text += "".join(f"\nConvoy {c['id']} landed ({c['title']}): notified {', '.join(c['notified'])}" for c in landed)
    if not suggest_next:
        out.emit(docs, text)  # an array, even of one bead, as the original prints it
        return
    from gt.beads.tracker import Tracker

    view = tracker.view()
    unblocked = [issue_json(Tracker.get(view, i)) for i in sorted(_ready(tracker) - before)]
    text += "".join(f"\nNow ready: {d['id']} {d['title']}" for d in unblocked)
    out.emit({"closed": docs, "unblocked": unblocked} if unblocked else docs, text)  # as the original


def _ready(tracker: Tracker) -> set[str]:
    from gt.beads.queries import Filter, ready

    return set(ready(tracker.view(), Filter()))

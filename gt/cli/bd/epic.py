from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from gt.cli.common import Out, command as subcommand

if TYPE_CHECKING:
    from gt.beads.admin import EpicStatus
    from gt.ledger.store import View


@click.group("epic")
def epic() -> None:
    """Epics: how far along their children are, and closing those whose children are all closed.

    An epic's children are the beads with a parent-child dependency on it (`bd create --parent`).

    Example: bd epic status
    """


def _shown(view: View, statuses: list[EpicStatus]) -> list[dict[str, Any]]:
    """The original's EpicStatus objects: {epic: the bead, total_children, closed_children, eligible_for_close}."""
    from gt.beads.admin import epic_docs
    from gt.beads.contract import issue_json

    docs = epic_docs(view, statuses)
    return [{"epic": issue_json(docs[s.epic]), "total_children": s.total_children,
             "closed_children": s.closed_children, "eligible_for_close": s.eligible}
            for s in statuses if s.epic in docs]


@subcommand("status")
@click.option("--eligible-only", is_flag=True, help="Only the epics whose children are all closed.")
def status(out: Out, eligible_only: bool) -> None:
    """Each open epic with children: how many of them are closed, and whether it can be closed.

    Example: bd epic status --eligible-only
    """
    from gt.beads.admin import epic_statuses
    from gt.beads.tracker import Tracker

    view = Tracker.open().view()
    statuses = [s for s in epic_statuses(Tracker.summaries(view)) if s.eligible or not eligible_only]
    shown = _shown(view, statuses)

    def text() -> str:
        if not shown:
            return "No open epics found"
        lines = []
        for item in shown:
            total, closed = item["total_children"], item["closed_children"]
            mark = "✓" if item["eligible_for_close"] else "○"
            lines.append(f"{mark} {item['epic']['id']} {item['epic']['title']}")
            lines.append(f"   Progress: {closed}/{total} children closed ({closed * 100 // total}%)")
            if item["eligible_for_close"]:
                lines.append("   Eligible for closure")
        return "\n".join(lines)

    out.emit(shown, text)


@subcommand("close-eligible")
@click.option("--dry-run", is_flag=True, help="Only say which epics would be closed.")
def close_eligible(out: Out, dry_run: bool) -> None:
    """Close the open epics whose children are all closed (one commit; reason "All children completed").

    Example: bd epic close-eligible --dry-run
    """
    from gt.beads.admin import close_eligible as close_them, epic_statuses
    from gt.beads.tracker import Tracker

    tracker = Tracker.open()
    view = tracker.view()
    eligible = [s for s in epic_statuses(Tracker.summaries(view)) if s.eligible]
    if not eligible:
        out.emit([], "No epics eligible for closure")
        return
    if dry_run:
        shown = _shown(view, eligible)
        out.emit(shown, "\n".join([f"Would close {len(shown)} epics:"] +
                                  [f"  - {s['epic']['id']}: {s['epic']['title']}" for s in shown]))
        return
    from gt.dispatch.convoys import after_close
    from gt.town.layout import find_town

    actor = out.signature(tracker.repo)
    edit = close_them(tracker, actor)
    closed = list(edit.beads)
    landed = after_close(find_town(tracker.repo.commondir), actor, closed) if edit.commit else []
    text = "\n".join([f"Closed {len(closed)} epics:"] + [f"  - {i}" for i in closed]) if closed else \
        "No epics eligible for closure"
    text += "".join(f"\nConvoy {c['id']} landed ({c['title']}): notified {', '.join(c['notified'])}" for c in landed)
    out.emit({"closed": closed, "count": len(closed)}, text)


epic.add_command(status)
epic.add_command(close_eligible)

import click

from gt.cli.common import Out, command


@command("queue")
@click.option("--rig", help="Only the work queued for this rig.")
def queue(out: Out, rig: str | None) -> None:
    """Work waiting for a slot: beads slung at a rig at its cap (max_polecats, max_agents), in the
    order the Deacon dispatches them (priority, then the longest waiting).

    Example: gt queue --rig gizmo --json
    """
    from gt.dispatch import queue as scheduler
    from gt.errors import GtError
    from gt.town.layout import require_town
    from gt.town.rigs import registry

    town = require_town()
    if rig is not None and rig not in registry(town):
        raise GtError(f"no rig named {rig!r}", code="not_found")
    found = scheduler.entries(town, rig)
    keys = ("id", "title", "priority", "rig", "agent", "model", "queued_at", "queued_by", "reason", "machine", "here")

    def text() -> str:
        if not found:
            return "Nothing queued" + (f" for {rig}" if rig else "")
        lines = []
        for number, item in enumerate(found, 1):
            runs = " ".join(part for part in (item["agent"] or "(no agent)", f"model {item['model']}" if item["model"]
                                              else "") if part)
            lines.append(f"{number}. {item['id']}  P{item['priority']}  {item['rig']}  {runs}  queued {item['queued_at']}"
                         f"  {item['title']}" + (f"  ({item['reason']})" if item["reason"] else "")
                         + ("" if item["here"] else "  [queued on another machine]"))
        return "\n".join(lines)

    out.emit([{k: item[k] for k in keys} for item in found], text)

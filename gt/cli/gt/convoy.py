from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from gt.cli.common import Out, command as subcommand

if TYPE_CHECKING:
    from pathlib import Path


@click.group("convoy")
def convoy() -> None:
    """Convoys: batches of beads, from any rig, tracked until every one is closed.

    Example: gt convoy create "Login revamp" gz-a3f8k ot-b2c4d --notify mayor
    """


def _town() -> Path:
    from gt.town.layout import require_town

    return require_town()


def _status_text(convoys: list[dict[str, Any]]) -> str:
    from gt.cli import format

    lines = []
    for c in convoys:
        state = "landed" if c["status"] == "closed" else c["status"]
        lines.append(f"{format.mark('convoy')} {c['id']}  {c['title']}  [{state}]  {c['completed']}/{c['total']} completed"
                     + (f", {c['queued']} queued" if c.get("queued") else "") + f"  (created {str(c['created_at'])[:16]})")
        for b in c["beads"]:
            mark = format.mark("done" if b["status"] == "closed" else "open")
            lines.append(f"  {mark} {b['id']} [{b['type']}] {b['title']}  ({b['rig']}, {b['status']})")
        if c.get("queued"):
            lines.append(f"  queued: {c['queued']} waiting for a slot (gt queue)")
        if c["swarm"]:
            lines.append(f"  swarm: {', '.join(c['swarm'])}")
    return "\n".join(lines) or "No open convoys"


@subcommand("create")
@click.argument("name", required=False)
@click.argument("beads", nargs=-1)
@click.option("--notify", multiple=True, metavar="ADDR", help="Who is mailed when it lands (default: you).")
@click.option("--from-epic", metavar="EPIC", help="Track the epic's workable children (name defaults to its title).")
@click.option("--owned", is_flag=True, help="The creator owns landing it.")
def create(out: Out, name: str | None, beads: tuple[str, ...], notify: tuple[str, ...], from_epic: str | None,
           owned: bool) -> None:
    """Create a convoy tracking BEADS.

    Example: gt convoy create "Login revamp" gz-a3f8k wd-b2c4d --notify mayor
    """
    from gt.dispatch import convoys

    if from_epic and name and not beads and "-" in name and name == name.lower() and " " not in name:
        beads, name = (name,) + beads, None  # `--from-epic E gz-x`: the first argument is a bead
    doc = convoys.create(_town(), out.signature(None), name, beads, notify, from_epic, owned)
    tracked = convoys.tracked(doc)
    out.emit(doc, f"Created {doc['id']} {doc['title']} tracking {len(tracked)} beads")


@subcommand("add")
@click.argument("convoy")
@click.argument("beads", nargs=-1, required=True)
def add(out: Out, convoy: str, beads: tuple[str, ...]) -> None:
    """Track more beads (a landed convoy reopens).

    Example: gt convoy add hq-cv-x7k2m gz-a3f8k
    """
    from gt.dispatch import convoys

    doc = convoys.add(_town(), out.signature(None), convoy, beads)
    out.emit(doc, f"{doc['id']} tracks {len(convoys.tracked(doc))} beads ({doc['status']})")


@subcommand("status")
@click.argument("convoy", required=False)
def status(out: Out, convoy: str | None) -> None:
    """Progress of a convoy (default: every open one), its beads and its swarm.

    Example: gt convoy status hq-cv-x7k2m
    """
    from gt.dispatch import convoys

    found = convoys.status(_town(), convoy)
    out.emit(found[0] if convoy else found, lambda: _status_text(found))


@subcommand("list")
@click.option("--all", "everything", is_flag=True, help="Landed convoys too.")
@click.option("--status", "state", type=click.Choice(["open", "closed"]), help="Only open or landed ones.")
def list_(out: Out, everything: bool, state: str | None) -> None:
    """The convoy dashboard.

    Example: gt convoy list --all --json
    """
    from gt.dispatch import convoys

    found = convoys.status(_town(), include_closed=everything or state == "closed")
    if state:
        found = [c for c in found if c["status"] == state]
    rows = [{k: c[k] for k in ("id", "title", "status", "completed", "queued", "total", "created_at", "swarm")} for c in found]
    out.emit(rows, "\n".join(f"{r['id']}  {r['completed']}/{r['total']}  {r['status']:<6}  {r['title']}" for r in rows)
             or "No convoys")


@subcommand("check")
def check(out: Out) -> None:
    """Land every open convoy whose tracked beads are all closed.

    Example: gt convoy check
    """
    from gt.dispatch import convoys

    landed = convoys.check(_town(), out.signature(None))
    out.emit(landed, "\n".join(f"Landed {c['id']} {c['title']}: notified {', '.join(c['notified'])}" for c in landed)
             or "Nothing to land")


@subcommand("stranded")
def stranded(out: Out) -> None:
    """Open convoys with ready work that nobody is hooked on.

    Example: gt convoy stranded --json
    """
    from gt.dispatch import convoys

    found = convoys.stranded(_town())
    out.emit(found, "\n".join(f"{c['id']} {c['title']}: ready {', '.join(c['ready'])}" for c in found)
             or "No stranded convoys")


@subcommand("close")
@click.argument("convoy")
@click.option("--force", is_flag=True, help="Close with open beads still tracked.")
@click.option("-r", "--reason")
def close(out: Out, convoy: str, force: bool, reason: str | None) -> None:
    """Close a convoy by hand.

    Example: gt convoy close hq-cv-x7k2m --force -r "dropped"
    """
    from gt.dispatch import convoys

    doc = convoys.close(_town(), out.signature(None), convoy, force, reason)
    out.emit(doc, f"Closed {doc['id']}")


for sub in (create, add, status, list_, check, stranded, close):
    convoy.add_command(sub)

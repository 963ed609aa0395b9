import click

from gt.cli.common import Out, command as subcommand


@click.group("mq")
def mq() -> None:
    """The merge queue of a rig (what the refinery lands).

    Example: gt mq list gizmo
    """


@subcommand("list")
@click.argument("rig", required=False)
def list_(out: Out, rig: str | None) -> None:
    """Open merge requests, in the order the refinery takes them.

    Example: gt mq list gizmo --json
    """
    from gt.roles import refinery

    town, rig = out.town_and_rig(rig)
    found = refinery.queue(town, rig)
    out.emit(found, "\n".join(f"{d['id']}  P{d.get('priority')}  {d['mr'].get('branch')}  {d['mr'].get('worker')}"
                              f"  ({len(d['mr'].get('attempts') or [])} attempts)" for d in found) or "The queue is empty")


@subcommand("submit")
def submit(out: Out) -> None:
    """Submit the work on your hook (what `gt done` does).

    Example: gt mq submit
    """
    from gt.town.layout import require_town
    from gt.dispatch.done import done

    result = done(require_town(), out.signature(None), out.identity())
    out.emit(result, f"Submitted {result['bead']} as {result.get('merge_request')}")


@subcommand("retry")
@click.argument("mr")
@click.option("--rig")
def retry(out: Out, mr: str, rig: str | None) -> None:
    """Put a rejected merge request back in the queue.

    Example: gt mq retry gz-mr9k2 --rig gizmo
    """
    from gt.roles import refinery

    town, rig = out.town_and_rig(rig, "--rig NAME")
    doc = refinery.retry(town, out.signature(None), rig, mr)
    out.emit(doc, f"{doc['id']} is back in the queue")


@subcommand("reject")
@click.argument("mr")
@click.option("-r", "--reason", required=True)
@click.option("--rig")
def reject(out: Out, mr: str, reason: str, rig: str | None) -> None:
    """Reject a merge request by hand.

    Example: gt mq reject gz-mr9k2 --rig gizmo -r "superseded"
    """
    from gt.roles import refinery

    town, rig = out.town_and_rig(rig, "--rig NAME")
    doc = refinery.reject(town, out.signature(None), rig, mr, reason)
    out.emit(doc, f"Rejected {doc['id']}: {reason}")


for sub in (list_, submit, retry, reject):
    mq.add_command(sub)

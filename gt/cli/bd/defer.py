import click

from gt.cli.common import Out, command


@command("defer")
@click.argument("ids", nargs=-1, required=True)
@click.option("--until", metavar="DATE",
              help="Until when: YYYY-MM-DD, an ISO 8601 timestamp, +6h, +2d, +1w, today or tomorrow.")
def defer(out: Out, ids: tuple[str, ...], until: str | None) -> None:
    """Put beads on ice: status `deferred` (and a defer date with --until), in one commit.

    Deferred beads are not in `bd ready` but stay in `bd list`; `bd undefer` brings them back.

    Example: bd defer gt-a3f8k --until +2w
    """
    from gt.beads import operations
    from gt.model.bead import normalize_time
    from gt.beads.contract import issue_json
    from gt.model.bead import parse_time
    from gt.town.context import routed

    fields: dict[str, object] = {"status": "deferred"}
    if until is not None:
        fields["defer_until"] = normalize_time(until, "--until date")
        import time

        if not out.json and (parse_time(fields["defer_until"]) or 0) < time.time():
            click.echo(f"Warning: {fields['defer_until']} is in the past (for a date to come: --until +1d)", err=True)
    tracker = routed(list(ids))
    edit = operations.update(tracker, out.signature(tracker.repo), list(ids), fields=fields, op="defer")
    docs = [issue_json(d) for d in edit.result]
    out.emit(docs, "\n".join(f"Deferred {d['id']}" + (f" until {d['defer_until']}" if d.get("defer_until") else "")
                             for d in docs))

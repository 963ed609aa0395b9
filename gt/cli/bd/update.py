import click

from gt.cli.common import Out, command, read_text


@command("update")
@click.argument("ids", nargs=-1, required=True)
@click.option("-s", "--status", help="New status.")
@click.option("-p", "--priority", help="0-4 or P0-P4.")
@click.option("--title", help="New title.")
@click.option("-t", "--type", "type_", help="New type.")
@click.option("-a", "--assignee", help="New assignee ('' clears it).")
@click.option("--claim", is_flag=True, help="Atomically take the bead: only while open and unassigned (or yours).")
@click.option("--add-label", multiple=True, help="Add labels (repeatable or comma-separated).")
@click.option("--remove-label", multiple=True, help="Remove labels (repeatable or comma-separated).")
@click.option("--set-labels", multiple=True, help="Replace every label with these (repeatable or comma-separated).")
@click.option("--notes", help="Replace the notes.")
@click.option("--append-notes", help="Append a line to the notes.")
@click.option("-d", "--description", "--body", "-m", "--message", "description", help="Replace the description.")
@click.option("--body-file", "--description-file", "description_file", metavar="FILE",
              help="Read the description from FILE (- for stdin).")
@click.option("--stdin", "from_stdin", is_flag=True, help="Read the description from stdin.")
@click.option("--design", help="Replace the design notes.")
@click.option("--acceptance", "--acceptance-criteria", "acceptance", help="Replace the acceptance criteria.")
@click.option("--external-ref", help="Reference in another system.")
@click.option("-e", "--estimate", type=click.IntRange(min=0), help="Estimated minutes.")
@click.option("--due", metavar="DATE", help="Due date (YYYY-MM-DD or ISO 8601).")
@click.option("--defer", metavar="DATE", help="Hide from `bd ready` until DATE ('' clears it).")
@click.option("--parent", metavar="ID", help="Make the bead a child of ID.")
def update(out: Out, ids: tuple[str, ...], status: str | None, priority: str | None, title: str | None,
            type_: str | None, assignee: str | None, claim: bool, add_label: tuple[str, ...],
            remove_label: tuple[str, ...], set_labels: tuple[str, ...], notes: str | None, append_notes: str | None,
            description: str | None, description_file: str | None, from_stdin: bool, design: str | None,
            acceptance: str | None, external_ref: str | None, estimate: int | None, due: str | None,
            defer: str | None, parent: str | None) -> None:
    """Change fields of one or more beads (one commit).

    Example: bd update gt-a3f8k --status in_progress --assignee alice
    """
    from gt.beads import operations
    from gt.cli.filters import split
    from gt.errors import UsageError
    from gt.model.bead import normalize_time, parse_priority
    from gt.town.context import routed

    if from_stdin:
        if description_file is not None:
            raise UsageError("give the description from a file or stdin, not both")
        description_file = "-"

    fields = {
        "status": status, "title": title, "type": type_, "assignee": assignee, "notes": notes,
        "description": read_text(description, description_file, "description"), "design": design,
        "acceptance_criteria": acceptance, "external_ref": external_ref, "estimated_minutes": estimate,
    }
    fields = {k: v for k, v in fields.items() if v is not None}
    if priority is not None:
        fields["priority"] = parse_priority(priority)
    if due is not None:
        fields["due_at"] = normalize_time(due, "due date") if due else ""
    if defer is not None:
        fields["defer_until"] = normalize_time(defer, "defer date") if defer else ""
    tracker = routed(list(ids))
    edit = operations.update(
        tracker, out.signature(tracker.repo), list(ids), fields=fields, add_labels=split(add_label),
        remove_labels=split(remove_label), append_notes=append_notes, parent=parent, claim=claim,
        set_labels=split(set_labels) if set_labels else None,
    )
    from gt.beads.contract import issue_json

    docs = [issue_json(d) for d in edit.result]
    verb = "Claimed" if claim else "Updated"
    out.emit(docs,  # an array, even of one bead, as the original prints it
             f"{verb} {', '.join(d['id'] for d in docs)}" if edit.commit else "No change")

import click

from gt.cli.common import Out, command, read_text


DEPENDS = ("depends-on", "blocked-by")  # the original's spellings of "the new bead waits for this one"


def parse_deps(specs: tuple[str, ...] | str | None) -> tuple[list[tuple[str, str]], list[str]]:
    """The original's `--deps`: (what the new bead depends on, the beads it blocks). `ID`,
    `depends-on:ID` and `blocked-by:ID` mean ID blocks the new bead; `blocks:ID` means the new bead
    blocks ID; `TYPE:ID` is a link of that type. Repeatable and comma-separated."""
    deps: list[tuple[str, str]] = []
    blocks: list[str] = []
    for spec in (specs,) if isinstance(specs, str) else specs or ():
        for item in spec.split(","):
            item = item.strip()
            if not item:
                continue
            dep_type, sep, target = item.rpartition(":")
            if sep and dep_type == "blocks":
                blocks.append(target)
            else:
                deps.append(("blocks" if not sep or dep_type in DEPENDS else dep_type, target))
    return deps, blocks


@command("create")
@click.argument("title", required=False)
@click.option("--title", "title_option", metavar="TITLE", help="The title (instead of the argument).")
@click.option("-t", "--type", "type_", default="task", show_default=True, help="Bead type.")
@click.option("-p", "--priority", default="2", show_default=True, help="0-4 or P0-P4 (0 is the highest).")
@click.option("-d", "--description", help="Description text (- reads stdin).")
@click.option("--body", "-m", "--message", "body", hidden=True, help="Same as --description.")
@click.option("--body-file", "--description-file", "description_file", metavar="FILE",
              help="Read the description from FILE (- for stdin).")
@click.option("--stdin", "from_stdin", is_flag=True, help="Read the description from stdin.")
@click.option("--design", help="Design notes.")
@click.option("--design-file", metavar="FILE", help="Read the design notes from FILE (- for stdin).")
@click.option("--acceptance", help="Acceptance criteria.")
@click.option("--notes", help="Notes.")
@click.option("-l", "--labels", "--label", "labels", multiple=True, help="Labels (repeatable or comma-separated).")
@click.option("-a", "--assignee", help="Assignee.")
@click.option("--parent", metavar="ID", help="Make this a child of ID (id becomes ID.<suffix>); it takes ID's labels.")
@click.option("--no-inherit-labels", is_flag=True, help="With --parent: do not take the parent's labels.")
@click.option("--deps", multiple=True, metavar="[TYPE:]ID,...",
              help="ID (or depends-on:ID, blocked-by:ID) blocks the new bead; blocks:ID: the new bead blocks ID; "
                   "another TYPE:ID is a link, e.g. discovered-from:gt-b2.")
@click.option("--id", "bead_id", metavar="ID", help="Use this exact id.")
@click.option("--force", is_flag=True, hidden=True, help="Accepted: an --id with another prefix is always allowed here.")
@click.option("--external-ref", help="Reference in another system.")
@click.option("-e", "--estimate", type=click.IntRange(min=0), help="Estimated minutes.")
@click.option("--due", metavar="DATE", help="Due date (YYYY-MM-DD or ISO 8601).")
@click.option("--defer", metavar="DATE", help="Hide from `bd ready` until DATE.")
@click.option("--silent", is_flag=True, help="Print only the id (the default here).")
@click.option("--dry-run", is_flag=True, help="Check and print the bead without creating it.")
@click.option("--prefix", "route_prefix", metavar="P", help="In a town: create in the ledger whose prefix is P.")
@click.option("--rig", metavar="NAME", help="In a town: create in that rig's ledger.")
def create(out: Out, title: str | None, title_option: str | None, type_: str, priority: str, description: str | None,
           body: str | None, description_file: str | None, from_stdin: bool, design: str | None,
           design_file: str | None, acceptance: str | None, notes: str | None, labels: tuple[str, ...],
           assignee: str | None, parent: str | None, no_inherit_labels: bool, deps: tuple[str, ...],
           bead_id: str | None, force: bool, external_ref: str | None, estimate: int | None, due: str | None,
           defer: str | None, silent: bool, dry_run: bool, route_prefix: str | None, rig: str | None) -> None:
    """Create a bead and print its id.

    Example: bd create "Fix login" -t bug -p 1 -l auth
    """
    from gt.beads import operations
    from gt.errors import UsageError
    from gt.model.bead import normalize_time, parse_priority
    from gt.town.context import routed

    if title and title_option and title != title_option:
        raise UsageError("the title is given twice, differently (argument and --title)")
    title = title or title_option
    if title is None:
        raise UsageError("a bead needs a title: bd create TITLE (or --title)")
    if body is not None and description is not None and body != description:
        raise UsageError("give the description once (--description or --body)")
    text = description if description is not None else body
    if from_stdin or text == "-":
        if description_file is not None:
            raise UsageError("give the description as text, a file or stdin, not several")
        text, description_file = None, "-"
    from gt.cli.filters import split

    labels = split(labels)
    depends, blocks = parse_deps(deps)
    tracker = routed(prefix=route_prefix, rig=rig)
    if parent and not no_inherit_labels:  # the original's children take their parent's labels
        from gt.beads.tracker import Tracker

        view = tracker.view()
        labels = (*(Tracker.get(view, Tracker.resolve(view, parent)).get("labels") or ()), *labels)
    edit = operations.create(
        tracker, out.signature(tracker.repo), title, type=type_, priority=parse_priority(priority),
        description=read_text(text, description_file, "description") or "",
        design=read_text(design, design_file, "design") or "", acceptance=read_text(acceptance, None, "acceptance") or "",
        notes=read_text(notes, None, "notes") or "", labels=labels, assignee=assignee, parent=parent, deps=depends,
        blocks=blocks, bead_id=bead_id, external_ref=external_ref, estimate=estimate,
        due=normalize_time(due, "due date") if due else None, defer=normalize_time(defer, "defer date") if defer else None,
        dry_run=dry_run,
    )
    from gt.beads.contract import issue_json

    text_out = f"Would create {edit.result['id']}: {edit.result['title']}" if dry_run else edit.result["id"]
    out.emit(issue_json(edit.result), text_out)

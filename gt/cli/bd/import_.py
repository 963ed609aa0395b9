import click

from gt.cli.common import Out, command


@command("import")
@click.argument("path", metavar="FILE")
@click.option("--strict", is_flag=True,
              help="Refuse the whole file at its first bad line (nothing is imported).")
def import_(out: Out, path: str, strict: bool) -> None:
    """Import beads from a beads JSON Lines file (- for stdin); one commit, updates by id.

    A line that cannot be imported is refused and reported, on stderr as `FILE:LINE: ID: reason` (with
    --json, in a `refused` list), and every other line is imported. The exit code is 1 only when
    every line was refused (with --strict, when any was).

    Example: bd import .beads/issues.jsonl
    """
    import sys

    from gt.errors import GtError, UsageError
    from gt.beads.exchange import import_docs, read_lines, read_records
    from gt.beads.tracker import Tracker

    tracker = Tracker.open()
    tracker.require()
    # the name as text (a file name may not be UTF-8): it goes into the commit message
    source = "<stdin>" if path == "-" else path.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    try:
        if path == "-":
            records = read_records(read_lines(sys.stdin.buffer), source, strict)
        else:
            with open(path, "rb") as f:
                records = read_records(read_lines(f), source, strict)
    except OSError as exc:
        raise UsageError(f"cannot read {source}: {exc.strerror}") from None
    refused = records.refused
    if refused and not records.beads:  # every line refused: nothing to write
        if out.json:
            out.emit({"created": 0, "updated": 0, "unchanged": 0, "source": source,
                      "refused": [r.as_json() for r in refused]})
        if len(refused) == 1:
            raise GtError(refused[0].text(source), code="bad_input")
        for refusal in refused if not out.json else ():
            click.echo(refusal.text(source), err=True)
        raise GtError(f"nothing imported from {source}: all {len(refused)} lines were refused "
                      f"(the first: {refused[0].text(source)})", code="bad_input")
    if not out.json:
        for refusal in refused:
            click.echo(refusal.text(source), err=True)
    edit = import_docs(tracker, out.signature(tracker.repo), records.beads, source, len(refused))
    r = {**edit.result, "refused": [refusal.as_json() for refusal in refused]}
    out.emit(r, f"Imported {source}: {r['created']} created, {r['updated']} updated, {r['unchanged']} unchanged")
    if refused and not out.json:
        click.echo(f"Imported {len(records.beads)}, refused {len(refused)} (see above)", err=True)

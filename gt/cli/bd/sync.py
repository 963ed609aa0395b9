import click

from gt.cli.common import Out, command


@command("sync")
@click.option("--remote", metavar="NAME", help="Remote to sync with (default: the configured one, else origin).")
@click.option("--no-push", is_flag=True, help="Fetch and merge only.")
@click.option("--status", "show_status", is_flag=True, help="Only say how many ledger commits each side is ahead.")
def sync(out: Out, remote: str | None, no_push: bool, show_status: bool) -> None:
    """Fetch the remote ledger, merge it, and push (never forced).

    Example: bd sync --remote origin
    """
    from gt.beads import sync
    from gt.beads.tracker import Tracker

    tracker = Tracker.open()
    if show_status:
        result = sync.status(tracker, remote)
        out.emit(result, f"{result['remote']}: {result['ahead']} ahead, {result['behind']} behind")
        return
    report = sync.sync(tracker, out.signature(tracker.repo), remote, push_changes=not no_push)

    def text() -> str:
        lines = [f"{report.remote}: {report.action}" + (f" ({len(report.merged_beads)} beads merged)" if report.merged_beads else "")
                 + ("; pushed" if report.pushed else "")
                 + (f" (the remote moved meanwhile: {report.rounds} rounds)" if report.retries else "")]
        lines += [f"id collision: {old} renamed to {new}" for old, new in report.renamed.items()]
        return "\n".join(lines)

    out.emit(report.as_dict(), text)

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
    from gt.cli.bd.quick import describe

    tracker = Tracker.open()
    if show_status:
        result = sync.status(tracker, remote)
        out.emit(result, f"{result['remote']}: {result['ahead']} ahead, {result['behind']} behind")
        return
    # who signs a merge commit is asked only when one is written (a sync that merges nothing needs no one)
    report = sync.sync(tracker, lambda: out.signature(tracker.repo), remote, push_changes=not no_push)
    out.emit(report.as_dict(), lambda: describe(report))

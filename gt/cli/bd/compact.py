import click

from gt.cli.common import Out, command


@command("compact")
@click.option("--prune-tombstones-older-than", "days", type=click.FloatRange(min=0), default=30.0,
              show_default=True, metavar="DAYS", help="Remove tombstones of beads deleted more than DAYS ago.")
def compact(out: Out, days: float) -> None:
    """Repack the ledger's objects and prune old tombstones.

    Example: bd compact --prune-tombstones-older-than 90
    """
    from gt.beads.doctor import compact
    from gt.beads.tracker import Tracker

    if days != days:  # NaN passes Click's range check
        from gt.errors import UsageError

        raise UsageError("invalid --prune-tombstones-older-than nan: give a number of days")
    tracker = Tracker.open()
    result = compact(tracker, out.signature(tracker.repo), days)
    out.emit(result, ", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in result.items()))

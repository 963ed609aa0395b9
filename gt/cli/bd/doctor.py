import click

from gt.cli.common import Out, command


@command("doctor")
@click.option("--fix", is_flag=True, help="Repair what is safe to repair.")
def doctor(out: Out, fix: bool) -> None:
    """Check the ledger: unreadable files, dangling dependencies, cycles, stale locks, cache, objects.

    Example: bd doctor --fix
    """
    from gt.cli import format
    from gt.beads.doctor import doctor
    from gt.beads.tracker import Tracker

    findings = doctor(Tracker.open(), fix)

    out.emit([f.as_dict() for f in findings], lambda: format.findings(findings, "No problems found"))
    if any(not f.fixed for f in findings):
        raise SystemExit(1)

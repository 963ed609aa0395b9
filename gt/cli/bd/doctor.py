import click

from gt.cli.common import Out, command


@command("doctor")
@click.option("--fix", is_flag=True, help="Repair what is safe to repair.")
def doctor(out: Out, fix: bool) -> None:
    """Check the ledger: unreadable files, dangling dependencies, cycles, stale locks, cache, objects,
    and our git hooks where they are installed (outdated ones are rewritten with --fix).

    Example: bd doctor --fix
    """
    from gt.cli import format
    from gt.beads.doctor import doctor
    from gt.beads.tracker import Tracker
    from gt.githooks import install as git_hooks

    from gt.town.context import Town

    tracker = Tracker.open()
    town = Town.find(tracker.repo.commondir)  # in a town, a dependency may point into another rig's ledger
    findings = doctor(tracker, fix, town.other_ledgers if town else None) + git_hooks.check(tracker.repo, git_hooks.ALL, required=False, fix=fix)

    out.emit([f.as_dict() for f in findings], lambda: format.findings(findings, "No problems found"))
    if any(not f.fixed and not f.notice for f in findings):
        raise SystemExit(1)

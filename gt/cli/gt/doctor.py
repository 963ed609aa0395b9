import click

from gt.cli.common import Out, command


@command("doctor")
@click.option("--fix", is_flag=True, help="Repair what can be repaired safely.")
def doctor(out: Out, fix: bool) -> None:
    """Check the town: layout, registry, routes, hooks, ledgers, identities, stale locks.

    Example: gt doctor --fix
    """
    from gt.cli import format
    from gt.town.layout import require_town
    from gt.town.doctor import doctor

    findings = doctor(require_town(), out.signature(None), fix)

    out.emit([f.as_dict() for f in findings], lambda: format.findings(findings, "The town is healthy"))
    if any(not f.fixed and not f.notice for f in findings):
        raise SystemExit(1)

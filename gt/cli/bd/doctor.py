import click

from gt.cli.common import Out, command


@command("doctor")
@click.option("--fix", is_flag=True, help="Repair what is safe to repair.")
def command(out: Out, fix: bool) -> None:
    """Check the ledger: unreadable files, dangling dependencies, cycles, stale locks, cache, objects.

    Example: bd doctor --fix
    """
    from gt.work.doctor import doctor
    from gt.work.tracker import Tracker

    findings = doctor(Tracker.open(), fix)

    def text() -> str:
        if not findings:
            return "No problems found"
        lines = []
        for f in findings:
            action = " [fixed]" if f.fixed else (f" (--fix: {f.fix})" if f.fix else "")
            lines.append(f"{f.kind}: {f.path}: {f.problem}{action}")
        return "\n".join(lines)

    out.emit([f.as_dict() for f in findings], text)
    if any(not f.fixed for f in findings):
        raise SystemExit(1)

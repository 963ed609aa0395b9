import click

from gt.cli.common import Out, command


@command("install")
@click.argument("path", required=False)
@click.option("--name", help="The town's name (default: the folder's name).")
@click.option("--force", is_flag=True, help="Repair a town: add what is missing, touch no data.")
def command(out: Out, path: str | None, name: str | None, force: bool) -> None:
    """Create a town (default ~/gt, or $GT_ROOT).

    Example: gt install ~/gt
    """
    from pathlib import Path

    from gt.town import layout
    from gt.work.install import install

    root = Path(path) if path else layout.default_root()
    report = install(root, out.signature(None).name, name, force)

    def text() -> str:
        if report.existed and not report.created:
            return f"A town already exists at {report.root}" + ("" if force else " (use --force to repair it)")
        verb = "Repaired" if report.existed else "Installed"
        return f"{verb} the town at {report.root}\n" + "\n".join(f"  + {c}" for c in report.created)

    out.emit(report.as_dict(), text)

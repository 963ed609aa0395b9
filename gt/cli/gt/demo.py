import click

from gt.cli.common import Out, command


@command("demo")
@click.option("--dir", "workdir", metavar="PATH", help="Keep the demo in PATH instead of a temporary directory.")
def command(out: Out, workdir: str | None) -> None:
    """Run a narrated tour of the ledger with real commands.

    Example: gt demo --dir /tmp/gt-demo
    """
    from gt.work.demo import run

    code = run(workdir)
    if code:
        raise SystemExit(code)

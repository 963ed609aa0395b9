import click

from gt.cli.common import Out, command


@command("demo")
@click.option("--dir", "workdir", metavar="PATH", help="Keep the demo town in PATH instead of a temporary directory.")
@click.option("--agent", metavar="NAME", help="Run the agents with this runtime from your town's settings "
                                              "(default: the scripted agent).")
def command(out: Out, workdir: str | None, agent: str | None) -> None:
    """Run Gas Town end to end in a temporary town: rigs, beads, a convoy, polecats, merges, landing.

    Example: gt demo --dir /tmp/gt-demo
    """
    from gt.town.demo import run

    code = run(workdir, agent=agent)
    if code:
        raise SystemExit(code)

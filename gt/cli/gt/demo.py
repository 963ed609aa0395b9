import click

from gt.cli.common import Out, command


@command("demo")
@click.option("--dir", "workdir", metavar="PATH", help="Keep the demo town in PATH instead of a temporary directory.")
@click.option("--agent", metavar="NAME", help="Run the agents with this runtime from your town's settings "
                                              "(default: the scripted agent).")
def demo(out: Out, workdir: str | None, agent: str | None) -> None:
    """Run Gas Town end to end in a temporary town: rigs, beads, a convoy, polecats, merges, landing.

    Example: gt demo --dir /tmp/gt-demo
    """
    from gt.town.demo import run

    run(workdir, agent=agent)  # a failure raises DemoFailed, a GtError: one `Error: …` line on stderr, exit 1

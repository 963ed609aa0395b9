import click

from gt.cli.common import Out, command as subcommand


@click.group("deacon")
def deacon() -> None:
    """The Deacon: the town's supervisor (started by `gt up`).

    Example: gt deacon tick

    Example: gt deacon tick --json
    """


@subcommand("tick")
def tick(out: Out) -> None:
    """Run one tick in the foreground: patrols, merges, convoy checks, feeding.

    Example: gt deacon tick --json
    """
    from gt.town.layout import require_town
    from gt.roles import deacon

    report = deacon.tick(require_town())
    out.emit(report, lambda: "\n".join(
        [f"{rig}: {len(e.get('witness') or [])} witness decisions, {len(e.get('refinery') or [])} merges tried"
         for rig, e in report["rigs"].items()]
        + [f"landed {c['id']}" for c in report["landed"]] + [f"fed {f}" for f in report["fed"]]
        + [f"error: {e}" for e in report["errors"]] + [f"tick took {report['seconds']} s"]))


deacon.add_command(tick)

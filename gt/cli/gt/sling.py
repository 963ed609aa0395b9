import click

from gt.cli.common import Out, command


@command("sling")
@click.argument("args", nargs=-1, required=True, metavar="BEAD... [TARGET]")
@click.option("--to", "to", metavar="TARGET", help="A rig (spawn a polecat there) or an agent identity.")
@click.option("--agent", help="The agent runtime from the settings (default: default_agent).")
@click.option("--model", help="The model name to record on the work (for comparisons).")
@click.option("--no-convoy", is_flag=True, help="Do not create a convoy for untracked beads.")
@click.option("--merge", default="mr", show_default=True, type=click.Choice(["mr", "direct", "local"]),
              help="How finished work lands: merge queue, straight to the default branch, or left on its branch.")
@click.option("--force", is_flag=True, help="Take beads hooked elsewhere; replace a busy agent's hook.")
@click.option("--no-start", is_flag=True, help="Hook and prepare, but do not start the agent runtime.")
def sling(out: Out, args: tuple[str, ...], to: str | None, agent: str | None, model: str | None,
            no_convoy: bool, merge: str, force: bool, no_start: bool) -> None:
    """Put beads on agents' hooks and start them: TARGET is a rig (a polecat each), an agent, or yourself.

    Beads beyond the rig's max_polecats (or the town's max_agents) are queued, not refused: see gt queue.

    Example: gt sling gz-a3f8k gz-b2c4d gizmo --agent script --model model-a
    """
    from gt.town.layout import require_town
    from gt.dispatch import sling
    from gt.roles import polecats

    town = require_town()
    beads, target = sling.split_target(town, list(args), to)
    report = polecats.sling(town, out.signature(None), beads, target, agent=agent, model=model,
                            convoy=not no_convoy, merge=merge, force=force, start=not no_start)

    def text() -> str:
        from gt.cli import format

        lines = [f"{s.bead} {format.mark('hooked')} {s.agent}" + (f" ({s.branch}, pid {s.pid})" if s.branch and s.pid else
                                            f" ({s.branch})" if s.branch else "") for s in report.slung]
        lines += [f"Queued {q.bead} for {q.rig} ({q.reason})" for q in report.queued]
        if report.convoy:
            lines.append(f"Convoy: {report.convoy}")
        return "\n".join(lines)

    out.emit(report.as_dict(), text)

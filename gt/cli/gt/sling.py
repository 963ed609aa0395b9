from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from gt.cli.common import Out, command


@command("sling")
@click.argument("args", nargs=-1, metavar="BEAD... [TARGET]")
@click.option("--to", "to", metavar="TARGET", help="A rig (spawn a polecat there) or an agent identity.")
@click.option("--agent", help="The agent runtime from the settings (default: default_agent).")
@click.option("--model", help="The model name to record on the work (for comparisons).")
@click.option("--no-convoy", is_flag=True, help="Do not create a convoy for untracked beads.")
@click.option("--merge", default="mr", show_default=True, type=click.Choice(["mr", "direct", "local"]),
              help="How finished work lands: merge queue, straight to the default branch, or left on its branch.")
@click.option("--force", is_flag=True, help="Take beads hooked elsewhere; replace a busy agent's hook.")
@click.option("--no-start", is_flag=True, help="Hook and prepare, but do not start the agent runtime.")
@click.option("--formula", metavar="NAME", help="Pour formula NAME in TARGET's rig and sling the molecule's root.")
@click.option("--var", "variables", multiple=True, metavar="NAME=VALUE", help="With --formula: a value (repeatable).")
def sling(out: Out, args: tuple[str, ...], to: str | None, agent: str | None, model: str | None,
            no_convoy: bool, merge: str, force: bool, no_start: bool, formula: str | None,
            variables: tuple[str, ...]) -> None:
    """Put beads on agents' hooks and start them: TARGET is a rig (a polecat each), an agent, or yourself.

    Beads beyond the rig's max_polecats (or the town's max_agents) are queued, not refused: see gt queue.

    With --formula NAME, the work is a molecule poured from that formula (see `bd formula list`):
    one polecat walks its steps.

    Example: gt sling gz-a3f8k gz-b2c4d gizmo --agent script --model model-a
    Example: gt sling --formula quick-check gizmo --var target=api
    """
    from gt.errors import UsageError
    from gt.town.layout import require_town
    from gt.dispatch import sling
    from gt.roles import polecats

    town = require_town()
    if formula is not None:
        if len(args) > 1 or (args and to):
            raise UsageError("with --formula, give only the target: gt sling --formula NAME RIG")
        _sling_formula(out, town, formula, variables, to or (args[0] if args else None), agent=agent, model=model,
                       convoy=not no_convoy, merge=merge, force=force, start=not no_start)
        return
    if variables:
        raise UsageError("--var goes with --formula")
    if not args:
        raise UsageError("which beads? give at least one bead id (or --formula NAME)")
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


def _sling_formula(out: Out, town: Path, name: str, variables: tuple[str, ...], target: str | None,
                   **options: Any) -> None:
    from gt.beads.formulas import parse_vars
    from gt.dispatch import sling
    from gt.roles.polecats import Workers

    done = sling.sling_formula(town, out.signature(None), name, parse_vars(variables), target, Workers(), **options)

    def text() -> str:
        lines = [f"Poured {done.molecule} from {done.formula} ({len(done.steps)} steps)"]
        lines += [f"{s.bead} hooked on {s.agent}" + (f" ({s.branch})" if s.branch else "") for s in done.report.slung]
        lines += [f"Queued {q.bead} for {q.rig} ({q.reason})" for q in done.report.queued]
        if done.report.convoy:
            lines.append(f"Convoy: {done.report.convoy}")
        return "\n".join(lines)

    out.emit(done.as_dict(), text)

from __future__ import annotations

from typing import Any

import click

from gt.cli.common import Out, command


@command("costs", acting=("--identity",))
@click.option("--by", "by", type=click.Choice(["model", "rig", "agent", "role", "actor"]), default="model",
              show_default=True, help="Group the sessions by model, rig, agent runtime, role or identity.")
@click.option("--since", metavar="DATE", help="Only sessions from DATE on (YYYY-MM-DD or ISO 8601).")
@click.option("--until", metavar="DATE", help="Only sessions up to DATE.")
@click.option("--actor", "actor_glob", metavar="PATTERN", help="Only sessions of identities matching this glob.")
def costs(out: Out, by: str, since: str | None, until: str | None, actor_glob: str | None) -> None:
    """Tokens and cost of the agent sessions, per group and in total, from the ledgers' history.

    A cost no runtime reported is unknown, never counted as $0: a group with such sessions shows
    the cost reported as a lower bound (`≥$0.25`; `?` when none was), and is null in JSON
    (`cost_usd_known` is the part reported).

    Example: gt costs --by model --since 2025-06-02
    """
    from gt.records import costs, sources

    ledgers = sources.sources()
    after, before = sources.parse_when(since), sources.parse_when(until)
    result = sources.cached(ledgers, "costs", [by, after, before, actor_glob],
                            lambda: costs.costs(ledgers, by, after, before, actor_glob))
    out.emit(result, lambda: _table(result))


COLUMNS = (("sessions", "sessions"), ("beads", "beads"), ("tokens_in", "tokens in"), ("tokens_out", "tokens out"),
           ("cache_read_tokens", "cache read"), ("cache_write_tokens", "cache write"), ("cost_usd", "cost"),
           ("sessions_without_cost", "no cost"))


def _table(result: dict[str, Any]) -> str:
    from gt.records.stats import COST_NOTE, cost_text

    def _cell(name: str, g: dict[str, Any]) -> str:
        return cost_text(g) if name == "cost_usd" else f"{g[name]:,}"

    if not result["groups"]:
        return "No agent sessions recorded usage" + (f" since {result['since']}" if result["since"] else "")
    rows = [[key, *(_cell(name, g) for name, _ in COLUMNS)] for key, g in result["groups"].items()]
    rows.append(["total", *(_cell(name, result["total"]) for name, _ in COLUMNS)])
    header = [result["by"], *(title for _, title in COLUMNS)]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths)))
             for row in [header, *rows]]
    note = [COST_NOTE] if result["total"]["sessions_without_cost"] else []
    return "\n".join(lines[:-1] + ["-" * len(lines[0]), lines[-1], *note])

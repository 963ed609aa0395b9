from __future__ import annotations

from typing import Any

import click

from gt.cli.common import Out, command


@command("feed", acting=("--identity",))
@click.option("--follow", "-f", is_flag=True, help="Keep printing as the ledgers change (Ctrl-C stops).")
@click.option("--since", metavar="DATE", help="Only from DATE on.")
@click.option("--rig", help="Only this rig's ledger (town: the town's own).")
@click.option("--actor", "actor_glob", metavar="PATTERN", help="Only events by identities matching this glob.")
@click.option("-n", "--limit", default=50, show_default=True, type=click.IntRange(min=0),
              help="The last N events (0: all); --follow prints new ones as they come.")
@click.option("--interval", default=0.5, show_default=True, type=float, help="Seconds between polls with --follow.")
def feed(out: Out, follow: bool, since: str | None, rig: str | None, actor_glob: str | None, limit: int,
            interval: float) -> None:
    """The town's activity, newest last: `[14:32:08] ✓ gz-abc closed by gizmo/refinery (merged 4c1e2)`.

    Example: gt feed --follow --rig gizmo
    """
    import time

    from gt.records import feed, sources

    if not 0.1 <= interval <= 3600:  # NaN too
        from gt.errors import UsageError

        raise UsageError(f"invalid --interval {interval}: give seconds from 0.1 to 3600")
    ledgers = sources.sources()
    if rig and rig not in {source.name for source in ledgers}:
        from gt.errors import GtError

        names = ", ".join(source.name for source in ledgers)
        raise GtError(f"no ledger named {rig!r} here: give one of {names}", code="not_found")
    rows = feed.feed_lines(ledgers, sources.parse_when(since), rig, actor_glob)
    if limit:
        rows = rows[-limit:]
    _print(out, rows)
    heads = sources.heads(ledgers)
    shown = sources.commits(ledgers) if follow else set()
    while follow:
        time.sleep(interval)
        now = sources.heads(ledgers)
        if now != heads:
            new = feed.feed_lines(ledgers, None, rig, actor_glob, shown=shown)
            _print(out, new)
            shown |= sources.commits(ledgers)
            heads = now


def _print(out: Out, rows: list[dict[str, Any]]) -> None:
    import json
    import sys
    import time

    import click

    from gt.cli import format

    for row in rows:
        if out.json:
            click.echo(json.dumps(row, ensure_ascii=False))
        else:
            click.echo(f"[{time.strftime('%H:%M:%S', time.localtime(row['time']))}] {format.mark(row['kind'])} {row['line']}")
    sys.stdout.flush()

import click

from gt.cli.common import Out, command


@command("audit", acting=("--identity",))
@click.option("--actor", "actor_glob", metavar="IDENTITY", required=True, help="Whose actions (a glob works too).")
@click.option("--since", metavar="DATE", help="Only from DATE on.")
def audit(out: Out, actor_glob: str, since: str | None) -> None:
    """Every action by an identity, oldest first: ledger writes and code commits, each with its commit.

    Example: bd audit --actor gizmo/polecats/toast
    """
    from gt.records import audit, sources

    ledgers = sources.sources()
    when = sources.parse_when(since)
    rows = sources.cached(ledgers, "audit", [actor_glob, when], lambda: audit.audit(ledgers, actor_glob, when))
    out.emit(rows, "\n".join(f"{r['at']}  {r['kind']:<6} {r['where']:<10} {r['commit'][:10]}  {r['subject']}"
                             for r in rows) or f"No actions by {actor_glob}")

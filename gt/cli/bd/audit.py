import click

from gt.cli.common import Out, command


@command("audit", acting=("--identity",))
@click.argument("identity", required=False)
@click.option("--since", metavar="DATE", help="Only from DATE on.")
def audit(out: Out, identity: str | None, since: str | None) -> None:
    """Every action by IDENTITY (a glob works too; default: --actor's), oldest first: ledger writes and
    code commits, each with its commit.

    Example: bd audit gizmo/polecats/toast
    """
    import os

    from gt.records import audit, sources

    actor_glob = identity or os.environ.get("BD_ACTOR")
    if not actor_glob:
        from gt.errors import UsageError

        raise UsageError("whose actions? give an IDENTITY (or --actor NAME)")

    ledgers = sources.sources()
    when = sources.parse_when(since)
    rows = sources.cached(ledgers, "audit", [actor_glob, when], lambda: audit.audit(ledgers, actor_glob, when))
    out.emit(rows, "\n".join(f"{r['at']}  {r['kind']:<6} {r['where']:<10} {r['commit'][:10]}  {r['subject']}"
                             for r in rows) or f"No actions by {actor_glob}")

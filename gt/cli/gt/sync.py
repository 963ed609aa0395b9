import click

from gt.cli.common import Out, command


@command("sync")
@click.option("--no-push", is_flag=True, help="Fetch and merge only.")
def sync(out: Out, no_push: bool) -> None:
    """Sync every ledger of the town with its remote; rigs registered elsewhere wait for `gt rig adopt`.

    Example: gt sync
    """
    from gt.errors import GtError
    from gt.town.layout import require_town
    from gt.town import remotes

    results, gained, waiting = remotes.sync_town(require_town(), out.signature(None), push_changes=not no_push)

    def text() -> str:
        lines = []
        for r in results:
            detail = r.error if r.error else r.action + (f" ({r.merged_beads} beads merged)" if r.merged_beads else "") \
                + ("; pushed" if r.pushed else "")
            lines.append(f"{r.ledger}: {detail}")
        lines += [f"+ rig {name} (re-created: this machine took it before)" for name in gained]
        lines += [f"! rig {w['name']} waits: {w['git_url']} ({w['reason']}): nothing was cloned, fetched or "
                  f"pushed; take it with `gt rig adopt {w['name']}`" for w in waiting]
        return "\n".join(lines)

    out.emit({"ledgers": [r.as_dict() for r in results], "rigs_added": gained, "rigs_waiting": waiting}, text)
    failed = [r.ledger for r in results if r.action == "failed"]
    if failed:
        raise GtError(f"sync failed for {', '.join(failed)}", code="sync")

import click

from gt.cli.common import Out, command


@command("migrate")
@click.option("--inspect", is_flag=True, help="Print the migration plan and the ledger's state (for agents).")
@click.option("--dry-run", is_flag=True, help="Accepted: nothing would be done anyway.")
@click.option("-y", "--yes", is_flag=True, help="Accepted: there is nothing to confirm.")
def migrate(out: Out, inspect: bool, dry_run: bool, yes: bool) -> None:
    """Database migrations of the original bd. A git ledger has none: its format is upgraded by the
    first write that needs it, so there is never anything to run; --inspect shows the state.

    Example: bd migrate --inspect --json
    """
    from gt.beads.admin import migration_state
    from gt.beads.tracker import Tracker

    state = migration_state(Tracker.open())
    current = state["current_state"]
    if inspect:
        def text() -> str:
            lines = ["Migration inspection",
                     f"Ledger: {'present' if current['db_exists'] else 'missing'}",
                     f"Ledger format: {current['schema_version']}",
                     f"Issue count: {current['issue_count']}",
                     "Registered migrations: 0 (a git ledger has none)"]
            lines += [f"Warning: {w}" for w in state["warnings"]]
            lines += [f"Missing config: {k}" for k in current["missing_config"]]
            return "\n".join(lines)

        out.emit(state, text)
        return
    if not current["db_exists"]:
        message = state["warnings"][0]
        out.emit({"status": "no_ledger", "message": message}, f"Nothing to migrate: {message}")
        return
    message = f"Nothing to migrate: the ledger is format {current['schema_version']}"
    if state["warnings"]:
        message += f" ({'; '.join(state['warnings'])})"
    out.emit({"status": "current", "message": message}, message)

import click

from gt.cli.common import Out, command


@command("info")
@click.option("--schema", is_flag=True, help="Also the ledger's collections, format, prefix and sample ids.")
def info(out: Out, schema: bool) -> None:
    """Where this bd keeps its beads: the ledger branch of this repository, how many beads it holds,
    its prefix; and the original bd's root flags that are accepted and ignored here.

    There is no database: `database_path` names the ledger as GIT_DIR#REF, and `mode` is git-ledger.

    Example: bd info --schema --json
    """
    from gt.beads.admin import info as ledger_info
    from gt.beads.tracker import Tracker
    from gt.cli.cobra import IGNORED_FLAGS

    found = ledger_info(Tracker.open(), schema)
    found["ignored_flags"] = list(IGNORED_FLAGS)

    def text() -> str:
        head = found["head"][:12] if found["head"] else "-"
        lines = [f"Ledger: branch {found['branch']} of {found['git_dir']} (at {head})",
                 f"Mode: {found['mode']} (beads are YAML files committed to that branch; no database, no daemon)",
                 f"Issue count: {found['issue_count']}",
                 f"Prefix: {found['prefix'] or '-'}"]
        if found.get("read_from"):
            lines.append(f"Read from: {found['read_from']} (the branch is created by the first write)")
        if schema:
            shape = found["schema"]
            lines += ["Schema:",
                      f"  Collections: {', '.join(shape['tables'])}",
                      f"  Ledger format: {shape['schema_version']}"]
            if shape["detected_prefix"]:
                lines.append(f"  Detected prefix: {shape['detected_prefix']}")
            if shape["sample_issue_ids"]:
                lines.append(f"  Sample ids: {', '.join(shape['sample_issue_ids'])}")
        lines.append(f"Accepted and ignored (no daemon or database server here): {', '.join(IGNORED_FLAGS)}")
        return "\n".join(lines)

    out.emit(found, text)

import click

from gt.cli.common import Out, command as subcommand


@click.group("rig")
def rig() -> None:
    """Rigs: one per project, each a bare clone shared by worktrees.

    Example: gt rig add gastown ~/src/gastown --prefix gt
    """


@subcommand("add")
@click.argument("name")
@click.argument("source", metavar="GIT_URL_OR_PATH")
@click.option("--prefix", help="Bead id prefix for the rig's ledger (default: from the name).")
@click.option("--branch", help="The default branch (default: the source's).")
def add(out: Out, name: str, source: str, prefix: str | None, branch: str | None) -> None:
    """Add a rig from a git URL or path.

    Example: gt rig add gizmo ~/src/gizmo --prefix gz
    """
    from gt.town.layout import require_town
    from gt.town import rigs

    config = rigs.add(require_town(), name, source, out.signature(None), prefix, branch)
    out.emit(config, f"Added rig {name} (prefix {config['prefix']}, branch {config['default_branch']})")


@subcommand("list")
def list_(out: Out) -> None:
    """The town's rigs.

    Example: gt rig list --json
    """
    from gt.town.layout import require_town
    from gt.town import rigs

    town = require_town()
    found = rigs.registry(town)
    waits = {w["name"] for w in rigs.waiting(town)}
    out.emit(list(found.values()), "\n".join(f"{r['name']}  {r['prefix']}  {r['default_branch']}  {r['git_url']}"
                                              + (f"  (waiting: gt rig adopt {n})" if n in waits else "")
                                              for n, r in found.items()) or "No rigs")


@subcommand("adopt")
@click.argument("name")
def adopt(out: Out, name: str) -> None:
    """Take a rig another machine registered: clone it from its recorded URL and sync it from now on.

    Example: gt rig adopt gizmo
    """
    from gt.town.layout import require_town
    from gt.town import rigs

    config = rigs.adopt(require_town(), name, out.signature(None))
    out.emit(config, f"Adopted rig {name} from {config['git_url']} (prefix {config['prefix']}, "
                     f"branch {config['default_branch']})")


@subcommand("remove")
@click.argument("name")
@click.option("--force", is_flag=True, help="Remove even with unmerged polecat work.")
def remove(out: Out, name: str, force: bool) -> None:
    """Remove a rig (refused while polecat branches hold unmerged work).

    Example: gt rig remove gizmo
    """
    from gt.town.layout import require_town
    from gt.town import rigs

    rigs.remove(require_town(), name, out.signature(None), force)
    out.emit({"removed": name}, f"Removed rig {name}")


rig.add_command(add)
rig.add_command(adopt)
rig.add_command(list_)
rig.add_command(remove)

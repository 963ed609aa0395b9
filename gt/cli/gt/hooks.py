import click

from gt.cli.common import Out, command as subcommand


@click.group("hooks")
def command() -> None:
    """The git hooks that turn git events into ledger transitions (and guard the ledger).

    Example: gt hooks install ~/src/project
    """


def _repo(path: str | None):  # type: ignore[no-untyped-def]
    from gt.ledger.gitdir import discover

    return discover(path, follow_redirect=False)


@subcommand("install")
@click.argument("path", required=False)
def install(out: Out, path: str | None) -> None:
    """Install every hook into PATH's repository (default: here), chaining hooks it already had.

    Example: gt hooks install ~/src/project

    Example: gt hooks list
    """
    from gt.githooks import install

    done = install.install(_repo(path), install.ALL)
    out.emit(done, "\n".join(f"installed {p}" for p in done))


@subcommand("list")
@click.argument("path", required=False)
def list_(out: Out, path: str | None) -> None:
    """Which hooks are installed, and which hooks of yours they chain.

    Example: gt hooks uninstall ~/src/project
    """
    from gt.githooks import install

    found = install.listing(_repo(path))
    out.emit(found, "\n".join(f"{h['hook']:<20} {'installed' if h['installed'] else 'foreign' if h['foreign'] else '-'}"
                              + ("  (chains your hook)" if h["chained"] else "") for h in found))


@subcommand("uninstall")
@click.argument("path", required=False)
def uninstall(out: Out, path: str | None) -> None:
    """Remove our hooks and put back the ones they chained.

    Example: gt hooks uninstall ~/src/project
    """
    from gt.githooks import install

    removed = install.uninstall(_repo(path))
    out.emit(removed, "\n".join(f"removed {p}" for p in removed) or "No hooks of ours here")


for sub in (install, list_, uninstall):
    command.add_command(sub)

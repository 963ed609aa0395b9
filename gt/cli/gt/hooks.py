from __future__ import annotations

from typing import TYPE_CHECKING

import click

from gt.cli.common import Out, command as subcommand

if TYPE_CHECKING:
    from gt.ledger.gitdir import RepoPaths


@click.group("hooks")
def hooks() -> None:
    """The git hooks that turn git events into ledger transitions (and guard the ledger).

    Example: gt hooks install ~/src/project
    """


def _repo(path: str | None) -> RepoPaths:
    from gt.ledger.gitdir import discover

    return discover(path, follow_redirect=False)


@subcommand("install")
@click.argument("path", required=False)
def install(out: Out, path: str | None) -> None:
    """Install every hook into PATH's repository (default: here), chaining hooks it already had.

    Example: gt hooks install ~/src/project
    """
    from gt.githooks import install as git_hooks

    done = git_hooks.install(_repo(path), git_hooks.ALL)
    out.emit(done, "\n".join(f"installed {p}" for p in done))


@subcommand("list")
@click.argument("path", required=False)
def list_(out: Out, path: str | None) -> None:
    """Which hooks are installed, and which hooks of yours they chain.

    Example: gt hooks list ~/src/project
    """
    from gt.githooks import install as git_hooks

    found = git_hooks.listing(_repo(path))
    def state(hook: dict[str, object]) -> str:
        if hook["outdated"]:
            return "outdated (run gt doctor --fix or gt hooks install)"
        return "installed" if hook["installed"] else "foreign" if hook["foreign"] else "-"

    out.emit(found, "\n".join(f"{h['hook']:<20} {state(h)}" + ("  (chains your hook)" if h["chained"] else "")
                              for h in found))


@subcommand("uninstall")
@click.argument("path", required=False)
def uninstall(out: Out, path: str | None) -> None:
    """Remove our hooks and put back the ones they chained.

    Example: gt hooks uninstall ~/src/project
    """
    from gt.githooks import install as git_hooks

    removed = git_hooks.uninstall(_repo(path))
    out.emit(removed, "\n".join(f"removed {p}" for p in removed) or "No hooks of ours here")


for sub in (install, list_, uninstall):
    hooks.add_command(sub)

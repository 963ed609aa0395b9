from __future__ import annotations

from typing import TYPE_CHECKING

import click

from gt.cli.common import Out, command as subcommand

if TYPE_CHECKING:
    from gt.town.identity import Identity


class _Group(click.Group):
    """`gt worktree RIG` creates; `list` and `remove` are subcommands."""

    def resolve_command(self, ctx: click.Context, args: list[str]
                        ) -> tuple[str | None, click.Command | None, list[str]]:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["add", *args]
        return super().resolve_command(ctx, args)


@click.group("worktree", cls=_Group)
def worktree() -> None:
    """Work in another rig as yourself: a worktree of RIG at <RIG>/crew/<your rig>-<your name>.

    Example: gt worktree beads   (run from your crew clone)
    """


def _who(out: Out) -> Identity:
    from gt.town.identity import detect

    return detect(out.actor, None)


@subcommand("add")
@click.argument("rig")
def add(out: Out, rig: str) -> None:
    """Create your worktree of RIG.

    Example: gt worktree add beads   (same as: gt worktree beads)
    """
    from gt.town.layout import require_town
    from gt.town import worktrees

    result = worktrees.add(require_town(), rig, _who(out))
    out.emit(result, f"Created {result['path']} (branch {result['branch']}, commits as {result['identity']})")


@subcommand("list")
@click.option("--all", "everyone", is_flag=True, help="Everyone's worktrees, not only yours.")
def list_(out: Out, everyone: bool) -> None:
    """Your worktrees in other rigs.

    Example: gt worktree list --all
    """
    from gt.town.layout import require_town
    from gt.town import worktrees

    found = worktrees.listing(require_town(), None if everyone else _who(out))
    out.emit(found, "\n".join(f"{w['rig']}  {w['path']}  {w['identity']}" for w in found) or "No worktrees")


@subcommand("remove")
@click.argument("rig")
@click.option("--force", is_flag=True, help="Remove even with uncommitted or unlanded work.")
def remove(out: Out, rig: str, force: bool) -> None:
    """Remove your worktree of RIG.

    Example: gt worktree remove beads
    """
    from gt.town.layout import require_town
    from gt.town import worktrees

    result = worktrees.remove(require_town(), rig, _who(out), force)
    out.emit(result, f"Removed {result['removed']}")


worktree.add_command(add)
worktree.add_command(list_)
worktree.add_command(remove)

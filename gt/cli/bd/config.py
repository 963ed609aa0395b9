import click

from gt.cli.common import Out, command as subcommand


@click.group("config", invoke_without_command=True)
@click.pass_context
def config(ctx: click.Context) -> None:
    """The ledger's settings (stored in ledger.yaml on the ledger branch).

    Example: bd config set types event,spike
    """
    if ctx.invoked_subcommand is None:
        ctx.invoke(show)


@subcommand("show")
def show(out: Out) -> None:
    """Print the ledger's settings.

    Example: bd config show
    """
    from gt.beads.tracker import Tracker

    config = Tracker.open().view().config
    out.emit(config, "\n".join(f"{k}: {v}" for k, v in config.items()))


@subcommand("set")
@click.argument("key")
@click.argument("value")
def set_(out: Out, key: str, value: str) -> None:
    """Set KEY to VALUE (one commit). Settable: types.

    Example: bd config set types incident,spike
    """
    from gt.beads import operations
    from gt.beads.tracker import Tracker

    tracker = Tracker.open()
    edit = operations.set_config(tracker, out.signature(tracker.repo), key, value)
    out.emit(edit.result, f"{key}: {edit.result.get(key, '(none)')}" if edit.commit else "No change")


config.add_command(show)
config.add_command(set_)

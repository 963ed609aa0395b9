import click

from gt.cli.common import Out, command as subcommand


@click.group("remote")
def remote() -> None:
    """The town ledger's git remote (each rig's ledger syncs with the rig's origin).

    Example: gt remote set file:///srv/git/town.git
    """


@subcommand("set")
@click.argument("url")
def set_(out: Out, url: str) -> None:
    """Sync the town ledger with URL.

    Example: gt remote set git@example.com:me/town.git
    """
    from gt.town.layout import require_town
    from gt.town import remotes

    remotes.set_remote(require_town(), url)
    out.emit({"remote": url}, f"Town remote: {url}")


remote.add_command(set_)

import click

from gt.cli.common import Out, command as subcommand


@click.group("hooks")
def command() -> None:
    """Git hooks that guard the ledger.

    Example: bd hooks install --bare /srv/git/project.git
    """


@subcommand("install")
@click.option("--bare", "bare_path", metavar="PATH", help="Install into this bare repository (default: the current repository).")
def install(out: Out, bare_path: str | None) -> None:
    """Install the ledger guard (a pre-receive hook) into a repository that others push to.

    Example: bd hooks install --bare /srv/git/project.git
    """
    from gt.ledger.gitdir import discover, paths_for_gitdir
    from gt.githooks import install

    repo = paths_for_gitdir(bare_path, None) if bare_path else discover()
    if bare_path and not __import__("os").path.isdir(__import__("os").path.join(bare_path, "objects")):
        from gt.errors import UsageError

        raise UsageError(f"{bare_path} is not a bare git repository")
    paths = install.install(repo)
    out.emit(paths, "\n".join(f"installed {p}" for p in paths))


command.add_command(install)

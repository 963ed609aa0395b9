import click

from gt.cli.common import Out, command as subcommand


@click.group("hooks")
def hooks() -> None:
    """Git hooks that guard the ledger.

    Example: bd hooks install --bare /srv/git/project.git
    """


@subcommand("install")
@click.option("--bare", "bare_path", metavar="PATH", help="Install into this bare repository (default: the current repository).")
def install(out: Out, bare_path: str | None) -> None:
    """Install the ledger guard (a pre-receive hook) into a repository that others push to.

    Example: bd hooks install --bare /srv/git/project.git
    """
    import os

    from gt.ledger.gitdir import discover, paths_for_gitdir
    from gt.githooks import install as git_hooks

    repo = paths_for_gitdir(bare_path, None) if bare_path else discover()
    if bare_path and not os.path.isdir(os.path.join(bare_path, "objects")):
        from gt.errors import UsageError

        raise UsageError(f"{bare_path} is not a bare git repository")
    paths = git_hooks.install(repo)
    out.emit(paths, "\n".join(f"installed {p}" for p in paths))


hooks.add_command(install)

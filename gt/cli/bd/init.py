import click

from gt.cli.common import Out, command


@command("init")
@click.option("--prefix", help="Id prefix for new beads (default: from the directory name).")
@click.option("--branch", default=None, help="Ledger branch name (default: beads).")
def init(out: Out, prefix: str | None, branch: str | None) -> None:
    """Create the ledger branch here.

    Example: bd init --prefix gt
    """
    from gt.ledger.gitdir import discover
    from gt.beads import clone_settings
    from gt.beads import operations
    from gt.beads.tracker import Tracker

    repo = discover()
    settings = clone_settings.load(repo)
    if branch:
        settings.branch = branch
    tracker = Tracker(repo, settings)
    edit = operations.init(tracker, out.signature(repo), prefix.lower() if prefix else None)
    path = clone_settings.save(repo, settings)
    result = {**edit.result, "branch": settings.branch, "settings": path}
    verb = "Initialised" if result["created"] else "Already initialised:"
    out.emit(result, f"{verb} ledger '{settings.branch}' with prefix '{result['prefix']}'")

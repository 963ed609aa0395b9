import click

from gt.cli.common import Out, command

ORIGINAL = "Accepted for the original bd's scripts; "  # the flags that have nothing to do here


@command("init")
@click.option("--prefix", help="Id prefix for new beads (default: from the directory name).")
@click.option("--branch", default=None, help="Ledger branch name (default: beads).")
@click.option("--non-interactive", is_flag=True, help=ORIGINAL + "bd init never prompts.")
@click.option("--skip-agents", is_flag=True, help=ORIGINAL + "bd init writes no AGENTS.md or agent settings.")
@click.option("--skip-hooks", is_flag=True,
              help=ORIGINAL + "bd init installs no git hooks (`bd hooks install` guards a shared repository).")
def init(out: Out, prefix: str | None, branch: str | None, non_interactive: bool, skip_agents: bool,
         skip_hooks: bool) -> None:
    """Create the ledger branch here; outside a git repository, `git init` first.

    Example: bd init --prefix gt
    """
    import os

    from gt.ledger import git
    from gt.ledger.gitdir import check_branch_name, discover, find_repository
    from gt.model.ids import check_prefix
    from gt.beads import clone_settings
    from gt.beads import operations
    from gt.beads.tracker import Tracker

    from gt.ledger.store import require_writable

    require_writable("bd init")
    if prefix:  # checked before anything is created
        check_prefix(prefix.lower())
    if branch:
        check_branch_name(branch)
    found = find_repository()
    made = found is None
    if found is None:
        git.init_repository(os.getcwd())
    repo = found or discover()
    settings = clone_settings.load(repo)
    if branch:
        settings.branch = branch
    tracker = Tracker(repo, settings)
    edit = operations.init(tracker, out.signature(repo), prefix.lower() if prefix else None)
    path = clone_settings.save(repo, settings)
    head = tracker.ledger.local_head()
    if head is not None:  # `.beads/` exists only now: the change signal starts at the ledger's head
        from gt.ledger.signal import signal

        signal(repo, head)
    result = {**edit.result, "branch": settings.branch, "settings": path}
    if made:
        result["created_git_repository"] = repo.worktree  # only when `git init` ran
    done = (f"bd initialized successfully! Ledger '{settings.branch}' with prefix '{result['prefix']}'"
            if result["created"] else f"Already initialised: ledger '{settings.branch}' with prefix '{result['prefix']}'")
    out.emit(result, f"Created a git repository in {repo.worktree}\n{done}" if made else done)

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from gt.cli.common import Out, command

if TYPE_CHECKING:
    from gt.beads.tracker import Tracker

# Every `bd …` command line shown here runs as written (tests/beads/test_cli_admin_compat.py runs
# their --help, with ID and OTHER standing for bead ids): keep it true when a command or flag changes.
FULL = """\
# Beads workflow context

> Lost track after a compaction, a clear or a new session? Run `bd prime` again.

Work in this repository is tracked as beads: items kept as YAML files on the ledger branch
`{branch}` of this git repository (ids like {prefix}-a3f8k; a unique prefix of an id works).
Every change is one git commit naming who made it. There is no database and no daemon.

# Before you say "done"

```
{protocol}
```
{note}
## Rules
- Track all work as beads (`bd create`, `bd ready`, `bd close`), not in TODO lists or markdown files.
- File the bead before writing the code; claim it when you start.
- Close what you finished, with a reason; file what you found on the way as new beads.
- Every command takes --json; `--actor NAME` says who acts (default: $BD_ACTOR, else git's user.name).

## Commands

Finding work:
  bd ready                            open, unblocked, not deferred: by priority, then age
  bd list --status open,in_progress   beads by status (closed ones too with --all)
  bd show ID                          one bead: fields, dependencies, notes, comments
  bd search "timeout"                 beads whose text mentions it
  bd blocked                          what is blocked, and by what

Doing work:
  bd update ID --claim                take it (atomic: one agent wins); status in_progress
  bd note ID "Fails only with an empty cache"       append a line to its notes
  bd comment ID "Reproduced on main"                add a comment
  bd close ID OTHER -r "Fixed and tested"           close several in one commit
  bd update ID --status open --assignee ""          give it back

Filing work:
  bd create "Fix login timeout" -t bug -p 1 -d "What happens, where, why it matters"
                                      priority 0 (highest) to 4, default 2; prints the new id
  bd create "Write the tests" --parent ID           a child of an epic or a larger bead
  bd create "Flaky test seen on the way" --deps discovered-from:ID
  bd dep add ID OTHER                 ID depends on OTHER: OTHER blocks it until OTHER closes
  bd dep add ID OTHER --type related  a link that never blocks

Later, not now:
  bd defer ID --until +2d             out of `bd ready` (status deferred) until `bd undefer ID`
  bd undefer ID                       back to open
  bd epic status                      how far each open epic's children are

Sharing and health:
  bd sync                             fetch, merge and push the ledger branch (never forced)
  bd sync --status                    how far this ledger and the remote's have diverged
  bd stats                            counts by status, type and priority
  bd doctor                           check the ledger (and repair with --fix)

## Starting

```
bd ready
bd show ID
bd update ID --claim
```
"""

BRIEF = """\
# Beads issue tracker active

Beads live on the ledger branch `{branch}` of this git repository; ids look like {prefix}-a3f8k.

Before you say "done": {protocol}

- Track all work as beads (`bd create`, `bd ready`, `bd close`), not in TODO lists or markdown files.
- File the bead before writing the code; claim it (`bd update ID --claim`) when you start.

Start: `bd ready` (or the `ready` tool) for work that can start now.
"""

PROTOCOL_SHARED = """\
[ ] 1. bd close ID ... -r "why"   (the beads you finished)
[ ] 2. git add, git commit        (your code)
[ ] 3. bd sync                    (share the ledger: fetch, merge, push)
[ ] 4. git push                   (your code)"""
PROTOCOL_LOCAL = """\
[ ] bd close ID ... -r "why"      (the beads you finished)"""
BRIEF_SHARED = "bd close the finished beads → git commit → bd sync → git push"
BRIEF_LOCAL = "bd close the finished beads"


@command("prime")
@click.option("--full", is_flag=True, help="The full command reference (even where a beads MCP server is set up).")
@click.option("--mcp", is_flag=True, help="The brief reminder meant for agents that reach bd through MCP.")
@click.option("--stealth", is_flag=True, help="No git commands in the closing checklist.")
@click.option("--export", "export", is_flag=True, help="The built-in text, ignoring any PRIME.md override.")
def prime(out: Out, full: bool, mcp: bool, stealth: bool, export: bool) -> None:
    """Workflow context for an AI agent, in markdown: how to find, claim, close and file work.

    Meant for agent hooks (session start, before compaction). Outside a repository with a ledger it
    prints nothing and exits 0. `.beads/PRIME.md` in the work tree, else ~/.config/beads/PRIME.md,
    replaces the text (unless --export). Brief when ~/.claude/settings.json sets up a beads MCP
    server, unless --full; --json gives {"mode", "text"}.

    Example: bd prime --full
    """
    from gt.errors import GtError

    try:
        context = _context()
    except GtError:
        context = None
    if context is None:  # not a beads project: silent, as hooks everywhere call it
        return
    tracker, prefix, remote = context
    override = None if export else _override(tracker.repo.settings_dir)
    brief = mcp or (not full and _mcp_configured())
    if override is not None:
        mode, text = "custom", override
    else:
        shared = remote and not stealth
        values = {"branch": tracker.ledger.branch, "prefix": prefix}
        if brief:
            mode, text = "brief", BRIEF.format(protocol=BRIEF_SHARED if shared else BRIEF_LOCAL, **values)
        else:
            note = "" if shared or stealth else "\nNo git remote: the ledger stays in this repository.\n"
            mode = "full"
            text = FULL.format(protocol=PROTOCOL_SHARED if shared else PROTOCOL_LOCAL, note=note, **values)
    if out.json:
        out.emit({"mode": mode, "text": text})
    else:
        click.echo(text, nl=False)


def _context() -> tuple[Tracker, str, bool] | None:
    """The tracker of this repository, its prefix and whether its ledger has a remote to share
    with; None without a repository or a ledger."""
    import subprocess

    from gt.beads.tracker import Tracker
    from gt.ledger.gitdir import find_repository

    repo = find_repository()
    if repo is None:
        return None
    tracker = Tracker(repo)
    if not tracker.ledger.exists():
        return None
    prefix = str(tracker.view().config.get("prefix", "bd"))
    try:
        found = subprocess.run(["git", "--git-dir", repo.commondir, "config", "--get",
                                f"remote.{tracker.settings.remote}.url"],
                               capture_output=True, text=True, timeout=10)
        remote = found.returncode == 0 and bool(found.stdout.strip())
    except (OSError, subprocess.TimeoutExpired):
        remote = False
    return tracker, prefix, remote


def _override(settings_dir: str | None) -> str | None:
    """The text of a PRIME.md that replaces ours: the work tree's `.beads/`, else the user's."""
    import os

    config_home = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    for folder in (settings_dir, os.path.join(config_home, "beads")):
        if folder:
            try:
                with open(os.path.join(folder, "PRIME.md"), encoding="utf-8") as f:
                    return f.read()
            except (OSError, UnicodeDecodeError):
                continue
    return None


def _mcp_configured() -> bool:
    """Whether ~/.claude/settings.json names a beads MCP server (a key of `mcpServers` with "beads" in it)."""
    import json
    import os

    try:
        with open(os.path.join(os.path.expanduser("~"), ".claude", "settings.json"), encoding="utf-8") as f:
            settings = json.load(f)
    except (OSError, ValueError):
        return False
    servers = settings.get("mcpServers") if isinstance(settings, dict) else None
    return isinstance(servers, dict) and any("beads" in str(key).lower() for key in servers)

"""Git hooks that turn ordinary git events into ledger transitions (see hooks/; git runs them as
`python -m gt.githooks NAME`, see __main__.py).

- prepare-commit-msg (and commit-msg, for messages written in the editor), in an agent's clone or
  worktree: trailers `Bead:` (the hooked bead), `Agent:` (the identity) and `Model:` (when known);
  never on an empty message, which must still abort the commit;
- post-commit, there: marks activity for the witness (a runtime file, not a commit) and moves a
  `hooked` bead to `in_progress` on the first commit (one ledger commit);
- post-receive, in a rig's `.repo.git`: commits reaching the default branch whose message says
  `Closes: <bead>` close those beads, attributed to the commit author, and land convoys.
A hook does nothing where no agent is bound, and never breaks the git command: errors are
logged to `<git common dir>/gt/hooks.log` and the hook exits 0.
"""
from __future__ import annotations

import os
import re
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from gt.ledger.gitdir import RepoPaths



def _bound() -> tuple[RepoPaths, str | None]:
    """The checkout and the agent identity bound to it (None where no agent is)."""
    from gt.ledger.gitdir import discover
    from gt.town.identity import git_config

    repo = discover(os.getcwd(), follow_redirect=False)
    return repo, git_config(repo, "gt", "identity")


def _town_of(repo: RepoPaths) -> Path | None:
    from gt.town.layout import find_town

    return find_town(repo.worktree or repo.commondir)


def prepare_commit_msg(message_file: str, *_: str) -> None:
    """Trailers on a message that has content (prepare-commit-msg for `-m`, commit-msg after the editor)."""
    text = Path(message_file).read_text(encoding="utf-8")
    if not any(line.strip() and not line.startswith("#") for line in text.splitlines()):
        return  # the editor has not run yet, or the message is empty: an empty message must still abort
    repo, identity = _bound()
    if not identity:
        return
    town = _town_of(repo)
    hook_bead = model = None
    if town is not None:
        from gt.dispatch import agents
        from gt.town.context import Town

        try:
            record = agents.record(Town.at(town).tracker_of(identity).view(), identity) or {}
        except Exception:
            record = {}
        hook_bead, model = record.get("hook"), record.get("model")
    from gt.ledger import git

    added = [f"{k}: {v}" for k, v in (("Bead", hook_bead), ("Agent", identity), ("Model", model))
             if v and not re.search(rf"^{k}:", text, re.M)]
    if added:
        args = [a for trailer in added for a in ("--trailer", trailer)]
        git.run("interpret-trailers", "--in-place", "--if-exists", "doNothing", *args, message_file)


def post_commit(*_: str) -> None:
    repo, identity = _bound()
    if not identity:
        return
    town = _town_of(repo)
    if town is None:
        return
    from gt.town import rundir

    (rundir.folder(town, "activity") / rundir.key(identity)).write_text(str(time.time()))
    from gt.dispatch import agents
    from gt.dispatch.lifecycle import start_on_first_commit
    from gt.town.context import Town

    bead = (agents.record(Town.at(town).tracker_of(identity).view(), identity) or {}).get("hook")
    if bead:
        start_on_first_commit(identity, bead)


def post_receive(*_: str) -> None:
    from gt.ledger.gitdir import discover

    updates = [line.split() for line in sys.stdin.read().splitlines() if len(line.split()) == 3]
    repo = discover(os.getcwd(), follow_redirect=False)
    town = _town_of(repo)
    if town is None or not updates:
        return
    from gt.dispatch.lifecycle import close_named
    from gt.town.rigs import registry

    rig = Path(repo.commondir).parent.name
    record = registry(town).get(rig)
    if not record:
        return
    default = f"refs/heads/{record.get('default_branch', 'main')}"
    for old, new, ref in updates:
        if ref != default or set(new) == {"0"}:
            continue
        close_named(repo.commondir, new if set(old) == {"0"} else f"{old}..{new}", lambda text: _log(f"post-receive: {text}"))


HOOKS: dict[str, Callable[..., None]] = {"prepare-commit-msg": prepare_commit_msg, "commit-msg": prepare_commit_msg, "post-commit": post_commit,
         "post-receive": post_receive}


def _log(text: str) -> None:
    try:
        from gt.ledger.gitdir import discover

        folder = Path(discover(os.getcwd(), follow_redirect=False).private)
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / "hooks.log", "a", encoding="utf-8") as f:
            f.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {text}\n")
    except Exception:
        pass


def main(argv: list[str]) -> int:
    name, args = argv[0], argv[1:]
    from gt.ledger import git

    git.scrub_environ()  # our own git calls must not act on the caller's index
    try:
        HOOKS[name](*args)
    except BaseException as exc:  # a hook must never break the git command
        import traceback

        _log(f"{name} failed: {exc!r}\n{traceback.format_exc(limit=5)}")
    return 0

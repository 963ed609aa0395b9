"""Status changes that more than one path makes: a bead started by its first commit, beads closed
by hand, by a merge or by a `Closes:` line in a commit that landed, and the convoys that land with them."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Callable

from gt.beads.tracker import Edit, Lookup, Tracker
from gt.errors import GtError
from gt.ledger.store import Signature, View
from gt.model.bead import canonical, now_iso, set_status
from gt.town import layout
from gt.town.context import routed

CLOSES = re.compile(r"^(?:closes|fixes|resolves):\s*(.+)$", re.I | re.M)
ID_LIKE = re.compile(r"[A-Za-z0-9]+(?:[-_][A-Za-z0-9]+)*-[A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*")


def close_beads(tracker: Tracker, actor: Signature, queries: list[str], reason: str | None = None,
                force: bool = False) -> tuple[Edit, list[dict[str, Any]]]:
    """`bd close`: close the beads, then land any convoy whose last open bead this was."""
    from gt.beads import operations
    from gt.dispatch.convoys import after_close

    edit = operations.close(tracker, actor, queries, reason, force)
    landed = after_close(layout.find_town(tracker.repo.commondir), actor, edit.beads) if edit.commit else []
    return edit, landed


def start_on_first_commit(identity: str, bead: str) -> None:
    """A `hooked` bead becomes `in_progress` with its agent's first commit (one ledger commit, once)."""
    tracker = routed([bead])
    if (Lookup(tracker.view()).get(bead) or {}).get("status") != "hooked":
        return  # already started: nothing is written

    def build(view: View) -> Edit:
        doc = Tracker.get(view, bead)
        if doc.get("status") != "hooked":
            return Edit("start", "no change")
        set_status(doc, "in_progress", now_iso())
        doc["updated_at"] = now_iso()
        return Edit("start", f"start {bead}: first commit by {identity}", {bead: canonical(doc)})

    tracker.write(Signature(identity), build)


def close_named(gitdir: str | Path, span: str, warn: Callable[[str], None]) -> None:
    """Close the beads that commits in `span` name with `Closes:`, as their authors (a push or a merge);
    a bead that cannot be closed is reported to `warn` and the others still close."""
    from gt.ledger import git

    log = git.run(f"--git-dir={gitdir}", "log", "--reverse", "--format=%H%x00%an%x00%B%x01", span).stdout
    for entry in log.split("\x01"):
        if "\x00" not in entry:
            continue
        commit, author, message = entry.strip("\n").split("\x00", 2)
        for bead in named_beads(message):
            try:
                close_beads(routed([bead]), Signature(author), [bead], f"closed by commit {commit[:7]}", force=True)
            except GtError as exc:
                warn(f"cannot close {bead} named by {commit[:7]}: {exc}")


def named_beads(message: str) -> list[str]:
    """The bead ids a commit message's `Closes:`/`Fixes:`/`Resolves:` lines name (prose after them ignored)."""
    found = []
    for match in CLOSES.finditer(message):
        for token in re.split(r"[,\s]+", match.group(1).strip()):
            bead = token.strip(".,;:()[]'\"")  # as written: ids keep their case (resolving forgives it)
            if ID_LIKE.fullmatch(bead):
                found.append(bead)
    return found

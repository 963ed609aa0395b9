"""The ledger's history in causal order: a commit made on a machine whose clock runs behind still
comes after the commit it was made on (feed, audit and track records read this order)."""
from __future__ import annotations

import pytest

from conftest import bead_path, git, hand_commit


def test_a_child_with_an_earlier_clock_comes_after_its_parent(bd, repo, monkeypatch: pytest.MonkeyPatch):
    from gt.beads.tracker import Tracker
    from gt.ledger import log

    bead = bd("create", "A").stdout.strip()
    text = git(repo, "show", f"beads:{bead_path(bead)}").replace("title: A", "title: A (edited)")
    monkeypatch.setenv("GIT_AUTHOR_DATE", "2001-01-01T00:00:00Z")  # this machine's clock is 25 years behind
    monkeypatch.setenv("GIT_COMMITTER_DATE", "2001-01-01T00:00:00Z")
    skewed = hand_commit(repo, bead_path(bead), text, "hand edit on a machine whose clock runs behind")
    monkeypatch.delenv("GIT_AUTHOR_DATE")
    monkeypatch.delenv("GIT_COMMITTER_DATE")
    bd("update", bead, "-p", "1")
    after = git(repo, "rev-parse", "beads").strip()
    order = [e.commit for e in log.entries(Tracker.open(str(repo)).ledger)]
    assert order[-2:] == [skewed, after]
    assert order.index(skewed) > 0 and len(order) == len(set(order))
    # and from the cache, after one more commit (only the new rows are placed)
    bd("update", bead, "-p", "2")
    again = [e.commit for e in log.entries(Tracker.open(str(repo)).ledger)]
    assert again[:-1] == order and again[-1] == git(repo, "rev-parse", "beads").strip()

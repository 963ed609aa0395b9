"""A polecat's record is ledger data: `gt polecat gc` and `nuke` remove only a branch the rig's
`polecat_branch` pattern gives that polecat, never the default branch a record may name."""
from __future__ import annotations

import json

from conftest import agent_record, git, gt


def test_gc_and_nuke_never_take_main_for_a_polecats_branch(town):
    from gt.dispatch import agents
    from gt.ledger.store import Signature

    repo = town / "gizmo" / ".repo.git"
    main = git(repo, "rev-parse", "main").strip()
    agents.set_state(town, Signature("gizmo/witness"), "gizmo/polecats/toast", "a hostile record",
                     state="idle", branch="main")
    assert agent_record(town, "gizmo/polecats/toast")["branch"] == "main"
    gt(town, "polecat", "gc", "--json")
    gt(town, "polecat", "nuke", "gizmo/toast", "--force", ok=None)
    assert git(repo, "rev-parse", "main").strip() == main
    listed = {p["name"]: p for p in json.loads(gt(town, "polecat", "list", "--json").stdout)}
    assert listed["toast"]["branch"] is None


def test_own_branch_follows_the_pattern(town):
    from gt.roles.polecat_admin import _is_own_branch

    assert _is_own_branch(town, "gizmo", "toast", "polecat/toast/gz-abc123")
    assert _is_own_branch(town, "gizmo", "toast", "polecat/toast/gz-gastown-polecat-Toast")
    for branch in ("main", "polecat/nux/gz-abc123", "polecat/toast/", "polecat/toast/gz-a/b", "HEAD", ""):
        assert not _is_own_branch(town, "gizmo", "toast", branch), branch

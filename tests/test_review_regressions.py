"""Regressions for problems a code review found (each test failed before its fix)."""
from __future__ import annotations

import json

from conftest import Bd, bead_path, git, hand_commit, make_repo


def test_linked_worktrees_and_bare_repos_share_the_ledger_settings(tmp_path):
    repo = make_repo(tmp_path / "r")
    git(repo, "commit", "-q", "--allow-empty", "-m", "init")
    main = Bd(repo)
    main("init", "--prefix", "pp", "--branch", "ledger")
    bead = main("create", "one").stdout.strip()
    git(repo, "worktree", "add", "-q", str(tmp_path / "wt"))
    assert [b["id"] for b in Bd(tmp_path / "wt").json("list")] == [bead]
    bare = tmp_path / "b.git"
    git(tmp_path, "init", "-q", "--bare", str(bare))
    Bd(bare)("init", "--prefix", "bb", "--branch", "work-ledger", "--actor", "x")
    made = Bd(bare)("create", "in bare", "--actor", "x").stdout.strip()
    assert git(bare, "log", "--format=%s", "work-ledger").startswith(f"create {made}")


def test_a_ledger_branch_checked_out_in_a_worktree_is_not_moved(bd, repo):
    git(repo, "commit", "-q", "--allow-empty", "-m", "init")
    bd("create", "x")
    git(repo, "worktree", "add", "-q", str(repo.parent / "led"), "beads")
    before = git(repo, "rev-parse", "beads")
    err = bd("create", "y", ok=False).stderr
    assert "checked out in" in err and str(repo.parent / "led") in err
    assert git(repo, "rev-parse", "beads") == before


def test_writes_are_in_the_reflog(bd, repo):
    bead = bd("create", "x").stdout.strip()
    bd("close", bead)
    reflog = git(repo, "reflog", "--format=%gs", "beads").splitlines()
    assert reflog[0] == f"close {bead}" and reflog[1] == f"create {bead}: x"


def test_import_refuses_values_that_would_break_reads(bd, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"id": "gt-bad1", "title": "T", "priority": "high"}) + "\n")
    err = bd("import", str(bad), ok=False).stderr
    assert "bad.jsonl:1" in err and "priority" in err
    assert bd.json("list") == []


def test_a_hand_edit_that_breaks_the_schema_skips_only_that_bead(bd, repo):
    good = bd("create", "good").stdout.strip()
    bad = bd("create", "bad").stdout.strip()
    hand_commit(repo, bead_path(bad), f"id: {bad}\ntitle: bad\nstatus: open\npriority: high\n")
    assert [b["id"] for b in bd.json("ready")] == [good]
    assert "priority 'high' is not 0-4" in bd("show", bad, ok=False).stderr
    assert bead_path(bad) in bd("doctor", ok=False).stdout


def test_short_ids_resolve_under_a_prefix_with_a_hyphen(repo):
    runner = Bd(repo)
    runner("init", "--prefix", "my-proj")
    bead = runner("create", "first").stdout.strip()
    assert runner.json("show", bead.split("-")[-1][:4])["id"] == bead


def test_json_shape_follows_the_ids_asked_for(bd):
    x = bd("create", "x").stdout.strip()
    y = bd("create", "y").stdout.strip()
    bd("close", y)
    closed = bd.json("close", x, y)
    assert isinstance(closed, list) and [d["id"] for d in closed] == [x, y]
    updated = bd.json("update", x, y, "--title", "same")
    assert [d["id"] for d in updated] == [x, y]
    assert isinstance(bd.json("update", x, "--title", "same"), dict)


def test_export_to_a_missing_directory_fails_and_creates_nothing(bd, tmp_path):
    target = tmp_path / "missing" / "dir" / "out.jsonl"
    bd("export", "-o", str(target), ok=False)
    assert not (tmp_path / "missing").exists()


def test_doctor_fix_settles_a_fan_out_folder_with_other_files(bd, repo):
    bead = bd("create", "x").stdout.strip()
    folder = bead_path(bead).rsplit("/", 1)[0]
    hand_commit(repo, f"{folder}/README", "not a bead\n")
    bd("doctor")  # nothing to report: the index ignores files that are not YAML documents


def test_compact_prunes_with_trailers_and_history(bd, repo):
    bead = bd("create", "doomed").stdout.strip()
    bd("delete", bead)
    bd("compact", "--prune-tombstones-older-than", "0")
    body = git(repo, "log", "-1", "--format=%B", "beads")
    assert f"Bead-Id: {bead}" in body and "Op: compact" in body
    assert bead_path(bead) not in git(repo, "ls-tree", "-r", "--name-only", "beads")

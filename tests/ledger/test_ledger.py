"""The ledger layer against real git: plain-git interop, the disposable cache, locks and crashes."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import BIN, Bd, bead_path, git, hand_commit, ledger_files, make_repo, wait_for
from gt.ledger.gitdir import discover
from gt.ledger.store import Change, Ledger, Signature, check_key, fan_of
from gt.beads.tracker import Tracker


def test_ledger_is_an_orphan_branch_and_main_is_untouched(bd, repo):
    bd("create", "one")
    assert git(repo, "rev-list", "--max-parents=0", "--count", "beads").strip() == "1"
    assert git(repo, "branch", "--list", "main").strip() == ""  # no commit was made on the code branch
    assert "ledger.yaml" in ledger_files(repo)
    config = git(repo, "show", "beads:ledger.yaml")
    assert "format: 2" in config and "prefix: gt" in config


def test_fan_out_paths_match_sha1_of_id(bd, repo):
    ids = [bd("create", f"bead {i}").stdout.strip() for i in range(5)]
    files = set(ledger_files(repo))
    for bead_id in ids:
        assert bead_path(bead_id) in files
        assert bead_path(bead_id).split("/")[1] == fan_of(bead_id)


def test_ref_moved_by_plain_git_is_seen_next_command(bd, repo):
    first = bd("create", "first").stdout.strip()
    after_first = git(repo, "rev-parse", "beads").strip()
    second = bd("create", "second").stdout.strip()
    assert {b["id"] for b in bd.json("list")} == {first, second}
    git(repo, "update-ref", "refs/heads/beads", after_first)  # plain git rewinds the ledger
    assert [b["id"] for b in bd.json("list")] == [first]
    bd("show", second, ok=False)
    third = bd("create", "third").stdout.strip()  # writes continue from the rewound state
    assert {b["id"] for b in bd.json("list")} == {first, third}


def test_fetch_into_the_ledger_branch_is_seen(tmp_path):
    a = make_repo(tmp_path / "a")
    b = make_repo(tmp_path / "b")
    from conftest import Bd

    bd_a, bd_b = Bd(a), Bd(b)
    bd_a("init", "--prefix", "gt")
    bead = bd_a("create", "made in a").stdout.strip()
    bd_b("init", "--prefix", "gt")
    bd_b("list")  # warm b's cache on its own ledger
    git(b, "fetch", "-q", str(a), "+beads:beads")
    assert [x["id"] for x in bd_b.json("list")] == [bead]


def test_deleting_the_cache_changes_nothing_but_speed(bd, repo):
    for i in range(20):
        bd("create", f"bead {i}", "-p", str(i % 5))
    before = bd("list", "--all", "-n", "0").stdout
    shutil.rmtree(repo / ".git" / "gt" / "index")
    assert bd("list", "--all", "-n", "0").stdout == before


def test_corrupt_cache_files_are_rebuilt(bd, repo):
    bead = bd("create", "x").stdout.strip()
    index = repo / ".git" / "gt" / "index"
    for path in index.rglob("*"):
        if path.is_file():
            path.write_bytes(b"garbage")
    assert bd.show(bead)["title"] == "x"


def test_no_cache_survives_as_a_second_source_of_truth(bd, repo):
    """A write by plain git that changes a bead's content must show through a warm cache."""
    bead = bd("create", "original title").stdout.strip()
    bd("list")
    text = git(repo, "show", f"beads:{bead_path(bead)}").replace("original title", "edited by hand")
    hand_commit(repo, bead_path(bead), text)
    assert bd.show(bead)["title"] == "edited by hand"


def test_malformed_file_keeps_others_readable_and_is_named(bd, repo):
    good = bd("create", "good").stdout.strip()
    bad = bd("create", "bad").stdout.strip()
    hand_commit(repo, bead_path(bad), "id: [unclosed\n  title: : :\n")
    assert [b["id"] for b in bd.json("list")] == [good]
    err = bd("show", bad, ok=False).stderr
    assert bead_path(bad) in err and "invalid YAML" in err
    report = bd("doctor", ok=False).stdout
    assert bead_path(bad) in report
    assert bd("update", good, "--title", "still writable").exit_code == 0


def test_ref_lock_left_by_a_killed_writer_is_cleared(bd, repo):
    bd("create", "before")
    lock = repo / ".git" / "refs" / "heads" / "beads.lock"
    lock.write_text("0" * 40 + "\n")
    (repo / ".git" / "gt" / "ref-update-in-flight").write_text("12345 refs/heads/beads\n")  # it died mid-update
    bd("create", "after the crash")  # must not fail on the leftover lock
    assert not lock.exists()
    assert len(bd.json("list")) == 2


def test_a_ref_lock_held_by_git_is_waited_for_not_deleted(bd, repo):
    """A git transaction holding the ref lock for seconds is not a leftover: wait for it."""
    bead = bd("create", "before").stdout.strip()
    old, new = git(repo, "rev-parse", "beads").strip(), git(repo, "rev-parse", "beads").strip()
    txn = subprocess.Popen(["git", "update-ref", "--stdin"], cwd=repo, stdin=subprocess.PIPE, text=True,
                           stderr=subprocess.PIPE)
    txn.stdin.write(f"start\nupdate refs/heads/beads {new} {old}\nprepare\n")
    txn.stdin.flush()
    wait_for(lambda: (repo / ".git" / "refs" / "heads" / "beads.lock").exists(), timeout=30,
             what="git to take the ref lock")
    writer = subprocess.Popen([str(BIN / "bd"), "update", bead, "--title", "after git"],
                              cwd=repo, stderr=subprocess.PIPE, text=True)
    time.sleep(1.5)
    txn.stdin.write("commit\n")
    txn.stdin.close()
    assert txn.wait(timeout=10) == 0, txn.stderr.read()  # git's transaction was not broken
    assert writer.wait(timeout=30) == 0, writer.stderr.read()
    assert bd.show(bead)["title"] == "after git"


def test_stale_object_lock_is_cleared(bd, repo):
    """A killed writer can leave `objects/xx/yyy.lock`: the next write of that object must succeed."""
    from dulwich.objects import Blob

    from gt.ledger.yamlio import dump

    tracker = Tracker.open(str(repo))
    doc = {"id": "gt-fixed1", "title": "same content", "type": "task", "status": "open", "priority": 2}
    blob = Blob.from_string(dump(doc))
    path = repo / ".git" / "objects" / blob.id.decode()[:2] / (blob.id.decode()[2:] + ".lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")
    old = time.time() - 60
    os.utime(path, (old, old))

    def build(view):
        change = Change("create gt-fixed1: same content", [("Bead-Id", "gt-fixed1")])
        change.put("beads", "gt-fixed1", doc)
        return change

    tracker.ledger.transact(build, Signature("tester"))
    assert git(repo, "cat-file", "-t", blob.id.decode()).strip() == "blob"


def test_ref_moved_during_a_transaction_is_retried(bd, repo):
    """Compare-and-swap: a ref moved between our read and our update makes us rebuild, not overwrite."""
    tracker = Tracker.open(str(repo))
    outsider = bd("create", "outsider").stdout.strip()
    target = git(repo, "rev-parse", "beads").strip()
    bd("create", "newer")
    calls = []

    def build(view):
        calls.append(view.commit)
        if len(calls) == 1:  # someone else moves the ref after we read it
            git(repo, "update-ref", "refs/heads/beads", target)
        change = Change("mine", [])
        change.put("beads", "gt-mine01", {"id": "gt-mine01", "title": "mine", "status": "open", "priority": 2, "type": "task"})
        return change

    tracker.ledger.transact(build, Signature("tester"))
    assert len(calls) == 2 and calls[1] == target
    ids = {b["id"] for b in bd.json("list")}
    assert ids == {outsider, "gt-mine01"}


def test_keys_cannot_escape_the_tree():
    for bad in ["../x", "/abs", "a/b", "a\x00b", "", ".hidden", "UPPER", "a..b"]:
        with pytest.raises(Exception):
            check_key(bad)
    assert check_key("bd-beads-polecat-amber") == "bd-beads-polecat-amber"


def test_loose_objects_are_packed_after_threshold(tmp_path, monkeypatch):
    from gt.ledger import maintenance

    repo = make_repo(tmp_path / "r")
    monkeypatch.setattr(maintenance, "LOOSE_THRESHOLD", 256)
    ledger = Ledger(discover(str(repo)))
    for i in range(120):
        def build(view, i=i):
            change = Change(f"write {i}", [])
            change.put("things", f"k{i}", {"n": i})
            return change
        ledger.transact(build, Signature("t"))
    counts = dict(line.split(": ") for line in git(repo, "count-objects", "-v").splitlines())
    assert int(counts["count"]) < 300  # 120 writes x 4-5 objects would leave ~500 loose
    assert int(counts["in-pack"]) > 0
    git(repo, "fsck", "--no-dangling")
    assert ledger.view().summaries("things")["k119"] == {"n": 119}


def test_worktrees_share_one_ledger(bd, repo):
    git(repo, "commit", "-q", "--allow-empty", "-m", "root")
    git(repo, "worktree", "add", "-q", str(repo.parent / "wt"), "-b", "feature")
    from conftest import Bd

    other = Bd(repo.parent / "wt")
    made_there = other("create", "from the worktree").stdout.strip()
    assert made_there in {b["id"] for b in bd.json("list")}
    paths = discover(str(repo.parent / "wt"))
    assert Path(paths.commondir) == repo / ".git"


def test_bare_repository_holds_the_ledger(tmp_path):
    from conftest import Bd

    bare = tmp_path / "rig.git"
    git(tmp_path, "init", "-q", "--bare", str(bare))
    runner = Bd(bare)
    runner("init", "--prefix", "rg", "--actor", "mayor")
    bead = runner("create", "in the bare repo", "--actor", "mayor").stdout.strip()
    assert git(bare, "log", "--format=%an", "beads").split() == ["mayor", "mayor"]
    assert runner.show(bead)["title"] == "in the bare repo"


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


CRASH_WRITER = r"""
import sys
from gt.ledger.gitdir import discover
from gt.beads import operations
from gt.beads.tracker import Tracker
from gt.ledger.store import Signature
tracker = Tracker(discover(sys.argv[1]))
i = 0
while True:
    operations.update(tracker, Signature("crasher"), [sys.argv[2]], fields={}, append_notes=f"line {i}")
    i += 1
"""


def test_killed_writers_leave_old_or_new_state(bd, repo):
    """SIGKILL a writer at arbitrary instants: the ledger stays consistent and writable every time."""
    bead = bd("create", "target").stdout.strip()
    for attempt in range(6):
        proc = subprocess.Popen([sys.executable, "-c", CRASH_WRITER, str(repo), bead])
        time.sleep(0.6 + 0.13 * attempt)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        git(repo, "fsck", "--no-dangling")  # every object the ref reaches exists and is sound
        notes = bd.show(bead).get("notes", "")
        lines = notes.splitlines()
        assert lines == [f"line {i}" for i in range(len(lines))]  # a prefix of the writer's sequence
        bd("update", bead, "--append-notes", f"survivor {attempt}")  # the next writer is not blocked
        assert bd.show(bead)["notes"].endswith(f"survivor {attempt}")
        bd("update", bead, "--notes", "")


def test_a_newer_ledger_format_is_refused_for_writes(bd, repo):
    bead = bd("create", "x").stdout.strip()
    hand_commit(repo, "ledger.yaml", "format: 99\nprefix: gt\n")
    before = git(repo, "rev-parse", "beads")
    err = bd("update", bead, "--title", "y", ok=False).stderr
    assert "format 99" in err and "upgrade bd" in err
    assert git(repo, "rev-parse", "beads") == before
    assert bd.show(bead)["title"] == "x"  # reading still works


def test_a_format_1_ledger_is_migrated_on_first_write(bd, repo):
    bead = bd("create", "old bead").stdout.strip()
    hand_commit(repo, "ledger.yaml", "format: 1\nprefix: gt\n", "an older bd wrote this ledger")
    assert bd.show(bead)["title"] == "old bead"  # read as it is
    bd("update", bead, "--title", "edited")
    assert "format: 2" in git(repo, "show", "beads:ledger.yaml")
    files = git(repo, "show", "--name-only", "--format=", "beads").split()
    assert sorted(files) == sorted(["ledger.yaml", bead_path(bead)])  # one commit does both
    assert "stamps:" in git(repo, "show", f"beads:{bead_path(bead)}")


def test_compact_never_deletes_objects_it_did_not_repack(repo):
    """dulwich names packs by content: rewriting an existing pack's objects must not delete it."""
    from conftest import Bd

    (repo / "f").write_text("code\n")
    git(repo, "add", "f")
    git(repo, "commit", "-qm", "code")
    git(repo, "repack", "-q")  # a pack plus loose copies of the same objects
    runner = Bd(repo)
    runner("init", "--prefix", "gt")
    runner("create", "x")
    runner("compact")
    runner("compact")
    git(repo, "fsck", "--no-dangling")
    assert git(repo, "log", "--format=%s", "main").strip() == "code"
    keep = next((repo / ".git" / "objects" / "pack").glob("*.pack")).with_suffix(".keep")
    keep.write_text("")
    runner("create", "y")
    runner("compact")
    assert keep.with_suffix(".pack").exists()
    git(repo, "fsck", "--no-dangling")


def test_writes_and_syncs_leave_no_stale_shards_behind(bd, repo):
    """Each write replaces its fan's shard; the old one goes (index hygiene), and a reader holding a
    view from before the write still reads it whole (the shard it misses is rebuilt)."""
    ids = [bd("create", f"bead {i}").stdout.strip() for i in range(12)]
    tracker = Tracker(discover(str(repo)))

    def shard_files() -> set[str]:
        return {p.name for p in (repo / ".git" / "gt" / "index").glob("*/shards/*")}

    def used() -> set[str]:
        manifest = tracker.ledger.view().manifest
        return {t for fans in manifest.collections.values() for t in fans.values()}

    assert shard_files() == used()
    before = tracker.ledger.view()
    for n in range(20):
        bd("update", ids[n % len(ids)], "--append-notes", f"note {n}")
    git(repo, "update-ref", "refs/heads/beads", git(repo, "rev-parse", "beads~3").strip())  # plain git moves it
    assert [b["id"] for b in bd.json("list", "--limit", "0")]  # a read indexes what it finds
    assert shard_files() == used()
    assert len(shard_files()) <= len(used())
    assert set(before.summaries("beads")) == set(ids)  # an old view still reads every bead

"""Sync between clones of one bare repository: merge without conflicts, lose nothing, converge."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from conftest import BIN, Bd, TIMEOUT, bead_path, child_processes, git, hand_commit, head, make_repo, wait_gone, links


@pytest.fixture
def hub(tmp_path: Path) -> Path:
    """A bare repository guarded by our pre-receive hook."""
    bare = tmp_path / "hub.git"
    git(tmp_path, "init", "-q", "--bare", str(bare))
    Bd(tmp_path)("hooks", "install", "--bare", str(bare))
    return bare


def clone(hub: Path, name: str) -> Bd:
    path = hub.parent / name
    git(hub.parent, "clone", "-q", str(hub), str(path))
    git(path, "config", "user.name", name)
    git(path, "config", "user.email", f"{name}@example.com")
    return Bd(path)


@pytest.fixture
def pair(hub: Path) -> tuple[Bd, Bd]:
    a, b = clone(hub, "ann"), clone(hub, "bob")
    a("init", "--prefix", "sy")
    a("sync")
    b("sync")
    return a, b


def test_first_sync_creates_the_remote_ledger_and_a_plain_clone_reads_it(hub):
    a = clone(hub, "ann")
    a("init", "--prefix", "sy")
    bead = a("create", "hello").stdout.strip()
    report = a.json("sync")
    assert report["action"] == "created" and report["pushed"]
    assert git(hub, "rev-parse", "beads") == git(a.cwd, "rev-parse", "beads")
    c = clone(hub, "cat")  # plain git clone: no bd init
    assert [b["id"] for b in c.json("list")] == [bead]
    assert git(c.cwd, "branch", "--list", "beads").strip() == ""
    made = c("create", "from the clone").stdout.strip()  # first write creates the branch on origin/beads
    assert git(c.cwd, "rev-parse", "beads~1").strip() == git(c.cwd, "rev-parse", "origin/beads").strip()
    c("sync")
    a("sync")
    assert {b["id"] for b in a.json("list")} == {bead, made}


def test_concurrent_edits_to_different_fields_of_one_bead_both_survive(pair):
    a, b = pair
    bead = a("create", "shared").stdout.strip()
    a("sync"), b("sync")
    a("update", bead, "-p", "0")
    a("label", "add", bead, "urgent")
    b("update", bead, "--title", "renamed by bob")
    b("comment", bead, "bob was here")
    a("sync"), b("sync"), a("sync")
    assert head(a.cwd) == head(b.cwd)
    doc = a.show(bead)
    assert (doc["title"], doc["priority"], doc["labels"]) == ("renamed by bob", 0, ["urgent"])
    assert [c["text"] for c in doc["comments"]] == ["bob was here"]
    authors = git(a.cwd, "log", "--format=%an", "beads").split()
    assert {"ann", "bob"} <= set(authors)
    merge = git(a.cwd, "log", "--merges", "-1", "--format=%an|%s|%P", "beads").strip().split("|")
    assert merge[0] == "bob" and merge[1] == "sync: merge origin/beads" and len(merge[2].split()) == 2


def test_same_field_conflict_has_one_winner_whoever_merges(pair):
    a, b = pair
    bead = a("create", "t").stdout.strip()
    a("sync"), b("sync")
    a("update", bead, "--title", "ann's title")
    b("update", bead, "--title", "bob's title")
    b("sync"), a("sync"), b("sync")
    assert head(a.cwd) == head(b.cwd)
    assert a.show(bead)["title"] == b.show(bead)["title"] in ("ann's title", "bob's title")


def test_close_and_concurrent_edit_both_survive_and_delete_wins_over_edit(pair):
    a, b = pair
    one = a("create", "one").stdout.strip()
    two = a("create", "two").stdout.strip()
    a("sync"), b("sync")
    a("close", one, "-r", "done")
    b("update", one, "--notes", "edited meanwhile")
    a("delete", two)
    b("update", two, "--title", "edited after delete")
    a("sync"), b("sync"), a("sync")
    doc = b.show(one)
    assert doc["status"] == "closed" and doc["notes"] == "edited meanwhile" and doc["closed_at"]
    assert "deleted" in b("show", two, ok=False).stderr
    assert two not in {x["id"] for x in b.json("list", "--all")}


def test_removed_label_is_not_restored_by_a_stale_copy(pair):
    a, b = pair
    bead = a("create", "t", "-l", "old").stdout.strip()
    a("sync"), b("sync")
    a("label", "remove", bead, "old")
    b("update", bead, "-p", "1")  # b's copy still has the label
    a("sync"), b("sync")
    assert b.show(bead).get("labels") is None


def test_id_collision_renames_one_side_and_rewrites_its_references(pair):
    a, b = pair
    a("create", "ann's bead", "--id", "sy-same01")
    a_ref = a("create", "needs ann's", "--deps", "depends-on:sy-same01").stdout.strip()
    b("create", "bob's bead", "--id", "sy-same01")
    b_ref = b("create", "needs bob's", "--deps", "depends-on:sy-same01").stdout.strip()
    a("sync")
    report = b.json("sync")
    assert list(report["renamed"]) == ["sy-same01"]
    new_id = report["renamed"]["sy-same01"]
    a("sync")
    assert head(a.cwd) == head(b.cwd)
    titles = {a.show("sy-same01")["title"], a.show(new_id)["title"]}
    assert titles == {"ann's bead", "bob's bead"}
    kept = a.show("sy-same01")["title"]
    moved_ref, kept_ref = (b_ref, a_ref) if kept == "ann's bead" else (a_ref, b_ref)
    assert links(a.show(moved_ref))[0]["target"] == new_id
    assert links(a.show(kept_ref))[0]["target"] == "sy-same01"
    assert f"Renamed: sy-same01 -> {new_id}" in git(a.cwd, "log", "--merges", "-1", "--format=%B", "beads")


def test_unrelated_ledgers_merge_as_two_roots(hub):
    a, b = clone(hub, "ann"), clone(hub, "bob")
    a("init", "--prefix", "sy")
    b("init", "--prefix", "sy")
    x = a("create", "from a").stdout.strip()
    y = b("create", "from b").stdout.strip()
    a("sync")
    b("sync")
    a("sync")
    assert head(a.cwd) == head(b.cwd)
    assert git(a.cwd, "rev-list", "--max-parents=0", "--count", "beads").strip() == "2"
    assert {d["id"] for d in a.json("list")} == {x, y}


def test_interrupted_sync_is_finished_by_the_next_one(pair):
    a, b = pair
    bead = a("create", "x").stdout.strip()
    a("sync", "--no-push")  # merged locally, never pushed (as if the network dropped)
    assert a.json("sync", "--status")["ahead"] >= 1
    b("sync")
    assert bead not in {d["id"] for d in b.json("list")}
    a("sync")
    b("sync")
    assert bead in {d["id"] for d in b.json("list")}
    status = a.json("sync", "--status")
    assert (status["ahead"], status["behind"]) == (0, 0)


def test_a_killed_sync_loses_nothing(pair):
    a, b = pair
    beads = [a("create", f"bead {i}").stdout.strip() for i in range(30)]
    b("create", "bob's")
    b("sync")
    proc = subprocess.Popen([str(BIN / "bd"), "sync"], cwd=a.cwd)
    import time

    time.sleep(0.35)
    children = child_processes(proc.pid)
    proc.kill()
    proc.wait(timeout=30)
    wait_gone(children)  # bd dies; a git push it started finishes on its own, as it would on a real machine
    git(a.cwd, "fsck", "--no-dangling")
    a("sync")
    b("sync")
    assert set(beads) <= {d["id"] for d in b.json("list", "-n", "0")}
    assert head(a.cwd) == head(b.cwd)


def test_rejected_push_is_retried_then_gives_a_clear_error(pair, tmp_path, monkeypatch):
    from gt.beads import sync

    monkeypatch.setattr(sync, "BACKOFF_SECONDS", 0.001)  # the rounds, not their pauses, are tested here
    a, b = pair
    mirror = tmp_path / "stale.git"
    git(tmp_path, "clone", "-q", "--bare", str(a.cwd.parent / "hub.git"), str(mirror))
    b("create", "moves the hub")
    b("sync")
    # ann fetches from a stale mirror but pushes to the hub: every push is refused as non-fast-forward
    git(a.cwd, "remote", "set-url", "origin", str(mirror))
    git(a.cwd, "remote", "set-url", "--push", "origin", str(a.cwd.parent / "hub.git"))
    a("create", "ann's work")
    before = git(a.cwd.parent / "hub.git", "rev-parse", "beads")
    err = a("sync", ok=False).stderr
    assert f"gave up after {sync.MAX_ROUNDS} rounds" in err and "run `bd sync` again" in err
    assert "(last answer: [rejected] (fetch first))" in err
    assert git(a.cwd.parent / "hub.git", "rev-parse", "beads") == before  # never forced
    git(a.cwd, "remote", "set-url", "origin", str(a.cwd.parent / "hub.git"))
    git(a.cwd, "remote", "set-url", "--push", "origin", str(a.cwd.parent / "hub.git"))
    assert a.json("sync")["pushed"]
    b("sync")
    assert "ann's work" in {d["title"] for d in b.json("list")}


def test_plain_git_push_and_fetch_work_and_sync_merges_origin(pair):
    a, b = pair
    bead = a("create", "pushed with plain git").stdout.strip()
    git(a.cwd, "push", "-q", "origin", "beads")
    git(b.cwd, "fetch", "-q", "origin")
    b("sync", "--no-push")
    assert bead in {d["id"] for d in b.json("list")}


def test_guard_accepts_good_pushes_and_refuses_each_bad_kind(pair):
    a, b = pair
    hub = a.cwd.parent / "hub.git"
    bead = a("create", "x").stdout.strip()
    a("sync")
    # deleting the branch
    res = subprocess.run(["git", "push", "origin", ":beads"], cwd=a.cwd, capture_output=True, text=True,
                         timeout=TIMEOUT)
    assert res.returncode != 0 and "refusing to delete the ledger branch" in res.stderr
    # rewriting history
    git(a.cwd, "update-ref", "refs/heads/beads", "beads~1")
    a("create", "diverged")
    res = subprocess.run(["git", "push", "-f", "origin", "beads"], cwd=a.cwd, capture_output=True, text=True,
                         timeout=TIMEOUT)
    assert res.returncode != 0 and "non-fast-forward" in res.stderr
    git(a.cwd, "update-ref", "refs/heads/beads", "origin/beads")
    # a file that does not parse, and one that breaks the schema
    for text, expected in [("id: [unclosed\n", "invalid YAML"),
                           (f"id: {bead}\ntitle: t\nstatus: bogus\npriority: 9\n", "unknown status 'bogus'")]:
        commit = hand_commit(a.cwd, bead_path(bead), text, move_ref=False)
        res = subprocess.run(["git", "push", "origin", f"{commit}:refs/heads/beads"], cwd=a.cwd,
                             capture_output=True, text=True, timeout=TIMEOUT)
        assert res.returncode != 0 and expected in res.stderr and bead_path(bead) in res.stderr
    assert git(hub, "rev-parse", "beads") == git(a.cwd, "rev-parse", "origin/beads")
    a("update", bead, "--title", "fine")
    assert a.json("sync")["pushed"]


def test_a_users_own_pre_receive_hook_is_kept_and_still_runs(tmp_path):
    bare = tmp_path / "own.git"
    git(tmp_path, "init", "-q", "--bare", str(bare))
    own = bare / "hooks" / "pre-receive"
    own.write_text("#!/bin/sh\necho 'own hook ran' >&2\nexit 0\n")
    own.chmod(0o755)
    Bd(tmp_path)("hooks", "install", "--bare", str(bare))
    assert (bare / "hooks" / "pre-receive.user").exists()
    a = clone(bare, "ann")
    a("init", "--prefix", "sy")
    res = subprocess.run([str(BIN / "bd"), "sync"], cwd=a.cwd, capture_output=True, text=True, timeout=TIMEOUT)
    assert res.returncode == 0, res.stderr
    repo = make_repo(tmp_path / "pusher")
    assert repo.exists()


def test_a_remote_ledger_of_a_newer_format_is_not_merged(pair):
    a, b = pair
    b("create", "made by a newer bd")
    hand_commit(b.cwd, "ledger.yaml", "format: 9\nprefix: sy\n")
    git(b.cwd, "push", "-q", "origin", "beads")
    a("create", "mine")
    before = head(a.cwd)
    err = a("sync", ok=False).stderr
    assert "format 9" in err and "upgrade bd" in err
    assert head(a.cwd) == before


def test_sync_over_a_file_url(hub):
    a = clone(hub, "ann")
    a("init", "--prefix", "sy")
    bead = a("create", "over file://").stdout.strip()
    a("sync")
    other = hub.parent / "via-url"
    git(hub.parent, "clone", "-q", hub.as_uri(), str(other))
    b = Bd(other)
    git(other, "config", "user.name", "bob")
    b("update", bead, "--title", "edited over file://")
    assert b.json("sync")["pushed"]
    a("sync")
    assert a.show(bead)["title"] == "edited over file://"
    assert git(other, "remote", "get-url", "origin").strip().startswith("file://")


def test_a_renamed_bead_edited_on_both_sides_keeps_both_edits(pair):
    """One side already renamed the colliding bead and edited it there; the other side, renaming
    it in its turn, has its own edits under the old id: the two copies merge, nothing is dropped."""
    a, b = pair
    b("create", "bob's", "--id", "sy-dup001")  # created first: keeps the id
    a("create", "ann's", "--id", "sy-dup001")  # created later: will move
    a("sync")
    moved_to = b.json("sync")["renamed"]["sy-dup001"]
    b("update", moved_to, "--notes", "edited on B")
    b("sync")
    a("update", "sy-dup001", "--title", "ann edited on A")  # a still has ann's bead under the old id
    assert a.json("sync")["renamed"] == {"sy-dup001": moved_to}
    b("sync")
    for side in (a, b):
        doc = side.show(moved_to)
        assert (doc["title"], doc.get("notes")) == ("ann edited on A", "edited on B")
        assert side.show("sy-dup001")["title"] == "bob's"
    assert head(a.cwd) == head(b.cwd)


def _push_tree(repo: Path, entries: str) -> subprocess.CompletedProcess:
    """Push a commit on top of the ledger whose root tree is `git mktree` of `entries`."""
    tree = subprocess.run(["git", "mktree"], cwd=repo, input=entries, text=True, capture_output=True,
                          check=True, timeout=TIMEOUT).stdout.strip()
    commit = subprocess.run(["git", "commit-tree", tree, "-p", "beads", "-m", "reshape"], cwd=repo,
                            capture_output=True, text=True, check=True, timeout=TIMEOUT).stdout.strip()
    return subprocess.run(["git", "push", "origin", f"{commit}:refs/heads/beads"], cwd=repo, capture_output=True,
                          text=True, timeout=TIMEOUT)


def test_guard_refuses_pushes_that_break_the_ledgers_shape(pair):
    a, b = pair
    bead = a("create", "x").stdout.strip()
    a("sync")
    root = git(a.cwd, "ls-tree", "beads")
    without_config = "".join(line + "\n" for line in root.splitlines() if "ledger.yaml" not in line)
    res = _push_tree(a.cwd, without_config)
    assert res.returncode != 0 and "ledger.yaml is missing" in res.stderr
    blob = subprocess.run(["git", "hash-object", "-w", "--stdin"], cwd=a.cwd, input="x\n", text=True,
                          capture_output=True, check=True, timeout=TIMEOUT).stdout.strip()
    as_file = "".join((f"100644 blob {blob}\tbeads\n" if line.endswith("\tbeads") else line + "\n")
                      for line in root.splitlines())
    res = _push_tree(a.cwd, as_file)
    assert res.returncode != 0 and "a file where a collection folder belongs" in res.stderr
    wrong_fan = "00" if bead_path(bead).split("/")[1] != "00" else "01"
    commit = hand_commit(a.cwd, f"beads/{wrong_fan}/sy-moved.yaml",
                         "id: sy-moved\ntitle: t\nstatus: open\npriority: 2\n", move_ref=False)
    res = subprocess.run(["git", "push", "origin", f"{commit}:refs/heads/beads"], cwd=a.cwd, capture_output=True,
                         text=True, timeout=TIMEOUT)
    assert res.returncode != 0 and "belongs in beads/" in res.stderr
    commit = hand_commit(a.cwd, "beads/sy-flat.yaml", "id: sy-flat\ntitle: t\nstatus: open\npriority: 2\n", move_ref=False)
    res = subprocess.run(["git", "push", "origin", f"{commit}:refs/heads/beads"], cwd=a.cwd, capture_output=True,
                         text=True, timeout=TIMEOUT)
    assert res.returncode != 0 and "not a fan-out folder" in res.stderr and "Traceback" not in res.stderr
    assert a.json("sync")["action"] == "up to date"


def test_a_refused_push_says_why(pair):
    a, b = pair
    bead = a("create", "x").stdout.strip()
    a("sync")
    hand_commit(a.cwd, bead_path(bead), f"id: {bead}\ntitle: t\nstatus: bogus\npriority: 2\n")
    err = a("sync", ok=False).stderr
    assert "refused" in err and "unknown status 'bogus'" in err


def test_sync_with_a_path_instead_of_a_remote_name(pair):
    a, b = pair
    bead = a("create", "x").stdout.strip()
    a("sync")
    assert a.json("sync", "--remote", str(a.cwd.parent / "hub.git"))["action"] == "up to date"
    assert bead in {d["id"] for d in b.json("sync", "--remote", "../hub.git") and b.json("list")}
    err = b("sync", "--remote", "nowhere", ok=False).stderr
    assert "fatal:" in err

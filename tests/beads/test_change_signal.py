"""The change signal `.beads/last-change`: rewritten with the ledger's new commit id by every write
(create, update, import, a sync that brings another clone's writes), git-ignored, never creating a
`.beads/` folder that is not there, and never written through a link."""
from __future__ import annotations

import json
import os
from pathlib import Path

from conftest import Bd, git, head, make_repo, clone_of, guarded_hub

SIGNAL = Path(".beads") / "last-change"


def signal(repo: Path) -> str:
    return (repo / SIGNAL).read_text(encoding="ascii")


def age(repo: Path) -> None:
    """Set the signal's mtime an hour back, so a rewrite is seen whatever the clock's resolution."""
    path = repo / SIGNAL
    old = path.stat().st_mtime - 3600
    os.utime(path, (old, old))


def changed(repo: Path, before: float) -> bool:
    return (repo / SIGNAL).stat().st_mtime > before


def rec(bead_id: str, title: str) -> dict:
    return {"id": bead_id, "title": title, "status": "open", "priority": 2, "issue_type": "task",
            "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"}


def test_init_create_update_and_import_each_rewrite_the_signal(bd, repo, tmp_path):
    assert signal(repo) == head(repo) + "\n"  # bd init starts it at the ledger's first commit
    steps = [
        ("create", "first"),
        ("update", None, "-p", "0"),
        ("comment", None, "a comment"),
        ("close", None),
        ("import", str(tmp_path / "in.jsonl")),
    ]
    (tmp_path / "in.jsonl").write_text(json.dumps(rec("gt-imported1", "imported")) + "\n")
    bead = None
    for command, *args in steps:
        age(repo)
        before = (repo / SIGNAL).stat().st_mtime
        result = bd(command, *[bead if a is None else a for a in args])
        bead = bead or result.stdout.strip()
        assert changed(repo, before), command
        assert signal(repo) == head(repo) + "\n", command


def test_a_write_that_changes_nothing_leaves_the_signal_alone(bd, repo):
    bead = bd("create", "t").stdout.strip()
    bd("update", bead, "-p", "1")
    age(repo)
    before = (repo / SIGNAL).stat().st_mtime
    bd("update", bead, "-p", "1")  # no change: no commit
    bd("list")
    assert (repo / SIGNAL).stat().st_mtime == before


def test_the_signal_is_ignored_by_git_even_under_the_originals_gitignore(bd, repo):
    bd("create", "t")
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""
    # the original bd's .beads/.gitignore lists its own runtime files, not ours: info/exclude covers it
    (repo / ".beads" / ".gitignore").write_text("*.db\nbd.sock\nlast-touched\n")
    git(repo, "check-ignore", "-q", str(SIGNAL))
    assert "/.beads/*last-change*" in (repo / ".git" / "info" / "exclude").read_text().splitlines()
    assert str(SIGNAL) not in git(repo, "status", "--porcelain", "--untracked-files=all")


def test_no_beads_folder_is_created_for_the_signal(tmp_path):
    """A bare repository (a rig's ledger lives in one) and a work tree without `.beads/` get none."""
    bare = tmp_path / "rig.git"
    git(tmp_path, "init", "-q", "--bare", str(bare))
    Bd(bare)("init", "--prefix", "rg")
    Bd(bare)("create", "in the bare repository")
    assert not (bare / ".beads").exists() and not (tmp_path / ".beads").exists()
    plain = make_repo(tmp_path / "plain")
    runner = Bd(plain)
    runner("init", "--prefix", "pl")
    (plain / ".beads" / "last-change").unlink()
    for name in os.listdir(plain / ".beads"):
        (plain / ".beads" / name).unlink()
    (plain / ".beads").rmdir()
    runner("create", "without a .beads folder")
    assert not (plain / ".beads").exists()


def test_linked_work_trees_with_a_beads_folder_are_signalled_too(bd, repo, tmp_path):
    git(repo, "commit", "-q", "--allow-empty", "-m", "root")
    other = tmp_path / "linked"
    git(repo, "worktree", "add", "-q", "--detach", str(other))
    (other / ".beads").mkdir()
    bare_like = tmp_path / "linked-without"
    git(repo, "worktree", "add", "-q", "--detach", str(bare_like))
    Bd(other)("create", "from the linked work tree")
    assert signal(other) == signal(repo) == head(repo) + "\n"
    bd("create", "from the main work tree")
    assert signal(other) == signal(repo) == head(repo) + "\n"
    assert not (bare_like / ".beads").exists()


def test_the_signal_is_never_written_through_a_link(bd, repo, tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("precious\n")
    (repo / SIGNAL).unlink()
    (repo / SIGNAL).symlink_to(outside)
    bd("create", "t")
    assert outside.read_text() == "precious\n"
    assert not (repo / SIGNAL).is_symlink() and signal(repo) == head(repo) + "\n"
    # a `.beads` that is itself a link (a checkout can plant one) is not written into
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    other = make_repo(tmp_path / "other")
    (other / ".beads").symlink_to(elsewhere, target_is_directory=True)
    Bd(other)("init", "--prefix", "ot")
    Bd(other)("create", "t")
    assert not (elsewhere / "last-change").exists()


def test_a_sync_that_brings_another_clones_write_rewrites_the_signal(tmp_path):
    hub = guarded_hub(tmp_path)
    ann, bob = (clone_of(hub, tmp_path / name, name) for name in ("ann", "bob"))
    ann("init", "--prefix", "sy")
    ann("create", "from ann")
    ann("sync")
    bob("sync")  # takes the ledger from origin (bob has no .beads/ yet: no signal)
    assert not (bob.cwd / ".beads").exists()
    bob("init")  # joins that ledger: .beads/ for its settings, and the signal at the ledger's head
    assert signal(bob.cwd) == head(bob.cwd) + "\n" == head(ann.cwd) + "\n"
    ann("create", "another from ann")
    ann("sync")
    age(bob.cwd)
    before = (bob.cwd / SIGNAL).stat().st_mtime
    assert bob.json("sync")["action"] == "fast-forward"
    assert changed(bob.cwd, before) and signal(bob.cwd) == head(ann.cwd) + "\n"
    bob("create", "from bob")  # both write: bob's sync merges
    ann("create", "yet another from ann")
    ann("sync")
    age(bob.cwd)
    before = (bob.cwd / SIGNAL).stat().st_mtime
    report = bob.json("sync")
    assert report["action"] == "merged", report
    assert changed(bob.cwd, before)
    assert signal(bob.cwd) == head(bob.cwd) + "\n", (report, git(bob.cwd, "reflog", "show", "beads"))
    assert len(git(bob.cwd, "log", "-1", "--format=%P", "beads").split()) == 2

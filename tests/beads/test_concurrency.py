"""Concurrent writers lose nothing; claims race to exactly one winner."""
from __future__ import annotations

import subprocess
import sys
import threading
import time

from conftest import BIN, git
from gt.ledger.objects import add_objects, open_object_store
from gt.ledger.gitdir import discover

WRITER = r"""
import sys
from gt.ledger.gitdir import discover
from gt.ledger.store import Signature
from gt.beads import operations
from gt.beads.tracker import Tracker
repo, bead, me, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
tracker = Tracker(discover(repo))
for i in range(count):
    operations.update(tracker, Signature(f"writer-{me}"), [bead], fields={}, append_notes=f"{me}:{i}")
"""


def test_twenty_processes_lose_no_update(bd, repo):
    bead = bd("create", "hot bead").stdout.strip()
    commits_before = int(git(repo, "rev-list", "--count", "beads"))
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(repo), bead, str(p), "25"]) for p in range(20)]
    assert [p.wait(timeout=300) for p in procs] == [0] * 20
    lines = bd.json("show", bead)["notes"].splitlines()
    assert sorted(lines) == sorted(f"{p}:{i}" for p in range(20) for i in range(25))
    assert int(git(repo, "rev-list", "--count", "beads")) == commits_before + 500
    for p in range(20):  # each process's own updates stay in order
        mine = [line for line in lines if line.startswith(f"{p}:")]
        assert mine == [f"{p}:{i}" for i in range(25)]
    authors = set(git(repo, "log", "--format=%an", "beads").split())
    assert {f"writer-{p}" for p in range(20)} <= authors


def test_claim_race_has_exactly_one_winner(bd, repo):
    bead = bd("create", "contested").stdout.strip()
    procs = [
        subprocess.Popen([str(BIN / "bd"), "update", bead, "--claim", "--actor", f"agent{i}"], cwd=repo,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for i in range(8)
    ]
    results = [(p.wait(timeout=120), p.stderr.read()) for p in procs]
    winners = [i for i, (code, _) in enumerate(results) if code == 0]
    assert len(winners) == 1
    assert all("already claimed by" in err or "cannot be claimed" in err for code, err in results if code != 0)
    assert bd.json("show", bead)["assignee"] == f"agent{winners[0]}"


def test_an_object_being_written_by_another_process_is_waited_for(repo):
    """dulwich raises FileLocked while another writer holds `<object>.lock`: we wait, then succeed."""
    from dulwich.objects import Blob

    paths = discover(str(repo))
    store = open_object_store(paths)
    blob = Blob.from_string(b"contended content\n")
    hexid = blob.id.decode()
    lock = repo / ".git" / "objects" / hexid[:2] / (hexid[2:] + ".lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    lock.write_bytes(b"")

    def other_writer_finishes():
        time.sleep(0.2)
        lock.unlink()

    thread = threading.Thread(target=other_writer_finishes)
    thread.start()
    started = time.monotonic()
    add_objects(store, [blob])
    thread.join()
    assert time.monotonic() - started >= 0.15
    assert git(repo, "cat-file", "-p", hexid) == "contended content\n"

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
    lines = bd.show(bead)["notes"].splitlines()
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
        for i in range(20)
    ]
    results = [(p.wait(timeout=120), p.stderr.read()) for p in procs]
    winners = [i for i, (code, _) in enumerate(results) if code == 0]
    assert len(winners) == 1
    assert all("already claimed by" in err or "cannot be claimed" in err for code, err in results if code != 0)
    assert bd.show(bead)["assignee"] == f"agent{winners[0]}"


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


def test_writers_claimers_and_two_syncing_clones_at_once_lose_nothing(tmp_path, monkeypatch):
    """In one clone, 20 writers × 5 writes, 20 claimers racing for one bead and a sync loop; in
    another clone, writes and syncs; all at once through one guarded hub. Every command succeeds
    (but 19 claims), exactly one claimer wins, and both clones end with every write."""
    from concurrent.futures import ThreadPoolExecutor

    from conftest import TIMEOUT, Bd

    # What is tested is that nothing is lost, not how long a writer waits for the lock: on a loaded
    # test machine 40 processes queueing for it can take longer than the default 30 s.
    monkeypatch.setenv("BD_LOCK_TIMEOUT", "100")
    hub = tmp_path / "hub.git"
    git(tmp_path, "init", "-q", "--bare", str(hub))
    Bd(tmp_path)("hooks", "install", "--bare", str(hub))
    a, b = (Bd(tmp_path / name) for name in ("ann", "bob"))
    for clone in (a, b):
        git(tmp_path, "clone", "-q", str(hub), str(clone.cwd))
        git(clone.cwd, "config", "user.name", clone.cwd.name)
        git(clone.cwd, "config", "user.email", f"{clone.cwd.name}@example.com")
    a("init", "--prefix", "cc")
    hot = a("create", "hot").stdout.strip()
    contested = a("create", "contested").stdout.strip()
    a("sync")
    b("sync")
    writers_done = threading.Event()

    def writer(k: int) -> list[str]:
        titles = []
        for i in range(5):
            if i % 2:
                a.proc("update", hot, "--append-notes", f"w{k}.{i}", timeout=TIMEOUT)
            else:
                a.proc("create", f"w{k}.{i}", timeout=TIMEOUT)
                titles.append(f"w{k}.{i}")
        return titles

    def claimer(n: int) -> tuple[int, str]:
        result = a.proc("update", contested, "--claim", "--actor", f"agent{n}", ok=None, timeout=TIMEOUT)
        return result.exit_code, result.stderr

    def sync_loop(clone: Bd, writes: int) -> list[str]:
        failures, i = [], 0
        while i < writes or not writers_done.is_set():
            if i < writes:
                clone.proc("create", f"{clone.cwd.name} {i}", timeout=TIMEOUT)
            i += 1
            result = clone.proc("sync", ok=None, timeout=TIMEOUT)
            if result.exit_code:
                failures.append(result.stderr)
        return failures

    with ThreadPoolExecutor(42) as pool:
        syncs = [pool.submit(sync_loop, a, 0), pool.submit(sync_loop, b, 10)]
        try:
            claims = [pool.submit(claimer, n) for n in range(20)]
            writes = [pool.submit(writer, k) for k in range(20)]
            titles = {t for w in writes for t in w.result(timeout=240)}
            claimed = [c.result(timeout=240) for c in claims]
        finally:
            writers_done.set()  # the sync loops stop whatever happened
        failed_syncs = [f for s in syncs for f in s.result(timeout=240)]
    assert failed_syncs == []
    winners = [n for n, (code, _) in enumerate(claimed) if code == 0]
    assert len(winners) == 1, claimed
    assert all("already claimed by" in err or "cannot be claimed" in err for code, err in claimed if code)
    for clone in (a, b, a, b):
        clone("sync")
    assert git(a.cwd, "rev-parse", "beads") == git(b.cwd, "rev-parse", "beads") == git(hub, "rev-parse", "beads")
    titles |= {f"bob {i}" for i in range(10)} | {"hot", "contested"}
    for clone in (a, b):
        assert {d["title"] for d in clone.json("list", "--all", "-n", "0")} == titles
        assert sorted(clone.show(hot)["notes"].splitlines()) == sorted(
            f"w{k}.{i}" for k in range(20) for i in (1, 3))
        assert clone.show(contested)["assignee"] == f"agent{winners[0]}"
        git(clone.cwd, "fsck", "--strict", "--no-dangling")

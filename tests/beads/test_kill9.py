"""kill -9 at arbitrary instants of writes, imports and syncs (66 + 20 + 20 kills): every acknowledged
write survives, nothing is half-applied, `git fsck` stays clean, and the next command finishes the job."""
from __future__ import annotations

import json
import random
import select
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

from conftest import BIN, Bd, TIMEOUT, child_processes, git, make_repo, process_alive

WRITE_ROUNDS, WRITERS = 22, 3  # 66 kills of writers in the middle of their writes
IMPORT_KILLS = 20
SYNC_KILLS = 20

# Appends "<label>:<i>" to a bead's notes for i = 0, 1, ...; prints "ready" before the first write
# and each line after its write returned: a printed line is an acknowledged write.
WRITER = r"""
import sys
from gt.ledger.gitdir import discover
from gt.ledger.store import Signature
from gt.beads import operations
from gt.beads.tracker import Tracker
repo, bead, label = sys.argv[1:4]
tracker = Tracker(discover(repo))
print("ready", flush=True)
i = 0
while True:
    operations.update(tracker, Signature("writer-" + label), [bead], fields={}, append_notes=f"{label}:{i}")
    print(f"{label}:{i}", flush=True)
    i += 1
"""


def _read_line(proc: subprocess.Popen, timeout: float) -> str:
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    assert ready, "the writer did not start"
    return proc.stdout.readline().strip()


def test_writers_killed_mid_write_lose_no_acknowledged_write(bd, repo):
    rng = random.Random(9)
    for round_number in range(WRITE_ROUNDS):
        bead = bd("create", f"hot {round_number}").stdout.strip()
        labels = [f"{round_number}.{k}" for k in range(WRITERS)]
        procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(repo), bead, label], stdout=subprocess.PIPE,
                                  text=True) for label in labels]
        try:
            for proc in procs:
                assert _read_line(proc, 60) == "ready"
            for proc in procs:  # each killed at its own instant, with its rivals still writing
                time.sleep(rng.uniform(0, 0.25))
                proc.kill()
        finally:
            for proc in procs:
                proc.kill()
        acked = {}
        for label, proc in zip(labels, procs):  # through the same buffered reader that read "ready"
            acked[label] = proc.stdout.read().split()
            proc.wait(timeout=TIMEOUT)
        git(repo, "fsck", "--strict", "--no-dangling")
        notes = (bd.show(bead).get("notes") or "").splitlines()
        for label in labels:
            mine = [line for line in notes if line.startswith(f"{label}:")]
            assert mine == [f"{label}:{i}" for i in range(len(mine))], "a write was lost or applied out of order"
            # every acknowledged write is there; at most the one in flight landed without its acknowledgement
            assert len(acked[label]) <= len(mine) <= len(acked[label]) + 1, (label, acked[label], mine)
        bd("update", bead, "--append-notes", "survivor")  # the next writer is not blocked
        assert bd.show(bead)["notes"].endswith("survivor")


def _records(round_number: int, count: int) -> str:
    return "".join(json.dumps({
        "id": f"kl-r{round_number}x{j}", "title": f"imported {round_number}.{j}", "status": "open", "priority": 2,
        "issue_type": "task", "created_at": "2025-01-01T00:00:00Z", "updated_at": "2025-01-01T00:00:00Z",
        "description": "words " * 40, "labels": ["kill9"],
    }) + "\n" for j in range(count))


def _write(tmp_path: Path, round_number: int, count: int) -> Path:
    path = tmp_path / f"import-{round_number}.jsonl"
    path.write_text(_records(round_number, count))
    return path


def _imported(bd: Bd, round_number: int) -> int:
    """How many of the round's beads the ledger's tree holds (git's view: cheap however big it grows)."""
    prefix = f"kl-r{round_number}x"
    return sum(1 for path in git(bd.cwd, "ls-tree", "-r", "--name-only", "beads", "beads/").split()
               if path.rsplit("/", 1)[-1].startswith(prefix))


def _when(proc: subprocess.Popen, started: Callable[[], bool]) -> float | None:
    """When `started()` first held while `proc` runs (polled every 2 ms); None if proc ended first."""
    deadline = time.monotonic() + TIMEOUT
    while not started():
        if proc.poll() is not None:
            return None
        assert time.monotonic() < deadline, "the command never got going"
        time.sleep(0.002)
    return time.monotonic()


def _kill_during(args: list[str], cwd: Path, started: Callable[[subprocess.Popen], bool], window: float,
                 rng: random.Random) -> tuple[bool, list[int]]:
    """Run `args`, and SIGKILL it at a random instant up to `window` seconds after `started(proc)`
    first holds. Returns whether it was still running then, and the children it had (a git it
    started runs on, as on a real machine)."""
    proc = subprocess.Popen(args, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    children: list[int] = []
    try:
        if _when(proc, lambda: started(proc)) is None:
            return False, []
        time.sleep(rng.uniform(0, window))
        children = child_processes(proc.pid)
        killed = proc.poll() is None
        proc.kill()
        return killed, children
    finally:
        proc.kill()
        proc.wait(timeout=TIMEOUT)


def _span(args: list[str], cwd: Path, started: Callable[[subprocess.Popen], bool]) -> float:
    """How long `args` runs after `started(proc)` first holds (0 when it never was seen to)."""
    proc = subprocess.Popen(args, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    at = _when(proc, lambda: started(proc))
    proc.wait(timeout=TIMEOUT)
    assert proc.returncode == 0
    return 0.0 if at is None else time.monotonic() - at


def _holds_lock(repo: Path) -> Callable[[subprocess.Popen], bool]:
    """Whether the process holds the ledger lock (its holder record names it)."""
    record = repo / ".git" / "gt" / "ledger.lock.holder"

    def check(proc: subprocess.Popen) -> bool:
        try:
            return json.loads(record.read_text())["pid"] == proc.pid
        except (OSError, ValueError, KeyError):
            return False
    return check


def test_killed_imports_are_all_or_nothing(tmp_path):
    repo = make_repo(tmp_path / "proj")
    bd = Bd(repo)
    bd("init", "--prefix", "kl")
    count = 200
    rng = random.Random(8)
    bd_import = [str(BIN / "bd"), "import"]
    # kills land while the import holds the ledger lock (building, writing objects, moving the ref),
    # at instants spread over how long that takes here, a little beyond
    window = 1.3 * max(_span([*bd_import, str(_write(tmp_path, -i, count))], repo, _holds_lock(repo))
                       for i in (1, 2))
    kills = landed = attempts = 0
    while kills < IMPORT_KILLS:
        attempts += 1
        assert attempts < 3 * IMPORT_KILLS, f"only {kills} imports could be killed in {attempts} tries"
        path = _write(tmp_path, attempts, count)
        killed, _ = _kill_during([*bd_import, str(path)], repo, _holds_lock(repo), window, rng)
        kills += killed
        git(repo, "fsck", "--strict", "--no-dangling")
        found = _imported(bd, attempts)
        assert found in (0, count), f"an import was half-applied: {found} of {count}"
        landed += killed and found == count
        bd("import", str(path))  # the next import finishes the job
        assert _imported(bd, attempts) == count
    listed = {d["id"] for d in bd.json("list", "--all", "-n", "0")}  # and bd reads every one of them
    assert {f"kl-r{r}x{j}" for r in range(-2, attempts + 1) if r for j in range(count)} == listed
    print(f"\nimports: {kills} kills while holding the lock ({landed} after the commit), window {window:.2f} s")


def test_killed_syncs_lose_nothing_and_the_next_sync_finishes(tmp_path):
    hub = tmp_path / "hub.git"
    git(tmp_path, "init", "-q", "--bare", str(hub))
    Bd(tmp_path)("hooks", "install", "--bare", str(hub))
    clones = []
    for name in ("ann", "bob"):
        git(tmp_path, "clone", "-q", str(hub), str(tmp_path / name))
        git(tmp_path / name, "config", "user.name", name)
        git(tmp_path / name, "config", "user.email", f"{name}@example.com")
        clones.append(Bd(tmp_path / name))
    a, b = clones
    a("init", "--prefix", "ks")
    a("sync")
    b("sync")
    rng = random.Random(7)
    made: set[str] = set()
    bd_sync = [str(BIN / "bd"), "sync"]

    def work() -> None:
        made.update(a("create", f"ann {len(made)}.{i}").stdout.strip() for i in range(2))
        made.add(b("create", f"bob {len(made)}").stdout.strip())
        b("sync")  # so ann's sync has a merge to make as well as a push

    def started(proc: subprocess.Popen) -> bool:  # the sync's first git (its fetch) is running
        return bool(child_processes(proc.pid))

    work()
    window = 1.2 * _span(bd_sync, a.cwd, started)  # fetch, merge, push: kills land anywhere in them
    kills = pushed = merged = attempts = 0
    while kills < SYNC_KILLS:
        attempts += 1
        assert attempts < 3 * SYNC_KILLS, f"only {kills} syncs could be killed in {attempts} tries"
        work()
        hub_before, ann_before = git(hub, "rev-parse", "beads").strip(), git(a.cwd, "rev-parse", "beads").strip()
        killed, children = _kill_during(bd_sync, a.cwd, started, window, rng)
        kills += killed
        deadline = time.monotonic() + 30  # a git push bd started finishes on its own, as on a real machine
        while any(process_alive(p) for p in children):
            assert time.monotonic() < deadline, "a child of the killed bd sync did not finish"
            time.sleep(0.05)
        git(a.cwd, "fsck", "--strict", "--no-dangling")
        git(hub, "fsck", "--strict", "--no-dangling")
        hub_after = git(hub, "rev-parse", "beads").strip()
        git(hub, "merge-base", "--is-ancestor", hub_before, hub_after)  # the hub only ever moves forward
        git(a.cwd, "merge-base", "--is-ancestor", ann_before, "beads")  # so does the clone's ledger
        pushed += killed and hub_after != hub_before
        merged += killed and git(a.cwd, "rev-parse", "beads").strip() != ann_before
        a("sync")
        b("sync")
        assert git(a.cwd, "rev-parse", "beads") == git(b.cwd, "rev-parse", "beads") == git(hub, "rev-parse", "beads")
        assert made <= {d["id"] for d in b.json("list", "--all", "-n", "0")}
    print(f"\nsyncs: {kills} kills after the fetch started ({merged} after the merge, {pushed} reached the hub),"
          f" window {window:.2f} s")

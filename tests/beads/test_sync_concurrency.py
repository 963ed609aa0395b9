"""Two clones writing and syncing at once through one guarded hub, over a path and over real ssh:
every `bd sync` succeeds (a push that lost the race to the other clone is fetched, merged and pushed
again), and the ledgers end identical, with nothing lost and `git fsck` clean."""
from __future__ import annotations

import json
import re
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from conftest import Bd, Sshd, git, head
from gt.errors import GtError
from gt.ledger.gitdir import discover

WRITES = 20  # per clone; each write is followed by a sync


def guarded_hub(tmp_path: Path) -> Path:
    hub = tmp_path / "hub.git"
    git(tmp_path, "init", "-q", "--bare", str(hub))
    Bd(tmp_path)("hooks", "install", "--bare", str(hub))
    return hub


def clone(hub: Path, url: str, name: str, ssh_command: str | None = None) -> Bd:
    path = hub.parent / name
    git(hub.parent, "clone", "-q", str(hub), str(path))
    git(path, "config", "user.name", name)
    git(path, "config", "user.email", f"{name}@example.com")
    git(path, "remote", "set-url", "origin", url)
    if ssh_command:
        git(path, "config", "core.sshCommand", ssh_command)
    return Bd(path)


def race(clones: list[Bd], writes: int) -> dict:
    """Each clone creates a bead and runs `bd sync`, `writes` times, all clones at once."""
    start = threading.Barrier(len(clones))

    def loop(bd: Bd) -> list[tuple[int, dict | str]]:
        start.wait(timeout=60)
        outcomes = []
        for i in range(writes):
            bd.proc("create", f"{bd.cwd.name} {i}")
            result = bd.proc("sync", "--json", ok=None)
            outcomes.append((result.exit_code, json.loads(result.stdout) if result.exit_code == 0 else result.stderr))
        return outcomes

    started = time.monotonic()
    with ThreadPoolExecutor(len(clones)) as pool:
        outcomes = [o for f in [pool.submit(loop, bd) for bd in clones] for o in f.result(timeout=600)]
    reports = [o for code, o in outcomes if code == 0]
    return {
        "syncs": len(outcomes),
        "failed": [o for code, o in outcomes if code != 0],
        "rounds": sum(r["rounds"] for r in reports),
        "retried_syncs": sum(1 for r in reports if r["retries"]),
        "most_rounds": max((r["rounds"] for r in reports), default=0),
        "answers": sorted({re.sub(r"[0-9a-f]{40}", "X", a) for r in reports for a in r["retries"]}),
        "seconds": round(time.monotonic() - started, 1),
    }


def check_converged(hub: Path, clones: list[Bd], writes: int) -> None:
    for bd in clones + clones:  # two passes: after the first, everyone has everything
        bd.proc("sync")
    heads = {head(bd.cwd) for bd in clones} | {git(hub, "rev-parse", "beads").strip()}
    assert len(heads) == 1, f"the ledgers differ: {heads}"
    expected = {f"{bd.cwd.name} {i}" for bd in clones for i in range(writes)}
    for bd in clones:
        assert {d["title"] for d in bd.json("list", "-n", "0", "--all")} == expected
        git(bd.cwd, "fsck", "--strict", "--no-dangling")
    git(hub, "fsck", "--strict", "--no-dangling")


def run_race(hub: Path, url: str, ssh_command: str | None = None) -> dict:
    a, b = clone(hub, url, "ann", ssh_command), clone(hub, url, "bob", ssh_command)
    a.proc("init", "--prefix", "sy")
    a.proc("sync")
    b.proc("sync")
    stats = race([a, b], WRITES)
    print(f"\n{url.split(':')[0]}: {stats}")
    assert stats["failed"] == [], stats
    check_converged(hub, [a, b], WRITES)
    return stats


def test_two_clones_syncing_at_once_through_one_hub(tmp_path):
    hub = guarded_hub(tmp_path)
    run_race(hub, str(hub))


def test_two_clones_syncing_at_once_over_ssh(tmp_path, sshd: Sshd):
    hub = guarded_hub(tmp_path)
    run_race(hub, sshd.url(hub), sshd.ssh_command)


@pytest.mark.parametrize("stdout, stderr", [
    ("To hub\n!\tX:refs/heads/beads\t[rejected] (non-fast-forward)\nDone\n", "error: failed to push some refs\n"),
    ("To hub\n!\tX:refs/heads/beads\t[rejected] (fetch first)\nDone\n", "hint: Updates were rejected\n"),
    ("To hub\n!\tX:refs/heads/beads\t[rejected] (stale info)\nDone\n", ""),
    ("To hub\n!\tX:refs/heads/beads\t[remote rejected] (failed to update ref)\nDone\n",
     "error: cannot lock ref 'refs/heads/beads': is at 1111 but expected 2222\n"),
    ("", "remote: error: cannot lock ref 'refs/heads/beads': reference already exists\n"),
    ("To hub\n!\tX:refs/heads/beads\t[remote rejected] (incorrect old value provided)\nDone\n", ""),
])
def test_every_remote_moved_answer_means_fetch_merge_and_push_again(bd, monkeypatch, stdout, stderr):
    from gt.beads import sync
    from gt.beads.tracker import Tracker

    monkeypatch.setattr(sync, "_git", lambda *args: subprocess.CompletedProcess([], 1, stdout, stderr))
    answer = sync.push(Tracker(discover(str(bd.cwd))), "origin", "0" * 40)
    assert answer and "\n" not in answer and answer in (stdout + stderr).replace("\t", " ").replace("remote: ", "")


@pytest.mark.parametrize("stdout, stderr, reason", [
    ("To hub\n!\tX:refs/heads/beads\t[remote rejected] (pre-receive hook declined)\nDone\n",
     "remote: ledger guard: push refused\nremote:   refusing a non-fast-forward push to refs/heads/beads\n",
     "refusing a non-fast-forward push"),
    ("", "fatal: could not read from remote repository.\n", "could not read from remote repository"),
])
def test_other_refusals_are_not_retried(bd, monkeypatch, stdout, stderr, reason):
    from gt.beads import sync
    from gt.beads.tracker import Tracker

    monkeypatch.setattr(sync, "_git", lambda *args: subprocess.CompletedProcess([], 1, stdout, stderr))
    with pytest.raises(GtError, match=reason):
        sync.push(Tracker(discover(str(bd.cwd))), "origin", "0" * 40)

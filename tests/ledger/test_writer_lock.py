"""The writers' lock: a writer behind a stopped holder gives up after BD_LOCK_TIMEOUT seconds with a
message naming the lock and its holder; `bd doctor` shows a holder that keeps it, and the record a
killed one left."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import TIMEOUT, wait_for

# `bd ARGS` that stops itself (SIGSTOP) while it holds the ledger lock, just before writing its commit.
STOPPED_BD = r"""
import os, signal, sys
from gt.ledger import store
original = store.Ledger._commit_objects
def stop_then_commit(self, *args, **kwargs):
    os.kill(os.getpid(), signal.SIGSTOP)
    return original(self, *args, **kwargs)
store.Ledger._commit_objects = stop_then_commit
from gt.cli.bd import bd
sys.argv = ["bd", *sys.argv[1:]]
bd.main(sys.argv[1:], prog_name="bd")
"""


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return "gone"


@pytest.fixture
def stopped_holder(bd, repo):
    """A `bd update BEAD --title stopped` stopped while it holds the ledger lock: (process, bead)."""
    bead = bd("create", "contended").stdout.strip()
    proc = subprocess.Popen([sys.executable, "-c", STOPPED_BD, "update", bead, "--title", "stopped"], cwd=repo,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: _state(proc.pid) == "T", timeout=30, what="the writer to stop holding the lock")
        yield proc, bead
    finally:
        if proc.poll() is None:
            proc.kill()  # SIGKILL ends a stopped process too
        proc.wait(timeout=TIMEOUT)


def test_a_writer_behind_a_stopped_holder_gives_up_and_names_it(bd, repo, stopped_holder):
    holder, bead = stopped_holder
    started = time.monotonic()
    result = bd.proc("create", "waits", ok=False, env={"BD_LOCK_TIMEOUT": "2"}, timeout=30)
    waited = time.monotonic() - started
    assert 2 <= waited < 15, waited
    assert result.exit_code == 1
    error = result.stderr
    assert str(repo / ".git" / "gt" / "ledger.lock") in error
    assert f"pid {holder.pid} (bd update {bead} --title stopped) for " in error
    assert "gave up after waiting 2 s (BD_LOCK_TIMEOUT=2)" in error and f"kill {holder.pid}" in error
    assert "Traceback" not in error
    as_json = bd.proc("create", "waits", "--json", ok=False, env={"BD_LOCK_TIMEOUT": "0.5"}, timeout=30)
    assert '"code": "locked"' in as_json.stderr

    # bd doctor shows the holder once it has held the lock for longer than any write takes
    def held() -> list[dict]:
        return [f for f in bd("doctor", "--json", ok=None).json() if f["kind"] == "lock-held"]

    finding = wait_for(held, timeout=30, what="bd doctor to report the holder")[0]
    assert f"pid {holder.pid} (bd update {bead} --title stopped)" in finding["problem"]
    assert bd("doctor", ok=False).exit_code == 1

    os.kill(holder.pid, signal.SIGCONT)  # the holder finishes; writers get the lock again
    assert holder.wait(timeout=TIMEOUT) == 0, holder.stderr.read() if holder.stderr else ""
    assert bd.show(bead)["title"] == "stopped"
    bd.proc("create", "after", env={"BD_LOCK_TIMEOUT": "2"})
    assert not (repo / ".git" / "gt" / "ledger.lock.holder").exists()
    assert not [f for f in bd("doctor", "--json", ok=None).json() if "lock" in f["kind"]]


def test_a_holder_killed_with_the_lock_blocks_nobody_and_doctor_clears_its_record(bd, repo, stopped_holder):
    holder, bead = stopped_holder
    record = repo / ".git" / "gt" / "ledger.lock.holder"
    assert f'"pid": {holder.pid}' in record.read_text()
    holder.kill()
    holder.wait(timeout=TIMEOUT)
    findings = bd("doctor", "--json").json()  # a notice: nothing is broken, exit 0
    stale = [f for f in findings if f["kind"] == "stale-lock-holder"]
    assert len(stale) == 1 and f"pid {holder.pid} (bd update {bead}" in stale[0]["problem"]
    bd("doctor", "--fix")
    assert not record.exists()
    bd.proc("update", bead, "--title", "next", env={"BD_LOCK_TIMEOUT": "2"})  # nobody is blocked
    assert not record.exists()


def test_a_dead_holders_record_is_replaced_by_the_next_writer(bd, repo, stopped_holder):
    holder, _ = stopped_holder
    holder.kill()
    holder.wait(timeout=TIMEOUT)
    started = time.monotonic()
    bd.proc("create", "next", env={"BD_LOCK_TIMEOUT": "5"})
    assert time.monotonic() - started < 5
    assert not (repo / ".git" / "gt" / "ledger.lock.holder").exists()


@pytest.mark.parametrize("value", ["soon", "-1", "nan", "inf"])
def test_a_bad_lock_timeout_is_a_usage_error(bd, value):
    result = bd.proc("create", "x", ok=False, env={"BD_LOCK_TIMEOUT": value})
    assert result.exit_code == 2 and "BD_LOCK_TIMEOUT" in result.stderr and "Traceback" not in result.stderr


def test_the_default_wait_is_thirty_seconds(monkeypatch):
    from gt.ledger.store import lock_timeout

    monkeypatch.delenv("BD_LOCK_TIMEOUT", raising=False)
    assert lock_timeout() == 30
    monkeypatch.setenv("BD_LOCK_TIMEOUT", "2.5")
    assert lock_timeout() == 2.5

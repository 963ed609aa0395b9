"""Boot, the first dog: triages the Deacon from outside it and decides exactly one thing.

nothing (healthy, or stopped on purpose by `gt down`), nudge (alive but its heartbeat is late:
SIGUSR1 wakes it), or restart (dead, or silent far too long). A decision that acts is recorded in
the town ledger on Boot's agent record. `gt up` runs `python -m gt.roles.boot TOWN` as a small
watchdog loop; `gt boot triage` from cron works as well.
"""
from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

from gt.ledger.store import Signature
from gt.town import rundir
from gt.roles import deacon

IDENTITY = "deacon/dogs/boot"
LATE = 3  # heartbeat older than this many intervals: nudge
DEAD = 10  # older than this many: restart


def triage(town: Path) -> dict[str, Any]:
    stopped = (deacon.folder(town) / "stopped").exists()
    pid = deacon.pid(town)
    beat = deacon.heartbeat(town) or {}
    every = deacon.interval(town)
    try:  # a deacon younger than its first heartbeat is judged from its start, not as silent
        started = (deacon.folder(town) / "pid").stat().st_mtime
    except OSError:
        started = 0.0
    age = time.time() - max(float(beat.get("at") or 0), started)
    if stopped or (pid is None and not beat):
        return _decided(town, "nothing", "the deacon is down on purpose" if stopped else "the deacon was never started")
    if not rundir.alive(pid):
        deacon.start(town)
        return _decided(town, "restart", f"the deacon (pid {pid}) is not running", record=True)
    if age > DEAD * every + 60:
        rundir.terminate(pid, 5, force=True)
        deacon.start(town)
        return _decided(town, "restart", f"no heartbeat for {int(age or 0)} s", record=True)
    if age > LATE * every + 10:
        os.kill(int(pid or 0), signal.SIGUSR1)
        return _decided(town, "nudge", f"heartbeat {int(age)} s old", record=True)
    return _decided(town, "nothing", f"healthy (heartbeat {int(age)} s old)")


def _decided(town: Path, decision: str, reason: str, record: bool = False) -> dict[str, Any]:
    if record:
        from gt.dispatch import agents

        agents.set_state(town, Signature(IDENTITY), IDENTITY, f"boot: {decision} the deacon: {reason}",
                         state="idle", last_decision={"decision": decision, "reason": reason,
                                                      "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
    return {"decision": decision, "reason": reason}


def watch(town: Path) -> None:
    """The watchdog loop `gt up` starts: triage every deacon interval until SIGTERM."""
    stopping = False

    def stop(*_: Any) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    (deacon.folder(town) / "boot.pid").write_text(str(os.getpid()))
    while not stopping and deacon.town_exists(town):
        try:
            result = triage(town)
            if result["decision"] != "nothing":
                print(f"[boot] {time.strftime('%H:%M:%S')} {result['decision']}: {result['reason']}", flush=True)
        except Exception as exc:
            print(f"[boot] {time.strftime('%H:%M:%S')} triage failed: {exc}", flush=True)
        deadline = time.time() + deacon.interval(town)
        while not stopping and time.time() < deadline:
            time.sleep(0.2)
    if deacon.town_exists(town):
        (deacon.folder(town) / "boot.pid").unlink(missing_ok=True)


def watcher_pid(town: Path) -> int | None:
    try:
        return int((deacon.folder(town) / "boot.pid").read_text().strip())
    except (OSError, ValueError):
        return None


if __name__ == "__main__":
    watch(Path(sys.argv[1]))

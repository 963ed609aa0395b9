"""The Deacon: the town's supervisor, a background process that ticks on an interval.

Each tick runs every rig's witness patrol and refinery pass, the convoy check, the scheduler
(queued work slung as slots free: gt.dispatch.queue), and the stranded
convoy check (feeding stranded ready work to new polecats when `deacon.auto_feed` is on), the
stale escalation check (`gt escalate stale`), the escalation of beads the retry breaker blocked
whose escalation a crash lost (gt.dispatch.attempts.reconcile), and restarts the mayor's session when
`mayor.autostart` asks for one. A step that fails FAILING_TICKS ticks in a row is escalated (high;
repeats fold into that one). It writes a heartbeat file that Boot, its watchdog, reads. It never
kills a healthy agent: only the witness decides about polecats.

    <town>/.runtime/deacon/pid, heartbeat.json, stopped    <town>/.runtime/logs/deacon.log
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import Any, Callable

from gt.ledger import git
from gt.ledger.store import Signature
from gt.town import rundir, settings as town_settings

IDENTITY = "deacon"
FAILING_TICKS = 3  # a step failing this many ticks in a row is escalated
DEFAULT_INTERVAL = town_settings.Deacon.interval  # while the settings are broken


def folder(town: Path) -> Path:
    return rundir.folder(town, "deacon")


def interval(town: Path) -> float:
    """The configured tick interval; the default while the settings are broken (each tick reports why)."""
    from gt.errors import GtError

    try:
        return town_settings.load(town).deacon.interval
    except GtError:
        return DEFAULT_INTERVAL


def tick(town: Path) -> dict[str, Any]:
    """One round of supervision; a failing rig is reported and the others still run."""
    from gt.dispatch import convoys
    from gt.roles import polecats, refinery, witness
    from gt.town import rigs

    from gt.dispatch import attempts, escalations

    started = time.monotonic()
    report: dict[str, Any] = {"rigs": {}, "landed": [], "dispatched": [], "fed": [], "errors": []}
    from gt.errors import GtError

    failing: dict[str, str] = {}  # step -> what went wrong this tick
    busy: list[str] = []  # steps another process was doing: reported, not counted as failing
    for rig in rigs.here(town):  # a rig record waiting for `gt rig adopt` has nothing to supervise here
        entry: dict[str, Any] = {}
        steps: tuple[tuple[str, Callable[[], object]], ...] = (
            ("witness", lambda: witness.patrol(town, rig)),
            ("refinery", lambda: [o.as_dict() for o in refinery.process(town, rig)]))
        for name, step in steps:
            try:
                entry[name] = step()
            except GtError as exc:
                if exc.code == "busy":  # a person's `gt refinery process` holds it: not a failure
                    busy.append(f"{rig} {name}: {exc}")
                else:
                    failing[f"{rig} {name}"] = str(exc)
            except Exception as exc:  # one rig's trouble must not stop the town's supervision
                failing[f"{rig} {name}"] = str(exc)
        report["rigs"][rig] = entry
    me = Signature(IDENTITY)
    town_steps: tuple[tuple[str, str, Callable[[], object]], ...] = (
        ("landed", "convoys", lambda: convoys.check(town, me)),
        ("dispatched", "dispatch", lambda: polecats.dispatch(town, me)),  # queued work first: it waited longest
        ("fed", "feed", lambda: _feed(town, me)),
        ("mayor", "mayor", lambda: _keep_mayor(town)),
        ("stale", "stale", lambda: [e["id"] for e in escalations.stale(town, me)]),
        ("reconciled", "reconcile", lambda: attempts.reconcile(town, me)))  # a breaker's escalation lost to a crash
    for key, name, town_step in town_steps:  # each on its own: one failing step must not stop the others
        try:
            report[key] = town_step()
        except Exception as exc:
            failing[f"town {name}"] = str(exc)
    report["errors"] = [f"{step}: {problem}" for step, problem in failing.items()] + busy
    try:
        report["escalated"] = _escalate_failing(town, me, failing)
    except OSError as exc:  # the Deacon's own folder: reported, the tick stands
        report["errors"].append(f"escalations: {exc}")
    report["seconds"] = round(time.monotonic() - started, 3)
    return report


def _escalate_failing(town: Path, me: Signature, failing: dict[str, str]) -> list[str]:
    """Count each step's failing ticks in a row (kept in the Deacon's folder); a step reaching
    FAILING_TICKS is escalated once per streak. Returns the steps escalated now."""
    from gt.dispatch import escalations

    path = folder(town) / "failing.json"
    before = rundir.read_json(path) or {}
    streaks: dict[str, dict[str, Any]] = {}
    for step in failing:
        old = before.get(step)
        ticks = old.get("ticks") if isinstance(old, dict) else None
        streaks[step] = {"ticks": (ticks if type(ticks) is int and ticks > 0 else 0) + 1,
                         "escalated": bool(old.get("escalated")) if isinstance(old, dict) else False}
    raised = []
    for step, streak in streaks.items():
        if streak["ticks"] >= FAILING_TICKS and not streak["escalated"]:  # once per streak, until it is written
            try:
                escalations.escalate(town, me, f"deacon: {step} keeps failing"[:200], "high",
                                     reason=f"{streak['ticks']} ticks in a row, the last: {failing[step]}"[:10_000],
                                     source=IDENTITY)
            except Exception:
                continue  # the next tick tries again
            streak["escalated"] = True
            raised.append(step)
    if streaks != before:
        rundir.write_json(path, streaks)
    return raised


def _feed(town: Path, me: Signature) -> list[dict[str, Any]]:
    """Stranded ready work of open convoys goes to new polecats of its rig, when the settings allow."""
    from gt.errors import GtError
    from gt.dispatch import convoys
    from gt.roles import polecats
    from gt.town import layout

    if not town_settings.load(town).deacon.auto_feed:
        return []
    fed = []
    for convoy in convoys.stranded(town):
        for bead_id in convoy["ready"]:
            target = layout.route(town, bead_id)
            if target is None or target == town.resolve():
                continue  # town beads are not rig work
            try:
                report = polecats.sling(town, me, [bead_id], target.parent.name, convoy=False)
            except GtError as exc:
                fed.append({"bead": bead_id, "error": str(exc)})
                continue
            fed += [s.as_dict() for s in report.slung]
    return fed


def _keep_mayor(town: Path) -> str | None:
    """Restart the mayor's session if the settings want one running and it died."""
    if not town_settings.load(town).mayor.autostart:
        return None
    session = rundir.session(town, "mayor")
    if session and rundir.alive(session.get("pid")):
        return "running"
    from gt.roles import sessions

    sessions.start_home(town, "mayor")
    return "started"


def town_exists(town: Path) -> bool:
    """A loop whose town was deleted ends (and must not re-create its folders)."""
    from gt.town.layout import TOWN_FILE

    return (town / TOWN_FILE).is_file()


def heartbeat(town: Path) -> dict[str, Any] | None:
    return rundir.read_json(folder(town) / "heartbeat.json")


def pid(town: Path) -> int | None:
    try:
        return int((folder(town) / "pid").read_text().strip())
    except (OSError, ValueError):
        return None


def running(town: Path) -> bool:
    return rundir.alive(pid(town))


def loop(town: Path) -> None:
    """The Deacon process: tick, write the heartbeat, sleep; SIGTERM ends it after the current tick,
    SIGUSR1 (a nudge from Boot) wakes it for a tick now."""
    stopping = False

    def stop(*_: Any) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGUSR1, lambda *_: None)  # interrupts the sleep
    (folder(town) / "pid").write_text(str(os.getpid()))
    ticks = 0
    while not stopping and town_exists(town):
        try:
            report = tick(town)
            errors = report["errors"]
        except Exception:
            errors = [traceback.format_exc(limit=3)]
            report = {"seconds": None}
        ticks += 1
        rundir.write_json(folder(town) / "heartbeat.json",
                           {"pid": os.getpid(), "at": time.time(), "ticks": ticks, "seconds": report.get("seconds"),
                            "errors": errors})
        for line in errors:
            print(f"[deacon] {time.strftime('%H:%M:%S')} {line}", flush=True)
        deadline = time.time() + interval(town)
        while not stopping and time.time() < deadline:
            time.sleep(min(0.5, max(0.0, deadline - time.time())))
    if town_exists(town):
        (folder(town) / "pid").unlink(missing_ok=True)


def spawn(town: Path, module: str, log_name: str) -> int:
    """Start `python -m <module> <town>` detached, its output in the town's logs."""
    env = git.clean_env()
    env[rundir.SESSION_MARK] = str(town)
    env = rundir.our_commands_first(env)
    log = rundir.folder(town, "logs") / log_name
    with rundir.open_private(log) as out:
        process = subprocess.Popen([sys.executable, "-m", module, str(town)], cwd=town, env=env,
                                   stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    return process.pid


def start(town: Path) -> int:
    """Start the Deacon unless it runs already (two callers at once start one); returns its pid."""
    from filelock import FileLock

    with FileLock(str(folder(town) / "start.lock")):
        current = pid(town)
        if rundir.alive(current):
            return int(current or 0)
        (folder(town) / "stopped").unlink(missing_ok=True)
        new = spawn(town, "gt.roles.deacon", "deacon.log")
        (folder(town) / "pid").write_text(str(new))
        return new


if __name__ == "__main__":
    loop(Path(sys.argv[1]))

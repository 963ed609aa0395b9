"""`gt up`, `gt down` and `gt status`: the town's processes and a view of everything at once."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from gt.town import rundir, settings as town_settings
from gt.roles import boot, deacon
from gt.town.context import Town

GRACE = 10.0  # seconds an agent gets to finish when the town goes down


def up(town: Path) -> dict[str, Any]:
    """Start the Deacon, Boot's watchdog loop and (when the settings say so) the mayor."""
    started: dict[str, int | None] = {"deacon": deacon.start(town)}
    watcher = boot.watcher_pid(town)
    if not rundir.alive(watcher):
        watcher = deacon.spawn(town, "gt.roles.boot", "boot.log")
        (deacon.folder(town) / "boot.pid").write_text(str(watcher))
    started["boot"] = watcher
    if town_settings.load(town).mayor.autostart:
        session = rundir.session(town, "mayor")
        if not (session and rundir.alive(session.get("pid"))):
            from gt.roles import sessions

            started["mayor"] = sessions.start_home(town, "mayor")["pid"]
    return started


def down(town: Path, force: bool = False) -> dict[str, Any]:
    """Stop Boot (so it restarts nothing), then the Deacon, then every agent session."""
    from gt.roles import runtimes

    (deacon.folder(town) / "stopped").write_text(str(time.time()))
    grace = 0.0 if force else GRACE
    stopped: dict[str, bool | dict[str, bool]] = {"boot": rundir.terminate(boot.watcher_pid(town), grace, force),
                                                  "deacon": rundir.terminate(deacon.pid(town), grace, force)}
    agents: dict[str, bool] = {}
    for session in rundir.sessions(town):
        if runtimes.stop(town, session["identity"], grace):  # as `gt crew stop` does (grace 0: at once)
            agents[session["identity"]] = not rundir.alive(session["pid"])
    for pid in _strays(town):  # e.g. an agent a deacon started just before it was killed
        try:
            what = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            what = "?"
        agents[f"pid {pid}: {what[:80]}"] = rundir.terminate(pid, grace, force)
    stopped["agents"] = agents
    return stopped


def _strays(town: Path) -> list[int]:
    """Processes the town started (GT_SESSION in their environment, set only for agent sessions and
    the town's daemons) that no record names any more (Linux only)."""
    import os

    proc = Path("/proc")
    if not proc.is_dir():
        return []
    marker = f"{rundir.SESSION_MARK}={town}".encode()
    found = []
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if marker in (entry / "environ").read_bytes().split(b"\0") and rundir.alive(int(entry.name)):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def status(town: Path) -> dict[str, Any]:
    """Deacon health, rigs, agents and their hooks, merge queues and open convoys."""
    from gt.dispatch import agents, convoys
    from gt.roles import refinery
    from gt.town import rigs

    beat = deacon.heartbeat(town) or {}
    age = round(time.time() - float(beat["at"]), 1) if beat.get("at") else None
    alive = deacon.running(town)
    health = "down" if not alive else ("healthy" if age is not None and age < 3 * deacon.interval(town) + 10
                                       else "late")
    found = rundir.sessions(town)
    sessions = {s["identity"]: rundir.alive(s.get("pid")) for s in found}
    ended = {s["identity"]: rundir.exit_summary(s) for s in found if not sessions[s["identity"]]}
    out: dict[str, Any] = {
        "deacon": {"state": health, "pid": deacon.pid(town) if alive else None, "heartbeat_age": age,
                   "ticks": beat.get("ticks"), "boot": rundir.alive(boot.watcher_pid(town))},
        "rigs": [], "agents": [], "convoys": [],
    }
    records = list(agents.records(Town.at(town).tracker().view()).values())
    from gt.dispatch.queue import entries

    waiting = [item["rig"] for item in entries(town)]  # the scheduler's queue (gt queue)
    present = rigs.here(town)  # not a rig record waiting for `gt rig adopt`: it has no ledger here
    for name, record in sorted(rigs.registry(town).items()):
        if name not in present:
            continue
        queue = refinery.queue(town, name)
        out["rigs"].append({"name": name, "prefix": record.get("prefix"), "merge_queue": len(queue),
                            "merge_requests": [d["id"] for d in queue], "queued": waiting.count(name)})
        records += agents.records(Town.at(town).rig_tracker(name).view()).values()
    for rec in sorted(records, key=lambda r: r["identity"]):
        out["agents"].append({"identity": rec["identity"], "state": rec.get("state"), "hook": rec.get("hook"),
                              "model": rec.get("model"), "running": sessions.get(rec["identity"], False),
                              "session_ended": ended.get(rec["identity"])})
    for convoy in convoys.status(town):
        out["convoys"].append({"id": convoy["id"], "title": convoy["title"], "completed": convoy["completed"],
                               "total": convoy["total"]})
    return out

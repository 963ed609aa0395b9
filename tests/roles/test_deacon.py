"""The Deacon with Boot and the dogs as real processes, and the mayor's session."""
from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest

from conftest import MERGE_QUEUE, SCRIPT, Bd, bead, git, gt, merge_requests, our_processes, wait_for

pytestmark = pytest.mark.town(settings="deacon:\n  interval: 0.5\n  auto_feed: true\n", files=MERGE_QUEUE)


def test_deacon_tick_merges_feeds_and_lands(town):
    first = bead(town, "first", script=SCRIPT.format(path="one.txt", text="one"))
    second = bead(town, "second", script=SCRIPT.format(path="two.txt", text="two"))
    Bd(town)("dep", "add", second, first)
    convoy = json.loads(gt(town, "convoy", "create", "Both", first, second, "--json").stdout)["id"]
    assert [c["ready"] for c in json.loads(gt(town, "convoy", "stranded", "--json").stdout)] == [[first]]
    report = json.loads(gt(town, "deacon", "tick", "--json").stdout)
    assert [f["bead"] for f in report["fed"]] == [first], report  # stranded ready work goes to a polecat
    wait_for(lambda: [m for m in merge_requests(town) if m["status"] == "open"], what="the first submission")
    gt(town, "deacon", "tick")  # merges the first; the second becomes ready and is fed
    assert Bd(town).show(first)["status"] == "closed"
    wait_for(lambda: [m for m in merge_requests(town) if m["status"] == "open"], what="the second submission")
    final = json.loads(gt(town, "deacon", "tick", "--json").stdout)
    assert [o["result"] for o in final["rigs"]["gizmo"]["refinery"]] == ["merged"]  # and the merge lands the convoy
    assert json.loads(gt(town, "convoy", "status", convoy, "--json").stdout)["status"] == "closed"


def test_up_status_boot_restart_and_down_leave_no_processes(town):
    started = json.loads(gt(town, "up", "--json").stdout)
    assert started["deacon"] and started["boot"]
    status = wait_for(lambda: (lambda s: s if s["deacon"]["state"] == "healthy" else None)(
        json.loads(gt(town, "status", "--json").stdout)), what="a healthy deacon")
    assert status["deacon"]["boot"] and status["rigs"][0]["name"] == "gizmo"
    assert "Deacon: healthy" in gt(town, "status").stdout
    os.killpg(started["deacon"], signal.SIGKILL)  # Boot notices and restarts it
    restarted = wait_for(lambda: (lambda s: s if s["deacon"]["state"] == "healthy" and s["deacon"]["pid"] not in
                                  (None, started["deacon"]) else None)(json.loads(gt(town, "status", "--json").stdout)),
                         timeout=30, what="boot to restart the deacon")
    assert restarted["deacon"]["pid"] != started["deacon"]
    wait_for(lambda: "deacon/dogs/boot|boot: restart the deacon" in git(town, "log", "--format=%an|%s", "beads") or None,
             what="boot's record of its decision")  # written just after the restart
    work = bead(town, "slow", script='```gt-script\nstall: 120\n```\n')
    gt(town, "sling", work, "gizmo")
    stopped = json.loads(gt(town, "down", "--json").stdout)
    assert stopped["deacon"] and stopped["boot"] and stopped["agents"] == {"gizmo/polecats/toast": True}
    deadline = time.time() + 15
    while our_processes(town) and time.time() < deadline:
        time.sleep(0.2)
    assert our_processes(town) == [], [Path(f"/proc/{p}/cmdline").read_bytes() for p in our_processes(town)]
    assert json.loads(gt(town, "status", "--json").stdout)["deacon"]["state"] == "down"
    assert json.loads(gt(town, "boot", "triage", "--json").stdout)["decision"] == "nothing"  # down on purpose


def test_boot_triage_decides_one_thing(town):
    assert json.loads(gt(town, "boot", "triage", "--json").stdout) == {
        "decision": "nothing", "reason": "the deacon was never started"}
    gt(town, "up")
    wait_for(lambda: json.loads(gt(town, "status", "--json").stdout)["deacon"]["state"] == "healthy" or None)
    assert json.loads(gt(town, "boot", "triage", "--json").stdout)["decision"] == "nothing"
    beat = town / ".runtime" / "deacon" / "heartbeat.json"
    data = json.loads(beat.read_text())
    os.kill(int(data["pid"]), signal.SIGSTOP)  # frozen: its heartbeat goes stale
    try:
        beat.write_text(json.dumps({**data, "at": time.time() - 20}))  # late (> 3 intervals + 10 s), not dead
        os.utime(town / ".runtime" / "deacon" / "pid", (time.time() - 20, time.time() - 20))  # started long ago
        assert json.loads(gt(town, "boot", "triage", "--json").stdout)["decision"] == "nudge"
    finally:
        os.kill(int(data["pid"]), signal.SIGCONT)
    gt(town, "down")


def test_dogs_list_call_and_refuse_project_work(town):
    names = [d["name"] for d in json.loads(gt(town, "dog", "list", "--json").stdout)]
    assert names == ["boot", "maintenance"]
    result = json.loads(gt(town, "dog", "call", "maintenance", "--json").stdout)
    assert set(result["ledgers"]) == {"town", "gizmo"}
    assert "deacon/dogs/maintenance|dog maintenance ran" in git(town, "log", "--format=%an|%s", "beads")
    refused = gt(town, "sling", bead(town, "project work"), "deacon/dogs/maintenance", ok=False)
    assert "is a dog" in refused.stderr


def test_mayor_session(town):
    settings = town / "settings" / "config.yaml"
    settings.write_text(settings.read_text() + "mayor:\n  agent: script\n")
    started = json.loads(gt(town, "mayor", "start", "--json").stdout)
    assert started["worktree"] == str(town / "mayor")
    wait_for(lambda: json.loads(gt(town, "mayor", "status", "--json").stdout)["running"] is False or None,
             what="the scripted mayor to finish (its hook is empty)")
    assert "nothing on my hook" in Path(started["log"]).read_text()


def test_a_step_failing_tick_after_tick_is_escalated_once(town):
    from gt.roles import deacon

    rig_settings = town / "gizmo" / "settings" / "config.yaml"
    rig_settings.parent.mkdir(parents=True, exist_ok=True)
    rig_settings.write_text("max_polecats: -1\n")  # every patrol of the rig refuses these settings

    def escalations() -> list[dict]:
        return json.loads(gt(town, "escalate", "list", "--json").stdout)

    reports = [deacon.tick(town) for _ in range(deacon.FAILING_TICKS - 1)]
    assert all("gizmo witness" in " ".join(r["errors"]) for r in reports) and escalations() == []
    third = deacon.tick(town)
    assert "gizmo witness" in third["escalated"]
    [raised] = [e for e in escalations() if e["title"] == "deacon: gizmo witness keeps failing"]
    assert (raised["severity"], raised["source"], raised["count"]) == ("high", "deacon", 1)
    assert "3 ticks in a row" in raised["reason"] and "max_polecats" in raised["reason"]
    assert deacon.tick(town)["escalated"] == []  # once per streak
    rig_settings.write_text("max_polecats: 2\n")
    assert deacon.tick(town)["errors"] == []  # the streak ends ...
    rig_settings.write_text("max_polecats: -1\n")
    for _ in range(deacon.FAILING_TICKS):
        deacon.tick(town)
    [again] = [e for e in escalations() if e["title"] == "deacon: gizmo witness keeps failing"]
    assert again["id"] == raised["id"] and again["count"] == 2  # ... and a new one folds into the open escalation


def test_each_tick_notifies_again_about_stale_escalations(town):
    from gt.dispatch import escalations
    from gt.ledger.store import Signature
    from gt.roles import deacon

    old = escalations.escalate(town, Signature("steve"), "Review the release", "medium", now=time.time() - 14401)
    fresh = escalations.escalate(town, Signature("steve"), "Look at the logs", "medium")
    report = deacon.tick(town)
    assert report["stale"] == [old["id"]] and fresh["id"] not in report["stale"]
    assert escalations.show(town, old["id"])["severity"] == "high"  # raised, and sent again

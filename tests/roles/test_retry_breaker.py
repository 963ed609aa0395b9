"""The retry breaker: a bead whose gates always fail leaves the loop after `retry.max_attempts`
rejections and restarts, blocked, with one escalation, its polecat free and its branch kept."""
from __future__ import annotations

import json
import os
import signal

import pytest

from conftest import MERGE_QUEUE, Bd, agent_record, bead, git, gt, merge_requests, trailers, wait_for

pytestmark = pytest.mark.town(files=MERGE_QUEUE)
BROKEN = "def add(a, b):\\n    return a - b\\n"
STALL = '```gt-script\nstall: 120\n```\n'  # the scripted agent sleeps: a session the test kills


def test_a_gate_that_always_fails_stops_after_max_attempts(town):
    (town / "gizmo" / "settings" / "config.yaml").write_text(
        "merge_queue:\n  test_command: ./tests.sh\nretry:\n  max_attempts: 3\n  backoff_seconds: 0\n")
    work = bead(town, "Never passes", script='```gt-script\nfiles: {gizmo/__init__.py: "' + BROKEN + '"}\n```\n')
    gt(town, "sling", work, "gizmo")
    seen: set[str] = set()
    for attempt in (1, 2, 3):
        [mr] = wait_for(lambda: [m for m in merge_requests(town) if m["status"] == "open" and m["id"] not in seen]
                        or None, what=f"submission {attempt}")
        seen.add(mr["id"])
        [outcome] = json.loads(gt(town, "refinery", "process", "gizmo", "--json").stdout)
        assert outcome["result"] == "failed"
        assert Bd(town).show(work)["attempts"] == attempt
        if attempt < 3:
            assert Bd(town).show(work)["status"] == "hooked"
            gt(town, "witness", "patrol", "gizmo", "--json")  # sends the polecat back to fix it
    shown = Bd(town).show(work)
    assert shown["status"] == "blocked" and "retry breaker after 3 attempts" in shown["notes"]
    record = agent_record(town, "gizmo/polecats/toast")
    assert record["state"] == "idle" and record["hook"] is None  # the polecat is free
    assert git(town / "gizmo" / ".repo.git", "branch", "--list", "polecat/toast/*").strip()  # its work is kept
    [escalation] = json.loads(gt(town, "escalate", "list", "--json").stdout)
    assert escalation["related"] == work and escalation["severity"] == "high" and "3 attempts" in escalation["title"]
    assert "AssertionError" in escalation["reason"]  # the last gate output
    assert [m for m in merge_requests(town) if m["status"] == "open"] == []
    assert json.loads(gt(town, "refinery", "process", "gizmo", "--json").stdout) == []  # nothing loops on
    # a person puts it back in play: the count starts again, and the reset is a ledger commit
    gt(town, "sling", work, "gizmo", "--force", "--no-start")
    again = Bd(town).show(work)
    assert again["status"] == "hooked" and again["attempts"] == 0


def test_the_next_attempt_waits_for_the_backoff(town):
    (town / "gizmo" / "settings" / "config.yaml").write_text(
        "merge_queue:\n  test_command: ./tests.sh\nretry:\n  backoff_seconds: 600\n")
    work = bead(town, "Never passes", script='```gt-script\nfiles: {gizmo/__init__.py: "' + BROKEN + '"}\n```\n')
    gt(town, "sling", work, "gizmo")
    wait_for(lambda: [m for m in merge_requests(town) if m["status"] == "open"] or None, what="the submission")
    assert json.loads(gt(town, "refinery", "process", "gizmo", "--json").stdout)[0]["result"] == "failed"
    assert Bd(town).show(work)["retry_after"] > Bd(town).show(work)["updated_at"]
    gt(town, "witness", "patrol", "gizmo", "--json")
    wait_for(lambda: [m for m in merge_requests(town) if m["status"] == "open"] or None, what="the resubmission")
    assert json.loads(gt(town, "refinery", "process", "gizmo", "--json").stdout) == []  # it waits its turn
    assert Bd(town).show(work)["attempts"] == 1


def test_backoff_doubles_and_is_capped():
    from gt.dispatch.attempts import backoff, record
    from gt.town.settings import Retry

    assert [backoff(n, 5, 600) for n in (1, 2, 3, 4, 8, 9)] == [5, 10, 20, 40, 600, 600]
    doc: dict = {"id": "gz-a", "status": "hooked", "assignee": "gizmo/polecats/toast"}
    first = record(doc, Retry(max_attempts=2, backoff_seconds=5), "rejected: x", "2026-01-01T00:00:00Z")
    assert (first.count, first.tripped, first.retry_after) == (1, False, "2026-01-01T00:00:05Z")
    second = record(doc, Retry(max_attempts=2), "rejected: y", "2026-01-01T00:01:00Z")
    assert second.tripped and doc["status"] == "blocked" and "assignee" not in doc and "retry_after" not in doc


def test_a_town_bead_slung_to_a_rig_is_counted_in_its_own_ledger(town):
    (town / "gizmo" / "settings" / "config.yaml").write_text(
        "merge_queue:\n  test_command: ./tests.sh\nretry:\n  max_attempts: 2\n  backoff_seconds: 0\n")
    script = '```gt-script\nfiles: {gizmo/__init__.py: "' + BROKEN + '"}\n```\n'
    work = Bd(town)("create", "Town work that never passes", "-d", f"Do it.\n\n{script}").stdout.strip()
    assert not work.startswith("gz-")  # the town's ledger, not the rig's
    gt(town, "sling", work, "gizmo")
    seen: set[str] = set()
    for attempt in (1, 2):
        [mr] = wait_for(lambda: [m for m in merge_requests(town) if m["status"] == "open" and m["id"] not in seen]
                        or None, what=f"submission {attempt}")
        seen.add(mr["id"])
        assert json.loads(gt(town, "refinery", "process", "gizmo", "--json").stdout)[0]["result"] == "failed"
        assert Bd(town).show(work)["attempts"] == attempt
        if attempt < 2:
            gt(town, "witness", "patrol", "gizmo", "--json")
    assert Bd(town).show(work)["status"] == "blocked"
    record = agent_record(town, "gizmo/polecats/toast")
    assert record["state"] == "idle" and record["hook"] is None
    [escalation] = json.loads(gt(town, "escalate", "list", "--json").stdout)
    assert escalation["related"] == work


def test_a_town_bead_whose_session_keeps_dying_is_counted_in_its_own_ledger(town):
    from gt.town.rundir import alive

    (town / "gizmo" / "settings" / "config.yaml").write_text(
        "witness:\n  max_restarts: 5\nretry:\n  max_attempts: 2\n  backoff_seconds: 0\n")
    work = Bd(town)("create", "Town work whose agent keeps dying", "-d", f"Do it.\n\n{STALL}").stdout.strip()
    assert not work.startswith("gz-")  # the town's ledger, not the rig's
    pid = json.loads(gt(town, "sling", work, "gizmo", "--json").stdout)["slung"][0]["pid"]
    home = town / "gizmo" / "polecats" / "toast"
    (home / "wip.txt").write_text("work in progress\n")  # what a person would want to look at
    for attempt in (1, 2):
        os.killpg(pid, signal.SIGKILL)
        wait_for(lambda: not alive(pid), what="the kill")
        [decision] = json.loads(gt(town, "witness", "patrol", "gizmo", "--json").stdout)
        shown = Bd(town).show(work)
        assert (shown["attempts"], shown["witness_restarts"]) == (attempt, attempt)
        counted = [c for c in git(town, "log", "--format=%H", "beads").split()
                   if git(town, "log", "-1", "--format=%s", c).startswith("attempt ")]  # the town's ledger
        message = git(town, "log", "-1", "--format=%an|%B", counted[0])
        assert len(counted) == attempt
        assert message.startswith(f"gizmo/witness|attempt {attempt} on {work}: gizmo/polecats/toast restarted: "
                                  "its session died")
        assert trailers(message, "Attempt") == [str(attempt)] and trailers(message, "Worker") == ["gizmo/polecats/toast"]
        if attempt < 2:
            assert decision == {"action": "restart", "agent": "gizmo/polecats/toast", "bead": work,
                                "reason": "its session died"}
            assert shown["status"] == "hooked"
            pid = wait_for(lambda: (lambda s: s and s["state"] == "running" and s["pid"] != pid and s["pid"])(
                next(iter(json.loads(gt(town, "agents", "--json").stdout)), None)), what="the restarted session")
    assert decision == {"action": "breaker", "agent": "gizmo/polecats/toast", "bead": work,
                        "reason": "its session died"}
    shown = Bd(town).show(work)
    assert shown["status"] == "blocked" and "retry breaker after 2 attempts" in shown["notes"]
    assert "assignee" not in shown
    record = agent_record(town, "gizmo/polecats/toast")
    assert record["state"] == "idle" and record["hook"] is None  # the polecat is free, not restarted
    assert not alive(pid) and [s for s in json.loads(gt(town, "agents", "--json").stdout) if s["state"] == "running"] == []
    assert (home / "wip.txt").read_text() == "work in progress\n"  # its worktree and branch are kept
    assert git(town / "gizmo" / ".repo.git", "branch", "--list", f"polecat/toast/{work}").strip()
    [escalation] = json.loads(gt(town, "escalate", "list", "--json").stdout)
    assert escalation["related"] == work and escalation["severity"] == "high" and "2 attempts" in escalation["title"]
    assert escalation["count"] == 1
    assert json.loads(gt(town, "witness", "patrol", "gizmo", "--json").stdout) == []  # nothing loops on
    assert (home / "wip.txt").exists()


def test_a_breaker_escalation_lost_to_a_crash_is_raised_by_the_deacon(town):
    """The breaker blocks the bead in its ledger, then escalates in the town's: a process killed in
    between leaves a blocked bead nobody hears of. The Deacon finds it, once."""
    from gt.beads.tracker import Edit, Tracker
    from gt.dispatch import attempts
    from gt.ledger.store import Signature
    from gt.model.bead import canonical, now_iso
    from gt.town.context import Town
    from gt.town.settings import Retry

    work = bead(town, "Never passes")
    other = bead(town, "Blocked by a person")
    Bd(town)("update", other, "--status", "blocked")
    tracker = Town.at(town).rig_tracker("gizmo")

    def trip(view):  # what the refinery's rejection commit writes when the breaker trips
        doc = Tracker.get(view, work)
        for _ in range(2):
            tripped = attempts.record(doc, Retry(max_attempts=2), "rejected: test_command failed", now_iso())
        assert tripped.tripped
        return Edit("reject", f"stop {work}", {work: canonical(doc)})

    tracker.write(Signature("gizmo/refinery"), trip)
    assert json.loads(gt(town, "escalate", "list", "--json").stdout) == []
    report = json.loads(gt(town, "deacon", "tick", "--json").stdout)
    assert report["reconciled"] == [work]  # not the bead a person blocked
    [raised] = json.loads(gt(town, "escalate", "list", "--json").stdout)
    assert raised["related"] == work and raised["title"] == f"{work} stopped after 2 attempts"
    assert json.loads(gt(town, "deacon", "tick", "--json").stdout)["reconciled"] == []  # once
    gt(town, "escalate", "close", raised["id"], "--reason", "looked at it", "--actor", "mayor")
    assert json.loads(gt(town, "deacon", "tick", "--json").stdout)["reconciled"] == []  # closed by a person
    # a change to the blocked bead afterwards is not a lost escalation
    Bd(town)("update", work, "--priority", "0")
    assert json.loads(gt(town, "deacon", "tick", "--json").stdout)["reconciled"] == []

"""The retry breaker: a bead whose gates always fail leaves the loop after `retry.max_attempts`
rejections and restarts, blocked, with one escalation, its polecat free and its branch kept."""
from __future__ import annotations

import json

import pytest

from conftest import MERGE_QUEUE, Bd, agent_record, bead, git, gt, merge_requests, wait_for

pytestmark = pytest.mark.town(files=MERGE_QUEUE)
BROKEN = "def add(a, b):\\n    return a - b\\n"


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

"""The scheduler: work slung beyond a rig's cap is queued on the ledger and dispatched as slots free,
in temporary towns with the scripted agent as real processes."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import MERGE_QUEUE, SCRIPT, Bd, agent_record, bead, git, gt, merge_requests, wait_for

CAPPED = {path: text + "max_polecats: 1\n" for path, text in MERGE_QUEUE.items()}
pytestmark = pytest.mark.town(settings="deacon:\n  interval: 0.5\n", files=CAPPED)


def work(town: Path, name: str, *extra: str) -> str:
    return bead(town, name, "gizmo", SCRIPT.format(path=f"{name}.txt", text=name), *extra)


def queue(town: Path, *args: str) -> list[dict]:
    return json.loads(gt(town, "queue", *args, "--json").stdout)


def statuses(town: Path, *ids: str) -> list[str]:
    return [Bd(town).show(i)["status"] for i in ids]


def hooks(town: Path) -> list[str]:
    """The beads hooked in the rig's ledger, oldest first."""
    subjects = git(town / "gizmo" / ".repo.git", "log", "--reverse", "--format=%s", "beads").splitlines()
    return [s.split()[1] for s in subjects if s.startswith("hook ")]


def test_three_beads_at_a_cap_of_one_are_queued_and_all_land_under_gt_up(town):
    first, second, urgent = work(town, "one"), work(town, "two"), work(town, "three", "-p", "1")
    slung = json.loads(gt(town, "sling", first, second, urgent, "gizmo", "--json").stdout)
    assert [s["bead"] for s in slung["slung"]] == [first]
    assert [(q["bead"], q["rig"], q["agent"]) for q in slung["queued"]] == [(second, "gizmo", "script"),
                                                                          (urgent, "gizmo", "script")]
    assert slung["queued"][0]["reason"] == "rig at its cap: max_polecats 1; 1 being set up by gt sling (its other beads count too)"
    assert statuses(town, first, second, urgent) == ["hooked", "queued", "queued"]
    shown = Bd(town).show(second)
    assert "assignee" not in shown and shown["dispatch"]["rig"] == "gizmo" and shown["dispatch"]["agent"] == "script"
    assert shown["dispatch"]["queued_at"].endswith("Z")
    assert shown["dispatch"]["machine"] == (town / ".runtime" / "machine-id").read_text().strip()  # queued here
    message = git(town / "gizmo" / ".repo.git", "log", "-1", "--format=%B", "beads")
    assert message.startswith(f"queue {second}, {urgent} for gizmo") and "Op: queue" in message
    ready = [b["id"] for b in Bd(town).json("ready", "--all-rigs")]
    assert second not in ready and urgent not in ready
    waiting = queue(town)
    assert [q["id"] for q in waiting] == [urgent, second]  # priority first, then the longest waiting
    assert {k: waiting[1][k] for k in ("rig", "agent", "priority", "queued_by")} == {
        "rig": "gizmo", "agent": "script", "priority": 2, "queued_by": shown["dispatch"]["by"]}
    assert waiting[1]["queued_at"] == shown["dispatch"]["queued_at"]
    assert queue(town, "--rig", "gizmo") == waiting
    assert f"1. {urgent}  P1  gizmo  script" in gt(town, "queue").stdout
    [convoy] = json.loads(gt(town, "convoy", "status", "--json").stdout)
    assert (convoy["queued"], convoy["total"]) == (2, 3)
    assert [b["status"] for b in convoy["beads"]].count("queued") == 2
    assert "2 queued" in gt(town, "convoy", "status").stdout

    gt(town, "up")
    wait_for(lambda: statuses(town, first, second, urgent) == ["closed"] * 3, timeout=75, what="all three to land")
    assert hooks(town) == [first, urgent, second]
    assert queue(town) == [] and gt(town, "queue").stdout.strip() == "Nothing queued"
    assert [m["status"] for m in merge_requests(town)] == ["closed"] * 3
    gt(town, "down")


def test_a_queue_survives_down_and_up(town):
    first, second = work(town, "one"), work(town, "two")
    text = gt(town, "sling", first, second, "gizmo").stdout
    assert f"Queued {second} for gizmo (rig at its cap: max_polecats 1; " in text
    gt(town, "down", "--force")  # the first's agent stops wherever it was; nothing runs the queue
    assert [q["id"] for q in queue(town)] == [second]
    assert json.loads(gt(town, "status", "--json").stdout)["rigs"][0]["queued"] == 1
    gt(town, "up")  # the witness restarts the first, the refinery lands it, the deacon dispatches the second
    wait_for(lambda: statuses(town, first, second) == ["closed", "closed"], timeout=60, what="both to land")
    assert queue(town) == []
    gt(town, "down")


def test_unsling_and_update_take_a_bead_out_of_the_queue(town):
    first, second, third = (bead(town, name) for name in ("one", "two", "three"))
    slung = json.loads(gt(town, "sling", first, second, third, "gizmo", "--no-start", "--json").stdout)
    assert [q["bead"] for q in slung["queued"]] == [second, third]
    said = gt(town, "unsling", second).stdout.strip()
    assert said == f"Took {second} out of the queue (back to open)"
    after = Bd(town).show(second)
    assert after["status"] == "open" and "dispatch" not in after and "Taken out of the queue" in after["notes"]
    Bd(town)("update", third, "--status", "open")
    assert queue(town) == [] and statuses(town, first) == ["hooked"]
    assert second in [b["id"] for b in Bd(town).json("ready", "--all-rigs")]


def test_dispatch_fills_free_slots_in_order_and_skips_beads_taken_meanwhile(town, monkeypatch):
    from gt.dispatch import agents
    from gt.ledger.store import Signature
    from gt.roles import polecats

    monkeypatch.chdir(town)  # as the Deacon runs
    beads = [bead(town, f"b{n}") for n in range(4)]
    gt(town, "sling", *beads, "gizmo", "--no-start")
    assert [q["id"] for q in queue(town)] == beads[1:]
    steve = Signature("steve")
    assert polecats.dispatch(town, steve) == []  # no slot free: nothing moves, nothing is written
    Bd(town)("close", beads[1], "--reason", "not needed")  # taken meanwhile: skipped
    agents.unsling(town, steve, "gizmo/polecats/toast")  # a slot frees
    done = polecats.dispatch(town, steve)
    assert [(d["bead"], d.get("agent")) for d in done] == [(beads[2], "gizmo/polecats/toast")]
    assert statuses(town, *beads) == ["open", "closed", "hooked", "queued"]
    assert agent_record(town, "gizmo/polecats/toast")["hook"] == beads[2]
    assert [q["id"] for q in queue(town)] == [beads[3]]


@pytest.mark.town(settings="max_agents: 1\n")
def test_a_town_wide_cap_queues_across_rigs(town):
    first, second = bead(town, "one"), bead(town, "two")
    slung = json.loads(gt(town, "sling", first, second, "gizmo", "--no-start", "--json").stdout)
    assert [s["bead"] for s in slung["slung"]] == [first]
    assert [(q["bead"], q["reason"]) for q in slung["queued"]] == [(second, "town at its cap: max_agents 1")]

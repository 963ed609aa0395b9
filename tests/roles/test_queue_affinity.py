"""Machine affinity of the scheduler: a queue travels with `gt sync`, so a bead records the machine it
was queued on, and another machine's Deacon leaves it alone until it has waited `scheduler.adopt_after`
seconds. In temporary towns with real ledgers (and a second machine joined through a hub)."""
from __future__ import annotations

import json
import re
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conftest import (MERGE_QUEUE, TIMEOUT, Bd, bead, bead_path, clone_of, git, gt, guarded_hub, hand_commit)
from gt.beads.tracker import Edit, Tracker
from gt.ledger.store import Signature, View
from gt.model.bead import canonical
from gt.model.schema import document_problems
from gt.town.context import Town

CAPPED = {path: text + "max_polecats: 1\n" for path, text in MERGE_QUEUE.items()}
pytestmark = pytest.mark.town(files=CAPPED)
ELSEWHERE = "0123456789ab"  # another machine's id
STEVE = Signature("steve")


def machine_of(town: Path) -> str:
    return (town / ".runtime" / "machine-id").read_text().strip()


def statuses(town: Path, *ids: str) -> list[str]:
    return [Bd(town).show(i)["status"] for i in ids]


def queued(town: Path, count: int) -> list[str]:
    """`count` + 1 beads slung at gizmo (max_polecats 1) without starting: the first hooked, the rest queued."""
    beads = [bead(town, f"b{n}") for n in range(count + 1)]
    gt(town, "sling", *beads, "gizmo", "--no-start")
    assert statuses(town, *beads) == ["hooked"] + ["queued"] * count
    return beads


def rewrite_dispatch(town: Path, bead_id: str, **changes: Any) -> None:
    """Change a queued bead's `dispatch` (None: drop the key) in one ledger commit, as another machine's would arrive."""
    def build(view: View) -> Edit:
        doc = Tracker.get(view, bead_id)
        doc["dispatch"] = {k: v for k, v in {**doc["dispatch"], **changes}.items() if v is not None}
        return Edit("queue", f"queue {bead_id} elsewhere", {bead_id: canonical(doc)})

    Town.at(town).rig_tracker("gizmo").write(Signature("mallory"), build)


def free_slot(town: Path) -> None:
    from gt.dispatch import agents

    agents.unsling(town, STEVE, "gizmo/polecats/toast")


def dispatch(town: Path) -> list[dict[str, Any]]:
    from gt.roles import polecats

    return polecats.dispatch(town, STEVE)


def test_the_machine_id_is_made_once_privately_and_two_first_runs_agree(town):
    ids_file = town / ".runtime" / "machine-id"
    ids_file.unlink(missing_ok=True)
    code = ("import sys; from pathlib import Path; from gt.town import rundir; "
            "print(rundir.machine_id(Path(sys.argv[1])))")
    runs = [subprocess.Popen([sys.executable, "-c", code, str(town)], stdout=subprocess.PIPE, text=True)
            for _ in range(6)]
    said = {run.communicate(timeout=TIMEOUT)[0].strip() for run in runs}
    assert len(said) == 1 and re.fullmatch(r"[0-9a-f]{12}", said.pop() or "")
    assert stat.S_IMODE(ids_file.stat().st_mode) == 0o600
    assert stat.S_IMODE((town / ".runtime").stat().st_mode) == 0o700
    from gt.town import rundir

    assert rundir.machine_id(town) == machine_of(town)
    ids_file.write_text("not an id\n")  # damaged: replaced by a new one
    fresh = rundir.machine_id(town)
    assert re.fullmatch(r"[0-9a-f]{12}", fresh or "") and machine_of(town) == fresh


def test_a_bead_queued_here_records_this_machine_and_is_dispatched(town, monkeypatch):
    from gt.dispatch import queue

    monkeypatch.chdir(town)  # as the Deacon runs
    first, second = queued(town, 1)
    here = machine_of(town)
    assert Bd(town).show(second)["dispatch"]["machine"] == here
    [item] = queue.entries(town)
    assert (item["id"], item["machine"], item["here"]) == (second, here, True)
    free_slot(town)
    assert [(d["bead"], d.get("adopted")) for d in dispatch(town)] == [(second, None)]
    assert statuses(town, first, second) == ["open", "hooked"]


def test_another_machines_bead_waits_and_the_rest_of_the_queue_goes_on(town, monkeypatch):
    from gt.dispatch import queue

    monkeypatch.chdir(town)
    first, foreign, mine = queued(town, 2)
    rewrite_dispatch(town, foreign, machine=ELSEWHERE)
    entries = {item["id"]: item for item in queue.entries(town)}
    assert (entries[foreign]["machine"], entries[foreign]["here"]) == (ELSEWHERE, False)
    assert entries[mine]["here"] is True
    assert [q["id"] for q in queue.entries(town)] == [foreign, mine]  # its place in the order is kept
    free_slot(town)
    assert [d["bead"] for d in dispatch(town)] == [mine]  # the foreign head does not hold it back
    assert statuses(town, first, foreign, mine) == ["open", "queued", "hooked"]
    free_slot(town)
    assert dispatch(town) == []  # a free slot, but the bead is another machine's and has not waited an hour
    assert statuses(town, foreign) == ["queued"]

    rewrite_dispatch(town, foreign, queued_at="2020-01-01T00:00:00Z")  # its machine went away long ago
    [done] = dispatch(town)
    assert (done["bead"], done["adopted"], done["agent"]) == (foreign, True, "gizmo/polecats/toast")
    assert statuses(town, foreign) == ["hooked"] and queue.entries(town) == []


@pytest.mark.town(settings="scheduler:\n  adopt_after: 0\n", files=CAPPED)
def test_adopt_after_zero_lets_any_machine_dispatch_at_once(town, monkeypatch):
    monkeypatch.chdir(town)
    _, foreign = queued(town, 1)
    rewrite_dispatch(town, foreign, machine=ELSEWHERE)
    free_slot(town)
    assert [(d["bead"], d["adopted"]) for d in dispatch(town)] == [(foreign, True)]


def test_an_explicit_sling_takes_another_machines_bead_and_a_bead_without_a_machine_is_dispatched(town, monkeypatch):
    monkeypatch.chdir(town)
    _, foreign, older = queued(town, 2)
    rewrite_dispatch(town, foreign, machine=ELSEWHERE)
    doc_older = Bd(town).show(older)["dispatch"]
    rewrite_dispatch(town, older, machine=None)  # an older queue: no machine recorded
    assert "machine" not in Bd(town).show(older)["dispatch"] and doc_older["machine"] == machine_of(town)
    free_slot(town)
    assert [d["bead"] for d in dispatch(town)] == [older]

    free_slot(town)
    slung = json.loads(gt(town, "sling", foreign, "gizmo", "--no-start", "--json").stdout)  # a person's say
    assert [s["bead"] for s in slung["slung"]] == [foreign] and statuses(town, foreign) == ["hooked"]


def test_slung_again_here_a_foreign_bead_becomes_this_machines_and_waits_from_now(town, monkeypatch):
    monkeypatch.chdir(town)
    _, foreign = queued(town, 1)
    rewrite_dispatch(town, foreign, machine=ELSEWHERE, queued_at="2020-01-01T00:00:00Z")
    gt(town, "sling", foreign, "gizmo", "--no-start")  # the rig is still full: queued again, here
    info = Bd(town).show(foreign)["dispatch"]
    assert info["machine"] == machine_of(town) and info["queued_at"] > "2020-01-01T00:00:00Z"


# -- the ledger guard: a machine id is data from a remote ---------------------------------------------------


def queued_doc(machine: object) -> dict[str, Any]:
    return {"id": "gz-abc123", "title": "t", "type": "task", "status": "queued", "priority": 2,
            "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
            "dispatch": {"rig": "gizmo", "by": "steve", "queued_at": "2026-01-01T00:00:00Z", "machine": machine}}


@pytest.mark.parametrize("machine", ["0" * 65, "0123456789ab\n", "0123456789ab\x1b[2J", "ABCDEF012345", "abc",
                                     "", "../../etc", "0123 456789", 123456789012, ["0123456789ab"], {"x": 1}])
def test_the_schema_refuses_a_hostile_machine(machine):
    problems = document_problems("beads", "gz-abc123", queued_doc(machine))
    assert any(p.startswith("dispatch.machine") for p in problems), problems


def test_the_schema_takes_a_machine_id():
    assert document_problems("beads", "gz-abc123", queued_doc("0123456789ab")) == []


def test_the_guard_on_a_hub_refuses_a_hostile_machine_and_takes_a_good_one(tmp_path):
    ann = clone_of(guarded_hub(tmp_path), tmp_path / "ann")
    ann("init", "--prefix", "sy")
    ann("sync")
    bead_id = ann("create", "queued elsewhere").stdout.strip()
    ann("sync")
    base = ann.show(bead_id)
    base = {k: base[k] for k in ("id", "title", "status", "priority", "created_at", "updated_at")}

    def push(machine: str) -> subprocess.CompletedProcess[str]:
        from gt.ledger.yamlio import dump

        doc = {**base, "type": "task", "status": "queued",
               "dispatch": {"rig": "gizmo", "queued_at": "2026-01-01T00:00:00Z", "machine": machine}}
        commit = hand_commit(ann.cwd, bead_path(bead_id), dump(doc).decode(), move_ref=False)
        return subprocess.run(["git", "push", "origin", f"{commit}:refs/heads/beads"], cwd=ann.cwd,
                              capture_output=True, text=True, timeout=TIMEOUT)

    for hostile in ("f" * 200, "0123456789ab\x07"):
        refused = push(hostile)
        assert refused.returncode != 0 and "ledger guard: push refused" in refused.stderr, refused.stderr
        assert "dispatch.machine" in refused.stderr
    assert push("0123456789ab").returncode == 0
    assert git(ann.cwd, "ls-remote", "origin", "refs/heads/beads").strip()


# -- two machines of one town --------------------------------------------------------------------------------


def test_a_bead_queued_on_one_machine_is_not_dispatched_by_another_after_sync(town, tmp_path, monkeypatch):
    from gt.dispatch import queue

    hub = tmp_path / "hub.git"
    git(tmp_path, "init", "-q", "--bare", str(hub))
    gt(town, "remote", "set", f"file://{hub}")
    _, waiting = queued(town, 1)
    gt(town, "sync")
    gt(tmp_path, "install", "laptop", "--from", f"file://{hub}")
    laptop = tmp_path / "laptop"
    assert statuses(laptop, waiting) == ["queued"]  # the queue travelled

    monkeypatch.chdir(laptop)  # the laptop's Deacon: no cap there, slots free, but the bead is the town's
    [item] = queue.entries(laptop)
    assert (item["machine"], item["here"]) == (machine_of(town), False)
    assert dispatch(laptop) == []
    assert machine_of(laptop) != machine_of(town)
    assert statuses(laptop, waiting) == ["queued"] and Bd(laptop).show(waiting)["dispatch"]["machine"] == machine_of(town)

    monkeypatch.chdir(town)  # the machine that queued it dispatches it when a slot frees
    free_slot(town)
    assert [(d["bead"], d.get("adopted")) for d in dispatch(town)] == [(waiting, None)]
    gt(town, "sync")
    gt(laptop, "sync")
    assert statuses(laptop, waiting) == ["hooked"]

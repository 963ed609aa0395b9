"""Ids as the original bd accepts them: capitals and several hyphens (`gt-gastown-polecat-Toast`),
kept exactly as given; resolution tries the case typed first and forgives case only when unique."""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from conftest import Bd, bead_path, git, head, ledger_files, clone_of, guarded_hub

TOAST = "gt-gastown-polecat-Toast"


def exported(bd: Bd) -> dict[str, dict]:
    """Every bead as the original's record (`bd export`), by id: a shape that does not change."""
    return {r["id"]: r for r in (json.loads(line) for line in bd("export").stdout.splitlines())}


def shown(bd: Bd, query: str) -> dict:
    """`bd show QUERY --json`: the one bead (an array of one, as the original prints, or the bead)."""
    found = bd.json("show", query)
    return found[0] if isinstance(found, list) else found


def rec(bead_id: str, title: str, **fields) -> dict:
    return {"id": bead_id, "title": title, "status": "open", "priority": 2, "issue_type": "task",
            "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z", **fields}


def test_create_with_a_mixed_case_id_keeps_it_exactly(bd, repo):
    assert bd("create", "Toast's agent bead", "--id", TOAST).stdout.strip() == TOAST
    assert bead_path(TOAST) in ledger_files(repo)
    assert f"id: {TOAST}" in git(repo, "show", f"beads:{bead_path(TOAST)}")
    assert bd.json("list")[0]["id"] == TOAST
    assert list(exported(bd)) == [TOAST]


def test_show_update_close_and_dep_add_with_a_mixed_case_id(bd, repo):
    bd("create", "Toast", "--id", TOAST)
    other = bd("create", "Other").stdout.strip()
    assert shown(bd, TOAST)["id"] == TOAST and TOAST in bd("show", TOAST).stdout
    bd("update", TOAST, "--title", "Toast, renamed", "-p", "1")
    bd("dep", "add", TOAST, other)
    bd("dep", "add", other, TOAST, "--type", "related")
    records = exported(bd)
    assert records[TOAST]["title"] == "Toast, renamed" and records[TOAST]["priority"] == 1
    assert [(d["issue_id"], d["depends_on_id"], d["type"]) for d in records[TOAST]["dependencies"]] == \
        [(TOAST, other, "blocks")]
    assert [d["depends_on_id"] for d in records[other]["dependencies"]] == [TOAST]
    bd("dep", "remove", other, TOAST)
    assert "dependencies" not in exported(bd)[other]
    bd("close", other)
    bd("close", TOAST, "--reason", "done")
    records = exported(bd)
    assert records[TOAST]["status"] == "closed" and records[TOAST]["close_reason"] == "done"
    bd("reopen", TOAST)
    assert exported(bd)[TOAST]["status"] == "open"
    assert set(exported(bd)) == {TOAST, other}  # no lower-cased twin was ever written


def test_an_unambiguous_id_in_another_case_still_resolves(bd):
    bd("create", "Toast", "--id", TOAST)
    bd("update", "GT-GASTOWN-POLECAT-TOAST", "-p", "0")  # case forgiven: only one bead fits
    bd("update", "gastown-polecat-t", "-p", "1")  # a prefix of the part after the ledger's prefix
    assert exported(bd)[TOAST]["priority"] == 1


def test_import_keeps_mixed_case_ids_and_their_dependencies(bd, repo, tmp_path):
    ids = [TOAST, "gt-gastown-crew-nightly_20260301", "gtd-rig-GasTownDaytona", "gt-group-test-groupX"]
    lines = [rec(ids[0], "Polecat Toast", issue_type="agent"),
             rec(ids[1], "Nightly", dependencies=[{"issue_id": ids[1], "depends_on_id": TOAST, "type": "blocks"},
                                                 {"issue_id": ids[1], "depends_on_id": "external:proj:lc-0jc",
                                                  "type": "related"}]),
             rec(ids[2], "Daytona rig"), rec(ids[3], "Group X")]
    path = tmp_path / "issues.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in lines))
    result = bd.json("import", str(path))
    assert result["created"] == 4 and result["refused"] == []
    assert set(ledger_files(repo)) == {"ledger.yaml", *(bead_path(i) for i in ids)}
    records = exported(bd)
    assert set(records) == set(ids)
    assert [d["depends_on_id"] for d in records[ids[1]]["dependencies"]] == [TOAST, "external:proj:lc-0jc"]
    assert bd.json("import", str(path))["unchanged"] == 4  # and a second import is a no-op
    assert [b["id"] for b in bd.json("blocked")] == [ids[1]]


def test_ids_differing_only_in_case_are_two_beads_each_reached_exactly(bd, repo, tmp_path):
    bd("create", "capital", "--id", "X-Ab")
    bd("create", "small", "--id", "x-ab")
    path = tmp_path / "more.jsonl"
    path.write_text(json.dumps(rec("X-AB", "all capitals")) + "\n")
    bd("import", str(path))
    assert {bead_path("X-Ab"), bead_path("x-ab"), bead_path("X-AB")} <= set(ledger_files(repo))
    for bead_id, title in (("X-Ab", "capital"), ("x-ab", "small"), ("X-AB", "all capitals")):
        assert (shown(bd, bead_id)["id"], shown(bd, bead_id)["title"]) == (bead_id, title)
        bd("update", bead_id, "--notes", f"note for {bead_id}")
    records = exported(bd)
    assert {i: records[i]["notes"] for i in ("X-Ab", "x-ab", "X-AB")} == \
        {i: f"note for {i}" for i in ("X-Ab", "x-ab", "X-AB")}
    before = head(repo)
    result = bd("show", "x-AB", ok=False)  # no exact match, and ignoring case fits three
    assert result.exit_code == 1 and "ambiguous" in result.stderr
    assert all(i in result.stderr for i in ("X-Ab", "x-ab", "X-AB"))
    assert shown(bd, "x-a")["id"] == "x-ab"  # a prefix in the case typed fits one
    assert head(repo) == before
    result = bd("create", "again", "--id", "x-ab", ok=False)
    assert result.exit_code == 1 and "exists" in result.stderr


def test_generated_ids_are_unchanged(bd):
    made = [bd("create", f"bead {n}").stdout.strip() for n in range(5)]
    assert all(re.fullmatch(r"gt-[0-9a-z]{6}", i) for i in made), made
    parent = made[0]
    child = bd("create", "child", "--parent", parent).stdout.strip()
    assert re.fullmatch(re.escape(parent) + r"\.[0-9a-z]{4}", child), child


@pytest.mark.parametrize("bad", [
    "gt-a/b", "gt-a\\b", "../gt-a", "gt-a..b", ".gt-a", "-gt-a", "gt-", "gt", "gt-a.", "gt-a b", "gt-a:b",
    "gt-a\tb", "gt-caf\u00e9", "gt-" + "a" * 248,
])
def test_unsafe_ids_are_refused(bd, repo, bad):
    before = head(repo)
    result = bd("create", "t", "--id", bad, ok=False)
    assert result.exit_code == 2 and "invalid bead id" in result.stderr
    assert head(repo) == before


def test_the_longest_id_is_250_characters(bd, repo):
    longest = "gt-" + "A" * 247
    assert bd("create", "t", "--id", longest).stdout.strip() == longest
    assert bead_path(longest) in ledger_files(repo)


def test_resolve_rules():
    from gt.errors import GtError
    from gt.model.ids import resolve

    known = {"X-Ab", "x-ab", "gt-gastown-polecat-Toast", "gt-abc123"}
    assert resolve("X-Ab", known) == "X-Ab" and resolve("x-ab", known) == "x-ab"
    assert resolve("X-A", known) == "X-Ab"  # the case typed first
    assert resolve("GT-ABC", known, "gt") == "gt-abc123"  # then ignoring it, when that is unique
    assert resolve("gastown-polecat-toast", known, "gt") == "gt-gastown-polecat-Toast"
    with pytest.raises(GtError, match="ambiguous id X-AB: matches X-Ab, x-ab"):
        resolve("X-AB", known)
    with pytest.raises(GtError, match="no bead"):
        resolve("y-ab", known)


def test_the_ledger_guard_takes_mixed_case_bead_files_but_not_rig_names():
    from gt.model.schema import key_problems

    assert key_problems("beads", TOAST) == []
    assert key_problems("beads", "gt-a..b") and key_problems("beads", "gt-a b")
    assert key_problems("rigs", "Gizmo")  # rig and agent names become folders: lower case only
    assert key_problems("rigs", "gizmo") == []


def test_a_mixed_case_id_passes_the_guard_of_a_shared_repository(tmp_path: Path):
    hub = guarded_hub(tmp_path)
    clone = tmp_path / "ann"
    ann = clone_of(hub, clone)
    ann("init", "--prefix", "gt")
    ann("create", "Toast", "--id", TOAST)
    assert ann.json("sync")["pushed"]
    assert git(hub, "rev-parse", "beads") == git(clone, "rev-parse", "beads")
    assert os.path.basename(bead_path(TOAST)) in git(hub, "ls-tree", "-r", "--name-only", "beads")

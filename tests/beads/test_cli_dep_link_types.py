"""`bd dep add --type` takes the original bd's named link types (relates-to, supersedes, duplicates…):
stored as given, shown, never blocking; the guard of a shared repository accepts them."""
from __future__ import annotations

from pathlib import Path

import pytest

from conftest import Bd, git, links
from gt.model.bead import DEP_TYPES

LINKS = ("relates-to", "supersedes", "duplicates")


@pytest.mark.parametrize("kind", LINKS)
def test_link_is_stored_shown_and_never_blocks(bd, kind):
    a = bd("create", "A").stdout.strip()
    b = bd("create", "B").stdout.strip()
    assert bd("dep", "add", a, b, "--type", kind).stdout == f"{a} now depends on {b} ({kind})\n"
    assert links(bd.show(a)) == [{"type": kind, "target": b}]
    assert f"  {kind} {b} [open] B" in bd("show", a).stdout
    assert {d["id"] for d in bd.json("ready")} == {a, b}
    assert bd.json("blocked") == []
    assert bd("dep", "add", a, b, "-t", kind).stdout == "No change\n"
    bd("dep", "add", b, a, "-t", kind)  # links may point both ways: no cycle
    assert {d["id"] for d in bd.json("ready")} == {a, b}


def test_create_takes_them_in_deps(bd):
    b = bd("create", "B").stdout.strip()
    a = bd("create", "A", "--deps", f"supersedes:{b},relates-to:{b}").stdout.strip()
    assert links(bd.show(a)) == [{"type": "supersedes", "target": b}, {"type": "relates-to", "target": b}]


def test_blocking_types_still_block(bd):
    a = bd("create", "A").stdout.strip()
    b = bd("create", "B").stdout.strip()
    bd("dep", "add", a, b, "--type", "relates-to")
    bd("dep", "add", a, b)
    assert [d["id"] for d in bd.json("ready")] == [b]


def test_every_named_type_is_accepted_and_only_blocks_and_parent_child_hold_work(bd):
    root = bd("create", "root").stdout.strip()
    target = bd("create", "target").stdout.strip()
    for kind in DEP_TYPES:
        bd("dep", "add", root, target, "--type", kind)
    assert {d["type"] for d in links(bd.show(root))} == set(DEP_TYPES)
    assert [d["id"] for d in bd.json("ready")] == [target]  # blocked by the blocks edge (and its parent is open)


@pytest.mark.parametrize("kind, says", [
    ("block", "invalid dependency type"),  # a typo is not stored as a link that never blocks
    ("Relates-To", "invalid dependency type"),
    ("waits-for", "not supported"),  # the original's gates on ready work, which bd ready does not implement
    ("conditional-blocks", "not supported"),
])
def test_unknown_and_gate_types_are_refused(bd, kind, says):
    a = bd("create", "A").stdout.strip()
    b = bd("create", "B").stdout.strip()
    result = bd("dep", "add", a, b, "--type", kind, ok=False)
    assert result.exit_code == 2 and says in result.stderr
    assert "dependencies" not in bd.show(a)


def test_the_guard_of_a_shared_repository_accepts_them(tmp_path: Path):
    hub = tmp_path / "hub.git"
    git(tmp_path, "init", "-q", "--bare", str(hub))
    Bd(tmp_path)("hooks", "install", "--bare", str(hub))
    git(tmp_path, "clone", "-q", str(hub), str(tmp_path / "ann"))
    ann = Bd(tmp_path / "ann")
    ann("init", "--prefix", "sy")
    a = ann("create", "A").stdout.strip()
    b = ann("create", "B").stdout.strip()
    for kind in LINKS:
        ann("dep", "add", a, b, "--type", kind)
    assert ann.json("sync")["pushed"]
    assert git(hub, "rev-parse", "beads") == git(ann.cwd, "rev-parse", "beads")
    git(tmp_path, "clone", "-q", str(hub), str(tmp_path / "bob"))
    assert [d["type"] for d in links(Bd(tmp_path / "bob").show(a))] == list(LINKS)

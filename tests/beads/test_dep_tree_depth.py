"""`bd dep tree` on long chains: a chain is not a cycle. The tree stops at --max-depth (default 50)
and marks the bead it stopped at as truncated; a cycle is still marked as one; a dependency shared
by many paths is expanded once (a lattice of diamonds would otherwise double at every level)."""
from __future__ import annotations

import json
from pathlib import Path

from gt.model.graph import dep_tree


def chain(length: int, prefix: str = "gt-c") -> dict[str, dict]:
    return {f"{prefix}{i}": {"id": f"{prefix}{i}", "dependencies": [{"type": "blocks", "target": f"{prefix}{i + 1}"}]
                             if i + 1 < length else []} for i in range(length)}


def depth_of(node) -> int:
    depth = 0
    while node.children:
        node, depth = node.children[0], depth + 1
    return depth


def last(node):
    while node.children:
        node = node.children[0]
    return node


def test_a_ten_thousand_long_chain_is_truncated_not_a_cycle():
    beads = chain(10_000)
    tree = dep_tree(beads, "gt-c0")
    assert depth_of(tree) == 50
    end = last(tree)
    assert end.id == "gt-c50" and end.truncated and not end.repeated
    deep = dep_tree(beads, "gt-c0", max_depth=9_999)  # built without recursion
    assert depth_of(deep) == 9_999 and not last(deep).truncated and not last(deep).repeated


def test_the_end_of_a_chain_within_reach_is_not_truncated():
    tree = dep_tree(chain(10), "gt-c0", max_depth=9)
    assert depth_of(tree) == 9 and not last(tree).truncated


def test_a_cycle_is_still_a_cycle():
    beads = chain(3)
    beads["gt-c2"]["dependencies"] = [{"type": "blocks", "target": "gt-c0"}]
    end = last(dep_tree(beads, "gt-c0"))
    assert end.id == "gt-c0" and end.repeated and not end.truncated


def test_a_shared_dependency_is_expanded_once():
    beads: dict[str, dict] = {}
    for level in range(60):  # a lattice: every level's two beads both depend on the next level's two
        for side in "ab":
            deps = [{"type": "blocks", "target": f"gt-d{level + 1}{s}"} for s in "ab"] if level < 59 else []
            beads[f"gt-d{level}{side}"] = {"id": f"gt-d{level}{side}", "dependencies": deps}
    tree = dep_tree(beads, "gt-d0a")
    count, stack, shown_above = 0, [tree], 0
    while stack:
        node = stack.pop()
        count += 1
        shown_above += node.shown_above
        stack.extend(node.children)
    assert count < 250 and shown_above > 0


def test_cli_marks_truncation_and_takes_max_depth(bd, tmp_path: Path):
    records = [{"id": f"gt-c{i}", "title": f"Step {i}", "dependencies":
                [{"issue_id": f"gt-c{i}", "depends_on_id": f"gt-c{i + 1}", "type": "blocks"}] if i < 59 else []}
               for i in range(60)]
    path = tmp_path / "chain.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    bd("import", str(path))

    lines = bd("dep", "tree", "gt-c0").stdout.splitlines()
    assert len(lines) == 51 and "(cycle)" not in "\n".join(lines)
    assert lines[-1].strip().startswith("blocks: gt-c50 ") and "--max-depth 50" in lines[-1]
    lines = bd("dep", "tree", "gt-c0", "--max-depth", "5").stdout.splitlines()
    assert len(lines) == 6 and "gt-c5 " in lines[-1] and "more below" in lines[-1]
    lines = bd("dep", "tree", "gt-c0", "--max-depth", "100").stdout.splitlines()
    assert len(lines) == 60 and "more below" not in lines[-1] and "(cycle)" not in lines[-1]

    nodes = bd.json("dep", "tree", "gt-c0", "--max-depth", "3")
    assert [(n["id"], n["depth"]) for n in nodes] == [(f"gt-c{i}", i) for i in range(4)]
    assert [n["truncated"] for n in nodes] == [False, False, False, True] and not nodes[-1]["repeated"]

    refused = bd("dep", "tree", "gt-c0", "--max-depth", "0", ok=False)
    assert refused.exit_code == 2 and "--max-depth" in refused.stderr

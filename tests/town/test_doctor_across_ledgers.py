"""`gt doctor` and `bd doctor` check a dependency on another ledger's bead in that ledger (a convoy in
the town ledger tracks beads of the rigs): a healthy town after a convoy is healthy, and a reference
no ledger can answer is still reported."""
from __future__ import annotations

import json

from conftest import Bd, bead, bead_path, git, gt, hand_commit
from gt.ledger.yamlio import dump, load_mapping


def test_a_convoy_across_rigs_leaves_the_town_healthy(town, monkeypatch):
    work = bead(town, "Rig work")
    convoy = json.loads(gt(town, "convoy", "create", "Batch", work, "--json").stdout)["id"]
    assert gt(town, "doctor").stdout.strip() == "The town is healthy"
    assert Bd(town).proc("doctor").stdout.strip() == "No problems found"  # the town ledger, from its root
    assert Bd(town / "gizmo" / "mayor" / "rig").proc("doctor").stdout.strip() == "No problems found"

    # a tracked bead no ledger holds (a rig's that does not exist, a prefix no route knows) is dangling
    for name in ("GIT_AUTHOR_NAME", "GIT_COMMITTER_NAME"):
        monkeypatch.setenv(name, "Hand Editor")
    for name in ("GIT_AUTHOR_EMAIL", "GIT_COMMITTER_EMAIL"):
        monkeypatch.setenv(name, "hand@example.com")
    path = bead_path(convoy)
    doc = load_mapping(git(town, "show", f"beads:{path}"), path)
    doc["dependencies"] += [{"type": "tracks", "target": "gz-nosuch1"}, {"type": "tracks", "target": "zz-unrouted1"}]
    hand_commit(town, path, dump(doc).decode())
    result = gt(town, "doctor", "--json", ok=False)
    assert result.returncode == 1
    dangling = [f["problem"] for f in json.loads(result.stdout) if f["kind"] == "dangling-dependency"]
    assert len(dangling) == 2, result.stdout
    assert any("gz-nosuch1" in p for p in dangling) and any("zz-unrouted1" in p for p in dangling)
    assert not any(work in p for p in dangling)
    assert gt(town, "doctor", "--fix", ok=False).returncode == 1  # nothing to fix: a human decides

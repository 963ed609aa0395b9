"""`gt sling --formula` in a temporary town: the molecule on one polecat's hook, walked step by step by
the scripted agent (a real process), submitted, merged; `gt prime` and `gt done` about its steps."""
from __future__ import annotations

import json

import pytest

from conftest import MERGE_QUEUE, Bd, agent_record, git, gt, merge_requests, wait_for

pytestmark = pytest.mark.town(files={
    **MERGE_QUEUE,
    "formulas/two-files.formula.toml": '''formula = "two-files"
description = "Write {{name}} in two steps."
[vars.name]
required = true
[[steps]]
id = "write"
title = "Write {{name}}.txt"
description = """Write the file.

```gt-script
files: {"{{name}}.txt": "{{name}}\\\\n"}
commit: "Write {{name}}.txt"
```
"""
[[steps]]
id = "check"
title = "Check {{name}}"
needs = ["write"]
description = """Add the check file and run the tests.

```gt-script
files: {"{{name}}-checked.txt": "ok\\\\n"}
run: ./tests.sh
```
"""
''',
})


def test_a_slung_molecule_is_walked_by_one_polecat_and_lands(town):
    out = json.loads(gt(town, "sling", "--formula", "two-files", "gizmo", "--var", "name=greeting", "--model", "model-a",
                        "--json").stdout)
    root = out["molecule"]
    assert out["formula"] == "two-files" and out["steps"] == [f"{root}.write", f"{root}.check"]
    [slung] = out["slung"]
    assert slung["bead"] == root and slung["agent"] == "gizmo/polecats/toast"
    polecats = json.loads(gt(town, "polecat", "list", "--json").stdout)
    assert [p.get("hook") for p in polecats] == [root]
    [mr] = wait_for(lambda: [m for m in merge_requests(town) if m["status"] == "open"], what="a merge request")
    assert mr["mr"]["source"] == root
    bd = Bd(town)
    assert [bd.show(f"{root}.{s}")["status"] for s in ("write", "check")] == ["closed", "closed"]
    convoy = json.loads(gt(town, "convoy", "status", out["convoy"], "--json").stdout)
    assert [b["id"] for b in convoy["beads"]] == [root]
    [outcome] = json.loads(gt(town, "refinery", "process", "gizmo", "--json").stdout)
    assert outcome["result"] == "merged"
    repo = town / "gizmo" / ".repo.git"
    assert git(repo, "show", "main:greeting.txt") == "greeting\n"
    assert git(repo, "show", "main:greeting-checked.txt") == "ok\n"
    subjects = git(repo, "log", "--format=%s", "main").splitlines()
    assert "Write greeting.txt" in subjects and f"{root}.check: Check greeting" in subjects
    assert bd.show(root)["status"] == "closed"
    assert json.loads(gt(town, "convoy", "status", out["convoy"], "--json").stdout)["status"] == "closed"
    assert agent_record(town, "gizmo/polecats/toast")["state"] == "idle"
    records = bd.json("stats", "--group-by", "formula")["groups"]["two-files"]
    assert (records["molecules"], records["completed"], records["steps"], records["closed_steps"]) == (1, 1, 2, 2)
    steps = records["by_model"]["model-a"]["steps"]
    assert [(name, s["closed"]) for name, s in steps.items()] == [("write", 1), ("check", 1)]
    assert all(s["seconds_median"] is not None and s["seconds_median"] >= 0 for s in steps.values())
    assert "two-files: 1/1 molecules complete, 2/2 steps closed" in bd("stats", "--group-by", "formula").stdout


def test_prime_shows_the_current_step_and_done_waits_for_every_step(town):
    out = json.loads(gt(town, "sling", "--formula", "two-files", "gizmo", "--var", "name=x", "--no-start",
                        "--json").stdout)
    root = out["molecule"]
    home = town / "gizmo" / "polecats" / "toast"
    primed = json.loads(gt(home, "prime", "--json").stdout)
    assert primed["hook"]["id"] == root
    assert primed["molecule"]["current"]["id"] == f"{root}.write"
    assert [s["id"] for s in primed["molecule"]["next"]] == [f"{root}.check"]
    text = gt(home, "prime").stdout
    assert f"Current step: {root}.write: Write x.txt" in text and f"- then {root}.check: Check x (waits)" in text
    refused = gt(home, "done", ok=False)
    assert refused.returncode != 0 and f"molecule {root} has 2 open steps" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    assert json.loads(gt(home, "hook", "--json").stdout)["bead"]["id"] == root
    bd = Bd(home)
    bd("close", f"{root}.write")
    assert bd.json("mol", "current")["step"]["id"] == f"{root}.check"  # the caller's hook
    assert f"Current step: {root}.check" in gt(home, "prime").stdout
    bd("close", f"{root}.check")
    assert "Every step is closed: run `gt done`" in gt(home, "prime").stdout
    (home / "x.txt").write_text("x\n")
    git(home, "add", "x.txt")
    git(home, "commit", "-q", "-m", "x")
    gt(home, "done")
    assert [m["mr"]["source"] for m in merge_requests(town)] == [root]


def test_sling_formula_refusals_write_nothing(town):
    repo = town / "gizmo" / ".repo.git"
    before = git(repo, "rev-parse", "beads")
    for args, expected in (
        (("--formula", "two-files", "gizmo"), "missing required variable name"),
        (("--formula", "nope", "gizmo"), "no formula named 'nope'"),
        (("--formula", "two-files", "gizmo", "--var", "name=x", "--var", "extra=1"), "has no variable 'extra'"),
        (("--formula", "two-files", "nowhere", "--var", "name=x"), "no rig or rig agent named 'nowhere'"),
        (("gz-abc", "--var", "name=x"), "--var goes with --formula"),
    ):
        result = gt(town, "sling", *args, ok=False)
        assert result.returncode != 0 and expected in result.stderr, result.stderr
        assert "Traceback" not in result.stderr
    assert git(repo, "rev-parse", "beads") == before

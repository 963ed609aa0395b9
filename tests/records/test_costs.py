"""Tokens and cost from the agent sessions' `Op: usage` commits: `bd stats` per model and `gt costs`,
checked against sessions recorded with known figures (one of them with no cost: unknown, never 0, so
its group's cost is unknown too and only `cost_usd_known` sums what was reported), and against
hostile trailers pushed by hand (bad numbers are unknown, never a crash or a non-JSON number)."""
from __future__ import annotations

import json
import math
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from conftest import (MERGE_QUEUE, SCRIPT, TIMEOUT, Bd, agent_record, bead, git, gt, make_town, merge_requests,
                      own_home, wait_for)

from gt.records import sources


@pytest.fixture(scope="module")
def town_with_usage(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Two beads landed, one per model, then four sessions recorded: two of one bead (a restart, the
    second with no cost reported), one of the other bead, and one of the mayor's with no cost at all;
    the last bead's session only after `cut`."""
    from gt.dispatch.usage import Usage, record
    from gt.ledger.store import Signature

    tmp = tmp_path_factory.mktemp("costs")
    with own_home(tmp):
        root = make_town(tmp, files=MERGE_QUEUE)
        try:
            ids = {name: bead(root, f"task {name}", "gizmo", SCRIPT.format(path=f"{name}.txt", text=name))
                   for name in ("a", "b")}
            gt(root, "sling", ids["a"], "gizmo", "--model", "model-a")
            gt(root, "sling", ids["b"], "gizmo", "--model", "model-b")
            wait_for(lambda: len([m for m in merge_requests(root) if m["status"] == "open"]) == 2 or None,
                     timeout=90, what="two submissions")
            outcomes = json.loads(gt(root, "refinery", "process", "gizmo", "--json").stdout)
            assert [o["result"] for o in outcomes] == ["merged", "merged"]
            workers = {name: Bd(root).show(ids[name])["assignee"] for name in ids}

            def session(identity: str, bead_id: str | None, usage: Usage, model: str | None, runtime: str) -> None:
                record(root, Signature(identity), identity, bead_id, usage, model, runtime, exit_code=0)

            session(workers["a"], ids["a"], Usage(model="vendor-a-2025", session="s1", tokens_in=1000,
                                                  tokens_out=200, cache_read_tokens=5000, cache_write_tokens=300,
                                                  cost_usd=0.25, turns=3, duration_ms=1000), "model-a", "claude")
            session(workers["a"], ids["a"], Usage(session="s2", tokens_in=500, tokens_out=100, turns=2),
                    "model-a", "claude")  # restarted: the runtime reported no cost this time
            session("mayor", None, Usage(tokens_in=10, tokens_out=5), "model-c", "claude")
            time.sleep(1.1)
            cut = math.ceil(time.time())  # commits carry whole seconds: the sessions before it are all older
            while time.time() < cut:
                time.sleep(0.05)
            session(workers["b"], ids["b"], Usage(tokens_in=2000, tokens_out=400, cost_usd=0.5), "model-b",
                    "codex")
            yield {"root": root, "ids": ids, "workers": workers,
                   "cut": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(cut))}
        finally:
            gt(root, "down", "--force", ok=False)


def test_bd_stats_by_model_adds_tokens_and_cost(town_with_usage):
    root = town_with_usage["root"]
    groups = Bd(root).json("stats", "--group-by", "model")["groups"]
    a, b, c = groups["model-a"], groups["model-b"], groups["model-c"]
    assert (a["completed"], a["sessions"], a["tokens_in"], a["tokens_out"], a["cache_read_tokens"],
            a["cache_write_tokens"]) == (1, 2, 1500, 300, 5000, 300)
    # one of model-a's two sessions reported no cost: its cost, and so the cost per bead, is unknown
    assert (a["cost_usd"], a["cost_usd_known"], a["sessions_without_cost"], a["cost_per_bead"],
            a["cost_per_landed_bead"], a["tokens_per_landed_bead"]) == (None, 0.25, 1, None, None, 1800.0)
    assert (b["completed"], b["sessions"], b["tokens_in"], b["tokens_out"], b["cost_usd"], b["cost_usd_known"],
            b["sessions_without_cost"], b["cost_per_bead"], b["cost_per_landed_bead"],
            b["tokens_per_landed_bead"]) == (1, 1, 2000, 400, 0.5, 0.5, 0, 0.5, 0.5, 2400.0)
    # the mayor's session reported no cost and landed nothing: unknown, not 0
    assert (c["completed"], c["sessions"], c["tokens_in"], c["sessions_without_cost"]) == (0, 1, 10, 1)
    assert c["cost_usd"] is None and c["cost_usd_known"] is None
    assert c["cost_per_bead"] is None and c["cost_per_landed_bead"] is None
    assert c["tokens_per_landed_bead"] is None
    polecats = Bd(root).json("stats", "--actors", "gizmo/polecats/*", "--group-by", "model")["groups"]
    assert "model-c" not in polecats and polecats["model-a"]["sessions"] == 2
    later = Bd(root).json("stats", "--group-by", "model", "--since", town_with_usage["cut"])["groups"]
    assert later.get("model-a", {}).get("sessions", 0) == 0 and later["model-b"]["sessions"] == 1
    by_agent = Bd(root).json("stats", "--group-by", "agent")["groups"]
    assert (by_agent["claude"]["sessions"], by_agent["codex"]["sessions"]) == (3, 1)
    table = Bd(root)("stats", "--group-by", "model").stdout
    rows = {line.split()[0]: line for line in table.splitlines()[1:] if line.strip()}
    assert "t50/t90 s: time to land" in table  # the legend of the columns
    assert rows["model-a"].split()[-3:] == ["1.5k", "300", "≥$0.2500"]  # what was reported: a lower bound
    assert rows["model-b"].split()[-3:] == ["2.0k", "400", "$0.5000"]
    assert rows["model-c"].split()[-3:] == ["10", "5", "?"] and "$0.00" not in rows["model-c"]
    assert table.splitlines()[-1].startswith("≥: a lower bound")


def test_gt_costs_by_model(town_with_usage):
    root, ids = town_with_usage["root"], town_with_usage["ids"]
    result = json.loads(gt(root, "costs", "--json").stdout)
    assert result["by"] == "model" and result["since"] is None
    assert result["groups"] == {
        "model-a": {"sessions": 2, "beads": 1, "tokens_in": 1500, "tokens_out": 300, "cache_read_tokens": 5000,
                    "cache_write_tokens": 300, "cost_usd": None, "cost_usd_known": 0.25, "sessions_without_cost": 1},
        "model-b": {"sessions": 1, "beads": 1, "tokens_in": 2000, "tokens_out": 400, "cache_read_tokens": 0,
                    "cache_write_tokens": 0, "cost_usd": 0.5, "cost_usd_known": 0.5, "sessions_without_cost": 0},
        "model-c": {"sessions": 1, "beads": 0, "tokens_in": 10, "tokens_out": 5, "cache_read_tokens": 0,
                    "cache_write_tokens": 0, "cost_usd": None, "cost_usd_known": None, "sessions_without_cost": 1}}
    assert result["total"] == {"sessions": 4, "beads": 2, "tokens_in": 3510, "tokens_out": 705,
                               "cache_read_tokens": 5000, "cache_write_tokens": 300, "cost_usd": None,
                               "cost_usd_known": 0.75, "sessions_without_cost": 2}
    assert '"cost_usd": null' in gt(root, "costs", "--json").stdout  # unknown is null, never 0
    text = gt(root, "costs", "--by", "model").stdout.splitlines()
    assert text[0].split()[:3] == ["model", "sessions", "beads"]
    rows = {line.split()[0]: line.split() for line in text[1:] if not line.startswith("-")}
    assert rows["model-a"][-2:] == ["≥$0.2500", "1"] and rows["model-c"][-2:] == ["?", "1"]
    assert rows["model-b"][-2:] == ["$0.5000", "0"]
    assert rows["total"][:4] == ["total", "4", "2", "3,510"] and rows["total"][-2:] == ["≥$0.7500", "2"]
    assert text[-1].startswith("≥: a lower bound")
    assert all(Bd(root).show(bead_id)["status"] == "closed" for bead_id in ids.values())


def test_gt_costs_by_role_rig_and_agent(town_with_usage):
    root = town_with_usage["root"]
    roles = json.loads(gt(root, "costs", "--by", "role", "--json").stdout)
    assert roles["by"] == "role" and set(roles["groups"]) == {"polecat", "mayor"}
    polecat = roles["groups"]["polecat"]
    assert (polecat["sessions"], polecat["beads"], polecat["cost_usd"], polecat["cost_usd_known"],
            polecat["sessions_without_cost"]) == (3, 2, None, 0.75, 1)
    assert roles["groups"]["mayor"]["cost_usd"] is None and roles["groups"]["mayor"]["sessions_without_cost"] == 1
    rigs = json.loads(gt(root, "costs", "--by", "rig", "--json").stdout)["groups"]
    assert (rigs["gizmo"]["sessions"], rigs["town"]["sessions"]) == (3, 1)
    agents = json.loads(gt(root, "costs", "--by", "agent", "--json").stdout)["groups"]
    assert (agents["claude"]["cost_usd"], agents["claude"]["cost_usd_known"], agents["codex"]["cost_usd"]) == \
        (None, 0.25, 0.5)
    worker = town_with_usage["workers"]["a"]
    actors = json.loads(gt(root, "costs", "--by", "actor", "--actor", worker, "--json").stdout)
    assert list(actors["groups"]) == [worker] and actors["total"]["sessions"] == 2


def test_gt_costs_since(town_with_usage):
    root, cut = town_with_usage["root"], town_with_usage["cut"]
    later = json.loads(gt(root, "costs", "--since", cut, "--json").stdout)
    assert list(later["groups"]) == ["model-b"] and later["total"]["cost_usd"] == 0.5
    assert "≥" not in gt(root, "costs", "--since", cut).stdout  # every session of it reported its cost
    assert later["since"] == cut
    assert json.loads(gt(root, "costs", "--since", "2000-01-01", "--json").stdout)["total"]["sessions"] == 4
    none = json.loads(gt(root, "costs", "--since", "2999-01-01", "--json").stdout)
    assert none["groups"] == {} and none["total"]["sessions"] == 0 and none["total"]["cost_usd"] is None
    assert "No agent sessions recorded usage since 2999-01-01" in gt(root, "costs", "--since", "2999-01-01").stdout
    bad = gt(root, "costs", "--since", "last week", ok=False)
    assert bad.returncode == 2 and "invalid date" in bad.stderr


def test_the_agent_record_sums_both_sessions_of_a_bead(town_with_usage):
    root, ids, worker = town_with_usage["root"], town_with_usage["ids"], town_with_usage["workers"]["a"]
    record = agent_record(root, worker)
    assert record["usage"][ids["a"]] == {"tokens_in": 1500, "tokens_out": 300, "cache_read_tokens": 5000,
                                         "cache_write_tokens": 300, "cost_usd": 0.25, "turns": 5,
                                         "duration_ms": 1000, "sessions": 2, "sessions_without_cost": 1}
    assert record["model"] == "model-a"


def _pushed(repo: Path, message: str) -> None:
    """A ledger commit with this message and no change, as anyone who can push to the ledger can make."""
    env = {**os.environ, "GIT_AUTHOR_NAME": "mallory", "GIT_AUTHOR_EMAIL": "m@example.com",
           "GIT_COMMITTER_NAME": "mallory", "GIT_COMMITTER_EMAIL": "m@example.com"}
    tree = git(repo, "rev-parse", "beads^{tree}").strip()
    commit = subprocess.run(["git", "commit-tree", tree, "-p", "beads", "-m", message], cwd=repo, env=env,
                            capture_output=True, text=True, check=True, timeout=TIMEOUT).stdout.strip()
    git(repo, "update-ref", "refs/heads/beads", commit)


def _strict_json(text: str) -> Any:
    """JSON as the standard has it: Infinity and NaN are not numbers there."""
    def refuse(name: str) -> None:
        raise AssertionError(f"not JSON: {name}")

    return json.loads(text, parse_constant=refuse)


HOSTILE = {  # trailer: values that are no number, or no number a session reports; each is unknown
    "Cost-Usd": ("1e400", "inf", "nan", "-1", "1_000", "０.5", "2e9", "0x10", " "),
    "Exit-Code": ("\u00b2", "\u0661\u0662", "1_0", "9" * 40, "-"),
    "Tokens-In": ("\u00b2", "1_000", "9" * 40, "-5", "5.5"),
    "Turns": ("x", "\u00b3"),
}


def test_hostile_usage_trailers_are_unknown(town):
    """Whatever numbers a pushed `Op: usage` (or `Op: merge`) commit carries, `gt costs` and `bd stats`
    exit 0 with valid JSON: a bad figure is unknown (null), never a crash, a 0 or Infinity."""
    repo = town / "gizmo" / ".repo.git"
    head = "usage of gizmo/polecats/toast\n\nOp: usage\nWorker: gizmo/polecats/toast\nModel: m-hostile\n"
    _pushed(repo, head + "Source: gz-aaaaa\nTokens-In: 7\nTokens-Out: 3\nCost-Usd: 1e-05\nExit-Code: -15\n")
    sessions = 1
    for trailer, values in HOSTILE.items():
        for value in values:
            cost = "" if trailer == "Cost-Usd" else "Cost-Usd: 0.5\n"
            _pushed(repo, head + f"Tokens-Out: 1\n{cost}{trailer}: {value}\n")
            sessions += 1
    _pushed(repo, "merge\n\nOp: merge\nSource: gz-aaaaa\nWorker: gizmo/polecats/toast\nModel: m-hostile\n"
                  "Attempts: \u00b2\n")
    costs = gt(town, "costs", "--json")
    assert costs.returncode == 0 and "Infinity" not in costs.stdout and "NaN" not in costs.stdout
    group = _strict_json(costs.stdout)["groups"]["m-hostile"]
    bad_costs = len(HOSTILE["Cost-Usd"])
    assert (group["sessions"], group["sessions_without_cost"]) == (sessions, bad_costs)
    assert group["cost_usd"] is None  # some sessions' cost is unknown
    assert group["cost_usd_known"] == round(0.00001 + 0.5 * (sessions - 1 - bad_costs), 6)
    assert group["tokens_in"] == 7 and group["tokens_out"] == sessions + 2
    for args in (("costs",), ("costs", "--by", "actor")):
        text = gt(town, *args)
        assert text.returncode == 0 and "inf" not in text.stdout.lower() and "≥$" in text.stdout
    stats = Bd(town).proc("stats", "--group-by", "model", "--json", timeout=TIMEOUT)
    model = _strict_json(stats.stdout)["groups"]["m-hostile"]
    assert (model["sessions"], model["cost_usd"], model["cost_per_bead"], model["completed"]) == \
        (sessions, None, None, 1)
    assert model["first_pass_rate"] is None  # the merge's attempts are unknown
    assert Bd(town).proc("stats", "--group-by", "model", timeout=TIMEOUT).exit_code == 0
    events = [e for e in sources.events(sources.sources(str(town))) if e.model == "m-hostile" and e.kind == "usage"]
    assert [e.detail["exit_code"] for e in events if e.detail["exit_code"] is not None] == [-15]
    assert all(e.detail["turns"] is None for e in events)


def test_trailer_numbers():
    from gt.dispatch.usage import amount, whole

    assert [whole(v) for v in ("12", " -15 ", "0", "\u00b2", "1_0", "+1", "1.0", "", None, "9" * 19)] == \
        [12, -15, 0, None, None, None, None, None, None, None]
    assert whole("0", low=1) is None and whole("3", high=2) is None
    assert [amount(v) for v in ("0.25", "1e-05", "3", "1e400", "nan", "inf", "-0.5", "1e7", "．5")] == \
        [0.25, 0.00001, 3.0, None, None, None, None, None, None]

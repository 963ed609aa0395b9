"""Track records from history: bd stats --group-by model, bd audit, a CV and gt feed, checked against
outcomes known by construction and against plain `git log`."""
from __future__ import annotations

import json
import queue
import statistics
import subprocess
import threading
import time
from pathlib import Path

import pytest

from conftest import BIN, TIMEOUT, Bd, bead, git, gt, make_town, merge_requests, own_home, wait_for


def script(name: str, outcome: str) -> str:
    if outcome == "pass":
        return f'```gt-script\nfiles: {{{name}.txt: "{name} line 1\\n{name} line 2\\n"}}\n```\n'
    if outcome == "fail-once":
        return (f'```gt-script\nfiles: {{{name}.txt: "{name} fixed\\n"}}\n'
                f'attempts: {{1: {{files: {{{name}.txt: "{name} BROKEN\\n"}}}}}}\n```\n')
    if outcome == "escalate":
        return '```gt-script\nescalate: "the spec is contradictory"\n```\n'
    return '```gt-script\ndefer: "blocked on a decision"\n```\n'


PLAN = {"model-a": {"a1": "pass", "a2": "pass", "a3": "fail-once", "a4": "escalate"},
        "model-b": {"b1": "pass", "b2": "fail-once", "b3": "defer"}}


@pytest.fixture(scope="module")
def town_with_history(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One town, two models, outcomes known by construction (built once: it runs real agents)."""
    tmp = tmp_path_factory.mktemp("records")
    with own_home(tmp):
        gate = ("merge_queue:\n  test_command: './tests.sh && ! grep -rq BROKEN --include=*.txt .'\n"
                "retry:\n  backoff_seconds: 0\n")  # the two sent back resubmit at once
        root = make_town(tmp, files={"gizmo/settings/config.yaml": gate})
        ids = {}
        for model, beads in PLAN.items():
            for name, outcome in beads.items():
                ids[name] = bead(root, f"task {name}", "gizmo", script(name, outcome))
            gt(root, "sling", *[ids[n] for n in beads], "gizmo", "--model", model)
        wait_for(lambda: len([m for m in merge_requests(root) if m["status"] == "open"]) == 5 or None,
                 timeout=90, what="five submissions")
        for name in ("a4", "b3"):
            wait_for(lambda: Bd(root).show(ids[name])["status"] != "hooked" or
                     "ESCALATED" in gt(root, "mail", "inbox", "--identity", "mayor").stdout or None, what=name)
        outcomes = json.loads(gt(root, "refinery", "process", "gizmo", "--json").stdout)
        assert sorted(o["result"] for o in outcomes) == ["failed", "failed", "merged", "merged", "merged"]
        gt(root, "witness", "patrol", "gizmo")  # restarts the two sent back
        wait_for(lambda: len([m for m in merge_requests(root) if m["status"] == "open"]) == 2 or None,
                 timeout=90, what="two resubmissions")
        assert [o["result"] for o in json.loads(gt(root, "refinery", "process", "gizmo", "--json").stdout)] == \
            ["merged", "merged"]
        wait_for(lambda: Bd(root).show(ids["b3"])["status"] == "open" or None, what="the deferral")
        yield {"root": root, "ids": ids}
        gt(root, "down", "--force", ok=False)


def ledger_log(repo: Path) -> list[dict]:
    """The ledger's commits with their trailers, parsed from plain `git log`."""
    text = git(repo, "log", "--reverse", "--format=%x01%H%x00%at%x00%an%x00%B", "beads")
    out = []
    for chunk in text.split("\x01")[1:]:
        commit, at, author, body = chunk.split("\x00", 3)
        trailers = {}
        for line in body.strip().split("\n\n")[-1].splitlines():
            key, _, value = line.partition(": ")
            trailers.setdefault(key, []).append(value)
        out.append({"commit": commit, "at": int(at), "author": author, "t": trailers})
    return out


def test_stats_by_model_match_the_outcomes(town_with_history):
    root, ids = town_with_history["root"], town_with_history["ids"]
    got = Bd(root).json("stats", "--actors", "gizmo/polecats/*", "--group-by", "model")["groups"]
    assert set(got) == {"model-a", "model-b"}
    a, b = got["model-a"], got["model-b"]
    assert (a["completed"], a["escalated"], a["deferred"], a["rejected_merge_requests"]) == (3, 1, 0, 1)
    assert (b["completed"], b["escalated"], b["deferred"], b["rejected_merge_requests"]) == (2, 0, 1, 1)
    assert a["success_rate"] == round(3 / 4, 3) and b["success_rate"] == round(2 / 3, 3)
    assert a["first_pass_rate"] == round(2 / 3, 3) and b["first_pass_rate"] == 0.5
    assert (a["revisions_median"], a["revisions_mean"]) == (1, round(4 / 3, 2))
    assert (b["revisions_median"], b["revisions_mean"]) == (1.5, 1.5)
    assert a["conflicts"] == b["conflicts"] == 0 and a["witness_restarts"] == b["witness_restarts"] == 0
    # completion time: first hook -> merge, from the ledger's own commits
    log = ledger_log(root / "gizmo" / ".repo.git")
    for model, beads in PLAN.items():
        times = []
        for name, outcome in beads.items():
            if outcome in ("pass", "fail-once"):
                hooked = min(c["at"] for c in log if c["t"].get("Op") == ["hook"] and ids[name] in c["t"].get("Bead-Id", []))
                merged = max(c["at"] for c in log if c["t"].get("Op") == ["merge"] and c["t"].get("Source") == [ids[name]])
                times.append(merged - hooked)
        assert got[model]["completion_seconds_median"] == round(statistics.median(times), 1)
    # lines changed: the code commits on main that carry each model's trailer
    numstat = git(root / "gizmo" / ".repo.git", "log", "main", "--numstat",
                  "--format=%x01%(trailers:key=Model,valueonly)")
    lines = {}
    for chunk in numstat.split("\x01")[1:]:
        model, _, rest = chunk.partition("\n")
        lines[model.strip()] = lines.get(model.strip(), 0) + sum(
            int(n) for row in rest.strip().splitlines() for n in row.split("\t")[:2])
    assert a["lines_changed"] == lines["model-a"] and b["lines_changed"] == lines["model-b"]
    table = Bd(root)("stats", "--actors", "gizmo/polecats/*", "--group-by", "model").stdout
    assert table.splitlines()[1].startswith("model-a") and "75%" in table
    assert set(Bd(root).json("stats", "--group-by", "actor")["groups"]) >= {"gizmo/polecats/toast"}


def test_audit_matches_git_log(town_with_history):
    root, ids = town_with_history["root"], town_with_history["ids"]
    worker = Bd(root).show(ids["a3"])["assignee"]
    rows = Bd(root).json("audit", "--actor", worker)
    ledger = [c["commit"] for c in ledger_log(root / "gizmo" / ".repo.git") if c["author"] == worker]
    code = git(root / "gizmo" / ".repo.git", "log", "--exclude=beads", "--branches", f"--author={worker}",
               "--format=%H").split()
    assert sorted(r["commit"] for r in rows if r["kind"] == "ledger") == sorted(ledger)
    assert sorted(r["commit"] for r in rows if r["kind"] == "code") == sorted(set(code))
    assert [r["time"] for r in rows] == sorted(r["time"] for r in rows)
    assert any(r["op"] == "done" for r in rows)
    text = Bd(root)("audit", "--actor", worker).stdout
    assert all(r["commit"][:10] in text for r in rows)


def test_cv_of_a_polecat(town_with_history):
    root, ids = town_with_history["root"], town_with_history["ids"]
    worker = Bd(root).show(ids["a3"])["assignee"]
    cv = json.loads(gt(root, "polecat", "identity", "show", worker, "--json").stdout)
    assert (cv["completed"], cv["failed"], cv["abandoned"], cv["escalated"]) == (1, 1, 0, 0)
    assert cv["first_pass_rate"] == 0.0 and cv["models"] == ["model-a"]
    assert cv["languages"] == {"txt": 2}  # its two commits (broken, then fixed) each touched one .txt file
    assert cv["recent"][0]["bead"] == ids["a3"]
    defer_worker = [r for r in Bd(root).json("audit", "--actor", "gizmo/polecats/*") if r["op"] == "defer"][0]["author"]
    assert json.loads(gt(root, "polecat", "identity", "show", defer_worker, "--json").stdout)["abandoned"] == 1
    assert Bd(root).show(ids["b3"])["status"] == "open"


def test_feed_shows_the_town_and_follows_new_events(town_with_history):
    root, ids = town_with_history["root"], town_with_history["ids"]
    text = gt(root, "feed", "-n", "0").stdout
    assert f"ok {ids['a1']} closed by gizmo/refinery (merged " in text  # ✓ and → on a terminal
    assert f"-> {ids['a1']} hooked by gizmo/polecats/" in text
    assert "convoy created" in text and text.splitlines()[0].startswith("[")
    assert all(json.loads(line)["ledger"] == "gizmo" for line in
               gt(root, "feed", "--rig", "gizmo", "--json", "-n", "5").stdout.splitlines())
    follower = subprocess.Popen([str(BIN / "gt"), "feed", "--follow", "-n", "1", "--json", "--interval", "0.1"],
                                cwd=root, stdout=subprocess.PIPE, text=True)
    try:
        lines = lines_of(follower)
        assert "ledger" in json.loads(next_line(lines, TIMEOUT))  # the last event: it has read the ledgers
        # It prints every event made after it took stock of the ledgers, a moment after printing the
        # backlog. Rather than guess how long that moment lasts, make events until it follows one.
        made, deadline = [], time.monotonic() + TIMEOUT
        while True:
            made.append(Bd(root)("create", f"a new event {len(made)}", "--rig", "gizmo").stdout.strip())
            try:
                line = json.loads(next_line(lines, 2.0))
                break
            except queue.Empty:
                assert time.monotonic() < deadline, "gt feed --follow printed no new event"
        # Now that it follows, the next event is printed too (after any of the earlier ones still due).
        new = Bd(root)("create", "a new event", "--rig", "gizmo").stdout.strip()
        made.append(new)
        while True:
            assert line["op"] == "create" and any(bead_id in line["line"] for bead_id in made), line
            if new in line["line"]:
                break
            line = json.loads(next_line(lines, TIMEOUT))
    finally:
        follower.kill()
        follower.wait(timeout=TIMEOUT)


def lines_of(process: subprocess.Popen) -> queue.Queue:  # type: ignore[type-arg]
    """The lines a process prints, read by a thread so that a test waits for each with a deadline."""
    lines: queue.Queue = queue.Queue()  # type: ignore[type-arg]

    def read() -> None:
        for line in process.stdout:  # type: ignore[union-attr]
            lines.put(line)
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    return lines


def next_line(lines: queue.Queue, timeout: float) -> str:  # type: ignore[type-arg]
    """The next line, or queue.Empty after `timeout` seconds."""
    line = lines.get(timeout=timeout)
    assert line is not None, "the process ended"
    return line


def test_a_second_run_reads_the_cache(town_with_history):
    root = town_with_history["root"]
    first = Bd(root).json("stats", "--group-by", "model")
    cache = list((root / "gizmo" / ".repo.git" / "gt" / "log").glob("*.marshal")) + \
        list((root / ".git" / "gt" / "log" / "derived").glob("*.json"))
    assert cache
    assert Bd(root).json("stats", "--group-by", "model") == first


def test_time_windows_and_the_crew_cv(town_with_history):
    root = town_with_history["root"]
    assert Bd(root).json("stats", "--group-by", "model", "--until", "2000-01-01")["groups"] == {}
    everything = Bd(root).json("stats", "--group-by", "model", "--since", "2000-01-01")["groups"]
    assert everything["model-a"]["completed"] == 3
    assert Bd(root).json("audit", "--actor", "gizmo/refinery", "--since", "2999-01-01") == []
    assert Bd(root)("stats", "--since", "yesterday", ok=False).exit_code == 2
    gt(root, "crew", "add", "joe", "--rig", "gizmo")
    cv = json.loads(gt(root, "crew", "show", "joe", "--rig", "gizmo", "--json").stdout)
    assert cv["identity"] == "gizmo/crew/joe" and cv["completed"] == 0 and cv["recent"] == []

"""The refinery and the witness in temporary towns, with the scripted agent as real processes."""
from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest

from conftest import MERGE_QUEUE, SCRIPT, Bd, agent_record, bead, git, gt, merge_requests, wait_for

BROKEN = "def add(a, b):\\n    return a - b\\n"
FIXED = "def add(a, b):\\n    return a + b\\n\\n\\ndef sub(a, b):\\n    return a - b\\n"


pytestmark = pytest.mark.town(files=MERGE_QUEUE)


def rig_settings(town: Path, text: str) -> None:
    """The rig's settings; the retry breaker's wait is off, so that a rejected bead resubmits at once."""
    folder = town / "gizmo" / "settings"
    folder.mkdir(exist_ok=True)
    (folder / "config.yaml").write_text(text + "retry:\n  backoff_seconds: 0\n")


def submitted(town: Path, count: int = 1) -> list[dict]:
    return wait_for(lambda: (lambda found: found if len(found) >= count else None)(
        [m for m in merge_requests(town) if m["status"] == "open"]), what=f"{count} open merge requests")


def main_passes_tests(town: Path, tmp_path: Path) -> bool:
    check = tmp_path / "main-check"
    git(tmp_path, "clone", "-q", "-b", "main", str(town / "gizmo" / ".repo.git"), str(check))
    import subprocess

    return subprocess.run(["./tests.sh"], cwd=check, capture_output=True, timeout=120).returncode == 0


def test_slung_done_merged_closed_and_the_convoy_lands(town):
    work = bead(town, "Add hello", script=SCRIPT.format(path="hello.txt", text="hello"))
    convoy = json.loads(gt(town, "sling", work, "gizmo", "--json").stdout)["convoy"]
    [mr] = submitted(town)
    [outcome] = json.loads(gt(town, "refinery", "process", "gizmo", "--json").stdout)
    assert outcome["result"] == "merged" and [g["gate"] for g in outcome["gates"]] == ["test_command"]
    repo = town / "gizmo" / ".repo.git"
    assert git(repo, "log", "-1", "--format=%an|%s", "main").strip() == f"gizmo/polecats/toast|{work}: Add hello"
    assert git(repo, "log", "-1", "--format=%an|%s", "beads").strip() == \
        f"gizmo/refinery|close {work}: merged as {outcome['commit'][:7]} by gizmo/refinery"
    assert Bd(town).show(work)["status"] == "closed"
    done_mr = Bd(town).show(mr["id"])
    assert done_mr["status"] == "closed" and done_mr["mr"]["attempts"][0]["gates"][0]["passed"] is True
    record = agent_record(town, "gizmo/polecats/toast")
    assert record["state"] == "idle" and record["hook"] is None
    status = json.loads(gt(town, "convoy", "status", convoy, "--json").stdout)
    assert status["status"] == "closed"
    [note] = json.loads(gt(town, "mail", "inbox", "--json").stdout)  # the overseer slung it
    assert note["title"] == "Convoy landed: Add hello" and "gizmo/polecats/toast" in note["description"]
    assert [m["title"] for m in json.loads(gt(town, "mail", "inbox", "--identity", "gizmo/witness", "--json").stdout)] \
        == [f"MERGED {work}"]
    cleaned = json.loads(gt(town, "witness", "patrol", "gizmo", "--json").stdout)
    assert cleaned == [{"action": "clean-up", "agent": "gizmo/polecats/toast", "branch": f"polecat/toast/{work}"}]
    assert not (town / "gizmo" / "polecats" / "toast").exists()
    assert git(repo, "branch", "--list", "polecat/*").strip() == ""
    assert json.loads(gt(town, "witness", "patrol", "gizmo", "--json").stdout) == []  # nothing found: nothing written


def test_a_failing_gate_assigns_back_and_the_fix_lands(town, tmp_path):
    script = ('```gt-script\nfiles: {gizmo/__init__.py: "' + FIXED + '"}\n'
              'attempts: {1: {files: {gizmo/__init__.py: "' + BROKEN + '"}}}\n```\n')
    work = bead(town, "Add sub", script=script)
    gt(town, "sling", work, "gizmo", "--model", "model-b")
    repo = town / "gizmo" / ".repo.git"
    before = git(repo, "rev-parse", "main").strip()
    [first] = submitted(town)
    [failed] = json.loads(gt(town, "refinery", "process", "gizmo", "--json").stdout)
    assert failed["result"] == "failed" and "test_command failed" in failed["detail"]
    assert git(repo, "rev-parse", "main").strip() == before  # never moved to a commit that failed its gates
    rejected = Bd(town).show(first["id"])
    assert rejected["status"] == "closed" and rejected["mr"]["outcome"] == "rejected"
    assert "AssertionError" in rejected["notes"]
    assert Bd(town).show(work)["status"] == "hooked"
    assert agent_record(town, "gizmo/polecats/toast")["state"] == "fix_needed"
    [fix] = json.loads(gt(town, "mail", "inbox", "--identity", "gizmo/polecats/toast", "--json").stdout)
    assert fix["title"] == f"FIX_NEEDED {work}" and "AssertionError" in fix["description"]
    decisions = json.loads(gt(town, "witness", "patrol", "gizmo", "--json").stdout)
    assert decisions == [{"action": "restart", "agent": "gizmo/polecats/toast", "bead": work, "reason": "fix needed"}]
    second = wait_for(lambda: [m for m in merge_requests(town) if m["status"] == "open"], what="the resubmission")
    assert second[0]["id"] != first["id"] and second[0]["mr"]["model"] == "model-b"
    [merged] = json.loads(gt(town, "refinery", "process", "gizmo", "--json").stdout)
    assert merged["result"] == "merged"
    assert Bd(town).show(work)["status"] == "closed"
    assert main_passes_tests(town, tmp_path)


@pytest.mark.parametrize("policy", ["assign_back", "auto_rebase"])
def test_a_conflict_between_two_polecats(town, policy):
    rig_settings(town, f"merge_queue:\n  test_command: ./tests.sh\n  on_conflict: {policy}\n")
    script = '```gt-script\nconflict: README.md\n```\n'
    one, two = bead(town, "first edit", "gizmo", script, "-p", "1"), bead(town, "second edit", "gizmo", script)
    gt(town, "sling", one, two, "gizmo")
    submitted(town, 2)
    outcomes = json.loads(gt(town, "refinery", "process", "gizmo", "--json").stdout)
    assert [o["result"] for o in outcomes] == ["merged", "conflict"]
    assert "README.md" in outcomes[1]["detail"]
    rejected = Bd(town).show(outcomes[1]["mr"])
    attempt = rejected["mr"]["attempts"][-1]
    assert attempt["conflicts"] == ["README.md"] and attempt.get("auto_rebased", False) == (policy == "auto_rebase")
    loser = rejected["mr"]["worker"]
    assert Bd(town).show(rejected["mr"]["source"])["assignee"] == loser  # the bead stays with its polecat
    [mail] = json.loads(gt(town, "mail", "inbox", "--identity", loser, "--json").stdout)
    assert mail["title"].startswith("REBASE_NEEDED")
    gt(town, "witness", "patrol", "gizmo")  # restarts it: the scripted agent rebases and resubmits
    submitted(town)
    assert [o["result"] for o in json.loads(gt(town, "refinery", "process", "gizmo", "--json").stdout)] == ["merged"]
    readme = git(town / "gizmo" / ".repo.git", "show", "main:README.md")
    assert rejected["mr"]["source"] in readme


def test_the_refinery_never_drops_a_commit_pushed_meanwhile(town, tmp_path):
    gt(town, "crew", "add", "joe", "--rig", "gizmo")
    joe = town / "gizmo" / "crew" / "joe"
    (joe / "crew.txt").write_text("crew work\n")
    git(joe, "add", "crew.txt")
    git(joe, "commit", "-qm", "crew lands meanwhile")
    flag = tmp_path / "pushed"
    gate = f"./tests.sh && (test -e {flag} || (git -C {joe} push -q origin HEAD:main && touch {flag}))"
    rig_settings(town, f"merge_queue:\n  test_command: '{gate}'\n")
    work = bead(town, "Add hello", script=SCRIPT.format(path="hello.txt", text="hello"))
    gt(town, "sling", work, "gizmo")
    submitted(town)
    [outcome] = json.loads(gt(town, "refinery", "process", "gizmo", "--json").stdout)
    assert outcome["result"] == "merged"
    log = git(town / "gizmo" / ".repo.git", "log", "--format=%s", "main")
    assert "crew lands meanwhile" in log and f"{work}: Add hello" in log
    assert Bd(town).show(outcome["mr"])["mr"]["attempts"][-1]["races"] == 1


def test_merges_are_serialised_per_rig(town):
    from filelock import FileLock

    with FileLock(str(town / "gizmo" / ".repo.git" / "gt" / "refinery.lock")):
        busy = gt(town, "refinery", "process", "gizmo", ok=False)
    assert busy.returncode == 1 and "busy" in busy.stderr


def test_the_witness_restarts_a_killed_agent_then_escalates(town):
    rig_settings(town, "merge_queue:\n  test_command: ./tests.sh\nwitness:\n  max_restarts: 1\n")
    work = bead(town, "slow", script='```gt-script\nstall: 120\n```\n')
    pid = json.loads(gt(town, "sling", work, "gizmo", "--json").stdout)["slung"][0]["pid"]
    from gt.town.rundir import alive

    os.killpg(pid, signal.SIGKILL)
    wait_for(lambda: not alive(pid), what="the kill")
    home = town / "gizmo" / "polecats" / "toast"
    lock = Path(git(home, "rev-parse", "--absolute-git-dir").strip()) / "index.lock"
    lock.write_text("")  # as a session killed inside `git add` leaves it
    [decision] = json.loads(gt(town, "witness", "patrol", "gizmo", "--json").stdout)
    assert decision == {"action": "restart", "agent": "gizmo/polecats/toast", "bead": work,
                        "reason": "its session died"}
    assert not lock.exists()  # the restarted session can use git in its worktree
    [session] = json.loads(gt(town, "agents", "--json").stdout)
    assert session["pid"] != pid and session["state"] == "running"
    assert Bd(town).show(work)["witness_restarts"] == 1
    assert json.loads(gt(town / "gizmo" / "polecats" / "toast", "hook", "--json").stdout)["bead"]["id"] == work
    assert json.loads(gt(town, "witness", "patrol", "gizmo", "--json").stdout) == []  # running: nothing to do
    os.killpg(session["pid"], signal.SIGKILL)
    wait_for(lambda: not alive(session["pid"]), what="the second kill")
    [escalation] = json.loads(gt(town, "witness", "patrol", "gizmo", "--json").stdout)
    assert escalation["action"] == "escalate"
    assert agent_record(town, "gizmo/polecats/toast")["state"] == "stuck"
    [mail] = json.loads(gt(town, "mail", "inbox", "--identity", "mayor", "--json").stdout)
    assert mail["title"] == f"ESCALATED {work}: gizmo/polecats/toast is stuck"
    assert git(town / "gizmo" / ".repo.git", "log", "-1", "--format=%an", "beads").strip() == "gizmo/witness"


def test_the_witness_recovers_an_orphaned_bead(town):
    work = bead(town, "orphan")
    gt(town, "sling", work, "gizmo", "--no-start")
    git(town / "gizmo" / ".repo.git", "worktree", "remove", "--force", str(town / "gizmo" / "polecats" / "toast"))
    [decision] = json.loads(gt(town, "witness", "patrol", "gizmo", "--json").stdout)
    assert decision["action"] == "recover" and decision["bead"] == work
    shown = Bd(town).show(work)
    assert shown["status"] == "open" and "assignee" not in shown
    [mail] = json.loads(gt(town, "mail", "inbox", "--identity", "mayor", "--json").stdout)
    assert mail["title"] == f"RECOVERED_BEAD {work}"


def test_flaky_tests_are_retried_and_mq_retry_and_reject(town, tmp_path):
    flag = tmp_path / "flaked"
    rig_settings(town, "merge_queue:\n"
                       f"  test_command: '(test -e {flag} || (touch {flag}; exit 1)) && ./tests.sh'\n"
                       "  retry_flaky_tests: 1\n")
    work = bead(town, "Add hello", script=SCRIPT.format(path="hello.txt", text="hello"))
    gt(town, "sling", work, "gizmo")
    submitted(town)
    [outcome] = json.loads(gt(town, "refinery", "process", "gizmo", "--json").stdout)
    assert outcome["result"] == "merged" and [g["passed"] for g in outcome["gates"]] == [False, True]

    rig_settings(town, "merge_queue:\n  test_command: 'exit 3'\n")
    other = bead(town, "Add bye", script=SCRIPT.format(path="bye.txt", text="bye"))
    gt(town, "sling", other, "gizmo", "--merge", "mr")
    [mr] = submitted(town)
    listed = json.loads(gt(town, "mq", "list", "gizmo", "--json").stdout)
    assert [d["id"] for d in listed] == [mr["id"]]
    [failed] = json.loads(gt(town, "refinery", "process", "gizmo", "--json").stdout)
    assert failed["result"] == "failed" and "exit 3" in failed["detail"]
    assert json.loads(gt(town, "mq", "list", "gizmo", "--json").stdout) == []
    rig_settings(town, "merge_queue:\n  test_command: ./tests.sh\n")
    gt(town, "mq", "retry", mr["id"], "--rig", "gizmo")
    [again] = json.loads(gt(town, "mq", "list", "gizmo", "--json").stdout)
    assert len(again["mr"]["attempts"]) == 1  # the failed attempt stays on record
    gt(town, "mq", "reject", mr["id"], "--rig", "gizmo", "-r", "not wanted after all")
    shown = Bd(town).show(mr["id"])
    assert shown["status"] == "closed" and shown["close_reason"] == "rejected: not wanted after all"
    assert "is not an open merge request" in gt(town, "mq", "reject", mr["id"], "--rig", "gizmo", "-r", "x",
                                               ok=False).stderr


def test_a_refinery_pass_opens_each_ledger_and_reads_the_settings_once(town, monkeypatch):
    """One pass (a merge, its convoy landing, the mail) works in one Town session: one tracker per
    ledger and one settings read, where the pass used to build 16 trackers and read settings 3 times."""
    from gt.beads import tracker as tracker_module
    from gt.roles import refinery
    from gt.town import settings as settings_module

    work = bead(town, "Add hello", script=SCRIPT.format(path="hello.txt", text="hello"))
    gt(town, "sling", work, "gizmo")
    submitted(town)
    opened: list[str] = []
    reads: list[str | None] = []
    make_tracker, load_settings = tracker_module.Tracker.__init__, settings_module.load

    def counting_tracker(self, repo, *args, **kwargs):  # type: ignore[no-untyped-def]
        opened.append(repo.commondir)
        make_tracker(self, repo, *args, **kwargs)

    def counting_load(root, rig=None):  # type: ignore[no-untyped-def]
        reads.append(rig)
        return load_settings(root, rig)

    monkeypatch.setattr(tracker_module.Tracker, "__init__", counting_tracker)
    monkeypatch.setattr(settings_module, "load", counting_load)
    monkeypatch.chdir(town)
    [outcome] = refinery.process(town, "gizmo")
    assert outcome.result == "merged"
    assert sorted(opened) == sorted({str(town / ".git"), str(town / "gizmo" / ".repo.git")})
    assert reads == ["gizmo"]

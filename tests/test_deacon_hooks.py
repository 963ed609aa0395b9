"""The Deacon with Boot and the dogs as real processes, and the git hooks that perform transitions."""
from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest

from conftest import Bd, git, gt, make_sample
from test_dispatch import SCRIPT, bead, merge_requests, wait_for


@pytest.fixture
def town(tmp_path: Path):  # type: ignore[no-untyped-def]
    root = tmp_path / "gt"
    gt(tmp_path, "install", str(root), "--actor", "steve")
    settings = root / "settings" / "config.yaml"
    settings.write_text(settings.read_text().replace("default_agent: claude", "default_agent: script")
                        + "deacon:\n  interval: 0.5\n  auto_feed: true\n")
    gt(root, "rig", "add", "gizmo", str(make_sample(tmp_path / "src" / "gizmo", "gizmo")), "--prefix", "gz")
    (root / "gizmo" / "settings").mkdir()
    (root / "gizmo" / "settings" / "config.yaml").write_text("merge_queue:\n  test_command: ./tests.sh\n")
    yield root
    gt(root, "down", "--force", ok=False)  # whatever the test did, leave no process behind


def our_processes(town: Path) -> list[int]:
    """Live processes started by this town (their command line or working directory is in it)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            cwd = os.readlink(entry / "cwd")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z" and (str(town) in cmdline or cwd.startswith(str(town))):
            found.append(int(entry.name))
    return found


def test_deacon_tick_merges_feeds_and_lands(town):
    first = bead(town, "first", script=SCRIPT.format(path="one.txt", text="one"))
    second = bead(town, "second", script=SCRIPT.format(path="two.txt", text="two"))
    Bd(town)("dep", "add", second, first)
    convoy = json.loads(gt(town, "convoy", "create", "Both", first, second, "--json").stdout)["id"]
    assert [c["ready"] for c in json.loads(gt(town, "convoy", "stranded", "--json").stdout)] == [[first]]
    report = json.loads(gt(town, "deacon", "tick", "--json").stdout)
    assert [f["bead"] for f in report["fed"]] == [first], report  # stranded ready work goes to a polecat
    wait_for(lambda: [m for m in merge_requests(town) if m["status"] == "open"], what="the first submission")
    gt(town, "deacon", "tick")  # merges the first; the second becomes ready and is fed
    assert Bd(town).json("show", first)["status"] == "closed"
    wait_for(lambda: [m for m in merge_requests(town) if m["status"] == "open"], what="the second submission")
    final = json.loads(gt(town, "deacon", "tick", "--json").stdout)
    assert [o["result"] for o in final["rigs"]["gizmo"]["refinery"]] == ["merged"]  # and the merge lands the convoy
    assert json.loads(gt(town, "convoy", "status", convoy, "--json").stdout)["status"] == "closed"


def test_up_status_boot_restart_and_down_leave_no_processes(town):
    started = json.loads(gt(town, "up", "--json").stdout)
    assert started["deacon"] and started["boot"]
    status = wait_for(lambda: (lambda s: s if s["deacon"]["state"] == "healthy" else None)(
        json.loads(gt(town, "status", "--json").stdout)), what="a healthy deacon")
    assert status["deacon"]["boot"] and status["rigs"][0]["name"] == "gizmo"
    assert "Deacon: healthy" in gt(town, "status").stdout
    os.killpg(started["deacon"], signal.SIGKILL)  # Boot notices and restarts it
    restarted = wait_for(lambda: (lambda s: s if s["deacon"]["state"] == "healthy" and s["deacon"]["pid"] not in
                                  (None, started["deacon"]) else None)(json.loads(gt(town, "status", "--json").stdout)),
                         timeout=30, what="boot to restart the deacon")
    assert restarted["deacon"]["pid"] != started["deacon"]
    wait_for(lambda: "deacon/dogs/boot|boot: restart the deacon" in git(town, "log", "--format=%an|%s", "beads") or None,
             what="boot's record of its decision")  # written just after the restart
    work = bead(town, "slow", script='```gt-script\nstall: 120\n```\n')
    gt(town, "sling", work, "gizmo")
    stopped = json.loads(gt(town, "down", "--json").stdout)
    assert stopped["deacon"] and stopped["boot"] and stopped["agents"] == {"gizmo/polecats/toast": True}
    deadline = time.time() + 15
    while our_processes(town) and time.time() < deadline:
        time.sleep(0.2)
    assert our_processes(town) == [], [Path(f"/proc/{p}/cmdline").read_bytes() for p in our_processes(town)]
    assert json.loads(gt(town, "status", "--json").stdout)["deacon"]["state"] == "down"
    assert json.loads(gt(town, "boot", "triage", "--json").stdout)["decision"] == "nothing"  # down on purpose


def test_boot_triage_decides_one_thing(town):
    assert json.loads(gt(town, "boot", "triage", "--json").stdout) == {
        "decision": "nothing", "reason": "the deacon was never started"}
    gt(town, "up")
    wait_for(lambda: json.loads(gt(town, "status", "--json").stdout)["deacon"]["state"] == "healthy" or None)
    assert json.loads(gt(town, "boot", "triage", "--json").stdout)["decision"] == "nothing"
    beat = town / ".runtime" / "deacon" / "heartbeat.json"
    data = json.loads(beat.read_text())
    os.kill(int(data["pid"]), signal.SIGSTOP)  # frozen: its heartbeat goes stale
    try:
        beat.write_text(json.dumps({**data, "at": time.time() - 20}))  # late (> 3 intervals + 10 s), not dead
        os.utime(town / ".runtime" / "deacon" / "pid", (time.time() - 20, time.time() - 20))  # started long ago
        assert json.loads(gt(town, "boot", "triage", "--json").stdout)["decision"] == "nudge"
    finally:
        os.kill(int(data["pid"]), signal.SIGCONT)
    gt(town, "down")


def test_dogs_list_call_and_refuse_project_work(town):
    names = [d["name"] for d in json.loads(gt(town, "dog", "list", "--json").stdout)]
    assert names == ["boot", "maintenance"]
    result = json.loads(gt(town, "dog", "call", "maintenance", "--json").stdout)
    assert set(result["ledgers"]) == {"town", "gizmo"}
    assert "deacon/dogs/maintenance|dog maintenance ran" in git(town, "log", "--format=%an|%s", "beads")
    refused = gt(town, "sling", bead(town, "project work"), "deacon/dogs/maintenance", ok=False)
    assert "is a dog" in refused.stderr


def test_mayor_session(town):
    settings = town / "settings" / "config.yaml"
    settings.write_text(settings.read_text() + "mayor:\n  agent: script\n")
    started = json.loads(gt(town, "mayor", "start", "--json").stdout)
    assert started["worktree"] == str(town / "mayor")
    wait_for(lambda: json.loads(gt(town, "mayor", "status", "--json").stdout)["running"] is False or None,
             what="the scripted mayor to finish (its hook is empty)")
    assert "nothing on my hook" in Path(started["log"]).read_text()


def test_hooks_add_trailers_start_the_bead_and_close_on_push(town):
    work = bead(town, "by hand")
    gt(town, "sling", work, "gizmo", "--no-start", "--model", "model-x")
    home = town / "gizmo" / "polecats" / "toast"
    (home / "a.txt").write_text("a\n")
    git(home, "add", "a.txt")
    git(home, "commit", "-qm", "first step")
    message = git(home, "log", "-1", "--format=%B")
    assert f"Bead: {work}" in message and "Agent: gizmo/polecats/toast" in message and "Model: model-x" in message
    assert Bd(town).json("show", work)["status"] == "in_progress"  # the first commit started it
    assert git(town / "gizmo" / ".repo.git", "log", "-1", "--format=%an|%s", "beads").strip() == \
        f"gizmo/polecats/toast|start {work}: first commit by gizmo/polecats/toast"
    assert (town / ".runtime" / "activity" / "gizmo.polecats.toast").exists()
    before = git(town / "gizmo" / ".repo.git", "rev-parse", "beads")
    (home / "b.txt").write_text("b\n")
    git(home, "add", "b.txt")
    git(home, "commit", "-qm", "second step")
    assert git(town / "gizmo" / ".repo.git", "rev-parse", "beads") == before  # nothing more to write

    gt(town, "crew", "add", "joe", "--rig", "gizmo")
    joe = town / "gizmo" / "crew" / "joe"
    crew_bead = bead(town, "crew fix")
    convoy = json.loads(gt(town, "convoy", "create", "Crew", crew_bead, "--json").stdout)["id"]
    (joe / "fix.txt").write_text("fix\n")
    git(joe, "add", "fix.txt")
    git(joe, "commit", "-qm", f"Fix it\n\nCloses: {crew_bead}")
    assert "Agent: gizmo/crew/joe" in git(joe, "log", "-1", "--format=%B")
    git(joe, "push", "-q", "origin", "HEAD:main")
    shown = Bd(town).json("show", crew_bead)
    assert shown["status"] == "closed" and shown["close_reason"].startswith("closed by commit")
    assert git(town / "gizmo" / ".repo.git", "log", "-1", "--format=%an", "beads").strip() == "gizmo/crew/joe"
    assert json.loads(gt(town, "convoy", "status", convoy, "--json").stdout)["status"] == "closed"


def test_hooks_never_break_git_and_do_nothing_unbound(town, tmp_path):
    mayor_rig = town / "gizmo" / "mayor" / "rig"
    git(mayor_rig, "config", "--worktree", "--unset", "gt.identity")
    (mayor_rig / "x.txt").write_text("x\n")
    git(mayor_rig, "add", "x.txt")
    git(mayor_rig, "commit", "-qm", "unbound")
    assert "Agent:" not in git(mayor_rig, "log", "-1", "--format=%B")
    git(mayor_rig, "config", "--worktree", "gt.identity", "mayor")
    (town / ".runtime").mkdir(exist_ok=True)
    (town / ".runtime" / "activity").write_text("not a folder")  # our post-commit hook will fail
    (mayor_rig / "y.txt").write_text("y\n")
    git(mayor_rig, "add", "y.txt")
    git(mayor_rig, "commit", "-qm", "still works")
    assert git(mayor_rig, "log", "-1", "--format=%s").strip() == "still works"
    assert "post-commit failed" in (town / "gizmo" / ".repo.git" / "gt" / "hooks.log").read_text()


def test_gt_hooks_install_list_uninstall_chain_user_hooks(tmp_path):
    from conftest import make_repo

    repo = make_repo(tmp_path / "plain")
    hook = repo / ".git" / "hooks" / "post-commit"
    marker = tmp_path / "user-hook-ran"
    hook.write_text(f"#!/bin/sh\ntouch {marker}\n")
    hook.chmod(0o755)
    gt(repo, "hooks", "install")
    listed = {h["hook"]: h for h in json.loads(gt(repo, "hooks", "list", "--json").stdout)}
    assert listed["post-commit"]["installed"] and listed["post-commit"]["chained"]
    (repo / "f.txt").write_text("f\n")
    git(repo, "add", "f.txt")
    git(repo, "commit", "-qm", "with hooks")
    assert marker.exists()
    gt(repo, "hooks", "uninstall")
    assert hook.read_text() == f"#!/bin/sh\ntouch {marker}\n"
    assert not any(h["installed"] for h in json.loads(gt(repo, "hooks", "list", "--json").stdout))


def test_hooks_survive_a_project_with_its_own_gt_package_and_respect_empty_messages(town):
    gt(town, "crew", "add", "joe", "--rig", "gizmo")
    joe = town / "gizmo" / "crew" / "joe"
    (joe / "gt").mkdir()
    (joe / "gt" / "__init__.py").write_text("raise SystemExit('the project shadowed Gas Town')\n")
    git(joe, "add", "gt")
    git(joe, "commit", "-qm", "the project has a gt package")
    assert "Agent: gizmo/crew/joe" in git(joe, "log", "-1", "--format=%B")
    (joe / "x.txt").write_text("x\n")
    git(joe, "add", "x.txt")
    import os
    import subprocess

    aborted = subprocess.run(["git", "commit"], cwd=joe, capture_output=True, text=True,
                             env={**os.environ, "GIT_EDITOR": "true"})
    assert aborted.returncode == 1 and "empty commit message" in aborted.stderr
    edited = subprocess.run(["git", "commit"], cwd=joe, capture_output=True, text=True,
                            env={**os.environ, "GIT_EDITOR": "sh -c 'echo written in the editor > \"$1\"' --"})
    assert edited.returncode == 0, edited.stderr
    assert "Agent: gizmo/crew/joe" in git(joe, "log", "-1", "--format=%B")  # added by commit-msg


def test_closes_with_punctuation_and_languages_of_non_ascii_files(town):
    gt(town, "crew", "add", "joe", "--rig", "gizmo")
    joe = town / "gizmo" / "crew" / "joe"
    first, second = bead(town, "first"), bead(town, "second")
    (joe / "café.py").write_text("x = 1\n")
    (joe / "naïve.md").write_text("# hi\n")
    git(joe, "add", ".")
    git(joe, "commit", "-qm", f"Both\n\nCloses: {first}, {second}.")
    git(joe, "push", "-q", "origin", "HEAD:main")
    assert [Bd(town).json("show", b)["status"] for b in (first, second)] == ["closed", "closed"]
    cv = json.loads(gt(town, "crew", "show", "joe", "--rig", "gizmo", "--json").stdout)
    assert cv["languages"] == {"md": 1, "py": 1}

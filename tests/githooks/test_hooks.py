"""The git hooks that perform transitions: trailers, starting a bead on its first commit, closing on
push, and never breaking git."""
from __future__ import annotations

import json

import pytest

from conftest import MERGE_QUEUE, Bd, bead, git, gt

pytestmark = pytest.mark.town(settings="deacon:\n  interval: 0.5\n  auto_feed: true\n", files=MERGE_QUEUE)


def test_hooks_add_trailers_start_the_bead_and_close_on_push(town):
    work = bead(town, "by hand")
    gt(town, "sling", work, "gizmo", "--no-start", "--model", "model-x")
    home = town / "gizmo" / "polecats" / "toast"
    (home / "a.txt").write_text("a\n")
    git(home, "add", "a.txt")
    git(home, "commit", "-qm", "first step")
    message = git(home, "log", "-1", "--format=%B")
    assert f"Bead: {work}" in message and "Agent: gizmo/polecats/toast" in message and "Model: model-x" in message
    assert Bd(town).show(work)["status"] == "in_progress"  # the first commit started it
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
    shown = Bd(town).show(crew_bead)
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
                             env={**os.environ, "GIT_EDITOR": "true"}, timeout=60)
    assert aborted.returncode == 1 and "empty commit message" in aborted.stderr
    edited = subprocess.run(["git", "commit"], cwd=joe, capture_output=True, text=True,
                            env={**os.environ, "GIT_EDITOR": "sh -c 'echo written in the editor > \"$1\"' --"},
                            timeout=60)
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
    assert [Bd(town).show(b)["status"] for b in (first, second)] == ["closed", "closed"]
    cv = json.loads(gt(town, "crew", "show", "joe", "--rig", "gizmo", "--json").stdout)
    assert cv["languages"] == {"md": 1, "py": 1}

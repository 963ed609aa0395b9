"""Installed git hooks keep working when the code moves or the Python that installed them goes away:
they call one entry point (`python -m gt.githooks NAME`), fall back to the `gt` on PATH, say so in
one line when they cannot run (the guard then refuses the push), and `gt doctor --fix` rewrites
hooks an earlier version installed. And `gt demo` fails loudly."""
from __future__ import annotations

import json
import os
import subprocess
import sys

from conftest import BIN, Bd, git, gt, make_repo, make_sample

SYSTEM_PATH = os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep)
                              if p and not os.path.exists(os.path.join(p, "gt")))  # git, but no gt
WITH_GT = os.pathsep.join([str(BIN), SYSTEM_PATH])

# Hooks as earlier versions installed them (the old module names, and the ones before this entry point).
OLD_GUARD = ('#!/bin/sh\n# Ledger guard, installed by `bd hooks install`: refuses pushes that would delete the ledger\n'
             f'exec "{sys.executable}" -P -m gt.work.guard\n')
OLD_POST_COMMIT = ('#!/bin/sh\n# Gas Town transition hook, installed by `bd hooks install`: does nothing\n'
                   f'"{sys.executable}" -P -m gt.githooks.handlers post-commit "$@"\n'
                   'user="$(dirname "$0")/post-commit.user"\nif [ -x "$user" ]; then exec "$user" "$@"; fi\nexit 0\n')
OLD_COMMIT_MSG = ('#!/bin/sh\n# Gas Town transition hook, installed by `bd hooks install`: adds the trailers\n'
                  f'grep -q \'^Agent: \' "$1" 2>/dev/null || '
                  f'"{sys.executable}" -P -m gt.work.transitions commit-msg "$@"\n')


def commit(repo, name: str, path: str) -> subprocess.CompletedProcess:
    (repo / name).write_text(name + "\n")
    git(repo, "add", name)
    return subprocess.run(["git", "commit", "-qm", f"add {name}"], cwd=repo, capture_output=True, text=True,
                          env={**os.environ, "PATH": path}, timeout=60)


def forget_python(hook) -> None:
    """As if the venv that installed the hook were deleted."""
    text = hook.read_text()
    assert "\npy=" in text
    hook.write_text("".join("py=/gone/bin/python\n" if line.startswith("py=") else line
                            for line in text.splitlines(keepends=True)))


def test_hooks_run_python_m_gt_githooks_and_fall_back_to_the_gt_on_path(tmp_path):
    repo = make_repo(tmp_path / "proj")
    gt(repo, "hooks", "install")
    hooks = repo / ".git" / "hooks"
    for name in ("pre-receive", "post-receive", "prepare-commit-msg", "commit-msg", "post-commit"):
        text = (hooks / name).read_text()
        assert text.splitlines()[1].startswith(f"# gastown-git hook: {name} ")
        assert f"py={sys.executable}\n" in text and "-P -m gt.githooks" in text
    git(repo, "config", "gt.identity", "someone")
    done = commit(repo, "a.txt", SYSTEM_PATH)
    assert done.returncode == 0 and done.stderr == ""
    assert "Agent: someone" in git(repo, "log", "-1", "--format=%B")

    for name in ("prepare-commit-msg", "commit-msg", "post-commit"):
        forget_python(hooks / name)
    listed = json.loads(gt(repo, "hooks", "list", "--json").stdout)
    assert {h["hook"] for h in listed if h["outdated"]} == {"prepare-commit-msg", "commit-msg", "post-commit"}
    done = commit(repo, "b.txt", WITH_GT)  # `gt hook-impl NAME` with the gt on PATH
    assert done.returncode == 0 and done.stderr == ""
    assert "Agent: someone" in git(repo, "log", "-1", "--format=%B")

    done = commit(repo, "c.txt", SYSTEM_PATH)  # nothing can run them: one line each, and the commit is made
    assert done.returncode == 0
    assert done.stderr.splitlines() == [f"gt: the {name} hook did nothing: /gone/bin/python cannot run Gas Town and "
                                        "no gt is on PATH (reinstall it, then run gt doctor --fix)"
                                        for name in ("prepare-commit-msg", "commit-msg", "post-commit")]
    assert git(repo, "log", "-1", "--format=%s").strip() == "add c.txt"
    assert "Agent:" not in git(repo, "log", "-1", "--format=%B")

    gt(repo, "hooks", "install")
    assert not any(h["outdated"] for h in json.loads(gt(repo, "hooks", "list", "--json").stdout))
    gt(repo, "hooks", "uninstall")
    assert not (hooks / "post-commit").exists()


def test_a_hook_whose_python_lost_gas_town_is_outdated(tmp_path):
    repo = make_repo(tmp_path / "proj")
    gt(repo, "hooks", "install")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "other")], check=True, timeout=60)
    hook = repo / ".git" / "hooks" / "post-commit"
    hook.write_text(hook.read_text().replace(f"py={sys.executable}\n", f"py={tmp_path / 'other' / 'bin' / 'python'}\n"))
    listed = {h["hook"]: h["outdated"] for h in json.loads(gt(repo, "hooks", "list", "--json").stdout)}
    assert listed == {"pre-receive": False, "post-receive": False, "prepare-commit-msg": False, "commit-msg": False,
                      "post-commit": True}
    git(repo, "config", "gt.identity", "someone")
    done = commit(repo, "a.txt", WITH_GT)
    assert done.returncode == 0 and done.stderr == ""  # that Python fails quietly; the gt on PATH runs the hook
    assert "Agent: someone" in git(repo, "log", "-1", "--format=%B")


def test_a_guard_that_cannot_run_refuses_the_push(tmp_path):
    hub = tmp_path / "hub.git"
    git(tmp_path, "init", "-q", "--bare", str(hub))
    Bd(tmp_path)("hooks", "install", "--bare", str(hub))
    forget_python(hub / "hooks" / "pre-receive")
    repo = make_repo(tmp_path / "proj")
    Bd(repo)("init", "--prefix", "pk")

    def push(path: str, *refs: str) -> subprocess.CompletedProcess:
        return subprocess.run(["git", "push", str(hub), *refs], cwd=repo, capture_output=True, text=True,
                              env={**os.environ, "PATH": path}, timeout=60)

    refused = push(SYSTEM_PATH, "beads")
    assert refused.returncode != 0 and "ledger guard: push refused: the guard cannot run" in refused.stderr
    assert git(hub, "branch", "--list", "beads") == ""
    assert push(WITH_GT, "beads").returncode == 0  # the guard through `gt hook-impl pre-receive`
    refused = push(WITH_GT, ":beads")
    assert refused.returncode != 0 and "refusing to delete the ledger branch" in refused.stderr


def test_the_entry_point_names_the_hook_it_does_not_know(tmp_path):
    result = subprocess.run([sys.executable, "-P", "-m", "gt.githooks", "pre-commit"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "unknown hook 'pre-commit'" in result.stderr
    assert "hook-impl" not in gt(tmp_path, "--help").stdout  # internal: hidden


def test_doctor_rewrites_hooks_an_earlier_version_installed(tmp_path):
    town = tmp_path / "gt"
    gt(tmp_path, "install", str(town), "--actor", "steve")
    gt(town, "rig", "add", "gizmo", str(make_sample(tmp_path / "src" / "gizmo", "gizmo")), "--prefix", "gz")
    gt(town, "crew", "add", "joe", "--rig", "gizmo")
    rig_hooks = town / "gizmo" / ".repo.git" / "hooks"
    crew_hooks = town / "gizmo" / "crew" / "joe" / ".git" / "hooks"
    (rig_hooks / "pre-receive").write_text(OLD_GUARD)
    (rig_hooks / "post-commit").write_text(OLD_POST_COMMIT)
    (crew_hooks / "commit-msg").write_text(OLD_COMMIT_MSG)
    forget_python(crew_hooks / "post-commit")

    found = gt(town, "doctor", "--json", ok=False)
    assert found.returncode == 1
    hooks = {f["path"]: f["problem"] for f in json.loads(found.stdout) if f["kind"] == "hooks"}
    assert set(hooks) == {str(rig_hooks), str(crew_hooks)}
    assert "pre-receive" in hooks[str(rig_hooks)] and "post-commit" in hooks[str(rig_hooks)]
    assert "outdated" in hooks[str(crew_hooks)] and "commit-msg, post-commit" in hooks[str(crew_hooks)]

    fixed = json.loads(gt(town, "doctor", "--fix", "--json", ok=False).stdout)
    assert all(f["fixed"] for f in fixed if f["kind"] == "hooks")
    for folder in (rig_hooks, crew_hooks):
        assert not (folder / "post-commit.user").exists()  # ours, rewritten: not kept as a user's hook
    assert "-m gt.githooks" in (rig_hooks / "pre-receive").read_text()
    assert [f for f in json.loads(gt(town, "doctor", "--json", ok=False).stdout) if f["kind"] == "hooks"] == []
    joe = town / "gizmo" / "crew" / "joe"
    (joe / "fix.txt").write_text("fix\n")
    git(joe, "add", "fix.txt")
    git(joe, "commit", "-qm", "a fix")
    assert "Agent: gizmo/crew/joe" in git(joe, "log", "-1", "--format=%B")


def test_a_failed_demo_exits_1_with_one_error_line(tmp_path):
    result = subprocess.run([str(BIN / "gt"), "demo", "--dir", str(tmp_path / "d"), "--agent", "no-such-agent"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=150)
    assert result.returncode == 1
    assert "Done in" not in result.stdout
    errors = result.stderr.strip().splitlines()
    assert len(errors) == 1 and errors[0].startswith("Error: the demo failed: `gt sling ")
    assert "no-such-agent" in errors[0] and f"(the town is kept in {tmp_path / 'd' / 'gt'})" in errors[0]


def test_post_receive_runs_once_and_hands_its_input_to_a_chained_hook(tmp_path):
    repo = make_repo(tmp_path / "proj")
    gt(repo, "hooks", "install")
    hooks = repo / ".git" / "hooks"
    forget_python(hooks / "post-receive")
    seen = tmp_path / "seen.txt"
    user = hooks / "post-receive.user"
    user.write_text(f"#!/bin/sh\ncat >> {seen}\nexit 3\n")
    user.chmod(0o755)
    line = "0" * 40 + " " + "1" * 40 + " refs/heads/main\n"
    done = subprocess.run([str(hooks / "post-receive")], cwd=repo, input=line, capture_output=True, text=True,
                          env={**os.environ, "PATH": SYSTEM_PATH}, timeout=60)
    assert done.stderr.splitlines() == ["gt: the post-receive hook did nothing: /gone/bin/python cannot run Gas Town "
                                        "and no gt is on PATH (reinstall it, then run gt doctor --fix)"]
    assert seen.read_text() == line and done.returncode == 3  # the chained hook's input and exit status


def test_bd_doctor_finds_and_fixes_an_outdated_guard_on_a_hub(tmp_path):
    """A hub set up by an earlier `bd hooks install --bare` refuses every push after an upgrade
    (its guard runs a module that no longer exists): bd doctor there says so, and --fix rewrites it."""
    hub = tmp_path / "hub.git"
    git(tmp_path, "init", "-q", "--bare", str(hub))
    Bd(tmp_path)("hooks", "install", "--bare", str(hub))
    repo = make_repo(tmp_path / "proj")
    Bd(repo)("init", "--prefix", "pk")
    git(repo, "push", "-q", str(hub), "beads")
    (hub / "hooks" / "pre-receive").write_text(OLD_GUARD)
    Bd(repo)("create", "after the upgrade")
    assert subprocess.run(["git", "push", "-q", str(hub), "beads"], cwd=repo, capture_output=True,
                          timeout=60).returncode != 0  # the old guard cannot run
    listed = gt(hub, "hooks", "list").stdout
    assert "pre-receive          outdated" in listed
    found = Bd(hub)("doctor", "--json", ok=False).json()
    assert [(f["kind"], f["fixed"]) for f in found] == [("hooks", False)] and "pre-receive" in found[0]["problem"]
    fixed = Bd(hub)("doctor", "--fix", "--json").json()
    assert [(f["kind"], f["fixed"]) for f in fixed] == [("hooks", True)]
    git(repo, "push", "-q", str(hub), "beads")
    assert Bd(hub).json("doctor") == []

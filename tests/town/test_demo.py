"""`gt demo` (what `make demo` runs): the whole scenario with real processes, under two minutes."""
import json
import subprocess
import time

from conftest import BIN, git, gt, our_processes


def run_demo(tmp_path, *args, env=None):
    import os

    started = time.time()
    result = subprocess.run([str(BIN / "gt"), "demo", "--dir", str(tmp_path / "d"), *args], capture_output=True,
                            text=True, timeout=150, env={**os.environ, **(env or {})})
    return result, time.time() - started


def test_demo_lands_the_convoy(tmp_path):
    result, seconds = run_demo(tmp_path)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    out = result.stdout
    assert "demo step failed" not in out and seconds < 120
    assert "failed (test_command failed" in out and "restart gizmo/polecats/" in out  # the failing one came back
    assert "[landed]  4/4 completed" in out and "Convoy landed: Greeting feature" in out
    assert "model-a" in out.split("$ bd stats --group-by model")[1] and "model-b" in out
    town = tmp_path / "d" / "gt"
    assert "closed by gizmo/refinery (merged" in out.split("$ gt feed -n 12")[1]
    assert our_processes(town) == []
    inbox = json.loads(gt(town, "mail", "inbox", "--json").stdout)
    assert [m["title"] for m in inbox] == ["Convoy landed: Greeting feature"]
    main = git(town / "gizmo" / ".repo.git", "log", "--format=%an", "main").split()
    assert main.count("gizmo/polecats/toast") >= 1 and "gizmo/polecats/nux" in main


def test_demo_with_another_agent_runtime(tmp_path):
    caller = tmp_path / "mine"
    gt(tmp_path, "install", str(caller))
    agent = tmp_path / "agent.sh"
    agent.write_text(
        "#!/bin/sh\nset -e\n"
        "bead=$(gt hook --json | python3 -c 'import sys, json; print(json.load(sys.stdin)[\"bead\"][\"id\"])')\n"
        "echo \"done by the shell agent\" > \"shell-$bead.txt\"\n"
        "git add -A\ngit commit -qm \"$bead: by the shell agent\"\ngt done\n")
    settings = caller / "settings" / "config.yaml"
    settings.write_text(settings.read_text().replace("agents:\n", f"agents:\n  shell:\n    command: [sh, {agent}]\n", 1))
    result, seconds = run_demo(tmp_path, "--agent", "shell", env={"GT_ROOT": str(caller)})
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    assert "agent shell" in result.stdout and "[landed]  4/4 completed" in result.stdout
    town = tmp_path / "d" / "gt"
    subjects = git(town / "gizmo" / ".repo.git", "log", "--format=%s", "main")
    assert "by the shell agent" in subjects

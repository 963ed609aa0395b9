"""Which program an agent session runs is this machine's choice alone: no built-in scripted
default, no runtime picked by a ledger record, and no bead text inside a string a shell evaluates."""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from conftest import Bd, bead, git, gt, wait_for

from gt.town import settings


def heads(town: Path) -> tuple[str, str]:
    return git(town / "gizmo" / ".repo.git", "rev-parse", "beads"), git(town, "rev-parse", "beads")


def set_settings(town: Path, text: str) -> None:
    (town / "settings" / "config.yaml").write_text(text)


# -- no silent scripted default ------------------------------------------------------------------


@pytest.mark.town(agent=None)
def test_a_town_without_default_agent_says_so_and_never_runs_the_scripted_agent(town, tmp_path):
    pwned = tmp_path / "pwned"
    set_settings(town, "agents:\n  mine: {command: [sleep, '60']}\n")  # agents, but no default_agent
    work = bead(town, "work", "gizmo", f"```gt-script\nrun: touch {pwned}\n```\n")
    before = heads(town)
    refused = gt(town, "sling", work, "gizmo", ok=False)
    assert refused.returncode == 2 and "no agent runtime configured" in refused.stderr, refused.stderr
    loaded = settings.load(town)
    assert "script" not in loaded.agents and loaded.default_agent == ""
    assert "--agent" in refused.stderr and "Traceback" not in refused.stderr
    named = gt(town, "sling", work, "gizmo", "--agent", "script", ok=False)  # not defined here: refused
    assert named.returncode == 2 and "no agent runtime named 'script'" in named.stderr
    time.sleep(0.5)
    assert heads(town) == before and not pwned.exists()
    assert not (town / "gizmo" / "polecats" / "toast").exists()
    assert Bd(town).show(work)["status"] == "open"
    assert json.loads(gt(town, "convoy", "list", "--json").stdout) == []
    # --no-start needs no runtime: the work is hooked and prepared, nothing runs
    gt(town, "sling", work, "gizmo", "--no-start")
    assert Bd(town).show(work)["status"] == "hooked" and not pwned.exists()


def test_gt_install_writes_a_named_default_and_script_only_when_asked(tmp_path):
    plain = tmp_path / "plain"
    gt(tmp_path, "install", str(plain), "--actor", "steve")
    loaded = settings.load(plain)
    assert loaded.default_agent == "claude" and "script" not in loaded.agents
    scripted = tmp_path / "scripted"
    gt(tmp_path, "install", str(scripted), "--actor", "steve", "--default-agent", "script")
    loaded = settings.load(scripted)
    assert loaded.default_agent == "script"
    assert loaded.agents["script"].command == ["python", "-m", "gt.agents.scripted"]
    assert settings.Settings().agents == {} and settings.Settings().default_agent == ""


@pytest.mark.town(agent=None)
def test_a_missing_default_runtime_is_refused_before_anything_is_written(town):
    set_settings(town, "agents:\n  ghost: {command: [no-such-agent-program, '{prompt}']}\ndefault_agent: ghost\n")
    work = bead(town, "work")
    before = heads(town)
    refused = gt(town, "sling", work, "gizmo", ok=False)
    assert refused.returncode == 1, refused.stderr
    assert heads(town) == before and Bd(town).show(work)["status"] == "open"
    assert "cannot start agent 'ghost'" in refused.stderr and "not installed" in refused.stderr


# -- the witness starts what this machine's settings say -----------------------------------------


@pytest.mark.town(agent=None)
def test_a_ledger_record_naming_another_agent_does_not_change_what_the_witness_starts(town, tmp_path):
    from gt.dispatch import agents
    from gt.ledger.store import Signature
    from gt.roles import runtimes
    from gt.town import rundir

    marker = tmp_path / "other-ran"
    set_settings(town, "agents:\n"
                       "  sleeper: {command: [sleep, '300']}\n"
                       f"  other: {{command: [sh, -c, 'touch \"$0\"; sleep 300', '{marker}']}}\n"
                       "default_agent: sleeper\n")
    work = bead(town, "work")
    gt(town, "sling", work, "gizmo", "--model", "model-a")
    who = "gizmo/polecats/toast"
    assert rundir.session(town, who)["agent"] == "sleeper"
    # another machine (or a hand-made commit) says this polecat runs `other` with another model
    agents.set_state(town, Signature("someone/else"), who, "edit the record", agent="other", model="evil")
    assert runtimes.stop(town, who, grace=5)  # the session dies with work on its hook
    decisions = json.loads(gt(town, "witness", "patrol", "gizmo", "--json").stdout)
    assert [(d["action"], d["agent"]) for d in decisions] == [("restart", who)], decisions
    session = rundir.session(town, who)
    assert (session["agent"], session["model"]) == ("sleeper", "model-a")
    assert wait_for(lambda: rundir.alive(session["pid"]), 10)
    time.sleep(0.5)
    assert not marker.exists()
    # with no session of its own here, the witness takes this machine's default_agent
    assert runtimes.stop(town, who, grace=5)
    (town / ".runtime" / "agents" / "gizmo.polecats.toast.json").unlink()
    agents.set_state(town, Signature("someone/else"), who, "fix needed", state="fix_needed", agent="other")
    decisions = json.loads(gt(town, "witness", "patrol", "gizmo", "--json").stdout)
    assert [d["action"] for d in decisions] == ["restart"] and rundir.session(town, who)["agent"] == "sleeper"
    time.sleep(0.5)
    assert not marker.exists()


# -- {prompt} never inside a shell string --------------------------------------------------------

REFUSED = [
    # options that take a value before the code flag, and programs that re-parse their arguments
    ["python", "-W", "ignore", "-c", "{prompt}"], ["python3", "-X", "dev", "-c", "{prompt}"],
    ["perl", "-I", "lib", "-e", "{prompt}"], ["node", "--require", "x", "-e", "{prompt}"],
    ["env", "-S", "sh -c 'agent {prompt}'"], ["ssh", "host", "agent", "{prompt}"],
    ["flock", "lockfile", "-c", "agent {prompt}"], ["awk", 'BEGIN{{system("{prompt}")}}'],
    ["pwsh", "-Command", "{prompt}"], ["lua", "-e", "{prompt}"], ["deno", "eval", "{prompt}"],
    ["sh", "-c", 'agent "{prompt}"'],
    ["bash", "-lc", "agent '{prompt}'"],
    ["/bin/dash", "-ec", "agent {prompt}"],
    ["zsh", "-c", "agent {prompt!r}"],
    ["/usr/bin/env", "FOO=1", "bash", "--login", "-c", "agent {prompt}"],
    ["timeout", "60", "sh", "-c", "agent {prompt}"],
    ["bash", "-o", "pipefail", "-c", "agent {prompt}"],
    ["sh", "-c", "{prompt}"],
    ["python3", "-c", "print('{prompt}')"],
    ["perl", "-e", "print '{prompt}'"],
    ["{prompt}"],
]
ALLOWED = [
    ["claude", "--dangerously-skip-permissions", "-p", "{prompt}"],
    ["codex", "exec", "Your task: {prompt}"],
    ["sh", "-c", 'agent "$1"', "sh", "{prompt}"],
    ["bash", "-c", 'agent < "{prompt_file}"'],
    ["sh", "-c", "cd {worktree} && agent --model {model} --as {identity}"],
    ["sh", "/home/me/agent.sh", "{prompt_file}"],
    ["python", "-m", "gt.agents.scripted"],
    ["sh", "-c", "{{prompt}} stays literal"],
]


@pytest.mark.parametrize("command", REFUSED, ids=lambda c: " ".join(c))
def test_a_bead_derived_placeholder_inside_a_shell_string_is_refused(command):
    from gt.errors import UsageError
    from gt.roles import runtimes

    problem = settings.shell_problem(command)
    assert problem and "{prompt_file}" in problem
    config = settings.Settings(agents={"bad": settings.Agent(command)}, default_agent="bad")
    with pytest.raises(UsageError, match=r"agent 'bad': .*\{prompt_file\}"):
        runtimes.command_for(config, "bad", dict.fromkeys(runtimes.PLACEHOLDERS, "$(touch pwned)"))


@pytest.mark.parametrize("command", ALLOWED, ids=lambda c: " ".join(c))
def test_placeholders_as_their_own_arguments_or_from_this_machine_are_allowed(command):
    from gt.roles import runtimes

    assert settings.shell_problem(command) is None
    config = settings.Settings(agents={"ok": settings.Agent(command)}, default_agent="ok")
    values = {**dict.fromkeys(runtimes.PLACEHOLDERS, "x"), "prompt": "$(touch pwned)"}
    filled = runtimes.command_for(config, "ok", values)
    assert filled[1:] == [part.format(**values) for part in command[1:]]
    assert all("pwned" not in filled[index] for index in settings.evaluated(command))  # never where code runs


def test_a_malformed_template_is_a_usage_error_not_a_traceback():
    from gt.errors import UsageError
    from gt.roles import runtimes

    config = settings.Settings(agents={"odd": settings.Agent(["agent", "{nosuch}"])}, default_agent="odd")
    with pytest.raises(UsageError, match="the placeholders are"):
        runtimes.command_for(config, "odd", dict.fromkeys(runtimes.PLACEHOLDERS, ""))


@pytest.mark.town(agent=None)
def test_the_settings_refuse_a_shell_template_and_separate_arguments_run_safely(town, tmp_path):
    pwned, said = tmp_path / "pwned", tmp_path / "said"
    title = f"Fix $(touch {pwned}) and `touch {pwned}`"
    work = bead(town, title)
    set_settings(town, "agents:\n  bad: {command: [sh, -c, 'echo \"{prompt}\" > said.txt']}\ndefault_agent: bad\n")
    before = heads(town)
    for args in (("sling", work, "gizmo"), ("witness", "patrol", "gizmo")):
        refused = gt(town, *args, ok=False)
        assert refused.returncode == 2, refused.stderr
        assert "agents.bad.command: {prompt} inside the code" in refused.stderr
        assert "{prompt_file}" in refused.stderr and "Traceback" not in refused.stderr
    findings = [f for f in json.loads(gt(town, "doctor", "--json", ok=False).stdout) if f["kind"] == "settings"]
    assert any("{prompt_file}" in f["problem"] for f in findings)
    assert heads(town) == before and not pwned.exists()
    # the same agent with {prompt} as an argument of its own: the title arrives as text, never runs
    set_settings(town, "agents:\n  good: {command: [sh, -c, 'printf %s \"$1\" > \"$0\"', "
                       f"'{said}', '{{prompt}}']}}\ndefault_agent: good\n")
    gt(town, "sling", work, "gizmo")
    text = wait_for(lambda: said.exists() and said.read_text(), 30, "the agent's output")
    assert title in text and not pwned.exists()

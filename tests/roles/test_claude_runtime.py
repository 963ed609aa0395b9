"""The real Claude Code binary as a polecat, against a stand-in model service on 127.0.0.1.

Only the model is a stand-in (gt.agents.model_standin): the runtime is the native binary npm ships
in `@anthropic-ai/claude-code-<platform>`, fetched once with `npm pack` and cached in
~/.cache/gt-tests (or $GT_TEST_CACHE). It runs as root (CI) and as an unprivileged user (a user
namespace: uid 1000 inside, what the binary checks), takes the model `gt sling --model` asked for,
runs its tools in the polecat's worktree, gets a nudge through its PostToolUse hook, and its own
usage report ends up on the ledger.
"""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from conftest import (BIN, Bd, agent_record, bead, git, gt, make_town, npm_arch, npm_program, run_as,
                      requests_seen, wait_for)

VERSION = "2.1.332"  # the Claude Code release these tests run
MODEL = "claude-sonnet-4-5"  # a model Claude Code knows the price of: its report carries a cost
pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="session")
def claude_binary() -> Path:
    """The real `claude` binary of VERSION: from the cache, else downloaded from the npm registry."""
    return npm_program(f"@anthropic-ai/claude-code-linux-{npm_arch()}@{VERSION}", "package/claude",
                       f"claude-code/{VERSION}/claude", f"{VERSION} (Claude Code)")


@pytest.fixture
def claude_env(tmp_path: Path, claude_binary: Path, standin, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """`claude` on PATH and pointed at the stand-in, for every process the town starts."""
    server, _ = standin
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "claude").symlink_to(claude_binary)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", f"http://127.0.0.1:{server.server_address[1]}")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "standin-key")
    monkeypatch.setenv("DISABLE_TELEMETRY", "1")
    monkeypatch.setenv("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
    monkeypatch.setenv("DISABLE_AUTOUPDATER", "1")
    return bin_dir


@pytest.mark.parametrize("who", ["root", "user"])
def test_claude_code_polecat_end_to_end(who, tmp_path, claude_env, standin):
    runner = run_as(who)  # first: skipped (failed under CI) without what it needs
    server, log = standin
    town = make_town(tmp_path)
    go = tmp_path / "go"
    work = bead(town, "Add hello", "gizmo", "```gt-script\nfiles: {hello.txt: \"hello\\n\"}\n"
                f"run: 'for i in $(seq 600); do test -e {go} && exit 0; sleep 0.1; done; exit 1'\n"
                "commit: Add hello\n```\n")
    sling = [*runner, str(BIN / "gt"), "sling", work, "gizmo", "--agent", "claude", "--model", MODEL, "--json"]
    done = subprocess.run(sling, cwd=town, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr

    # the model's second step is the wait: nudge now; the hook delivers it after that tool call
    wait_for(lambda: any("test -e" in (r.get("command") or "") for r in requests_seen(log)), 90,
             "the stand-in to hand out the waiting step")
    gt(town, "nudge", "gizmo/polecats/toast", "NUDGE-7f3a: main moved, rebase before gt done")
    gt(town, "mail", "send", "gizmo/polecats/toast", "-s", "MAIL-51c2 about the API", "-m", "read me")
    go.touch()
    session = wait_for(lambda: next((s for s in json.loads(gt(town, "agents", "--json").stdout)
                                     if s["state"] == "exited"), None), 120, "the Claude Code session to end")
    assert session["exit_code"] == 0, session
    seen = requests_seen(log)
    with_tools = [r for r in seen if r["tools"]]
    assert with_tools and {r["model"] for r in with_tools} == {MODEL}
    first = json.dumps(with_tools[0]["body"]["messages"])
    assert work in first and "Add hello" in first  # the prompt named the bead
    waited = next(i for i, r in enumerate(with_tools) if "test -e" in (r.get("command") or ""))
    assert "NUDGE-7f3a" not in json.dumps(with_tools[waited]["body"]["messages"])
    after = json.dumps(with_tools[waited + 1]["body"]["messages"])  # the request after the tool call
    assert "NUDGE-7f3a" in after and "MAIL-51c2" in after
    assert json.dumps(with_tools[-1]["body"]["messages"]).count("MAIL-51c2") == 1  # announced once

    branch = agent_record(town, "gizmo/polecats/toast")["branch"]
    author = git(town / "gizmo" / ".repo.git", "log", "-1", "--format=%an|%s", branch).strip()
    assert author == "gizmo/polecats/toast|Add hello"
    outcome = json.loads(gt(town, "refinery", "process", "gizmo", "--json").stdout)
    assert [o["result"] for o in outcome] == ["merged"]
    assert Bd(town).show(work)["status"] == "closed"

    # the runtime's own report, on the ledger: the stand-in's figures, the cost Claude Code priced
    def recorded() -> dict | None:
        groups = json.loads(Bd(town)("stats", "--group-by", "model", "--json").stdout)["groups"]
        return groups.get(MODEL) if (groups.get(MODEL) or {}).get("sessions") else None

    figures = wait_for(recorded, 30, "the usage to be recorded")
    assert figures["tokens_in"] == sum(r["usage"]["input_tokens"] for r in seen)
    assert figures["tokens_out"] == sum(r["usage"]["output_tokens"] for r in seen)
    assert figures["cache_read_tokens"] == sum(r["usage"]["cache_read_input_tokens"] for r in seen)
    assert figures["cost_usd"] and figures["cost_usd"] > 0 and figures["completed"] == 1
    costs = json.loads(gt(town, "costs", "--by", "model", "--json").stdout)
    assert costs["groups"][MODEL]["tokens_in"] == figures["tokens_in"]
    usage = agent_record(town, "gizmo/polecats/toast").get("usage") or {}
    assert usage[work]["sessions"] == 1 and usage[work]["tokens_in"] == figures["tokens_in"]

    # an interactive session prints no report: its SessionEnd hook sums the transcript Claude Code wrote
    # (a headless session's hook records nothing: the runner did, from the report)
    [transcript] = [p for p in Path(os.environ["HOME"]).glob(".claude/projects/*/*.jsonl")
                    if session_id(p) == usage_trailer(town, "Session")]

    def session_end_hook() -> None:
        hook = subprocess.run([str(BIN / "gt"), "runtime-hook", "session-end"], cwd=town,
                              input=json.dumps({"transcript_path": str(transcript), "hook_event_name": "SessionEnd"}),
                              env={**os.environ, "BD_ACTOR": "gizmo/polecats/toast"},
                              capture_output=True, text=True, timeout=60)
        assert hook.returncode == 0 and hook.stderr == "", hook.stderr

    session_end_hook()
    assert agent_record(town, "gizmo/polecats/toast")["usage"][work]["sessions"] == 1
    from gt.town import rundir

    saved = rundir.folder(town, "agents") / f"{rundir.key('gizmo/polecats/toast')}.json"  # as if attached to
    saved.write_text(json.dumps({**json.loads(saved.read_text()), "interactive": True}))
    session_end_hook()
    summed = agent_record(town, "gizmo/polecats/toast")["usage"][work]
    assert summed["sessions"] == 2 and summed["tokens_in"] == 2 * figures["tokens_in"]
    assert summed["cost_usd"] == figures["cost_usd"]  # the transcript has no prices: that session's cost is unknown


def session_id(transcript: Path) -> str | None:
    for line in transcript.read_text().splitlines():
        entry = json.loads(line)
        if entry.get("sessionId"):
            return str(entry["sessionId"])
    return None


def usage_trailer(town: Path, key: str) -> str:
    message = git(town / "gizmo" / ".repo.git", "log", "-1", "--grep=^Op: usage$", "--format=%B", "beads")
    return next(line.split(": ", 1)[1] for line in message.splitlines() if line.startswith(f"{key}: "))


def test_a_runtime_that_cannot_start_says_why_within_one_patrol(tmp_path, claude_env):
    # what older towns were given: refused as root; elsewhere an unknown option fails the same way
    bad = "--dangerously-skip-permissions" if os.geteuid() == 0 else "--no-such-option"
    town = make_town(tmp_path)
    config = town / "settings" / "config.yaml"
    config.write_text(config.read_text().replace(
        "agents:\n", f"agents:\n  old-claude:\n    command: [claude, {bad}, -p, '{{prompt}}']\n", 1))
    work = bead(town, "Add hello", "gizmo", "Say hello.")
    gt(town, "sling", work, "gizmo", "--agent", "old-claude")
    wait_for(lambda: next((s for s in json.loads(gt(town, "agents", "--json").stdout)
                           if s.get("ended")), None), 60, "the runtime to give up")
    why = "cannot be used with root" if os.geteuid() == 0 else "no-such-option"
    [session] = json.loads(gt(town, "agents", "--json").stdout)
    assert session["state"] == "exited" and session["exit_code"] != 0 and why in session["ended"]
    assert why in gt(town, "agents").stdout and why in gt(town, "status").stdout
    [decision] = json.loads(gt(town, "witness", "patrol", "gizmo", "--json").stdout)
    assert decision["action"] == "escalate" and why in decision["reason"]
    [mail] = json.loads(gt(town, "mail", "inbox", "--identity", "mayor", "--json").stdout)
    assert mail["title"].startswith(f"ESCALATED {work}") and why in mail["description"]

    doctor = gt(town, "doctor", "--json", ok=False)
    assert "agents.old-claude.command runs claude without {model}" in doctor.stdout
    gt(town, "doctor", "--fix", ok=False)
    assert "preset: claude" in config.read_text() and bad not in config.read_text()
    assert "old-claude" not in gt(town, "doctor", "--json", ok=False).stdout


def test_the_preset_passes_the_model_only_when_there_is_one(tmp_path):
    from gt.roles.runtimes import command_for
    from gt.town.settings import load

    town = make_town(tmp_path, rigs={})
    settings = load(town)
    values = {"prompt": "p", "prompt_file": "/f", "identity": "mayor", "worktree": "/w", "settings_file": "/s"}
    with_model = command_for(settings, "claude", {**values, "model": "opus"})
    assert with_model[:4] == ["claude", "-p", "--model", "opus"] and "/s" in with_model
    without = command_for(settings, "claude", {**values, "model": ""})
    assert "--model" not in without and without[:3] == ["claude", "-p", "--permission-mode"]
    assert command_for(settings, "codex", {**values, "model": "gpt-5"})[:5] == ["codex", "exec", "--json", "-m", "gpt-5"]
    assert "-m" not in command_for(settings, "codex", {**values, "model": ""})
    huge = {**values, "model": "", "prompt": "x" * (200 * 1024)}
    assert command_for(settings, "claude", huge)  # the prompt goes on stdin: no argument carries it


def test_the_demo_runs_with_claude_code(tmp_path, claude_env, standin):
    """`gt demo --agent claude` against the stand-in, as docs/agents.md says to run it."""
    _, log = standin
    done = subprocess.run([str(BIN / "gt"), "demo", "--agent", "claude", "--dir", str(tmp_path / "demo")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "convoy" in done.stdout and "landed" in done.stdout
    models = {r["model"] for r in requests_seen(log) if r["tools"]}
    assert models == {"model-a", "model-b"}  # the demo's two models, each passed to Claude Code
    ledger = git(tmp_path / "demo" / "gt" / "gizmo" / ".repo.git", "log", "--format=%s", "beads")
    assert "usage of gizmo/polecats/" in ledger


def test_the_mayor_talks_to_claude_code_in_tmux(tmp_path, claude_env, standin, tmux):
    """`gt mayor attach`: Claude Code's interactive form in tmux. A nudge comes with the next prompt
    typed (UserPromptSubmit), and when the session ends its SessionEnd hook records the transcript's
    usage (an interactive session prints no report, so its cost stays unknown)."""
    _, log = standin
    town = make_town(tmp_path)
    key = os.environ["ANTHROPIC_API_KEY"]
    # what a person answers once on a new machine: onboarding done, this key approved, the folder trusted
    (Path(os.environ["HOME"]) / ".claude.json").write_text(json.dumps({
        "hasCompletedOnboarding": True, "theme": "dark",
        "customApiKeyResponses": {"approved": [key[-20:]], "rejected": []},
        "projects": {str(town / "mayor"): {"hasTrustDialogAccepted": True, "hasCompletedProjectOnboarding": True}}}))
    data = json.loads(gt(town, "mayor", "attach", "--agent", "claude", "--model", "model-m", "--no-attach",
                         "--json").stdout)
    name = data["tmux"]
    first = wait_for(lambda: next((r for r in requests_seen(log) if r["tools"]), None), 60,
                     "Claude Code's first request")
    assert first["model"] == "model-m" and "you are mayor" in json.dumps(first["body"]["messages"])
    gt(town, "nudge", "mayor", "NUDGE-2c9e: the convoy landed")
    wait_for(lambda: tmux("send-keys", "-t", f"={name}:", "-l", "what is new?").returncode == 0, 10)
    tmux("send-keys", "-t", f"={name}:", "Enter")
    second = wait_for(lambda: next((r for r in requests_seen(log)[1:] if r["tools"]
                                    and "what is new?" in json.dumps(r["body"]["messages"])), None), 60,
                      "the typed prompt to reach the model")
    assert "NUDGE-2c9e" in json.dumps(second["body"]["messages"])
    wait_for(lambda: "Nothing on my hook" in "\n".join(json.loads(gt(town, "session", "peek", "mayor", "--json")
                                                                  .stdout)["lines"]), 60, "the answer on screen")
    tmux("send-keys", "-t", f"={name}:", "-l", "/exit")
    tmux("send-keys", "-t", f"={name}:", "Enter")
    ended = wait_for(lambda: next((s for s in json.loads(gt(town, "agents", "--json").stdout)
                                   if s["identity"] == "mayor" and s.get("ended")), None), 60,
                     "the mayor's session to end")
    assert ended["exit_code"] == 0, ended
    seen = [r for r in requests_seen(log) if r["model"] == "model-m"]
    message = git(town, "log", "-1", "--grep=^Op: usage$", "--format=%B", "beads")
    assert "Worker: mayor" in message and "Model: model-m" in message and "Cost-Usd" not in message
    assert f"Tokens-In: {sum(r['usage']['input_tokens'] for r in seen)}" in message
    assert f"Tokens-Out: {sum(r['usage']['output_tokens'] for r in seen)}" in message

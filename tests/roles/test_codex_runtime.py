"""The real OpenAI Codex CLI against the stand-in model service on 127.0.0.1 (Responses API).

Only the model is a stand-in (gt.agents.model_standin): the runtime is the native binary npm ships
in `@openai/codex@<version>-linux-<arch>` (vendor/<target>/bin/codex), fetched once with `npm pack`
and cached in ~/.cache/gt-tests (or $GT_TEST_CACHE). Codex is pointed at the stand-in by a model
provider in a private CODEX_HOME's config.toml; it runs `codex exec --json` as root and as an
unprivileged user, takes the `-m` model, runs the stand-in's shell steps in a scratch git repo
(one of them outlives a tool call, so Codex's `write_stdin` poll is played too) and reports the
stand-in's usage figures in its closing `turn.completed` event (there `gt` is a fake that records
how it was called). As a polecat in a town, with the shipped preset and the real `gt`, it records its
usage on the ledger, gets a nudge and new mail through its PostToolUse hook, and its role and bead
again through its SessionStart hook after its context is compacted; as a crew member in tmux (the
preset's interactive form), a nudge with the next prompt typed, through its UserPromptSubmit hook.
"""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from conftest import npm_arch, npm_program, requests_seen, run_as

VERSION = "0.171.0"  # the Codex release these tests run
MODEL = "gpt-standin"  # any name: Codex passes it on (and warns that it has no metadata for it)
RUN_TIMEOUT = 90
TARGETS = {"x64": "x86_64-unknown-linux-musl", "arm64": "aarch64-unknown-linux-musl"}  # npm's arch: Rust's
pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="session")
def codex_binary() -> Path:
    """The real `codex` binary of VERSION: from the cache, else downloaded from the npm registry."""
    arch = npm_arch()
    return npm_program(f"@openai/codex@{VERSION}-linux-{arch}", f"package/vendor/{TARGETS[arch]}/bin/codex",
                       f"codex/{VERSION}/codex", f"codex-cli {VERSION}")


def run(*args: str, cwd: Path) -> str:
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, f"{args}: {done.stderr}"
    return done.stdout


@pytest.mark.parametrize("who", ["root", "user"])
def test_codex_exec_plays_the_script_against_the_standin(who, tmp_path, codex_binary, standin):
    runner = run_as(who)  # first: skipped (failed under CI) without what it needs
    server, log = standin
    repo = tmp_path / "repo"
    repo.mkdir()
    run("git", "init", "-q", cwd=repo)
    run("git", "config", "user.name", "Codex Test", cwd=repo)
    run("git", "config", "user.email", "codex@example.invalid", cwd=repo)
    run("git", "commit", "-q", "--allow-empty", "-m", "init", cwd=repo)

    bin_dir = tmp_path / "bin"  # a fake `gt`: the script's last step is `gt done`
    bin_dir.mkdir()
    calls = tmp_path / "gt-calls.txt"
    (bin_dir / "gt").write_text(f"#!/bin/sh\necho \"$*\" >> {calls}\n")
    (bin_dir / "gt").chmod(0o755)
    home = tmp_path / "codex-home"
    home.mkdir()
    (home / "config.toml").write_text(
        'model_provider = "standin"\n\n[model_providers.standin]\nname = "standin"\n'
        f'base_url = "http://127.0.0.1:{server.server_address[1]}/v1"\n'
        'wire_api = "responses"\nenv_key = "STANDIN_API_KEY"\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "CODEX_"))}
    env.update(PATH=f"{bin_dir}{os.pathsep}{env['PATH']}", CODEX_HOME=str(home), STANDIN_API_KEY="standin-key")

    prompt = ("Work on bead gt-1: Add hello.\n\n```gt-script\nfiles: {hello.txt: \"hello\\n\"}\n"
              "run: 'sleep 2 && echo ran > ran.txt'\ncommit: Add hello\n```\n")
    command = [*runner, str(codex_binary), "exec", "--json", "-m", MODEL, "--skip-git-repo-check",
               "--dangerously-bypass-approvals-and-sandbox", "-"]
    done = subprocess.run(command, cwd=repo, input=prompt, env=env, capture_output=True, text=True,
                          timeout=RUN_TIMEOUT)
    assert done.returncode == 0, done.stderr[-3000:]
    events = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]

    # the work: written, run, committed, submitted
    assert run("git", "log", "-1", "--format=%s", cwd=repo).strip() == "Add hello"
    assert run("git", "show", "HEAD:hello.txt", cwd=repo) == "hello\n"
    assert run("git", "show", "HEAD:ran.txt", cwd=repo) == "ran\n"
    assert run("git", "status", "--porcelain", cwd=repo) == ""
    assert calls.read_text().splitlines() == ["done"]

    # what the stand-in saw: the model asked for, the prompt, tool calls Codex accepted, one poll
    seen = requests_seen(log)
    assert seen and {r["path"] for r in seen} == {"/v1/responses"} and {r["model"] for r in seen} == {MODEL}
    assert all(r["stream"] for r in seen)
    assert "gt-script" in json.dumps(seen[0]["body"]["input"])
    history = seen[-1]["body"]["input"]
    calls_made = [i["name"] for i in history if i.get("type") == "function_call"]
    assert calls_made.count("exec_command") == 4 and "write_stdin" in calls_made, calls_made
    outputs = [json.dumps(i.get("output")) for i in history if i.get("type") == "function_call_output"]
    assert outputs and not any("unsupported call" in o for o in outputs), outputs

    # Codex's own report: its JSON events, ending with the turn's usage, the stand-in's figures summed
    kinds = [e["type"] for e in events]
    assert kinds[0] == "thread.started" and kinds[-1] == "turn.completed" and "turn.failed" not in kinds
    commands = [e["item"] for e in events if e["type"] == "item.completed"
                and e["item"].get("type") == "command_execution"]
    assert [c["exit_code"] for c in commands] == [0, 0, 0, 0], commands
    usage = events[-1]["usage"]
    assert usage["input_tokens"] == sum(r["usage"]["input_tokens"] for r in seen)
    assert usage["cached_input_tokens"] == sum(r["usage"]["cache_read_input_tokens"] for r in seen)
    assert usage["output_tokens"] == sum(r["usage"]["output_tokens"] for r in seen)
    assert not any("model" in e or "cost" in json.dumps(e.get("usage") or {}) for e in events)  # it names neither


@pytest.fixture
def codex_town_env(tmp_path, codex_binary, standin, monkeypatch):  # type: ignore[no-untyped-def]
    """`codex` on PATH and pointed at the stand-in (a private CODEX_HOME), for every process the town
    starts; returns the config.toml, for a test to add to."""
    server, _ = standin
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "codex").symlink_to(codex_binary)
    home = tmp_path / "codex-home"
    home.mkdir()
    config = home / "config.toml"
    config.write_text(
        'model_provider = "standin"\n\n[model_providers.standin]\nname = "standin"\n'
        f'base_url = "http://127.0.0.1:{server.server_address[1]}/v1"\n'
        'wire_api = "responses"\nenv_key = "STANDIN_API_KEY"\n')
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("CODEX_HOME", str(home))
    monkeypatch.setenv("STANDIN_API_KEY", "standin-key")
    return config


def session_ended(town: Path) -> dict | None:
    from conftest import gt

    return next((s for s in json.loads(gt(town, "agents", "--json").stdout) if s.get("ended")), None)


def developer_texts(request: dict) -> list[str]:
    """The developer messages of a logged Responses-API request: where Codex puts a hook's context."""
    return [part.get("text", "") for item in request["body"]["input"]
            if item.get("type") == "message" and item.get("role") == "developer"
            for part in item.get("content") or [] if isinstance(part, dict)]


def test_codex_as_a_polecat_in_a_town(tmp_path, codex_town_env, standin):
    """`gt sling --agent codex --model M`: the shipped preset, the town's real `gt`, usage on the ledger."""
    from conftest import Bd, agent_record, bead, gt, make_town, wait_for

    _, log = standin
    town = make_town(tmp_path)
    work = bead(town, "Add hello", "gizmo", "```gt-script\nfiles: {hello.txt: \"hello\\n\"}\ncommit: Add hello\n```\n")
    gt(town, "sling", work, "gizmo", "--agent", "codex", "--model", MODEL)
    session = wait_for(lambda: session_ended(town), 120, "the Codex session to end")
    assert session["exit_code"] == 0, session
    assert [o["result"] for o in json.loads(gt(town, "refinery", "process", "gizmo", "--json").stdout)] == ["merged"]
    assert Bd(town).show(work)["status"] == "closed"
    seen = requests_seen(log)
    assert {r["model"] for r in seen} == {MODEL}
    figures = json.loads(Bd(town)("stats", "--group-by", "model", "--json").stdout)["groups"][MODEL]
    cached = sum(r["usage"]["cache_read_input_tokens"] for r in seen)
    assert figures["tokens_in"] == sum(r["usage"]["input_tokens"] for r in seen) - cached  # Codex counts cached in
    assert figures["cache_read_tokens"] == cached and figures["cost_usd"] is None  # Codex reports no cost
    assert agent_record(town, "gizmo/polecats/toast")["usage"][work]["sessions"] == 1
    hooks_said = [t for r in seen for t in developer_texts(r) if t.startswith(("Gas Town", "# Gas Town"))]
    assert hooks_said == []  # the hooks ran, with nothing to add: no nudge, no new mail, no compaction


def test_codex_polecat_gets_a_nudge_through_its_hook(tmp_path, codex_town_env, standin):
    """The preset's PostToolUse hook (`gt runtime-hook post-tool-use`): a nudge and new mail reach the
    model with the request after the shell command that was running when they were sent."""
    from conftest import Bd, bead, gt, make_town, wait_for

    _, log = standin
    town = make_town(tmp_path)
    go = tmp_path / "go"
    wait = f"for i in $(seq 600); do test -e {go} && exit 0; sleep 0.1; done; exit 1"
    work = bead(town, "Add hello", "gizmo", "```gt-script\nfiles: {hello.txt: \"hello\\n\"}\n"
                f"run: '{wait}'\ncommit: Add hello\n```\n")
    gt(town, "sling", work, "gizmo", "--agent", "codex", "--model", MODEL)

    # the model's second step is the wait: nudge now; the hook runs when that command has ended
    wait_for(lambda: any(r["command"] == wait for r in requests_seen(log)), 90,
             "the stand-in to hand out the waiting step")
    gt(town, "nudge", "gizmo/polecats/toast", "NUDGE-7f3a: main moved, rebase before gt done")
    gt(town, "mail", "send", "gizmo/polecats/toast", "-s", "MAIL-51c2 about the API", "-m", "read me")
    go.touch()
    session = wait_for(lambda: session_ended(town), 120, "the Codex session to end")
    assert session["exit_code"] == 0, session

    seen = requests_seen(log)
    waiting = [i for i, r in enumerate(seen) if r["command"] == wait]  # handing out the step (then any polls)
    assert not any("NUDGE-7f3a" in json.dumps(seen[i]["body"]["input"]) for i in waiting)
    after = seen[waiting[-1] + 1]  # the request after the waiting command ended: the commit step
    assert "git commit" in after["command"]
    [context] = [t for t in developer_texts(after) if "NUDGE-7f3a" in t]  # Codex adds it as a developer message
    assert context.startswith("Gas Town, while you work:") and "MAIL-51c2" in context
    assert json.dumps(seen[-1]["body"]["input"]).count("MAIL-51c2") == 1  # announced once
    assert [o["result"] for o in json.loads(gt(town, "refinery", "process", "gizmo", "--json").stdout)] == ["merged"]
    assert Bd(town).show(work)["status"] == "closed"


def test_codex_polecat_is_primed_again_after_a_compaction(tmp_path, codex_town_env, standin, monkeypatch):
    """The preset's SessionStart hook (source `compact`: `gt prime --hook`): when Codex compacts the
    conversation mid-session, the model gets its role and hooked bead again in the next request."""
    from conftest import Bd, bead, gt, make_town, wait_for

    from gt.agents import model_standin

    _, log = standin
    codex_town_env.write_text(codex_town_env.read_text().replace(
        "model_provider =", "model_auto_compact_token_limit = 20000\nmodel_provider =", 1))
    events, answered = model_standin.openai_events, []

    def first_one_large(response):  # type: ignore[no-untyped-def]
        if not answered:  # the first answer reports a context over the limit: Codex compacts after its step
            response = {**response, "usage": {**response["usage"], "input_tokens": 100000, "total_tokens": 100050}}
        answered.append(response["id"])
        return events(response)

    monkeypatch.setattr(model_standin, "openai_events", first_one_large)
    town = make_town(tmp_path)
    work = bead(town, "Add hello", "gizmo", "```gt-script\nfiles: {hello.txt: \"hello\\n\"}\ncommit: Add hello\n```\n")
    gt(town, "sling", work, "gizmo", "--agent", "codex", "--model", MODEL)
    session = wait_for(lambda: session_ended(town), 120, "the Codex session to end")
    assert session["exit_code"] == 0, session

    seen = requests_seen(log)
    [compaction] = [i for i, r in enumerate(seen) if "CONTEXT CHECKPOINT COMPACTION" in json.dumps(r["body"]["input"])]
    assert compaction == 1 and not seen[compaction]["tools"]  # after the first step: the summary, asked for
    primed = [t for t in developer_texts(seen[compaction + 1]) if t.startswith("# Gas Town: you are gizmo/polecats/")]
    assert len(primed) == 1 and work in primed[0]  # the role and the bead on the hook, once
    before = [t for r in seen[:compaction + 1] for t in developer_texts(r)]
    assert not any(t.startswith("# Gas Town") for t in before)  # not at startup: the prompt has it already
    assert [o["result"] for o in json.loads(gt(town, "refinery", "process", "gizmo", "--json").stdout)] == ["merged"]
    assert Bd(town).show(work)["status"] == "closed"


def test_codex_crew_session_gets_a_nudge_with_the_next_prompt(tmp_path, tmux, codex_town_env, standin):
    """The preset's interactive form (`gt crew attach`, in tmux): its UserPromptSubmit hook
    (`gt runtime-hook user-prompt-submit`) hands a nudge to the model with the next prompt typed."""
    from conftest import gt, make_town, wait_for

    from gt.roles.runtimes import tmux_name

    _, log = standin
    town = make_town(tmp_path)
    gt(town, "crew", "add", "joe", "--rig", "gizmo")
    clone = town / "gizmo" / "crew" / "joe"
    with open(codex_town_env, "a") as config:  # what a person answers once to Codex's "Trust this folder?"
        config.write(f'\n[projects."{clone}"]\ntrust_level = "trusted"\n')

    def typed(text: str) -> list[int]:  # the requests whose conversation holds a prompt typed in the session
        return [i for i, r in enumerate(requests_seen(log)) if r["tools"] and any(
            text in json.dumps(item.get("content")) for item in r["body"]["input"] if item.get("role") == "user")]

    try:
        gt(town, "crew", "attach", "joe", "--rig", "gizmo", "--agent", "codex", "--model", MODEL, "--no-attach")
        wait_for(lambda: typed("# Gas Town: you are gizmo/crew/joe"), 60, "Codex to send the crew's prompt")
        pane = f"={tmux_name(town, 'gizmo/crew/joe')}:"

        def keys(*args: str) -> None:
            done = tmux("send-keys", "-t", pane, *args)
            assert done.returncode == 0, done.stderr

        def screen_shows(text: str) -> bool:
            return text in tmux("capture-pane", "-p", "-t", pane).stdout

        wait_for(lambda: screen_shows("Nothing on my hook to run."), 60,
                 "the stand-in's answer on the screen")  # the turn is over: the session waits for a prompt
        gt(town, "nudge", "gizmo/crew/joe", "NUDGE-c0de: the build is red")
        keys("-l", "PROMPT-2b: carry on")
        wait_for(lambda: screen_shows("PROMPT-2b: carry on"), 30, "the prompt to be typed")
        keys("Enter")
        [asked] = wait_for(lambda: typed("PROMPT-2b")[:1], 60, "Codex to send the typed prompt")
        seen = requests_seen(log)
        assert not any("NUDGE-c0de" in json.dumps(r["body"]["input"]) for r in seen[:asked])
        [context] = [t for t in developer_texts(seen[asked]) if "NUDGE-c0de" in t]
        assert context.startswith("Gas Town, while you work:")
        assert {r["model"] for r in seen if r["tools"]} == {MODEL}
    finally:
        gt(town, "crew", "stop", "joe", "--rig", "gizmo", ok=False)

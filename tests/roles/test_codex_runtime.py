"""The real OpenAI Codex CLI against the stand-in model service on 127.0.0.1 (Responses API).

Only the model is a stand-in (gt.agents.model_standin): the runtime is the native binary npm ships
in `@openai/codex@<version>-linux-<arch>` (vendor/<target>/bin/codex), fetched once with `npm pack`
and cached in ~/.cache/gt-tests (or $GT_TEST_CACHE). Codex is pointed at the stand-in by a model
provider in a private CODEX_HOME's config.toml; it runs `codex exec --json` as root and as an
unprivileged user, takes the `-m` model, runs the stand-in's shell steps in a scratch git repo
(one of them outlives a tool call, so Codex's `write_stdin` poll is played too) and reports the
stand-in's usage figures in its closing `turn.completed` event. This test is about Codex and the
stand-in only: `gt` here is a fake that records how it was called.
"""
from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

import pytest

VERSION = "0.171.0"  # the Codex release these tests run
CACHE = Path(os.environ.get("GT_TEST_CACHE") or Path.home() / ".cache" / "gt-tests")  # read before HOME is changed
MODEL = "gpt-standin"  # any name: Codex passes it on (and warns that it has no metadata for it)
NPM_TIMEOUT = 600
RUN_TIMEOUT = 90
pytestmark = pytest.mark.timeout(600)


def _platform() -> tuple[str, str]:
    """(npm package suffix, Rust target) of this machine."""
    machine = platform.machine().lower()
    if machine in ("x86_64", "amd64"):
        return "linux-x64", "x86_64-unknown-linux-musl"
    if machine in ("aarch64", "arm64"):
        return "linux-arm64", "aarch64-unknown-linux-musl"
    pytest.fail(f"no Codex build for {machine}")


@pytest.fixture(scope="session")
def codex_binary() -> Path:
    """The real `codex` binary of VERSION: from the cache, else downloaded from the npm registry."""
    target = CACHE / "codex" / VERSION / "codex"
    if target.is_file():
        return target
    if not shutil.which("npm"):
        pytest.fail("npm is needed to fetch Codex for this test (apt-get install npm)")
    suffix, triple = _platform()
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        packed = subprocess.run(["npm", "pack", "--silent", f"@openai/codex@{VERSION}-{suffix}"], cwd=tmp,
                                capture_output=True, text=True, timeout=NPM_TIMEOUT)
        assert packed.returncode == 0, f"npm pack failed: {packed.stderr[-2000:]}"
        [tarball] = Path(tmp).glob("*.tgz")
        wanted = f"package/vendor/{triple}/bin/codex"
        partial = Path(tmp) / "codex"
        with tarfile.open(tarball, "r|gz") as archive:  # streamed: stop at the binary
            for member in archive:
                if member.name == wanted:
                    extracted = archive.extractfile(member)
                    assert extracted is not None
                    with open(partial, "wb") as out:
                        shutil.copyfileobj(extracted, out)
                    break
        assert partial.is_file(), f"{wanted} is not in {tarball.name}"
        partial.chmod(0o755)
        version = subprocess.run([str(partial), "--version"], capture_output=True, text=True, timeout=60)
        assert version.stdout.strip() == f"codex-cli {VERSION}", version
        partial.replace(target)
    return target


@pytest.fixture
def standin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    from gt.agents import model_standin

    # a command outliving this wait makes Codex answer "still running": the stand-in then polls it
    monkeypatch.setattr(model_standin, "COMMAND_WAIT_MS", 500)
    log = tmp_path / "requests.jsonl"
    server = model_standin.serve(0, log)
    yield server, log
    server.shutdown()
    server.server_close()


def as_user(*args: str) -> list[str]:
    """A command run as an unprivileged user: uid 1000 in a user namespace of its own."""
    return ["unshare", "--user", "--map-user=1000", "--map-group=1000", *args]


def run(*args: str, cwd: Path) -> str:
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, f"{args}: {done.stderr}"
    return done.stdout


@pytest.mark.parametrize("who", ["root", "user"])
def test_codex_exec_plays_the_script_against_the_standin(who, tmp_path, codex_binary, standin):
    if who == "root" and os.geteuid() != 0:
        pytest.skip("runs as root only where the tests run as root (CI does)")
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
    command = [str(codex_binary), "exec", "--json", "-m", MODEL, "--skip-git-repo-check",
               "--dangerously-bypass-approvals-and-sandbox", "-"]
    if who == "user":
        command = as_user(*command)
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
    seen = [json.loads(line) for line in log.read_text().splitlines()]
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


def test_codex_as_a_polecat_in_a_town(tmp_path, codex_binary, standin, monkeypatch):
    """`gt sling --agent codex --model M`: the shipped preset, the town's real `gt`, usage on the ledger."""
    from conftest import Bd, agent_record, bead, gt, make_town, wait_for

    server, log = standin
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "codex").symlink_to(codex_binary)
    home = tmp_path / "codex-home"
    home.mkdir()
    (home / "config.toml").write_text(
        'model_provider = "standin"\n\n[model_providers.standin]\nname = "standin"\n'
        f'base_url = "http://127.0.0.1:{server.server_address[1]}/v1"\n'
        'wire_api = "responses"\nenv_key = "STANDIN_API_KEY"\n')
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("CODEX_HOME", str(home))
    monkeypatch.setenv("STANDIN_API_KEY", "standin-key")
    town = make_town(tmp_path)
    work = bead(town, "Add hello", "gizmo", "```gt-script\nfiles: {hello.txt: \"hello\\n\"}\ncommit: Add hello\n```\n")
    gt(town, "sling", work, "gizmo", "--agent", "codex", "--model", MODEL)
    session = wait_for(lambda: next((s for s in json.loads(gt(town, "agents", "--json").stdout)
                                     if s.get("exit_code") is not None), None), 120, "the Codex session to end")
    assert session["exit_code"] == 0, session
    assert [o["result"] for o in json.loads(gt(town, "refinery", "process", "gizmo", "--json").stdout)] == ["merged"]
    assert Bd(town).json("show", work)["status"] == "closed"
    seen = [json.loads(line) for line in log.read_text().splitlines()]
    assert {r["model"] for r in seen} == {MODEL}
    figures = json.loads(Bd(town)("stats", "--group-by", "model", "--json").stdout)["groups"][MODEL]
    cached = sum(r["usage"]["cache_read_input_tokens"] for r in seen)
    assert figures["tokens_in"] == sum(r["usage"]["input_tokens"] for r in seen) - cached  # Codex counts cached in
    assert figures["cache_read_tokens"] == cached and figures["cost_usd"] is None  # Codex reports no cost
    assert agent_record(town, "gizmo/polecats/toast")["usage"][work]["sessions"] == 1

"""Agent runtimes: configured commands started as detached processes in the agent's worktree.

The command template comes from the settings (`agents: {name: {command: [...]}}` or a shipped
`preset`); `{prompt}` is what `gt prime` prints, `{prompt_file}` a file holding it, `{model}` the
model asked for and `{settings_file}` the runtime's own settings for this session (Claude Code's
hooks). Each session runs under `gt.roles.runner`, which feeds the prompt on stdin when the entry
says so, keeps the output in the session's log and, when the runtime ends, records its exit and
its usage report. The pid, start time and log file are kept under the town's runtime directory,
not in git. `python` as the first word is this interpreter, so the scripted agent runs with the
installed package.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gt.ledger import git
from gt.errors import GtError, UsageError
from gt.town import rundir
from gt.town.identity import parse

if TYPE_CHECKING:
    from gt.town.settings import Agent, Settings


PLACEHOLDERS = ("prompt", "prompt_file", "identity", "worktree", "model", "settings_file")
MAX_ARGUMENT = 128 * 1024 - 1  # Linux refuses a single argument longer than this (MAX_ARG_STRLEN)
OPTIONAL = ("model",)  # left out, with the option before it, when there is no value


def entry_of(settings: Settings, agent: str) -> Agent:
    """The settings' entry for `agent`, its preset filled in; refuses an unknown agent."""
    if not agent:
        raise UsageError("no agent runtime configured: name one in settings/config.yaml (agents: and "
                         "default_agent:) or pass --agent")
    if agent not in settings.agents:
        raise UsageError(f"no agent runtime named {agent!r}: the settings name "
                         f"{', '.join(sorted(settings.agents)) or 'none'}")
    return settings.agents[agent].resolved()


def command_for(settings: Settings, agent: str, values: dict[str, str], interactive: bool = False) -> list[str]:
    """The agent's command with its placeholders filled; refuses an unknown agent, an empty or
    malformed template, and a bead-derived placeholder where a shell would evaluate it."""
    from gt.town.settings import shell_problem

    entry = entry_of(settings, agent)
    template = (entry.interactive or entry.command) if interactive else entry.command
    if not template:
        raise UsageError(f"agent {agent!r} has no command (a list of strings) in the settings")
    unsafe = shell_problem(template)
    if unsafe:
        raise UsageError(f"agent {agent!r}: {unsafe}")
    out: list[str] = []
    try:
        for part in template:
            if any(part in (f"{{{name}}}", f"={{{name}}}") or part.endswith(f"={{{name}}}")
                   for name in OPTIONAL if not values.get(name)):
                if part.startswith("{") and out and out[-1].startswith("-") and "{" not in out[-1]:
                    out.pop()  # `--model {model}` with no model: neither
                continue
            out.append(part.format(**values) if "{" in part else part)
    except (KeyError, IndexError, ValueError, AttributeError) as exc:
        raise UsageError(f"agent {agent!r}: its command {template!r} does not format ({exc}): the placeholders "
                         f"are {', '.join('{' + p + '}' for p in PLACEHOLDERS)}; write {{{{ and }}}} for braces") from None
    if not out:
        raise UsageError(f"agent {agent!r} has an empty command")
    too_long = next((part for part in out if len(part.encode()) > MAX_ARGUMENT), None)
    if too_long is not None:
        raise GtError(f"agent {agent!r}: an argument of its command is {len(too_long.encode()) // 1024} KiB, over "
                      "the 128 KiB the system allows: pass the prompt as {prompt_file}, or set `prompt: stdin`",
                      code="too_large")
    if out[0] in ("python", "python3"):
        out[0] = sys.executable
    return out


def check(settings: Settings, agent: str) -> None:
    """Refuse, before anything is written, an agent the settings do not define or whose program is
    not installed (a path relative to the worktree is checked when it starts)."""
    command = command_for(settings, agent, dict.fromkeys(PLACEHOLDERS, ""))
    require_program(agent, command[0], None, rundir.our_commands_first(dict(os.environ)))


def require_program(agent: str, program: str, worktree: Path | None, env: dict[str, str]) -> None:
    """Refuse a runtime whose program is not there: on `env`'s PATH, or a path (a relative one is
    checked from the worktree, when there is one)."""
    if "/" in program:
        if not os.path.isabs(program) and worktree is None:
            return
        path = Path(program) if os.path.isabs(program) else Path(worktree or ".") / program
        if path.is_file() and os.access(path, os.X_OK):
            return
        raise GtError(f"cannot start agent {agent!r}: {program} is not an executable file"
                      + (f" (from {worktree})" if worktree and not os.path.isabs(program) else ""), code="not_found")
    if not shutil.which(program, path=env.get("PATH")):
        raise GtError(f"cannot start agent {agent!r}: {program} is not installed (not found on PATH); install it, "
                      "or pick another runtime with --agent or default_agent in settings/config.yaml",
                      code="not_found")


def start(town: Path, identity: str, worktree: Path, agent: str, settings: Settings,
          model: str | None = None, interactive: bool = False) -> dict[str, Any]:
    """Start `identity`'s session: the agent's command in its worktree with the role environment,
    under the session runner (which records how it ended and what it used). `interactive` runs
    the agent's interactive form in tmux, for a person to attach to."""
    from filelock import FileLock

    with FileLock(str(rundir.folder(town, "agents") / f".{rundir.key(identity)}.lock")):
        return _start(town, identity, worktree, agent, settings, model, interactive)


def _start(town: Path, identity: str, worktree: Path, agent: str, settings: Settings,
           model: str | None, interactive: bool) -> dict[str, Any]:
    """`start` under the agent's lock: two starts at once (sling and a witness) make one session."""
    import secrets

    from gt.town.install import agent_env
    from gt.dispatch.prime import prime

    current = rundir.session(town, identity)
    if current and rundir.alive(current.get("pid")):
        raise GtError(f"{identity} is running already (pid {current['pid']})", code="busy")
    entry = entry_of(settings, agent)
    if interactive and not shutil.which("tmux"):
        raise GtError("an interactive session runs in tmux, and tmux is not installed", code="not_found")
    from gt.dispatch.notify import mark_seen

    mark_seen(town, identity)  # before the prompt is made: the hooks announce mail newer than this
    primed = prime(town, parse(identity), drain=False)
    prompt = primed["text"]
    bead = (primed.get("hook") or {}).get("id")
    key = rundir.key(identity)
    prompt_file = rundir.folder(town, "prompts") / f"{key}.md"
    rundir.write_private(prompt_file, prompt.encode("utf-8"))
    sessions = rundir.folder(town, "sessions")
    settings_file = sessions / f"{key}.{entry.preset or 'agent'}-settings.json"
    if entry.preset == "claude":
        rundir.write_json(settings_file, claude_settings())
    values = {"prompt": prompt, "prompt_file": str(prompt_file), "identity": identity, "worktree": str(worktree),
              "model": model or "", "settings_file": str(settings_file)}
    command = command_for(settings, agent, values, interactive)
    env = git.clean_env(None, **agent_env(town, identity), GT_AGENT=agent, **{rundir.SESSION_MARK: str(town)})
    rig = parse(identity).rig
    if rig:
        from gt.town.rigs import registry

        env["GT_TARGET_BRANCH"] = str(registry(town).get(rig, {}).get("default_branch", "main"))
    if model:
        env["GT_MODEL"] = model
    env = rundir.our_commands_first(env)
    require_program(agent, command[0], worktree, env)
    run = secrets.token_hex(8)
    log = rundir.folder(town, "logs") / f"{key}.log"
    spec = {"run": run, "town": str(town), "identity": identity, "agent": agent, "preset": entry.preset,
            "command": command, "cwd": str(worktree), "log": str(log), "bead": bead, "model": model,
            "stdin": str(prompt_file) if entry.prompt == "stdin" and not interactive else None,
            "interactive": interactive}
    spec_file = sessions / f"{key}.spec.json"
    rundir.write_json(spec_file, spec)
    runner = [sys.executable, "-m", "gt.roles.runner", str(spec_file)]
    use_tmux = interactive or (entry.tmux and shutil.which("tmux"))
    with rundir.open_private(log) as out:
        out.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} start {' '.join(command[:3])} …\n".encode())
        out.flush()
        if use_tmux:
            session_name = tmux_name(town, identity)
            # The tmux server (maybe started long ago, by anyone) gives a new session its own environment,
            # not this one: the session starts with TMUX_BOOTSTRAP, which takes the role's environment from
            # a private file (values never on a command line), removes it and becomes the runner. The tmux
            # client runs without the town's mark, so a server it starts is no stray of `gt down`.
            client_env = {k: v for k, v in os.environ.items() if k != rundir.SESSION_MARK}
            subprocess.run(["tmux", "kill-session", "-t", f"={session_name}"], capture_output=True, env=client_env)
            env_file = sessions / f"{key}.env.json"
            rundir.write_json(env_file, env)
            pane = f"={session_name}:"
            tmux = ["tmux", "new-session", "-d", "-s", session_name, "-x", "200", "-y", "50", "-c", str(worktree),
                    sys.executable, "-c", TMUX_BOOTSTRAP, str(env_file), *runner]
            if interactive:  # the screen goes to the log too, piped before the runtime can print anything
                tmux += [";", "pipe-pane", "-t", pane, f"cat >> {_quote(str(log))}"]
            tmux += [";", "display-message", "-p", "-t", pane, "#{pane_pid}"]
            done = subprocess.run(tmux, capture_output=True, text=True, env=client_env)
            if done.returncode != 0:
                env_file.unlink(missing_ok=True)
                raise GtError(f"cannot start agent {agent!r} in tmux: {done.stderr.strip() or done.returncode}")
            pid = int((done.stdout.split() or ["0"])[-1])
        else:
            session_name = None
            try:
                process = subprocess.Popen(runner, cwd=worktree, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                           stderr=subprocess.STDOUT, start_new_session=True)
            except OSError as exc:
                raise GtError(f"cannot start agent {agent!r} ({command[0]}): {exc.strerror}") from None
            pid = process.pid
    data = {"identity": identity, "pid": pid, "agent": agent, "model": model, "started_at": time.time(),
            "worktree": str(worktree), "log": str(log), "tmux": session_name, "run": run, "bead": bead,
            "interactive": interactive, "restarts": (current or {}).get("restarts", 0)}
    rundir.save_session(town, identity, data)
    return data


# What Claude Code may do in a session without asking (it runs with --permission-mode dontAsk: the
# rest is refused), and the hooks that keep it in the town: a fresh `gt prime` after its context is
# compacted, cleared or resumed (nudges waiting then come with it); nudges and new mail after each
# tool call and with each prompt; an interactive session's usage when it ends.
CLAUDE_TOOLS = ("Bash", "Edit", "MultiEdit", "Write", "Read", "Glob", "Grep", "NotebookEdit", "TodoWrite", "Task")


def claude_settings() -> dict[str, Any]:
    """The settings file a Claude Code session gets (`--settings`): its permissions and hooks."""
    def hook(command: str, matcher: str | None = None) -> list[dict[str, Any]]:
        entry: dict[str, Any] = {"hooks": [{"type": "command", "command": command, "timeout": 30}]}
        if matcher:
            entry["matcher"] = matcher
        return [entry]

    return {
        "permissions": {"allow": list(CLAUDE_TOOLS)},
        "hooks": {
            "SessionStart": hook("gt prime --hook", "compact|clear|resume"),
            "PostToolUse": hook("gt runtime-hook post-tool-use", "*"),
            "UserPromptSubmit": hook("gt runtime-hook user-prompt-submit"),
            "SessionEnd": hook("gt runtime-hook session-end"),
        },
    }


# The first program of a session in tmux: the role's environment from the file it is given (then
# removed), with the terminal tmux made for it, then the session runner in its place (same pid).
TMUX_BOOTSTRAP = """import json, os, sys
path, command = sys.argv[1], sys.argv[2:]
with open(path, encoding="utf-8") as f:
    env = json.load(f)
os.unlink(path)
env.update({k: os.environ[k] for k in ("TERM", "TMUX", "TMUX_PANE") if k in os.environ})
os.execve(command[0], command, env)
"""


def tmux_name(town: Path, identity: str) -> str:
    """The tmux session of `identity`: `gt-<town>-<identity>-<tag>`, the town a short digest of its
    path (one tmux server serves every town of a user), the identity with `/` and `.` as `_` (tmux
    would change `.` itself, and a target with `.` names a pane) and a digest of the identity itself,
    so `a.b` and `a_b` never share a session. Commands name it exactly as `=gt-…` (else tmux takes
    a prefix)."""
    import hashlib

    def digest(text: str) -> str:
        return hashlib.sha1(text.encode()).hexdigest()[:6]

    readable = rundir.key(identity).replace(".", "_").replace(":", "_")
    return f"gt-{digest(str(Path(town).resolve()))}-{readable}-{digest(identity)[:4]}"


def _quote(text: str) -> str:
    import shlex

    return shlex.quote(text)


def stop(town: Path, identity: str, grace: float = 10.0) -> bool:
    """Stop the agent's session (its whole process group); False when it was not running."""
    current = rundir.session(town, identity)
    if not current or not rundir.alive(current.get("pid")):
        return False
    if current.get("tmux"):
        subprocess.run(["tmux", "kill-session", "-t", f"={current['tmux']}"], capture_output=True)
    rundir.terminate(current["pid"], grace, force=False)  # waits: a restart right after finds it gone
    return True


def listing(town: Path) -> list[dict[str, Any]]:
    """Every session the town started, with whether it still runs (and how it ended when it has)."""
    out = []
    for data in rundir.sessions(town):
        running = rundir.alive(data.get("pid"))
        out.append({**data, "state": "running" if running else "exited",
                    "ended": None if running else rundir.exit_summary(data)})
    return out

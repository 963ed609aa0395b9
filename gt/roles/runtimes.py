"""Agent runtimes: configured commands started as detached processes in the agent's worktree.

The command template comes from the settings (`agents: {name: {command: [...]}}`); `{prompt}` is
what `gt prime` prints and `{prompt_file}` a file holding it. The pid, start time and log file are
kept under the town's runtime directory, not in git. `python` as the first word is this
interpreter, so the scripted agent runs with the installed package.
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
    from gt.town.settings import Settings


PLACEHOLDERS = ("prompt", "prompt_file", "identity", "worktree", "model")


def command_for(settings: Settings, agent: str, values: dict[str, str]) -> list[str]:
    """The agent's command with its placeholders filled; refuses an unknown agent, an empty or
    malformed template, and a bead-derived placeholder where a shell would evaluate it."""
    from gt.town.settings import shell_problem

    agents = settings.agents
    if not agent:
        raise UsageError("no agent runtime configured: name one in settings/config.yaml (agents: and "
                         "default_agent:) or pass --agent")
    if agent not in agents:
        raise UsageError(f"no agent runtime named {agent!r}: the settings name {', '.join(sorted(agents)) or 'none'}")
    template = agents[agent].command
    if not template:
        raise UsageError(f"agent {agent!r} has no command (a list of strings) in the settings")
    unsafe = shell_problem(template)
    if unsafe:
        raise UsageError(f"agent {agent!r}: {unsafe}")
    try:
        out = [part.format(**values) if "{" in part else part for part in template]
    except (KeyError, IndexError, ValueError, AttributeError) as exc:
        raise UsageError(f"agent {agent!r}: its command {template!r} does not format ({exc}): the placeholders "
                         f"are {', '.join('{' + p + '}' for p in PLACEHOLDERS)}; write {{{{ and }}}} for braces") from None
    if out[0] in ("python", "python3"):
        out[0] = sys.executable
    return out


def check(settings: Settings, agent: str) -> None:
    """Refuse, before anything is written, an agent the settings do not define or whose program is
    not installed (a path relative to the worktree is checked when it starts)."""
    command = command_for(settings, agent, dict.fromkeys(PLACEHOLDERS, ""))
    program = command[0]
    if "/" in program:
        found = os.path.isabs(program) and os.path.isfile(program) and os.access(program, os.X_OK)
        if os.path.isabs(program) and not found:
            raise GtError(f"cannot start agent {agent!r}: {program} is not an executable file", code="not_found")
    elif not shutil.which(program, path=rundir.our_commands_first(dict(os.environ)).get("PATH")):
        raise GtError(f"cannot start agent {agent!r}: {program} is not installed (not found on PATH); install it, "
                      "or pick another runtime with --agent or default_agent in settings/config.yaml",
                      code="not_found")


def start(town: Path, identity: str, worktree: Path, agent: str, settings: Settings,
          model: str | None = None) -> dict[str, Any]:
    """Start `identity`'s session: the agent's command in its worktree with the role environment."""
    from filelock import FileLock

    with FileLock(str(rundir.folder(town, "agents") / f".{rundir.key(identity)}.lock")):
        return _start(town, identity, worktree, agent, settings, model)


def _start(town: Path, identity: str, worktree: Path, agent: str, settings: Settings,
           model: str | None) -> dict[str, Any]:
    """`start` under the agent's lock: two starts at once (sling and a witness) make one session."""
    from gt.town.install import agent_env
    from gt.dispatch.prime import prime

    current = rundir.session(town, identity)
    if current and rundir.alive(current.get("pid")):
        raise GtError(f"{identity} is running already (pid {current['pid']})", code="busy")
    prompt = prime(town, parse(identity), drain=False)["text"]
    key = rundir.key(identity)
    prompt_file = rundir.folder(town, "prompts") / f"{key}.md"
    rundir.write_private(prompt_file, prompt.encode("utf-8"))
    values = {"prompt": prompt, "prompt_file": str(prompt_file), "identity": identity, "worktree": str(worktree),
              "model": model or ""}
    command = command_for(settings, agent, values)
    env = git.clean_env(None, **agent_env(town, identity), GT_AGENT=agent, **{rundir.SESSION_MARK: str(town)})
    rig = parse(identity).rig
    if rig:
        from gt.town.rigs import registry

        env["GT_TARGET_BRANCH"] = str(registry(town).get(rig, {}).get("default_branch", "main"))
    if model:
        env["GT_MODEL"] = model
    env = rundir.our_commands_first(env)
    log = rundir.folder(town, "logs") / f"{key}.log"
    use_tmux = settings.agents[agent].tmux and shutil.which("tmux")
    with rundir.open_private(log) as out:
        out.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} start {' '.join(command[:3])} …\n".encode())
        out.flush()
        if use_tmux:
            session_name = f"gt-{key}"
            shell = " ".join(_quote(c) for c in command) + f" >> {_quote(str(log))} 2>&1"
            subprocess.run(["tmux", "new-session", "-d", "-s", session_name, "-c", str(worktree), shell],
                           env=env, check=True)
            pid = int(subprocess.run(["tmux", "display-message", "-p", "-t", session_name, "#{pane_pid}"],
                                     capture_output=True, text=True).stdout.strip() or 0)
        else:
            session_name = None
            try:
                process = subprocess.Popen(command, cwd=worktree, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                           stderr=subprocess.STDOUT, start_new_session=True)
            except OSError as exc:
                raise GtError(f"cannot start agent {agent!r} ({command[0]}): {exc.strerror}") from None
            pid = process.pid
    data = {"identity": identity, "pid": pid, "agent": agent, "model": model, "started_at": time.time(),
            "worktree": str(worktree), "log": str(log), "tmux": session_name, "restarts": (current or {}).get("restarts", 0)}
    rundir.save_session(town, identity, data)
    return data


def _quote(text: str) -> str:
    import shlex

    return shlex.quote(text)


def stop(town: Path, identity: str, grace: float = 10.0) -> bool:
    """Stop the agent's session (its whole process group); False when it was not running."""
    current = rundir.session(town, identity)
    if not current or not rundir.alive(current.get("pid")):
        return False
    if current.get("tmux"):
        subprocess.run(["tmux", "kill-session", "-t", current["tmux"]], capture_output=True)
    rundir.terminate(current["pid"], grace, force=False)  # waits: a restart right after finds it gone
    return True


def listing(town: Path) -> list[dict[str, Any]]:
    """Every session the town started, with whether it still runs."""
    out = []
    for data in rundir.sessions(town):
        running = rundir.alive(data.get("pid"))
        out.append({**data, "state": "running" if running else "exited"})
    return out

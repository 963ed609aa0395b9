"""Fast-changing facts that are not history: agent processes, nudges, activity. Never in git.

    <town>/.runtime/agents/<key>.json   pid, start time, log file, command of an agent's session
    <town>/.runtime/logs/<key>.log      the session's output
    <town>/.runtime/prompts/<key>.md    the prompt it was started with ({prompt_file})
    <town>/.runtime/nudges/<key>.jsonl  short messages waiting for the agent's next `gt prime`
"""
from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path
from typing import Any

RUNTIME = ".runtime"
SESSION_MARK = "GT_SESSION"  # in the environment of every process the town starts: `gt down` finds strays by it


def our_commands_first(env: dict[str, str]) -> dict[str, str]:
    """`env` with this installation's `gt` and `bd` first on PATH (for the processes the town starts)."""
    import sys

    return {**env, "PATH": os.pathsep.join([os.path.dirname(sys.executable), env.get("PATH", "")])}


def key(identity: str) -> str:
    """An identity as a file name: `gastown/polecats/nux` -> `gastown.polecats.nux`."""
    return identity.replace("/", ".")


def folder(town: Path, kind: str) -> Path:
    path = town / RUNTIME / kind
    path.mkdir(parents=True, exist_ok=True)
    return path


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Replace `path` atomically (a reader never sees half a file)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, path)


def read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def session(town: Path, identity: str) -> dict[str, Any] | None:
    return read_json(town / RUNTIME / "agents" / f"{key(identity)}.json")


def sessions(town: Path) -> list[dict[str, Any]]:
    folder_path = town / RUNTIME / "agents"
    found = [read_json(p) for p in sorted(folder_path.glob("*.json"))] if folder_path.is_dir() else []
    return [s for s in found if s]


def save_session(town: Path, identity: str, data: dict[str, Any]) -> None:
    write_json(folder(town, "agents") / f"{key(identity)}.json", data)


def alive(pid: int | None) -> bool:
    """Whether `pid` is a running process (a zombie is not)."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def nudge(town: Path, identity: str, message: str, sender: str) -> None:
    line = json.dumps({"from": sender, "message": message, "at": time.time()}) + "\n"
    with open(folder(town, "nudges") / f"{key(identity)}.jsonl", "a", encoding="utf-8") as f:
        f.write(line)  # one short append: atomic for concurrent senders


def drain_nudges(town: Path, identity: str) -> list[dict[str, Any]]:
    """The agent's waiting nudges, removed as they are read (each is delivered once)."""
    path = town / RUNTIME / "nudges" / f"{key(identity)}.jsonl"
    taken = path.with_name(f".{path.name}.{os.getpid()}")
    try:
        os.replace(path, taken)
    except FileNotFoundError:
        return []
    try:
        return [json.loads(line) for line in taken.read_text(encoding="utf-8").splitlines() if line.strip()]
    finally:
        taken.unlink(missing_ok=True)


def reserve(town: Path, identity: str) -> Path:
    """Mark an agent as being set up (by `gt sling`), so the witness leaves its worktree alone."""
    path = folder(town, "reserved") / key(identity)
    path.write_text(str(os.getpid()))
    return path


def reserved(town: Path, identity: str, max_age: float) -> bool:
    try:
        return time.time() - (town / RUNTIME / "reserved" / key(identity)).stat().st_mtime < max_age
    except OSError:
        return False


def terminate(pid_value: int | None, grace: float, force: bool) -> bool:
    """SIGTERM the process group, wait up to `grace` s (then SIGKILL with `force`); True when gone."""
    if not alive(pid_value):
        return True
    try:
        os.killpg(int(pid_value or 0), signal.SIGKILL if force else signal.SIGTERM)
    except ProcessLookupError:
        return True
    deadline = time.time() + grace
    while time.time() < deadline:
        if not alive(pid_value):
            return True
        time.sleep(0.1)
    if force:
        return not alive(pid_value)
    try:
        os.killpg(int(pid_value or 0), signal.SIGKILL)
    except ProcessLookupError:
        pass
    time.sleep(0.2)
    return not alive(pid_value)

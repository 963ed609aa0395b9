"""Fast-changing facts that are not history: agent processes, nudges, activity. Never in git.

    <town>/.runtime/agents/<key>.json   pid, start time, log file, command of an agent's session
    <town>/.runtime/logs/<key>.log      the session's output
    <town>/.runtime/prompts/<key>.md    the prompt it was started with ({prompt_file})
    <town>/.runtime/nudges/<key>.jsonl  short messages waiting for the agent's next `gt prime`
    <town>/.runtime/exits/<key>.json    how its last session ended: exit code, last log lines
    <town>/.runtime/sessions/<key>.*    the session runner's spec, a runtime's own settings file
    <town>/.runtime/machine-id          this machine's id in the town (the scheduler's affinity)

Prompts and logs hold what beads and agents say: `.runtime/` and its folders are its user's only
(0700) and the files written here 0600, whatever the umask.
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


PRIVATE_DIR, PRIVATE_FILE = 0o700, 0o600


def folder(town: Path, kind: str) -> Path:
    """`<town>/.runtime/<kind>/`, made (and kept) readable by this user only."""
    path = town / RUNTIME / kind
    for each in (town / RUNTIME, path):
        try:
            each.mkdir(mode=PRIVATE_DIR)
        except FileExistsError:
            pass
        _restrict(each, PRIVATE_DIR)
    return path


def _restrict(path: Path, mode: int) -> None:
    """Set `path`'s permission bits to `mode` (mkdir and open are subject to the umask; chmod is not)."""
    try:
        if path.stat().st_mode & 0o777 != mode:
            os.chmod(path, mode)
    except OSError:
        pass  # not ours to change: the folder's owner keeps it as it is


def open_private(path: Path, append: bool = True) -> Any:
    """`path` opened for binary writing (appending by default), created 0600 whatever the umask."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else os.O_TRUNC) | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags, PRIVATE_FILE)
    try:
        if os.fstat(fd).st_mode & 0o777 != PRIVATE_FILE:
            os.fchmod(fd, PRIVATE_FILE)  # an older file, or the umask took bits away
    except OSError:
        pass
    return os.fdopen(fd, "ab" if append else "wb")


def write_private(path: Path, data: bytes) -> None:
    """Replace `path` atomically with `data`, readable by this user only."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open_private(tmp, append=False) as out:
        out.write(data)
    os.replace(tmp, path)


MACHINE_FILE = "machine-id"


def machine_id(town: Path, create: bool = True) -> str | None:
    """This machine's id in the town (12 random hex digits, made once); None if none yet and not `create`."""
    path = town / RUNTIME / MACHINE_FILE
    found = _machine_in(path)
    if found or not create:
        return found
    import secrets

    from filelock import FileLock

    with FileLock(str(folder(town, "locks") / "machine-id.lock")):  # two first runs end with one id
        found = _machine_in(path)
        if found:
            return found
        made = secrets.token_hex(6)
        write_private(path, (made + "\n").encode())  # a damaged file is replaced: a new id
        return made


def _machine_in(path: Path) -> str | None:
    """The id `path` holds, when it holds a valid one."""
    from gt.model.schema import MACHINE_RE

    try:
        text = path.read_text(encoding="ascii").strip()
    except (OSError, ValueError):
        return None
    return text if MACHINE_RE.fullmatch(text) else None


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Replace `path` atomically (a reader never sees half a file)."""
    write_private(path, (json.dumps(data, indent=2, sort_keys=True) + "\n").encode())


def read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def session(town: Path, identity: str) -> dict[str, Any] | None:
    """The agent's last session, with how it ended when it has (`exit_code`, `ended_at`, `last_lines`)."""
    return _with_exit(town, read_json(town / RUNTIME / "agents" / f"{key(identity)}.json"))


def sessions(town: Path) -> list[dict[str, Any]]:
    folder_path = town / RUNTIME / "agents"
    found = [_with_exit(town, read_json(p)) for p in sorted(folder_path.glob("*.json"))] if folder_path.is_dir() else []
    return [s for s in found if s]


def _with_exit(town: Path, data: dict[str, Any] | None) -> dict[str, Any] | None:
    """`data` with the exit record of the same run (written by the session runner when it ends)."""
    if data and data.get("run") and isinstance(data.get("identity"), str):
        end = read_json(town / RUNTIME / "exits" / f"{key(data['identity'])}.json")
        if end and end.get("run") == data["run"]:
            data.update({k: end.get(k) for k in ("exit_code", "ended_at", "last_lines", "stopped")})
    return data


def save_exit(town: Path, identity: str, data: dict[str, Any]) -> None:
    """How a session ended: its run id, exit code, end time and last log lines."""
    write_json(folder(town, "exits") / f"{key(identity)}.json", data)


def exit_summary(data: dict[str, Any] | None) -> str | None:
    """"exited 1 after 0.4 s: <last log line>" for a session that ended, else None."""
    if not data or data.get("exit_code") is None:
        return None
    took = float(data.get("ended_at") or 0) - float(data.get("started_at") or 0)
    lines = [str(line) for line in data.get("last_lines") or [] if str(line).strip()]
    last = lines[-1].strip() if lines else ""
    code = data["exit_code"]
    how = f"ended by signal {-code}" if isinstance(code, int) and code < 0 else f"exited {code}"
    if data.get("stopped"):
        how = f"was stopped ({how})"
    return f"{how} after {max(took, 0):.1f} s" + (f": {last[:300]}" if last else "")


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
    with open_private(folder(town, "nudges") / f"{key(identity)}.jsonl") as f:
        f.write(line.encode("utf-8"))  # one short append: atomic for concurrent senders


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
    with open_private(path, append=False) as out:
        out.write(str(os.getpid()).encode())
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
    pid = int(pid_value or 0)
    _signal(pid, signal.SIGKILL if force else signal.SIGTERM)
    deadline = time.time() + grace
    while time.time() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.1)
    if force:
        return not alive(pid)
    _signal(pid, signal.SIGKILL)
    time.sleep(0.2)
    return not alive(pid)


def _signal(pid: int, number: int) -> None:
    """Signal `pid`'s process group, or the process alone when it leads none (a stray that stayed
    in another group): a group that does not exist must not pass for a process that is gone."""
    try:
        os.killpg(pid, number)
        return
    except ProcessLookupError:
        pass
    try:
        os.kill(pid, number)
    except ProcessLookupError:
        pass

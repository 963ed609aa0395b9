"""Sessions of the persistent roles: the mayor in `mayor/`, crew members in their clones.

They run the configured agent runtime with their `gt prime` context, like polecats, but nothing
hooks work for them automatically: they coordinate (mayor) or follow their human (crew).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from gt.errors import GtError
from gt.town import layout, rundir, settings as town_settings


def home_of(town: Path, identity: str) -> Path:
    from gt.town.identity import parse

    who = parse(identity)
    if identity == "mayor":
        return town / "mayor"
    if who.role == "crew":
        home = layout.rig_dir(town, str(who.rig)) / "crew" / str(who.agent)
        if not home.exists():
            raise GtError(f"no crew member {identity}", code="not_found")
        return home
    raise GtError(f"{identity} has no persistent session (polecats are started by `gt sling`)", code="refused")


def start_home(town: Path, identity: str, agent: str | None = None, model: str | None = None,
               interactive: bool = False) -> dict[str, Any]:
    """Start the mayor's or a crew member's session; `interactive`: the agent's interactive form, in tmux."""
    from gt.town.identity import parse
    from gt.roles import runtimes

    settings = town_settings.load(town, parse(identity).rig)
    role_agent, role_model = settings.session_defaults(parse(identity).role)
    agent = agent or role_agent or settings.default_agent
    return runtimes.start(town, identity, home_of(town, identity), agent, settings, model or role_model,
                          interactive=interactive)


def open_interactive(town: Path, identity: str, agent: str | None = None,
                     model: str | None = None) -> dict[str, Any]:
    """The session to attach to: the running one when it runs in tmux, else a new interactive one
    (`started` says which). A running session outside tmux (headless) is refused: stop it first."""
    from gt.town.identity import parse

    home_of(town, identity)
    current = rundir.session(town, identity)
    if current and rundir.alive(current.get("pid")):
        if not current.get("tmux"):
            who = parse(identity)
            stop = "gt mayor stop" if identity == "mayor" else f"gt crew stop {who.agent} --rig {who.rig}"
            raise GtError(f"{identity} runs headless (pid {current['pid']}), not in tmux: stop it first "
                          f"(`{stop}`), then attach", code="busy")
        return {**current, "started": False}
    return {**start_home(town, identity, agent, model, interactive=True), "started": True}


def stop_home(town: Path, identity: str) -> bool:
    from gt.roles import runtimes

    home_of(town, identity)
    return runtimes.stop(town, identity)


def status(town: Path, identity: str) -> dict[str, Any]:
    session = rundir.session(town, identity) or {}
    return {"identity": identity, "running": rundir.alive(session.get("pid")), **session}


PEEK_MAX_BYTES = 16 * 1024 * 1024  # the most of a log's end `peek` reads
_BLOCK = 64 * 1024


def peek(town: Path, identity: str, lines: int = 50) -> dict[str, Any]:
    """The last `lines` lines of `identity`'s session output, rendered for people: its tmux screen
    (with history) while it runs in tmux, else the end of its log."""
    from gt.roles.transcript import render

    session = rundir.session(town, identity)
    if not session:
        raise GtError(f"{identity} has no session on this machine", code="not_found")
    lines = max(int(lines), 1)
    running = rundir.alive(session.get("pid"))
    shown: list[str] | None = None
    if running and session.get("tmux"):
        shown = _screen(str(session["tmux"]), lines)
    source = "tmux" if shown is not None else "log"
    if shown is None:
        shown = _log_tail(Path(str(session.get("log") or "")), lines)
    return {"identity": identity, "source": source, "lines": render(shown)[-lines:], "running": running,
            "ended": None if running else rundir.exit_summary(session)}


def _screen(name: str, lines: int) -> list[str] | None:
    """The pane's last `lines` lines (history and screen, blank lines at its bottom left out); None
    when tmux cannot show it (the session just ended)."""
    import subprocess

    try:
        done = subprocess.run(["tmux", "capture-pane", "-p", "-J", "-t", f"={name}:", "-S", f"-{lines}"],
                              capture_output=True, text=True, errors="replace", timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    found = [line.rstrip() for line in done.stdout.splitlines()]
    while found and not found[-1]:
        found.pop()
    return found[-lines:]


def _log_tail(path: Path, lines: int) -> list[str]:
    """The log's last `lines` lines holding text, terminal control sequences removed: read backwards
    from its end in blocks, until they are in (or PEEK_MAX_BYTES were read)."""
    from gt.roles.transcript import plain

    try:
        f = open(path, "rb")
    except OSError:
        return []
    with f:
        end = start = f.seek(0, 2)
        blocks: list[bytes] = []
        found = 0
        while start > 0 and end - start < PEEK_MAX_BYTES and found <= lines:
            size = min(_BLOCK, start, PEEK_MAX_BYTES - (end - start))
            start -= size
            f.seek(start)
            block = f.read(size)
            blocks.insert(0, block)
            found += sum(1 for line in block.split(b"\n")[1:] if line.strip())  # about: a line may span blocks
    text = b"".join(blocks).decode("utf-8", "replace").split("\n")
    if start > 0:
        text = text[1:]  # it starts mid-line
    return [line for line in text if plain(line).strip()][-lines:]

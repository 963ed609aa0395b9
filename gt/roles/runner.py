"""The session runner: runs one agent runtime, then records how it ended and what it used.

`gt.roles.runtimes.start` starts `python -m gt.roles.runner SPEC` detached (or in tmux); the spec
(a 0600 JSON file in the runtime directory) names the command, its folder, the log, the prompt file
for stdin, the identity, the bead and the model asked for. The runner waits for the runtime, keeps
a SIGTERM for it (the whole process group gets one from `gt down`/the witness), then writes the
exit record (code, end time, last log lines) and, when the runtime printed a usage report
(Claude Code's `result` message, Codex's `turn.completed` events), one `Op: usage` ledger commit.
"""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from gt.dispatch.usage import Usage

TAIL_LINES = 15
MAX_REPORT_BYTES = 64 * 1024 * 1024  # the log segment read for a usage report
MAX_LINE = 4 * 1024 * 1024


def main(argv: list[str]) -> int:
    from gt.town import rundir

    if len(argv) != 1:
        print("usage: python -m gt.roles.runner SPEC_FILE", file=sys.stderr)
        return 2
    spec = rundir.read_json(Path(argv[0]))
    if not spec:
        print(f"gt runner: cannot read the session spec {argv[0]}", file=sys.stderr)
        return 2
    stopped: list[int] = []  # the signals that asked the session to end (from `gt down`, the witness)

    def keep(number: int, _frame: Any) -> None:
        stopped.append(number)  # the runtime got it too: wait for it, then record

    signal.signal(signal.SIGTERM, keep)
    signal.signal(signal.SIGHUP, keep)
    log_path = Path(spec["log"])
    started = time.time()
    with rundir.open_private(log_path) as log:
        offset = log.tell()
        code = _run(spec, log)
    ended = time.time()
    segment = _segment(log_path, offset)
    lines = [line for line in segment.decode("utf-8", "replace").splitlines() if line.strip()]
    town, identity = Path(spec["town"]), str(spec["identity"])
    try:
        if not spec.get("interactive"):  # an interactive log is a screen, not a report: its SessionEnd hook records
            usage = report(str(spec.get("preset") or ""), lines)
            if usage is not None and usage.reported():  # first: once the exit is on record, so is the usage
                _record(town, identity, spec, usage, code)
    finally:
        rundir.save_exit(town, identity, {"run": spec.get("run"), "exit_code": code, "ended_at": ended,
                                          "started_at": started, "stopped": bool(stopped),
                                          "last_lines": [_shown(line) for line in lines[-TAIL_LINES:]]})
    return code


def _run(spec: dict[str, Any], log: Any) -> int:
    """Run the runtime to its end; its exit code (127 when it cannot start, -N for a signal)."""
    stdin: Any = subprocess.DEVNULL
    if spec.get("interactive"):
        stdin, out = None, None  # the terminal tmux gives it
    else:
        out = log
        if spec.get("stdin"):
            stdin = open(spec["stdin"], "rb")
    try:
        child = subprocess.Popen(spec["command"], cwd=spec["cwd"], stdin=stdin, stdout=out,
                                 stderr=subprocess.STDOUT if out is not None else None)
    except OSError as exc:
        message = f"cannot start {spec['command'][0]}: {exc.strerror or exc}\n"
        if out is not None:
            out.write(message.encode())
        else:
            sys.stderr.write(message)
        return 127
    finally:
        if stdin not in (None, subprocess.DEVNULL):
            stdin.close()
    while True:
        try:
            return child.wait()
        except KeyboardInterrupt:
            continue


def _segment(path: Path, offset: int) -> bytes:
    """What this run appended to the log (at most MAX_REPORT_BYTES, from its end)."""
    try:
        with open(path, "rb") as f:
            size = f.seek(0, 2)
            f.seek(max(offset, size - MAX_REPORT_BYTES))
            return f.read()
    except OSError:
        return b""


def _shown(line: str) -> str:
    """A log line as `gt status` shows it: a JSON event of a runtime in a few words."""
    from gt.roles.transcript import render_line

    return render_line(line)[:500]


def _record(town: Path, identity: str, spec: dict[str, Any], usage: Usage, code: int) -> None:
    from gt.dispatch.usage import record
    from gt.errors import GtError
    from gt.ledger.store import Signature

    try:
        record(town, Signature(identity), identity, spec.get("bead"), usage, spec.get("model"),
               spec.get("agent"), code)
    except Exception as exc:  # the ledger refused (locked too long, a bad record): say so, lose nothing else
        why = str(exc) if isinstance(exc, GtError) else f"{type(exc).__name__}: {exc}"
        with open(spec["log"], "a", encoding="utf-8") as f:
            f.write(f"gt runner: could not record usage: {why}\n")


# -- usage reports ------------------------------------------------------------------------------

def report(preset: str, lines: list[str]) -> Usage | None:
    """The usage the runtime reported in its output, by preset (None: no report found)."""
    events = [event for event in (_json(line) for line in lines) if event is not None]
    if preset == "claude":
        return claude_report(events)
    if preset == "codex":
        return codex_report(events)
    return None


def _json(line: str) -> dict[str, Any] | None:
    line = line.strip()
    if not line.startswith("{") or len(line) > MAX_LINE:
        return None
    try:
        value = json.loads(line)
    except (ValueError, RecursionError):  # not JSON, or nested deeper than the parser goes
        return None
    return value if isinstance(value, dict) else None


def _count(value: Any) -> int | None:
    return value if type(value) is int and value >= 0 else None


def _sum(values: list[int | None]) -> int | None:
    known = [v for v in values if v is not None]
    return sum(known) if known else None


def claude_report(events: list[dict[str, Any]]) -> Usage | None:
    """Claude Code's `result` message (`--output-format json` or `stream-json`): tokens, cost,
    turns, duration and the model. A cost Claude Code priced on an unknown basis stays unknown."""
    result = next((e for e in reversed(events) if e.get("type") == "result"), None)
    if result is None:  # stopped before its report (SIGTERM: exit 143): what its transcript recorded
        init = next((e for e in events if e.get("type") == "system" and e.get("subtype") == "init"), {})
        transcript = _transcript(init.get("session_id"))
        if transcript is None:
            return None
        from gt.roles.usage_hook import transcript_usage

        return transcript_usage(transcript)
    usage = result.get("usage") if isinstance(result.get("usage"), dict) else {}
    models = result.get("modelUsage") if isinstance(result.get("modelUsage"), dict) else {}
    init = next((e for e in events if e.get("type") == "system" and e.get("subtype") == "init"), {})
    model = init.get("model") if isinstance(init.get("model"), str) else None
    if model is None and models:
        model = max(models, key=lambda m: (models[m] or {}).get("outputTokens") or 0 if isinstance(models[m], dict) else 0)
    cost = result.get("total_cost_usd")
    bases = [m.get("costBasis") for m in models.values() if isinstance(m, dict)]
    if not isinstance(cost, (int, float)) or isinstance(cost, bool) or not 0 <= cost < 1e9 or "unknown" in bases:
        cost = None  # not reported, or priced (even in part) on a basis Claude Code itself calls unknown
    return Usage(model=model, session=result.get("session_id") if isinstance(result.get("session_id"), str) else None,
                 tokens_in=_count(usage.get("input_tokens")), tokens_out=_count(usage.get("output_tokens")),
                 cache_read_tokens=_count(usage.get("cache_read_input_tokens")),
                 cache_write_tokens=_count(usage.get("cache_creation_input_tokens")),
                 cost_usd=float(cost) if cost is not None else None,
                 turns=_count(result.get("num_turns")), duration_ms=_count(result.get("duration_ms")))


def _transcript(session_id: Any) -> Path | None:
    """Claude Code's transcript of a session, by its id: `<config dir>/projects/<folder>/<id>.jsonl`."""
    import os
    import re

    if not isinstance(session_id, str) or not re.fullmatch(r"[0-9a-fA-F-]{8,64}", session_id):
        return None
    config = Path(os.environ.get("CLAUDE_CONFIG_DIR") or Path.home() / ".claude")
    found = sorted((config / "projects").glob(f"*/{session_id}.jsonl"))
    return found[0] if found else None


def codex_report(events: list[dict[str, Any]]) -> Usage | None:
    """Codex's `--json` events: the sum of every `turn.completed` usage (input counts cached
    tokens too: those are reported apart). Codex reports no cost: it stays unknown."""
    turns: list[dict[str, Any]] = [e["usage"] for e in events
                                   if e.get("type") == "turn.completed" and isinstance(e.get("usage"), dict)]
    if not turns:
        return None
    cached = _sum([_count(u.get("cached_input_tokens")) for u in turns])
    total_in = _sum([_count(u.get("input_tokens")) for u in turns])
    thread = next((e.get("thread_id") for e in events if e.get("type") == "thread.started"), None)
    model = next((e.get("model") for e in events if isinstance(e.get("model"), str)), None)
    return Usage(model=model, session=thread if isinstance(thread, str) else None,
                 tokens_in=None if total_in is None else max(total_in - (cached or 0), 0),
                 tokens_out=_sum([_count(u.get("output_tokens")) for u in turns]),
                 cache_read_tokens=cached, turns=len(turns))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

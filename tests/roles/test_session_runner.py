"""The session runner and what it leaves behind: the exit record, the lines people read, the witness's
reading of how a session ended, and nudges that must not be lost."""
from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import pytest

from conftest import Bd, bead, gt, wait_for

DEEP = "[" * 5000 + "]" * 5000  # JSON deeper than the parser goes: a RecursionError, not a ValueError


def test_lines_from_json_lose_their_terminal_control_and_deep_json_is_only_text():
    from gt.roles.transcript import render_line

    hostile = json.dumps({"type": "assistant", "message": {"content": [
        {"type": "text", "text": "hi \x1b]0;title\x07\x1b[2Jthere\x07"}]}})
    assert render_line(hostile) == "assistant: hi there"
    shown = render_line('{"a": ' + DEEP + "}")
    assert "\x1b" not in shown and shown.startswith('{"a": [[[')


def test_a_usage_sum_too_large_for_a_float_is_refused_not_a_crash():
    from gt.model.schema import usage_ok

    assert usage_ok({"tokens_in": 10, "cost_usd": 0.5})
    assert not usage_ok({"tokens_in": 10 ** 400}) and not usage_ok({"cost_usd": float("inf")})
    assert not usage_ok({"tokens_in": True}) and not usage_ok({"unknown": 1})


@pytest.mark.town(settings="")
def test_the_runner_records_how_a_session_ended_even_after_hostile_output(town):
    config = town / "settings" / "config.yaml"
    # a line of JSON nested past the parser's depth (braces spelt as chr(): the command is a template)
    program = ("import sys; print('starting'); print(chr(123) + '\"x\": ' + '[' * 5000 + ']' * 5000 + chr(125)); "
               "print('no key'); sys.exit(3)")
    config.write_text(config.read_text().replace(
        "agents:\n", f"agents:\n  broken: {{command: [python, -c, {json.dumps(program)}]}}\n", 1))
    work = bead(town, "work")
    gt(town, "sling", work, "gizmo", "--agent", "broken")
    session = wait_for(lambda: next((s for s in json.loads(gt(town, "agents", "--json").stdout)
                                     if s.get("ended")), None), 60, "the runner to end")
    assert session["exit_code"] == 3 and session["ended"].startswith("exited 3 after")
    assert session["ended"].endswith(": no key") and session["last_lines"][0] == "starting"
    [decision] = json.loads(gt(town, "witness", "patrol", "gizmo", "--json").stdout)
    assert decision["action"] == "escalate" and "no key" in decision["reason"]  # it cannot start: said at once


def test_a_stopped_session_is_resumed_not_counted_against_the_work(town):
    config = town / "settings" / "config.yaml"
    config.write_text(config.read_text().replace("agents:\n", "agents:\n  sleeper: {command: [sleep, '300']}\n", 1))
    from gt.roles import runtimes

    work = bead(town, "work")
    gt(town, "sling", work, "gizmo", "--agent", "sleeper")
    who = "gizmo/polecats/toast"
    time.sleep(1)  # the runner is up and keeps its SIGTERM
    assert runtimes.stop(town, who, grace=10)
    session = json.loads(gt(town, "agents", "--json").stdout)[0]
    assert session["stopped"] is True and session["ended"].startswith("was stopped")
    [decision] = json.loads(gt(town, "witness", "patrol", "gizmo", "--json").stdout)
    assert decision["action"] == "restart"
    assert not Bd(town).show(work).get("witness_restarts")  # a stop is not the work's failure
    gt(town, "down", "--force")


def test_nudges_the_prime_has_no_room_for_wait_for_the_next_look(town):
    work = bead(town, "work")
    gt(town, "sling", work, "gizmo", "--no-start")
    who = "gizmo/polecats/toast"
    for number in range(12):
        gt(town, "nudge", who, f"nudge number {number}: " + "please look at this " * 8)
    home = town / "gizmo" / "polecats" / "toast"
    text = gt(home, "prime").stdout
    shown = [n for n in range(12) if f"nudge number {n}:" in text]
    assert shown and len(shown) < 12 and "earlier nudges wait" in text
    waiting = json.loads(gt(home, "mail", "check", "--json").stdout)["nudges"]
    assert sorted(int(n["message"].split(":")[0].split()[-1]) for n in waiting) == \
        [n for n in range(12) if n not in shown]  # every nudge is delivered once, none lost
    assert json.loads(gt(home, "mail", "check", "--json").stdout)["nudges"] == []


def test_signal_names_are_kept_apart_from_error_exits():
    from gt.roles.witness import _failed_start

    start = {"started_at": 100.0, "ended_at": 101.0}
    assert _failed_start({**start, "exit_code": 1})
    assert not _failed_start({**start, "exit_code": -signal.SIGKILL})
    assert not _failed_start({**start, "exit_code": 143})
    assert not _failed_start({**start, "exit_code": 1, "stopped": True})
    assert not _failed_start({"started_at": 100.0, "ended_at": 200.0, "exit_code": 1})  # ran a while: a crash


def test_the_spec_file_path_is_all_the_runner_needs(tmp_path: Path):
    import subprocess
    import sys

    bad = subprocess.run([sys.executable, "-m", "gt.roles.runner", str(tmp_path / "missing.json")],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and bad.stderr.strip().startswith("gt runner: cannot read the session spec")

"""Interactive sessions of the mayor and the crew in tmux (`gt mayor attach`, `gt crew attach`), and
`gt session peek` at any agent's output. Real tmux (a server of the test's own: conftest's `tmux`), real
processes."""
from __future__ import annotations

import fcntl
import json
import os
import pty
import select
import struct
import subprocess
import termios
import time
from pathlib import Path

import pytest

from gt.roles.runtimes import tmux_name

from conftest import BIN, SCRIPT, TIMEOUT, bead, gt, wait_for

# An agent whose interactive form is a tiny real program: it greets with its identity and the
# BD_ACTOR of its environment, reads one line and answers it, then ends.
SHELL_AGENT = """  shell:
    command: [python, -c, "import time; time.sleep(60)"]
    interactive: [sh, -c, 'echo "ready: $1 as $BD_ACTOR"; read line; echo "got $line"', sh, '{identity}']
"""


@pytest.fixture
def shell_town(tmux, town: Path) -> Path:  # type: ignore[no-untyped-def]
    """The town with the shell agent (tmux set up first, so its kill-server comes after the town's `gt down`)."""
    config = town / "settings" / "config.yaml"
    config.write_text(config.read_text().replace("agents:\n", "agents:\n" + SHELL_AGENT, 1))
    return town


def peek(town: Path, identity: str, *args: str) -> dict:
    return json.loads(gt(town, "session", "peek", identity, "--json", *args).stdout)


def shown(town: Path, identity: str, text: str) -> dict | None:
    """The peek at `identity` when one of its lines holds `text`."""
    data = peek(town, identity)
    return data if any(text in line for line in data["lines"]) else None


def ended(town: Path, identity: str) -> dict | None:
    data = peek(town, identity)
    return data if not data["running"] and data["ended"] else None


def test_mayor_attach_starts_an_interactive_session_in_tmux_and_peek_follows_it(shell_town, tmux):
    town = shell_town
    data = json.loads(gt(town, "mayor", "attach", "--agent", "shell", "--no-attach", "--json").stdout)
    mayor = tmux_name(town, "mayor")
    assert (data["tmux"], data["started"], data["interactive"], data["agent"]) == (mayor, True, True, "shell")
    assert data["attach"] == f"tmux attach-session -t ={mayor}"
    assert tmux("has-session", "-t", f"={mayor}").returncode == 0
    seen = wait_for(lambda: shown(town, "mayor", "ready: mayor as mayor"), 30, "the mayor's greeting")
    assert (seen["source"], seen["running"], seen["ended"], seen["identity"]) == ("tmux", True, None, "mayor")
    again = json.loads(gt(town, "mayor", "attach", "--no-attach", "--json").stdout)  # running: kept, not restarted
    assert (again["started"], again["pid"]) == (False, data["pid"])
    text = gt(town, "mayor", "attach", "--no-attach").stdout
    assert text.strip() == (f"mayor: running in tmux session {mayor} (pid {data['pid']}, shell); "
                            f"attach with `tmux attach-session -t ={mayor}`")
    assert tmux("send-keys", "-t", f"={mayor}:", "hello there", "Enter").returncode == 0
    done = wait_for(lambda: ended(town, "mayor"), 30, "the mayor's session to end")
    assert done["source"] == "log" and done["ended"].startswith("exited 0 after")
    assert any("ready: mayor as mayor" in line for line in done["lines"])  # the screen went to the log
    assert any("got hello there" in line for line in done["lines"])
    assert all("\x1b" not in line and "\r" not in line for line in done["lines"])
    assert tmux("has-session", "-t", f"={mayor}").returncode != 0
    assert peek(town, "mayor", "-n", "1")["lines"] == [done["lines"][-1]]
    text = gt(town, "session", "peek", "mayor").stdout.splitlines()
    assert text[-1].startswith("--- mayor (exited 0 after") and text[-1].endswith("; from its log)")


def test_crew_attach_gets_its_own_environment_from_a_running_tmux_server(shell_town, tmux):
    town = shell_town
    gt(town, "mayor", "attach", "--agent", "shell", "--no-attach")  # the tmux server starts with the mayor
    wait_for(lambda: shown(town, "mayor", "ready: mayor"), 30, "the mayor's greeting")
    gt(town, "crew", "add", "joe", "--rig", "gizmo")
    data = json.loads(gt(town, "crew", "attach", "joe", "--rig", "gizmo", "--agent", "shell", "--no-attach",
                         "--json").stdout)
    joe = tmux_name(town, "gizmo/crew/joe")
    assert (data["tmux"], data["started"], data["identity"]) == (joe, True, "gizmo/crew/joe")
    assert joe.startswith("gt-") and "-gizmo_crew_joe-" in joe
    assert tmux_name(town, "gizmo/crew/a.b") != tmux_name(town, "gizmo/crew/a_b")  # never one session
    wait_for(lambda: shown(town, "gizmo/crew/joe", "ready: gizmo/crew/joe as gizmo/crew/joe"), 30, "joe's greeting")
    tmux("send-keys", "-t", f"={joe}:", "fix the build", "Enter")
    done = wait_for(lambda: ended(town, "gizmo/crew/joe"), 30, "joe's session to end")
    assert any("got fix the build" in line for line in done["lines"]) and done["source"] == "log"
    assert peek(town, "mayor")["running"]  # the crew's session did not touch the mayor's
    gt(town, "mayor", "stop")
    assert tmux("has-session", "-t", f"={tmux_name(town, 'mayor')}").returncode != 0


def test_attach_refuses_a_headless_session_and_needs_a_terminal(shell_town, tmux):
    town = shell_town
    no_tty = subprocess.run([str(BIN / "gt"), "mayor", "attach", "--agent", "shell"], cwd=town, stdin=subprocess.DEVNULL,
                            capture_output=True, text=True, timeout=TIMEOUT)
    assert no_tty.returncode == 1 and no_tty.stdout == ""
    assert no_tty.stderr.startswith("Error: attaching needs a terminal") and len(no_tty.stderr.splitlines()) == 1
    assert "--no-attach" in no_tty.stderr
    assert not json.loads(gt(town, "mayor", "status", "--json").stdout)["running"]  # nothing started
    gt(town, "mayor", "start", "--agent", "shell")  # headless
    try:
        refused = gt(town, "mayor", "attach", "--no-attach", ok=False)
        assert refused.returncode == 1 and len(refused.stderr.splitlines()) == 1
        assert "runs headless" in refused.stderr and "`gt mayor stop`" in refused.stderr
        gt(town, "crew", "add", "joe", "--rig", "gizmo")
        gt(town, "crew", "start", "joe", "--rig", "gizmo", "--agent", "shell")
        refused = gt(town, "crew", "attach", "joe", "--rig", "gizmo", "--no-attach", ok=False)
        assert refused.returncode == 1 and "`gt crew stop joe --rig gizmo`" in refused.stderr
        assert peek(town, "mayor")["source"] == "log"  # headless: its log, even while it runs
    finally:
        gt(town, "mayor", "stop", ok=False)
        gt(town, "crew", "stop", "joe", "--rig", "gizmo", ok=False)


def test_mayor_attach_in_a_terminal_starts_the_session_and_becomes_its_tmux_client(shell_town, tmux):
    town = shell_town
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    proc = subprocess.Popen([str(BIN / "gt"), "mayor", "attach", "--agent", "shell"], cwd=town, stdin=slave,
                            stdout=slave, stderr=slave, env={**os.environ, "TERM": "xterm"}, start_new_session=True)
    os.close(slave)
    screen = b""

    def read_until(text: bytes, timeout: float = 30) -> None:
        nonlocal screen
        deadline = time.monotonic() + timeout
        while text not in screen:
            assert time.monotonic() < deadline, f"no {text!r} on the terminal: {screen[-2000:]!r}"
            if select.select([master], [], [], 0.2)[0]:
                try:
                    screen += os.read(master, 65536)
                except OSError:  # the terminal closed
                    break
        assert text in screen, f"no {text!r} on the terminal: {screen[-2000:]!r}"

    try:
        read_until(b"ready: mayor as mayor")
        os.write(master, b"from the terminal\r")
        read_until(b"got from the terminal")
        assert proc.wait(timeout=30) == 0  # the session ended, so did the tmux client gt became
        wait_for(lambda: ended(town, "mayor"), 30, "the mayor's session to end")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        os.close(master)


def test_peek_reads_a_headless_polecats_log_and_refuses_an_unknown_identity(town, tmux):
    work = bead(town, "Add hello", script=SCRIPT.format(path="hello.txt", text="hello"))
    gt(town, "sling", work, "gizmo")
    done = wait_for(lambda: ended(town, "gizmo/polecats/toast"), 60, "the polecat to finish")
    assert done["source"] == "log" and done["ended"].startswith("exited 0")
    assert any("tests passed" in line for line in done["lines"])
    assert len(peek(town, "gizmo/polecats/toast", "-n", "2")["lines"]) == 2
    missing = gt(town, "session", "peek", "gizmo/polecats/nobody", ok=False)
    assert missing.returncode == 1 and missing.stdout == ""
    assert missing.stderr.strip() == "Error: gizmo/polecats/nobody has no session on this machine"
    as_json = gt(town, "session", "peek", "gizmo/polecats/nobody", "--json", ok=False)
    assert json.loads(as_json.stderr)["code"] == "not_found"


def test_peek_reads_only_the_end_of_a_long_log(tmp_path):
    from gt.roles import sessions
    from gt.town import rundir

    town = tmp_path
    log = tmp_path / "big.log"
    with open(log, "wb") as f:
        f.write(b"x" * (sessions.PEEK_MAX_BYTES + 1024 * 1024) + b"\n")  # more than peek reads: never looked at
        f.write(b"".join(b"line %d\r\n" % i for i in range(1000)))
        f.write(b"\x1b[32mgreen\x1b[0m\n\n   \nprogress 10%\rprogress 100%\n")
        f.write(b'{"type":"result","subtype":"success","num_turns":3,"result":"all done"}\n')
    rundir.save_session(town, "gizmo/polecats/toast", {"identity": "gizmo/polecats/toast", "pid": None,
                                                         "log": str(log), "tmux": None})
    data = sessions.peek(town, "gizmo/polecats/toast", 4)
    assert data == {"identity": "gizmo/polecats/toast", "source": "log", "running": False, "ended": None,
                    "lines": ["line 999", "green", "progress 100%", "[result] success, 3 turns: all done"]}
    assert sessions.peek(town, "gizmo/polecats/toast", 2000)["lines"][0] == "line 0"

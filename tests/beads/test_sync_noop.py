"""A `bd sync` with nothing to exchange: told from the remote's advertised ledger ref (one `git
ls-remote`) before Click is imported (gt.cli.bd.quick), printing exactly what the full command
prints; every other sync, and every other shape of the command line, runs the full command."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import Bd, TIMEOUT, git, guarded_hub, clone_of, head


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Bd, Bd]:
    hub = guarded_hub(tmp_path)
    a, b = clone_of(hub, tmp_path / "ann", "ann"), clone_of(hub, tmp_path / "bob", "bob")
    a("init", "--prefix", "sy")
    a("create", "first")
    a("sync")
    b("sync")
    return a, b


def traced(side: Bd, *args: str, ok: bool = True) -> tuple[str, list[str]]:
    """`bd ARGS` as a process: its stdout, and the git commands it ran (from GIT_TRACE)."""
    trace = side.cwd.parent / f"trace-{side.cwd.name}.log"
    trace.unlink(missing_ok=True)
    result = side.proc(*args, env={"GIT_TRACE": str(trace)}, ok=ok)
    lines = trace.read_text(encoding="utf-8").splitlines() if trace.exists() else []
    return result.stdout, [line.split("built-in: ", 1)[1] for line in lines if "built-in: git " in line]


def test_a_noop_sync_asks_the_remote_once_and_fetches_and_pushes_nothing(pair):
    a, b = pair
    out, commands = traced(a, "sync", "--json")
    report = json.loads(out)
    assert report == {"remote": "origin", "fetched": head(a.cwd), "action": "up to date", "merged_beads": [],
                      "renamed": {}, "pushed": False, "rounds": 1, "retries": []}
    ours = [c for c in commands if "upload-pack" not in c]  # the hub's side of the connection aside
    assert len(ours) == 1 and "ls-remote origin refs/heads/beads" in ours[0], commands
    assert a.json("sync") == report  # the full command (Click, in-process) reports the same
    assert a.proc("sync").stdout == a("sync").stdout == "origin: up to date\n"
    assert a.proc("sync", "--no-push", "--actor", "someone").stdout == "origin: up to date\n"


def test_the_full_command_with_nothing_to_exchange_runs_no_push(pair):
    a, b = pair
    trace = a.cwd.parent / "trace.log"
    assert a.json("sync", env={"GIT_TRACE": str(trace)})["action"] == "up to date"
    commands = [line.split("built-in: ", 1)[1] for line in trace.read_text(encoding="utf-8").splitlines()
                if "built-in: git " in line]
    assert any(" fetch " in c for c in commands) and not any(" push " in c for c in commands), commands


def test_a_sync_with_something_to_exchange_still_fetches_merges_and_pushes(pair):
    a, b = pair
    x = a("create", "from ann").stdout.strip()
    out, commands = traced(a, "sync", "--json")
    report = json.loads(out)
    assert (report["action"], report["pushed"]) == ("up to date", True)
    assert any(" push " in c for c in commands) and any(" fetch " in c for c in commands)
    assert git(a.cwd.parent / "hub.git", "rev-parse", "beads").strip() == head(a.cwd)
    report = json.loads(b.proc("sync", "--json").stdout)  # behind: fast-forward
    assert (report["action"], report["pushed"]) == ("fast-forward", False) and head(b.cwd) == head(a.cwd)
    y = b("create", "from bob").stdout.strip()
    z = a("create", "from ann again").stdout.strip()
    b.proc("sync")
    report = json.loads(a.proc("sync", "--json").stdout)  # diverged: a merge commit, pushed
    assert (report["action"], report["pushed"]) == ("merged", True)
    merge = git(a.cwd, "log", "-1", "--format=%an|%P", "beads").strip().split("|")
    assert merge[0] == "ann" and len(merge[1].split()) == 2  # signed by the actor, asked only now
    assert b.proc("sync").stdout == "origin: fast-forward\n"
    assert head(a.cwd) == head(b.cwd)
    assert {x, y, z} <= {d["id"] for d in b.json("list")}
    for side in (a, b):
        assert json.loads(side.proc("sync", "--json").stdout)["action"] == "up to date"


def test_the_quick_answer_brings_a_lagging_tracking_ref_up_to_date(pair):
    a, b = pair
    before = head(a.cwd)
    a("create", "second")
    a("sync")
    git(a.cwd, "update-ref", "refs/remotes/origin/beads", before)  # as if the push's own update was lost
    assert json.loads(a.proc("sync", "--json").stdout)["action"] == "up to date"
    assert git(a.cwd, "rev-parse", "refs/remotes/origin/beads").strip() == head(a.cwd)
    hub = a.cwd.parent / "hub.git"
    report = json.loads(a.proc("sync", "--remote", str(hub), "--json").stdout)  # a path: a ref named by its hash
    assert (report["remote"], report["action"]) == (str(hub), "up to date")
    from gt.beads.sync import tracking_ref

    assert git(a.cwd, "rev-parse", tracking_ref(str(hub), "beads")).strip() == head(a.cwd)


def test_errors_and_refusals_read_as_the_full_command_gives_them(pair):
    a, b = pair
    for args in (("sync", "--remote", "nowhere"), ("sync", "--remote", "nowhere", "--json")):
        quick, full = a.proc(*args, ok=False), a(*args, ok=False)
        assert (quick.exit_code, quick.stderr, quick.stdout) == (full.exit_code, full.stderr, full.stdout) == (1, full.stderr, "")
        assert "fatal: 'nowhere' does not appear to be a git repository" in quick.stderr
    quick = a.proc("sync", env={"BD_READONLY": "1"}, ok=False)
    assert quick.exit_code == 1 and "read-only mode" in quick.stderr
    assert a.proc("--readonly", "sync", "--json", ok=False).stderr == a("--readonly", "sync", "--json", ok=False).stderr


def test_other_shapes_of_the_command_line_run_the_full_command(pair, tmp_path):
    a, b = pair
    status = json.loads(a.proc("sync", "--status", "--json").stdout)
    assert (status["ahead"], status["behind"]) == (0, 0)
    assert json.loads(a.proc("--json", "sync").stdout)["action"] == "up to date"
    assert json.loads(a.proc("sync", "--json=true").stdout)["action"] == "up to date"
    elsewhere = Bd(tmp_path)  # not a repository, but $BEADS_DIR names ann's
    assert json.loads(elsewhere.proc("sync", "--json", env={"BEADS_DIR": str(a.cwd / ".beads")}).stdout)["action"] == "up to date"
    assert "'--remote' requires an argument" in a.proc("sync", "--remote", ok=False).stderr
    assert "not in a git repository" in elsewhere.proc("sync", ok=False).stderr


@pytest.mark.parametrize("args, parsed", [
    ([], (False, None)),
    (["--json"], (True, None)),
    (["--no-push", "--remote", "hub", "--json"], (True, "hub")),
    (["--remote=hub", "--actor", "me"], (False, "hub")),
    (["--identity=me"], (False, None)),
    (["--status"], None),
    (["--json", "--json"], None),
    (["--json=true"], None),
    (["--remote"], None),
    (["--remote", "--json"], None),
    (["--remote="], None),
    (["-C", "x"], None),
    (["--readonly"], None),
    (["extra"], None),
    (["--help"], None),
])
def test_only_the_plain_shape_is_answered_quickly(args, parsed):
    from gt.cli.bd.quick import parse

    assert parse(args) == parsed


def test_read_only_mode_is_named_alike_in_both_layers():
    from gt.beads import sync
    from gt.ledger import store

    assert sync.READONLY == store.READONLY


PROBE = """
import os, sys
sys.argv = ["bd", "sync", "--json"]
exit = os._exit
def report(code):
    heavy = ("click", "dulwich", "subprocess", "gt.ledger.store", "gt.beads.tracker", "gt.cli.common")
    sys.stdout.write("loaded: " + " ".join(m for m in heavy if m in sys.modules) + "\\n")
    sys.stdout.flush()
    exit(code)
os._exit = report
from gt.cli.bd import main
main()
"""


def test_a_noop_sync_imports_neither_click_nor_the_ledger_store(pair):
    a, b = pair
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=a.cwd, capture_output=True, text=True, timeout=TIMEOUT)
    assert result.returncode == 0, result.stderr
    report, loaded = result.stdout.splitlines()
    assert json.loads(report)["action"] == "up to date"
    assert loaded == "loaded: ", loaded


def test_capture_runs_git_as_run_does_without_the_subprocess_module(tmp_path):
    """gt.ledger.git.capture (the probe's transport): exit code and both outputs, however much git
    prints on each at once, and SIGPIPE back to its default in git, as subprocess would leave it."""
    from gt.ledger import git as gitmod

    repo = tmp_path / "r"
    git(tmp_path, "init", "-q", str(repo))
    assert gitmod.capture("-C", str(repo), "rev-parse", "--is-inside-work-tree") == (0, "true\n", "")
    code, out, err = gitmod.capture("-C", str(repo), "rev-parse", "--verify", "nowhere")
    assert code == 128 and out == "" and "fatal:" in err
    # more than a pipe holds (64 KiB), on both outputs: read together, never stuck
    both = "!yes x | head -c 300000; yes y | head -c 200000 >&2; exit 3"
    code, out, err = gitmod.capture("-C", str(repo), "-c", f"alias.both={both}", "both")
    assert (code, out, err) == (3, "x\n" * 150_000, "y\n" * 100_000)
    code, out, _ = gitmod.capture("-C", str(repo), "-c", "alias.sig=!grep SigIgn /proc/$$/status", "sig")
    if code == 0:  # a system with /proc: SIGPIPE (13) is not ignored in git's children
        assert not int(out.split()[1], 16) & (1 << 12)

"""The peer for the scale section: microbeads 0.3.0 (PyPI `microbeads`, github btucker/microbeads), a
Python git-backed tracker with an `mb` CLI, timed beside `bd` as whole processes.

It is installed once into a venv of its own under ~/.cache/gt-tests/microbeads-0.3.0/ (or
$GT_TEST_CACHE/...), as the tests keep beads-mcp and the agent runtimes: pip from PyPI, under a file
lock, built in place and marked complete only when `import microbeads` answers 0.3.0 (a half-built venv
is removed and built again). When it cannot be installed, `ensure_peer` raises PeerUnavailable with
pip's own words, and the benchmark prints that instead of numbers.

How its ledger is built (`build_peer`): `git init`, an empty first commit (microbeads adds a git
worktree, which needs one), `mb init`; then the same N generated beads as bd's ledger of that size
(bench.run.make_records, the JSON Lines file bd imported), saved through microbeads' own Python API
(`issues.save_issue`, one JSON file per issue; the fields mapped as its own `import_from_beads` maps a
beads issue, every dependency kept as a dependency), then one `mb sync` commits them. Creating 10,000
issues through `mb create` would take one process each (about 100 ms: 17 minutes) and could not carry
the statuses, dependencies and ids of the generated set, so the API is used at every size.

What its commands do differently (the report says so beside the numbers): `mb create`, `mb close` and
`mb dep add` write a JSON file in its worktree and commit nothing (`mb sync` commits, so each round
also times one `mb sync` committing that round's three writes); `mb update --status in_progress`
commits at once (its auto-sync; with no remote its fetch and push fail fast, as in a repository without
one). `mb list --json` prints every issue, closed ones included, and `mb ready --json` every ready one,
with no limit; bd prints 50 and 10 by default, so the rounds at the peer's sizes also time
`bd list --json --all --limit 0` and `bd ready --json --limit 0`. microbeads has no `count`.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

PEER = "microbeads"
PEER_VERSION = "0.3.0"
PEER_REPOSITORY = "github btucker/microbeads"
# taken when this module is imported, before the benchmark points HOME at its work directory
CACHE_ROOT = Path(os.environ.get("GT_TEST_CACHE") or Path.home() / ".cache" / "gt-tests")
CACHE = CACHE_ROOT / f"{PEER}-{PEER_VERSION}"
ORIGINAL_ENV = dict(os.environ)  # pip runs with the caller's own configuration (index, certificates)
PIP_TIMEOUT = 300.0
STEP_TIMEOUT = 120.0
LOCK_TIMEOUT = 600.0
COMPLETE = ".complete"


class PeerUnavailable(Exception):
    """microbeads could not be installed or started here; the message says why."""


def _step(args: list[str], what: str, timeout: float, env: dict[str, str] | None = None) -> str:
    try:
        done = subprocess.run(args, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        raise PeerUnavailable(f"{what}: did not finish in {timeout:g} s") from None
    except OSError as exc:
        raise PeerUnavailable(f"{what}: {exc}") from None
    if done.returncode != 0:
        said = "\n".join(f"{done.stdout}\n{done.stderr}".strip().splitlines()[-12:])
        raise PeerUnavailable(f"{what} exited {done.returncode}:\n{said}")
    return done.stdout


def _venv_key() -> str:
    base = os.path.realpath(getattr(sys, "_base_executable", sys.executable))
    digest = hashlib.sha256("\n".join([sys.version, base, f"{PEER}=={PEER_VERSION}"]).encode()).hexdigest()[:10]
    return f"venv-py{sys.version_info.major}.{sys.version_info.minor}-{digest}"


def _works(venv: Path) -> bool:
    python = venv / "bin" / "python"
    if not ((venv / COMPLETE).is_file() and python.exists() and (venv / "bin" / "mb").is_file()):
        return False
    try:
        done = subprocess.run([str(python), "-c", "import importlib.metadata as m, microbeads.cli; "
                                                  "print(m.version('microbeads'))"],
                              capture_output=True, text=True, timeout=STEP_TIMEOUT)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0 and done.stdout.strip() == PEER_VERSION


def ensure_peer() -> dict[str, str]:
    """microbeads in its cached venv (built on first use): {"python", "mb", "venv", "version"}."""
    from filelock import FileLock, Timeout

    venv = CACHE / _venv_key()
    if not _works(venv):
        try:
            CACHE.mkdir(parents=True, exist_ok=True)
            with FileLock(str(CACHE) + ".lock", timeout=LOCK_TIMEOUT):
                if not _works(venv):
                    shutil.rmtree(venv, ignore_errors=True)
                    pip_env = {**ORIGINAL_ENV, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
                    _step([sys.executable, "-m", "venv", str(venv)], "python -m venv", STEP_TIMEOUT, pip_env)
                    _step([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--retries", "2",
                           f"{PEER}=={PEER_VERSION}"], f"pip install {PEER}=={PEER_VERSION}", PIP_TIMEOUT, pip_env)
                    (venv / COMPLETE).write_text(f"{PEER}=={PEER_VERSION}\n")
                    if not _works(venv):
                        raise PeerUnavailable(f"{PEER} {PEER_VERSION} installed in {venv}, but `import microbeads` "
                                              "does not answer its version")
        except Timeout:
            raise PeerUnavailable(f"another run held {CACHE}.lock for {LOCK_TIMEOUT:g} s") from None
        except OSError as exc:
            raise PeerUnavailable(f"cannot build the venv in {CACHE}: {exc}") from None
    return {"python": str(venv / "bin" / "python"), "mb": str(venv / "bin" / "mb"), "venv": str(venv),
            "version": PEER_VERSION}


# Run with the peer's interpreter: the beads of the JSON Lines file saved through microbeads' API.
POPULATE = r"""
import json, sys, time
from pathlib import Path
from microbeads import issues, repo

root, jsonl = Path(sys.argv[1]), sys.argv[2]
worktree = repo.get_worktree_path(root)
start, saved = time.perf_counter(), 0
with open(jsonl, encoding="utf-8") as f:
    for line in f:
        b = json.loads(line)
        issue = {  # as microbeads' own import_from_beads maps a beads issue
            "closed_at": b.get("closed_at"),
            "closed_reason": b.get("close_reason"),
            "created_at": b.get("created_at"),
            "dependencies": [d["depends_on_id"] for d in b.get("dependencies", []) if d.get("depends_on_id")],
            "description": b.get("description", ""),
            "id": b["id"],
            "labels": b.get("labels", []),
            "priority": b.get("priority", 2),
            "status": b.get("status", "open"),
            "title": b.get("title", ""),
            "type": b.get("issue_type", "task"),
            "updated_at": b.get("updated_at"),
        }
        issues.save_issue(worktree, issue)
        saved += 1
print(json.dumps({"saved": saved, "s": round(time.perf_counter() - start, 2)}))
"""


def build_peer(workdir: str, n: int, jsonl: str, env: dict[str, str], peer: dict[str, str],
               run: Callable[..., Any], timed: Callable[..., Any], log: Callable[[str], None]) -> dict[str, Any]:
    """A microbeads repository holding the N beads of `jsonl` (see the module's docstring)."""
    repo = os.path.join(workdir, f"mb-{n}")
    os.makedirs(repo)
    run(["git", "init", "-q", "-b", "main"], repo, env)
    run(["git", "commit", "-q", "--allow-empty", "-m", "start"], repo, env)
    init_ms, _ = timed([peer["mb"], "init"], repo, env, timeout=STEP_TIMEOUT)
    t = time.perf_counter()
    populated = json.loads(run([peer["python"], "-c", POPULATE, repo, jsonl], repo, env, timeout=1800).stdout)
    populate_s = time.perf_counter() - t
    if populated["saved"] != n:
        raise RuntimeError(f"microbeads saved {populated['saved']} issues, expected {n}")
    sync_ms, _ = timed([peer["mb"], "sync", "-m", f"import {n} issues"], repo, env, timeout=1800)
    first_list_ms, listed = timed([peer["mb"], "--json", "list"], repo, env, timeout=600)
    if len(json.loads(listed)) != n:
        raise RuntimeError(f"mb list shows {len(json.loads(listed))} issues, expected {n}")
    commits = int(run(["git", "rev-list", "--count", "microbeads"], repo, env).stdout)
    log(f"{n} beads: microbeads {PEER_VERSION}: mb init {init_ms:.0f} ms, {n} issues saved through its API in "
        f"{populate_s:.1f} s, mb sync (one commit) {sync_ms / 1000:.1f} s, first mb list {first_list_ms:.0f} ms")
    return {"repo": repo, "info": {
        "issues": n, "mb_init_ms": round(init_ms, 1), "populate_s": round(populate_s, 2),
        "populate_api_s": populated["s"], "how": "microbeads.issues.save_issue per issue (its Python API), "
                                                 "then one `mb sync` commit",
        "mb_sync_commit_s": round(sync_ms / 1000, 2), "first_list_ms": round(first_list_ms, 1),
        "branch_commits": commits}}


def peer_commands(peer: dict[str, str], show_id: str, close_ids: list[str], update_ids: list[str],
                  dep_a: list[str], dep_b: list[str]) -> dict[str, Callable[[int], list[str]]]:
    """microbeads' equivalents, in the order they run within a round (`mb sync` commits the create,
    close and dep add before it; `mb update --status in_progress` commits itself)."""
    mb, python = peer["mb"], peer["python"]
    return {
        "mb_baseline_import_click": lambda r: [python, "-c", "import click"],
        "mb_ready_json": lambda r: [mb, "--json", "ready"],
        "mb_list_json": lambda r: [mb, "--json", "list"],
        "mb_blocked_json": lambda r: [mb, "--json", "blocked"],
        "mb_show_json": lambda r: [mb, "--json", "show", show_id],
        "mb_create": lambda r: [mb, "create", f"mb scale create {r}"],
        "mb_close": lambda r: [mb, "close", close_ids[r]],
        "mb_dep_add": lambda r: [mb, "dep", "add", dep_a[r], dep_b[r]],
        "mb_sync_commit": lambda r: [mb, "sync", "-m", f"round {r}"],
        "mb_update_status": lambda r: [mb, "update", update_ids[r], "--status", "in_progress"],
    }


def check_peer_outputs(outputs: dict[str, str], show_id: str) -> dict[str, int]:
    """The peer's reads must have answered something real in the warm-up round; their sizes."""
    ready, listed, blocked, shown = (json.loads(outputs[k]) for k in
                                     ("mb_ready_json", "mb_list_json", "mb_blocked_json", "mb_show_json"))
    if not (ready and listed and blocked and shown.get("id") == show_id):
        raise RuntimeError("a microbeads read returned nothing: its repository was not built as intended")
    return {"ready": len(ready), "list": len(listed), "blocked": len(blocked)}

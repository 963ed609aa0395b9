"""The bd benchmark: one JSON report on stdout, progress on stderr.

    .venv/bin/python -m bench [--sizes 1000,10000] [--runs 9] [--out FILE]   # the default sections
    .venv/bin/python -m bench --scale [--out FILE]    # the scale section alone (issue 17's table)
    .venv/bin/python -m bench --big [--out FILE]      # the default sections, then the scale section

For each ledger size N it builds a fresh repository (git init, `bd init --prefix gt`, then N beads
imported through the library in one commit), warms the index with one `bd list`, and measures:

- whole `bd` processes (median and min of --runs): reads `ready --json`, `list --json`,
  `show ID --json`, `blocked --json`; writes `update ID --append-notes x` (a different bead each
  run) and `create TITLE`; each also as milliseconds over a `python -c "import click"` baseline;
- bytes added to the object store by one plain `bd update` (loose objects, after a full repack);
- a cold index rebuild: `bd list` after deleting `.git/gt/index`.

Then 50 processes x 20 read-modify-write updates through `gt.beads.operations.update` on one ledger,
all released at once, checked for lost updates; and the 10k/1k ratios.

Then (unless --no-sync) `bd sync`: a bare hub with the ledger guard, clone A imports 1,000 beads and
syncs, clone B syncs; each clone makes 1,000 changes offline through the library (one commit each);
timed `bd sync` processes on A (push), B (fetch, merge, push) and A again, then A, B and the hub must
name one commit and pass `git fsck`; a no-op `bd sync` against a plain `git fetch` (medians of 5);
and a plain `git push` of B's 1,000 offline commits to a fresh guarded hub.

The scale section (--scale alone, or after the default sections with --big; bench/scale.py, the peer
in bench/peer.py) builds 1,000-, 10,000- and 100,000-bead ledgers, each with one whole `bd import`
process, and prints every row of issue 17's table against its target (the report's `scale` key, and a
table on stderr at the end): ready/list/count/blocked/show and create/close/dep add/update --status
over click, `bd import` time and peak memory, the first read after `git clone`, the index on disk
against the pack (after the import and after 1,000 writes), and a no-op `bd sync` against `git fetch`;
with the growth factors 1k -> 10k -> 100k, and microbeads 0.3.0 side by side at 1k and 10k. Before
--big had this section it added 100,000 beads to --sizes; `--sizes 1000,10000,100000` still does.

Every number is compared with its target in `checks`; every child process has a time limit.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from datetime import datetime, timezone
from hashlib import sha1
from typing import Any, Callable

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV = os.path.join(ROOT, ".venv")
VENV_BIN = os.path.join(VENV, "bin")
PY = os.path.join(VENV_BIN, "python")
BD = os.path.join(VENV_BIN, "bd")

TARGETS = {
    "read_over_click_ms_at_10k": 60.0,  # ready --json, list --json, show --json
    "write_over_click_ms_at_10k": 150.0,  # update, create
    "write_time_ratio_10k_over_1k": 1.5,
    "bytes_per_write_ratio_10k_over_1k": 1.5,
    "cold_rebuild_s_at_10k": 3.0,  # strictly less
    "lost_updates": 0,
    "sync_merge_s": 10.0,  # bd sync on B: fetch A's 1,000 commits, merge with its own 1,000, push; strictly less
    "noop_sync_over_fetch_s": 1.0,  # medians of 5; strictly less
    "guard_push_s": 10.0,  # plain git push of 1,000 new ledger commits to a guarded hub; strictly less
    "sync_divergence": 0,  # A, B and the hub end on one commit, fsck clean, no one-sided change lost
    "hook_ms": 100.0,  # each transition git hook, when it writes nothing (issue 6); medians
    "history_first_s": 5.0,  # bd stats --group-by model, bd audit at 100,000 ledger commits; strictly less
    "history_again_s": 1.0,  # the same command again, nothing changed; strictly less
}
READS = ("ready_json", "list_json", "show_json")
SCALE_HELP = """\
the scale section (--scale, or with --big): issue 17, "100,000 beads: every command as fast as at 1,000"
  For 1,000, 10,000 and 100,000 beads: `bd import` of the generated JSON Lines as one whole process
  into a fresh `bd init` repository (wall time; peak memory from os.wait4's ru_maxrss of that child),
  the index on disk (.git/gt/index) against the pack (`git repack -adq` on a copy), interleaved rounds
  of ready --json, list --json, count, blocked --json, show ID --json, create, close ID, dep add A B and
  update ID --status in_progress (medians; over click = median - median of python -c "import click" in
  the same rounds), the first `bd list --json` in fresh `git clone`s of a bare hub, a no-op `bd sync`
  between two clones against a plain `git fetch` in the same rounds, and at the largest size the index
  after --scale-writes `bd update --append-notes` processes. Targets at 100k: ready/list/count <= +30 ms
  (<= +60 at 10k), blocked <= +150, show <= +15, create/close/dep add <= +120 and within 1.2x of 1k,
  update --status <= +120, import <= 30 s and <= 500 MB, first read after clone <= 5 s, index <= pack
  (after the import and after the writes), no-op sync <= fetch + 40 ms. Growth factors 1k->10k->100k
  for every row. The peer, microbeads 0.3.0 (installed once into a venv under ~/.cache/gt-tests/),
  runs its equivalents in the same rounds at 1k and 10k; if it cannot be installed, the report says why.
  A full run takes several minutes (the 100k import alone about 90 s on the code of issue 17's report).
"""
WRITES = ("update_append_notes", "create")

START = time.monotonic()


def log(message: str) -> None:
    print(f"[bench {time.monotonic() - START:7.1f}s] {message}", file=sys.stderr, flush=True)


# -- environment -----------------------------------------------------------------------------------


def ensure_venv() -> None:
    """Re-run under the project's venv python when started with another interpreter."""
    if os.path.exists(PY) and os.path.realpath(sys.prefix) != os.path.realpath(VENV):
        os.execv(PY, [PY, os.path.abspath(__file__), *sys.argv[1:]])
    if ROOT not in sys.path:
        sys.path.insert(0, ROOT)


def hermetic_env(home: str, pycache: str | None) -> dict[str, str]:
    """The environment for every child: no outside git config or identity, a fixed actor.

    With `pycache`, bytecode is cached there (PYTHONPYCACHEPREFIX) even when the caller's environment
    sets PYTHONDONTWRITEBYTECODE: an installed bd runs from .pyc files, and recompiling every module of
    gt in every process would measure the sandbox, not bd. The source tree is left untouched.
    """
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("GIT_", "BD_")) and k not in ("PYTHONPATH", "PYTHONSTARTUP")}
    if pycache:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = pycache
    os.makedirs(home, exist_ok=True)
    gitconfig = os.path.join(home, ".gitconfig")
    with open(gitconfig, "w", encoding="utf-8") as f:
        f.write("[user]\n\tname = bench\n\temail = bench@example.com\n[init]\n\tdefaultBranch = main\n")
    env.update(HOME=home, GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=gitconfig, BD_ACTOR="bench",
               LC_ALL="C.UTF-8", LANG="C.UTF-8")
    return env


CHILD_TIMEOUT = 900.0  # seconds: the default limit of every child process (a hung child fails its section)


def run_child(cmd: list[str], cwd: str, env: dict[str, str], timeout: float = CHILD_TIMEOUT,
              given: str | None = None) -> subprocess.CompletedProcess[str]:
    """subprocess.run with captured text output and a time limit (a child past it is killed and
    reported as a RuntimeError)."""
    try:
        return subprocess.run(cmd, cwd=cwd, env=env, input=given, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"{' '.join(cmd)} did not finish in {timeout:g} s (killed)") from None


def run(cmd: list[str], cwd: str, env: dict[str, str], check: bool = True,
        timeout: float = CHILD_TIMEOUT) -> subprocess.CompletedProcess:
    result = run_child(cmd, cwd, env, timeout)
    if check and result.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {result.returncode}: {result.stderr.strip()[-2000:]}")
    return result


def timed(cmd: list[str], cwd: str, env: dict[str, str], given: str | None = None,
          timeout: float = CHILD_TIMEOUT) -> tuple[float, str]:
    """Milliseconds of one whole process (`given` on its stdin), and its stdout (a failing process
    aborts the benchmark)."""
    t = time.perf_counter()
    result = run_child(cmd, cwd, env, timeout, given)
    ms = (time.perf_counter() - t) * 1000
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {result.returncode}: {result.stderr.strip()[-2000:]}")
    return ms, result.stdout


def machine() -> dict[str, Any]:
    from importlib.metadata import version

    cpu = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "")
    except OSError:
        pass
    memory_gb = None
    try:
        with open("/proc/meminfo", encoding="utf-8") as f:
            memory_gb = round(int(f.readline().split()[1]) / 1024 / 1024, 1)
    except (OSError, ValueError, IndexError):
        pass
    git_version = subprocess.run(["git", "--version"], stdout=subprocess.PIPE, text=True, timeout=60).stdout.strip()
    head = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL, text=True, timeout=60).stdout.strip()
    dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--", "gt"], stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, text=True, timeout=60).stdout.strip()
    return {
        "nproc": os.cpu_count(), "cpu": cpu, "memory_gb": memory_gb,
        "python": platform.python_version(), "implementation": platform.python_implementation(),
        "os": f"{platform.system()} {platform.release()}", "git": git_version,
        "dulwich": version("dulwich"), "click": version("click"), "ruamel.yaml": version("ruamel.yaml"),
        "code": {"commit": head, "gt_dirty": bool(dirty)},
    }


# -- the ledger ------------------------------------------------------------------------------------

VERBS = ("Fix", "Add", "Refactor", "Document", "Test", "Speed up", "Remove", "Rename", "Port", "Audit")
NOUNS = ("login flow", "retry logic", "index cache", "merge queue", "CLI output", "config loader",
         "ref updates", "pack files", "error messages", "import path", "dependency graph", "status report")
PLACES = ("ledger", "town", "mayor", "polecat", "refinery", "witness", "deacon", "cli", "docs", "tests")
LABELS = ("backend", "frontend", "perf", "security", "ux", "infra", "docs", "tech-debt", "p-later", "agent")
TYPES = ("task", "bug", "feature", "chore", "epic")


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def make_records(n: int, seed: int = 20261126) -> list[dict[str, Any]]:
    """N beads in the original beads JSON Lines shape: ~55% open, 15% in progress, 30% closed;
    priorities 0-4; ~30% blocked-by an earlier bead; ~10% children of an earlier bead; labels."""
    from gt.model.ids import base36, id_length

    rng = random.Random(seed + n)
    length = id_length(n)
    start = time.time() - 365 * 86400
    step = 364 * 86400 / max(n, 1)
    seen: set[str] = set()
    ids: list[str] = []
    tops: list[str] = []
    children: dict[str, int] = {}
    records = []
    for i in range(n):
        if tops and rng.random() < 0.10:
            parent = tops[rng.randrange(max(0, len(tops) - 200), len(tops))]
            children[parent] = children.get(parent, 0) + 1
            bead_id = f"{parent}.{children[parent]}"
        else:
            parent = None
            attempt = 0
            while True:
                bead_id = "gt-" + base36(sha1(f"{seed}:{i}:{attempt}".encode()).digest(), length)
                if bead_id not in seen:
                    break
                attempt += 1
            tops.append(bead_id)
        seen.add(bead_id)
        status = rng.choices(("open", "in_progress", "closed"), weights=(55, 15, 30))[0]
        created = start + i * step
        updated = created + rng.random() * 3 * 86400
        place, noun = rng.choice(PLACES), rng.choice(NOUNS)
        record: dict[str, Any] = {
            "id": bead_id,
            "title": f"{rng.choice(VERBS)} {noun} in {place} (#{i})",
            "description": (
                f"The {noun} in {place} misbehaves under load.\n"
                f"Steps: run the {place} suite with {rng.randint(2, 64)} workers and watch the {noun}.\n"
                f"Expected: no retries. Seen: {rng.randint(1, 500)} retries in {rng.randint(1, 60)} minutes.\n"
            ),
            "status": status,
            "priority": rng.choices(range(5), weights=(5, 20, 40, 25, 10))[0],
            "issue_type": "task" if parent else rng.choices(TYPES, weights=(40, 25, 20, 10, 5))[0],
            "created_at": iso(created),
            "created_by": "bench",
            "updated_at": iso(updated),
        }
        labels = rng.sample(LABELS, rng.choice((0, 0, 1, 1, 1, 2, 3)))
        if labels:
            record["labels"] = labels
        if status == "in_progress":
            record["assignee"] = f"agent-{rng.randint(1, 20)}"
        if status == "closed":
            record["closed_at"] = iso(updated)
            record["close_reason"] = "done"
        deps = []
        if parent:
            deps.append({"issue_id": bead_id, "depends_on_id": parent, "type": "parent-child"})
        if ids and rng.random() < 0.30:
            target = ids[rng.randrange(len(ids))]
            if target != parent:
                deps.append({"issue_id": bead_id, "depends_on_id": target, "type": "blocks",
                             "created_at": iso(created), "created_by": "bench"})
        if deps:
            record["dependencies"] = deps
        records.append(record)
        ids.append(bead_id)
    return records


def write_jsonl(workdir: str, n: int, name: str) -> tuple[list[dict[str, Any]], str, float]:
    """N generated beads (make_records) written as JSON Lines to `workdir/name`: the records, the
    file's path and the seconds it took."""
    t = time.perf_counter()
    records = make_records(n)
    jsonl = os.path.join(workdir, name)
    with open(jsonl, "w", encoding="utf-8") as f:
        for record in records:
            f.write(json.dumps(record, separators=(",", ":")) + "\n")
    return records, jsonl, time.perf_counter() - t


# Runs argv[2:] as its child and writes that child's os.wait4 rusage to argv[1] as JSON. A process
# exec'ed by a fork (or posix_spawn) of a large parent starts with that parent's peak resident size
# as its own (Linux keeps the replaced memory's high-water mark at exec): measured straight from the
# benchmark, which holds the generated records, every child "peaked" at the benchmark's ~250 MB. The
# child of this small launcher starts from the launcher's ~10 MB.
_LAUNCHER = """
import json, os, sys
pid = os.fork()
if pid == 0:
    try:
        os.execvp(sys.argv[2], sys.argv[2:])
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as f:
    json.dump({"max_rss_kib": usage.ru_maxrss, "user_s": usage.ru_utime, "sys_s": usage.ru_stime}, f)
sys.exit(os.waitstatus_to_exitcode(status))
"""


def measure_process(cmd: list[str], cwd: str, env: dict[str, str], timeout: float,
                    out_path: str) -> dict[str, Any]:
    """Wall time and peak resident memory of one whole child process, its stdout kept in `out_path`.

    The peak is the child's own `ru_maxrss` as os.wait4 returns it for that one pid (on Linux the
    largest of the process and of the children it waited for, such as git), taken by a small
    launcher process (see _LAUNCHER: a child of the benchmark itself would inherit its peak). A
    child past `timeout` is killed (SIGKILL), with its launcher."""
    import signal

    with open(out_path, "w", encoding="utf-8") as out, tempfile.TemporaryFile("w+", encoding="utf-8") as err, \
            tempfile.NamedTemporaryFile("r", suffix=".json", encoding="utf-8") as usage_file:
        t = time.perf_counter()
        child = subprocess.Popen([PY, "-c", _LAUNCHER, usage_file.name, *cmd], cwd=cwd, env=env,
                                 stdin=subprocess.DEVNULL, stdout=out, stderr=err, text=True, start_new_session=True)
        try:
            child.wait(timeout=timeout)
            killed = False
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
            killed = True
        wall_s = time.perf_counter() - t
        err.seek(0)
        stderr = err.read()
        text = usage_file.read()
    usage = json.loads(text) if text else {}
    return {
        "wall_s": round(wall_s, 2),
        "max_rss_mb": round(usage["max_rss_kib"] / 1024, 1) if usage else None,
        "user_s": round(usage["user_s"], 2) if usage else None,
        "sys_s": round(usage["sys_s"], 2) if usage else None,
        "exit": child.returncode,
        "timed_out": killed,
        "peak_memory_method": "os.wait4 rusage of the one child, taken by a small launcher process",
        "stderr_tail": stderr.strip()[-2000:],
    }


def import_beads(repo: str, workdir: str, n: int, name: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """N generated beads written as JSON Lines to `workdir/name`, then imported into the ledger of
    `repo` (already `bd init`) through gt.beads.exchange in one commit; returns the records and timings."""
    from gt.ledger.gitdir import discover
    from gt.ledger.store import Signature
    from gt.beads.exchange import import_docs, read_records
    from gt.beads.tracker import Tracker

    records, jsonl, generate_s = write_jsonl(workdir, n, name)
    t = time.perf_counter()
    with open(jsonl, "rb") as f:
        docs = read_records(f, jsonl, strict=True).beads  # by id, each kept compact (marshal bytes)
    parse_s = time.perf_counter() - t
    t = time.perf_counter()
    tracker = Tracker(discover(repo))
    edit = import_docs(tracker, Signature("bench", "bench@example.com"), docs, os.path.basename(jsonl))
    import_s = time.perf_counter() - t
    created = edit.result["created"]
    if created != n:
        raise RuntimeError(f"import created {created} beads, expected {n}")
    # Free the import's memory before timing anything: a big parent process makes every later
    # fork() slower (a first `bd list` measured ~1 s instead of ~90 ms while it was still held).
    del docs, tracker, edit
    gc.collect()
    return records, {"jsonl_bytes": os.path.getsize(jsonl), "generate_s": round(generate_s, 2),
                     "parse_s": round(parse_s, 2), "import_s": round(import_s, 2)}


def build_ledger(workdir: str, n: int, env: dict[str, str], via_process: bool = False,
                 import_timeout: float = 3600.0) -> dict[str, Any]:
    """git init + bd init, then N beads in one import; returns timings and ids.

    By default the import runs through gt.beads.exchange in this process. With `via_process` it is one
    whole `bd import FILE --json` child process (measure_process: its wall time and peak memory), which
    must report N beads created."""
    repo = os.path.join(workdir, f"repo-{n}")
    os.makedirs(repo)
    run(["git", "init", "-q", "-b", "main"], repo, env)
    run([BD, "init", "--prefix", "gt"], repo, env)
    if via_process:
        records, jsonl, generate_s = write_jsonl(workdir, n, f"beads-{n}.jsonl")
        process = measure_process([BD, "import", jsonl, "--json"], repo, env, import_timeout,
                                  os.path.join(workdir, f"import-{n}.json"))
        with open(os.path.join(workdir, f"import-{n}.json"), encoding="utf-8") as f:
            said = f.read()
        try:
            created = json.loads(said)["created"]
        except (ValueError, KeyError, TypeError):
            created = None
        if process["exit"] != 0 or created != n:
            raise RuntimeError(f"bd import of {n} beads: exit {process['exit']}, created {created}"
                               f"{' (killed after ' + str(import_timeout) + ' s)' if process['timed_out'] else ''}: "
                               f"{process['stderr_tail'][-1000:]}")
        process["index_bytes"] = dir_bytes(os.path.join(repo, ".git", "gt", "index"))
        timings = {"jsonl_bytes": os.path.getsize(jsonl), "generate_s": round(generate_s, 2),
                   "import_s": process["wall_s"], "bd_import_process": process}
    else:
        records, timings = import_beads(repo, workdir, n, f"beads-{n}.jsonl")
    warm_ms, _ = timed([BD, "list"], repo, env)

    by_status: dict[str, int] = {}
    for r in records:
        by_status[r["status"]] = by_status.get(r["status"], 0) + 1
    open_plain = [r["id"] for r in records
                  if r["status"] == "open" and "dependencies" not in r and "." not in r["id"]]
    parents = {r["id"].rsplit(".", 1)[0] for r in records if "." in r["id"]}
    rich = next((r["id"] for r in records if len(r.get("dependencies", ())) == 2), records[-1]["id"])
    return {
        "repo": repo,
        "open_ids": open_plain,
        # open, no dependencies, no children: closable, and free to take a new dependency either way
        "leaf_ids": [i for i in open_plain if i not in parents],
        "ids": [r["id"] for r in records],
        "show_id": rich,
        "info": {
            "beads": n,
            "by_status": by_status,
            "with_blocks": sum(1 for r in records if any(d["type"] == "blocks" for d in r.get("dependencies", ()))),
            "children": sum(1 for r in records if "." in r["id"]),
            "with_labels": sum(1 for r in records if r.get("labels")),
            **timings,
            "first_list_ms": round(warm_ms, 1),
        },
    }


# -- measurements ----------------------------------------------------------------------------------


def stats_ms(samples: list[float], baseline: float | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "median_ms": round(statistics.median(samples), 1),
        "min_ms": round(min(samples), 1),
        "max_ms": round(max(samples), 1),
    }
    if baseline is not None:
        out["over_click_ms"] = round(statistics.median(samples) - baseline, 1)
        out["min_over_click_ms"] = round(min(samples) - baseline, 1)
    out["samples_ms"] = [round(s, 1) for s in samples]
    return out


def interleaved_rounds(commands: dict[str, Callable[[int], list[str]]], runs: int, cwd: str, env: dict[str, str],
                       cwds: dict[str, str] | None = None, envs: dict[str, dict[str, str]] | None = None,
                       timeout: float = CHILD_TIMEOUT) -> tuple[dict[str, list[float]], dict[str, str]]:
    """One unrecorded warm-up round (round 0), then `runs` rounds, each running every command once, in
    order, as a whole process (`commands[name](round)` gives its argv; `cwds`/`envs` override `cwd`/`env`
    per command). Returns the milliseconds of rounds 1..runs per command and each command's stdout in
    the warm-up round."""
    samples: dict[str, list[float]] = {name: [] for name in commands}
    outputs: dict[str, str] = {}
    for r in range(runs + 1):
        for name, make in commands.items():
            ms, stdout = timed(make(r), (cwds or {}).get(name, cwd), (envs or {}).get(name, env), timeout=timeout)
            if r == 0:
                outputs[name] = stdout
            else:
                samples[name].append(ms)
    return samples, outputs


def time_commands(repo: str, env: dict[str, str], runs: int, show_id: str, update_ids: list[str]) -> dict[str, Any]:
    """Interleaved rounds (one of each command per round) after one unrecorded warm-up round."""
    commands: dict[str, Callable[[int], list[str]]] = {
        "baseline_import_click": lambda r: [PY, "-c", "import click"],
        "ready_json": lambda r: [BD, "ready", "--json"],
        "list_json": lambda r: [BD, "list", "--json"],
        "show_json": lambda r: [BD, "show", show_id, "--json"],
        "blocked_json": lambda r: [BD, "blocked", "--json"],
        "update_append_notes": lambda r: [BD, "update", update_ids[r], "--append-notes", "x"],
        "create": lambda r: [BD, "create", f"bench create {r}"],
    }
    samples, outputs = interleaved_rounds(commands, runs, repo, env)
    # the reads must have answered something real
    ready, listed, shown, blocked = (json.loads(outputs[k]) for k in ("ready_json", "list_json", "show_json", "blocked_json"))
    if not (ready and listed and blocked and shown[0].get("id") == show_id):
        raise RuntimeError("a read command returned nothing: the ledger was not built as intended")
    baseline = statistics.median(samples["baseline_import_click"])
    out = {"baseline_import_click": stats_ms(samples["baseline_import_click"])}
    for name in commands:
        if name != "baseline_import_click":
            out[name] = stats_ms(samples[name], baseline)
    out["_result_sizes"] = {"ready": len(ready), "list": len(listed), "blocked": len(blocked)}
    return out


def loose_objects(objects_dir: str) -> dict[str, int]:
    """Loose object path -> size in bytes."""
    found = {}
    for fan in os.listdir(objects_dir):
        if len(fan) != 2:
            continue
        directory = os.path.join(objects_dir, fan)
        for name in os.listdir(directory):
            if len(name) == 38:
                path = os.path.join(directory, name)
                try:
                    found[path] = os.path.getsize(path)
                except FileNotFoundError:
                    pass
    return found


def object_type(path: str) -> str:
    with open(path, "rb") as f:  # a loose object is small; its zlib stream may need all of it for 16 bytes
        head = zlib.decompressobj().decompress(f.read(), 16)
    return head.split(b" ", 1)[0].decode("ascii", "replace")


def count_packs(objects_dir: str) -> int:
    pack_dir = os.path.join(objects_dir, "pack")
    return sum(1 for n in os.listdir(pack_dir) if n.endswith(".pack")) if os.path.isdir(pack_dir) else 0


def bytes_per_write(repo: str, env: dict[str, str], ids: list[str]) -> dict[str, Any]:
    """Repack everything, then the loose objects each plain `bd update` adds (writes that triggered
    an automatic pack are left out of the average and counted in `excluded_packing_writes`)."""
    objects_dir = os.path.join(repo, ".git", "objects")
    compact_ms, compact_out = timed([BD, "compact", "--prune-tombstones-older-than", "100000", "--json"], repo, env)
    after_compact = loose_objects(objects_dir)
    samples, objects, by_type, excluded = [], [], {}, 0
    for bead_id in ids:
        before = loose_objects(objects_dir)
        packs = count_packs(objects_dir)
        run([BD, "update", bead_id, "--append-notes", "x"], repo, env)
        after = loose_objects(objects_dir)
        if set(before) - set(after) or count_packs(objects_dir) != packs:
            excluded += 1
            continue
        new = [p for p in after if p not in before]
        samples.append(sum(after[p] for p in new))
        objects.append(len(new))
        for p in new:
            kind = object_type(p)
            by_type[kind] = by_type.get(kind, 0) + after[p]
    if not samples:
        raise RuntimeError("every measured write triggered packing")
    return {
        "mean_bytes": round(statistics.mean(samples), 1),
        "median_bytes": statistics.median(samples),
        "min_bytes": min(samples),
        "max_bytes": max(samples),
        "objects_per_write": round(statistics.mean(objects), 2),
        "mean_bytes_by_type": {k: round(v / len(samples), 1) for k, v in sorted(by_type.items())},
        "writes_measured": len(samples),
        "excluded_packing_writes": excluded,
        "loose_objects_after_compact": len(after_compact),
        "compact_ms": round(compact_ms, 1),
        "compact": json.loads(compact_out),
        "samples_bytes": samples,
    }


def dir_bytes(path: str) -> int:
    total = 0
    for base, _, files in os.walk(path):
        for name in files:
            try:
                total += os.path.getsize(os.path.join(base, name))
            except FileNotFoundError:
                pass
    return total


def cold_rebuild(repo: str, env: dict[str, str], repeats: int) -> dict[str, Any]:
    index = os.path.join(repo, ".git", "gt", "index")
    samples = []
    for _ in range(repeats):
        shutil.rmtree(index, ignore_errors=True)
        ms, _ = timed([BD, "list"], repo, env)
        samples.append(ms)
    shards = sum(len(files) for base, _, files in os.walk(index) if base.endswith("shards"))
    return {
        "first_s": round(samples[0] / 1000, 3),
        "median_s": round(statistics.median(samples) / 1000, 3),
        "min_s": round(min(samples) / 1000, 3),
        "samples_s": [round(s / 1000, 3) for s in samples],
        "index_bytes": dir_bytes(index),
        "index_shards": shards,
    }


WRITER = r"""
import json, sys, time
repo, proc, count, beads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4].split(",")
from gt.ledger.gitdir import discover
from gt.ledger.store import Signature
from gt.beads import operations
from gt.beads.tracker import Tracker
tracker = Tracker(discover(repo))
signature = Signature(f"writer-{proc}", f"writer-{proc}@example.com")
tracker.view()
print("ready", flush=True)
sys.stdin.readline()
start = time.time()
done, errors = [], []
for i in range(count):
    bead = beads[(proc + i) % len(beads)]
    t = time.perf_counter()
    try:
        edit = operations.update(tracker, signature, [bead], fields={}, append_notes=f"w{proc}-{i}")
        done.append([i, bead, edit.commit, (time.perf_counter() - t) * 1000])
    except Exception as exc:
        errors.append([i, bead, f"{type(exc).__name__}: {exc}"])
print(json.dumps({"proc": proc, "start": start, "end": time.time(), "done": done, "errors": errors}), flush=True)
"""


def concurrent_writers(repo: str, env: dict[str, str], beads: list[str], procs: int, per_proc: int) -> dict[str, Any]:
    """`procs` processes, each `per_proc` read-modify-write updates (append a unique note line) over a
    few beads, released together once all have started; then every line and commit is accounted for."""
    from gt.ledger.gitdir import discover
    from gt.beads.tracker import Tracker

    def commits() -> int:
        return int(run(["git", "rev-list", "--count", "beads"], repo, env).stdout)

    before = commits()
    t_spawn = time.perf_counter()
    children = [
        subprocess.Popen([PY, "-c", WRITER, repo, str(p), str(per_proc), ",".join(beads)], cwd=repo, env=env,
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for p in range(procs)
    ]
    for child in children:
        line = child.stdout.readline()
        if line.strip() != "ready":
            raise RuntimeError(f"a writer failed to start: {line!r} {child.stderr.read()[-2000:]}")
    startup_s = time.perf_counter() - t_spawn
    go = time.time()
    for child in children:
        child.stdin.write("go\n")
        child.stdin.flush()
    reports, crashed = [], []
    for child in children:
        try:
            stdout, stderr = child.communicate(timeout=CHILD_TIMEOUT)
        except subprocess.TimeoutExpired:
            child.kill()
            stdout, stderr = child.communicate()
        if child.returncode != 0 or not stdout.strip():
            crashed.append(stderr.strip()[-1000:])
            continue
        reports.append(json.loads(stdout.strip().splitlines()[-1]))
    total_s = max([r["end"] for r in reports] or [time.time()]) - go

    tracker = Tracker(discover(repo))
    view = tracker.view()
    notes = {b: set((view.doc("beads", b) or {}).get("notes", "").split("\n")) for b in beads}
    expected = {(p, i): beads[(p + i) % len(beads)] for p in range(procs) for i in range(per_proc)}
    present = sum(1 for (p, i), b in expected.items() if f"w{p}-{i}" in notes[b])
    acknowledged = [(r["proc"], d[0], d[1], d[2]) for r in reports for d in r["done"]]
    lost = sum(1 for p, i, b, _ in acknowledged if f"w{p}-{i}" not in notes[b])
    history = set(run(["git", "rev-list", "beads"], repo, env).stdout.split())
    acked_commits = [c for _, _, _, c in acknowledged]
    fsck = run(["git", "fsck", "--connectivity-only", "--no-progress"], repo, env, check=False)
    latencies = sorted(d[3] for r in reports for d in r["done"])
    added = commits() - before
    writes = len(acknowledged)

    def pct(q: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(q * len(latencies)))], 1) if latencies else 0.0

    return {
        "processes": procs,
        "updates_per_process": per_proc,
        "beads_written": beads,
        "expected_writes": procs * per_proc,
        "acknowledged_writes": writes,
        "failed_writes": sum(len(r["errors"]) for r in reports),
        "crashed_processes": len(crashed),
        "errors": ([e for r in reports for e in r["errors"]][:5] + crashed[:3]),
        "note_lines_present": present,
        "lost_updates": lost,
        "missing_note_lines": len(expected) - present,
        "commits_added": added,
        "acknowledged_commits_on_branch": sum(1 for c in acked_commits if c in history),
        "distinct_acknowledged_commits": len(set(acked_commits)),
        "git_fsck_ok": fsck.returncode == 0,
        "startup_s": round(startup_s, 2),
        "total_s": round(total_s, 2),
        "writes_per_s": round(writes / total_s, 1) if total_s > 0 else None,
        "latency_ms": {"p50": pct(0.5), "p90": pct(0.9), "p99": pct(0.99), "max": round(latencies[-1], 1) if latencies else 0.0},
    }


# -- sync ------------------------------------------------------------------------------------------

SYNC_WRITER = r"""
import json, sys, time
repo, plan_path, name = sys.argv[1], sys.argv[2], sys.argv[3]
from gt.ledger.gitdir import discover
from gt.ledger.store import Signature
from gt.beads import operations
from gt.beads.tracker import Tracker
with open(plan_path, encoding="utf-8") as f:
    plan = json.load(f)
tracker = Tracker(discover(repo))
signature = Signature(name, f"{name}@example.com")
created, latencies, kinds, no_change, errors, touched = [], [], {}, 0, [], set()
start = time.perf_counter()
for i, op in enumerate(plan):
    kind, target = op[0], op[1]
    t = time.perf_counter()
    try:
        if isinstance(target, str) and target.startswith("@"):
            target = created[int(target[1:])]
        if kind == "create":
            edit = operations.create(tracker, signature, op[2], priority=op[3], labels=op[4])
            created.append(edit.result["id"])
            target = edit.result["id"]
        elif kind == "title":
            edit = operations.update(tracker, signature, [target], fields={"title": op[2]})
        elif kind == "priority":
            edit = operations.update(tracker, signature, [target], fields={"priority": op[2]})
        elif kind == "notes":
            edit = operations.update(tracker, signature, [target], fields={}, append_notes=op[2])
        elif kind == "label+":
            edit = operations.labels(tracker, signature, [target], add=[op[2]])
        elif kind == "label-":
            edit = operations.labels(tracker, signature, [target], remove=[op[2]])
        elif kind == "close":
            edit = operations.close(tracker, signature, [target], reason="done")
        else:
            raise ValueError(f"unknown change {kind}")
    except Exception as exc:
        errors.append([i, kind, str(target), f"{type(exc).__name__}: {exc}"])
        continue
    latencies.append((time.perf_counter() - t) * 1000)
    kinds[kind] = kinds.get(kind, 0) + 1
    touched.add(target)
    if edit.commit is None:
        no_change += 1
total = time.perf_counter() - start
print(json.dumps({"total_s": total, "latencies_ms": latencies, "kinds": kinds, "no_change": no_change,
                  "errors": errors, "created": created, "touched": sorted(touched)}), flush=True)
"""

CHANGE_WEIGHTS = {"title": 22, "priority": 22, "label": 20, "notes": 21, "create": 10, "close": 5}


def plan_changes(records: list[dict[str, Any]], side: str, count: int, shared: list[str], own: list[str],
                 closable_shared: list[str], closable_own: list[str], seed: int) -> list[list[Any]]:
    """`count` changes for one clone, each of which changes something (so each is one ledger commit):
    title, priority, label add/remove and append-notes updates on existing beads (30% on beads the
    other clone also changes, some on beads this clone created), creates and closes."""
    rng = random.Random(f"{seed}:{side}")
    priority = {r["id"]: r["priority"] for r in records}
    labels = {r["id"]: set(r.get("labels") or ()) for r in records}
    closed: set[str] = set()
    created = 0
    plan: list[list[Any]] = []
    kinds, weights = list(CHANGE_WEIGHTS), list(CHANGE_WEIGHTS.values())
    for i in range(count):
        kind = rng.choices(kinds, weights)[0]
        if kind == "create":
            ref = f"@{created}"
            created += 1
            chosen = rng.sample(LABELS, rng.choice((0, 1, 2)))
            priority[ref], labels[ref] = rng.randrange(5), set(chosen)
            plan.append(["create", None, f"{side}: new {rng.choice(VERBS).lower()} {rng.choice(NOUNS)} (#{i})",
                         priority[ref], chosen])
            continue
        if kind == "close":
            pool = closable_shared if rng.random() < 0.3 else closable_own
            candidates = [b for b in pool if b not in closed] or [b for b in closable_own if b not in closed]
            if candidates:
                target = rng.choice(candidates)
                closed.add(target)
                plan.append(["close", target])
                continue
            kind = "notes"
        if created and rng.random() < 0.1:
            target = f"@{rng.randrange(created)}"
        else:
            target = rng.choice(shared if rng.random() < 0.3 else own)
        if kind == "title":
            plan.append(["title", target, f"{side} retitled {target} (#{i})"])
        elif kind == "priority":
            value = rng.choice([p for p in range(5) if p != priority[target]])
            priority[target] = value
            plan.append(["priority", target, value])
        elif kind == "notes":
            plan.append(["notes", target, f"{side}-note-{i}"])
        else:
            absent = [lb for lb in LABELS if lb not in labels[target]]
            if labels[target] and (not absent or rng.random() < 0.4):
                label = rng.choice(sorted(labels[target]))
                labels[target].discard(label)
                plan.append(["label-", target, label])
            else:
                label = rng.choice(absent)
                labels[target].add(label)
                plan.append(["label+", target, label])
    return plan


def run_timed(cmd: list[str], cwd: str, env: dict[str, str],
              timeout: float = CHILD_TIMEOUT) -> tuple[float, subprocess.CompletedProcess]:
    """Milliseconds of one whole process and its result (the caller judges its exit code)."""
    t = time.perf_counter()
    result = run_child(cmd, cwd, env, timeout)
    return (time.perf_counter() - t) * 1000, result


def bd_sync(clone: str, env: dict[str, str]) -> dict[str, Any]:
    """One timed `bd sync --json` process: its time, exit code and report (merged beads counted)."""
    ms, result = run_timed([BD, "sync", "--json"], clone, env)
    out: dict[str, Any] = {"s": round(ms / 1000, 3), "exit": result.returncode}
    try:
        report = json.loads(result.stdout)
        out.update(action=report["action"], pushed=report["pushed"], rounds=report["rounds"],
                   merged_beads=len(report["merged_beads"]), renamed=len(report["renamed"]))
    except (ValueError, KeyError, TypeError):
        out["stderr"] = result.stderr.strip()[-2000:]
    return out


def rev(repo: str, ref: str, env: dict[str, str]) -> str | None:
    result = run(["git", "rev-parse", "--verify", "--quiet", ref], repo, env, check=False)
    return result.stdout.strip() or None


def count_commits(repo: str, spec: list[str], env: dict[str, str]) -> int:
    return int(run(["git", "rev-list", "--count", *spec], repo, env).stdout)


def writer_stats(report: dict[str, Any], commits_added: int) -> dict[str, Any]:
    latencies = sorted(report["latencies_ms"])

    def pct(q: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(q * len(latencies)))], 1) if latencies else 0.0

    total = report["total_s"]
    return {
        "total_s": round(total, 2),
        "writes": len(latencies),
        "writes_per_s": round(len(latencies) / total, 1) if total > 0 else None,
        "commits_added": commits_added,
        "by_kind": dict(sorted(report["kinds"].items())),
        "no_change": report["no_change"],
        "errors": len(report["errors"]),
        "first_errors": report["errors"][:5],
        "latency_ms": {"p50": pct(0.5), "p90": pct(0.9), "p99": pct(0.99),
                       "max": round(latencies[-1], 1) if latencies else 0.0},
    }


def as_sets(doc: dict[str, Any], drop: tuple[str, ...] = ()) -> dict[str, Any]:
    """A bead with its sets (labels, dependencies) in a fixed order (the merge writes them sorted),
    without the fields in `drop`."""
    return {k: sorted(v, key=lambda e: json.dumps(e, sort_keys=True)) if k in ("labels", "dependencies") else v
            for k, v in doc.items() if k not in drop}


def one_sided_check(repo: str, final: str, sides: dict[str, tuple[str, set[str]]]) -> dict[str, Any]:
    """Beads only one clone changed (or created) must end as that clone left them: sets compared as
    sets, and `updated_at` apart (the merge keeps the later of the two sides' times, and some generated
    beads carry an `updated_at` up to two days in the future, later than the edit's)."""
    from gt.ledger.gitdir import discover
    from gt.beads.tracker import BEADS, Tracker

    ledger = Tracker(discover(repo)).ledger
    end = ledger.view(final)
    checked, identical, reordered, updated_at, differing, missing = 0, 0, 0, 0, [], []
    for name, (head, touched) in sides.items():
        others = set().union(*(t for other, (_, t) in sides.items() if other != name))
        mine = ledger.view(head)
        for bead_id in sorted(touched - others):
            checked += 1
            want, got = mine.doc(BEADS, bead_id), end.doc(BEADS, bead_id)
            if got is None:
                missing.append(bead_id)
            elif got == want:
                identical += 1
            elif as_sets(got) == as_sets(want):
                reordered += 1
            elif as_sets(got, ("updated_at",)) == as_sets(want, ("updated_at",)):
                updated_at += 1
            else:
                differing.append(bead_id)
    del ledger, end
    gc.collect()
    return {"beads_checked": checked, "identical": identical, "labels_or_deps_reordered_only": reordered,
            "later_updated_at_only": updated_at, "missing": len(missing), "differing": len(differing),
            "examples": (missing + differing)[:5]}


def noop_sync(clone: str, env: dict[str, str], runs: int, timeout: float = CHILD_TIMEOUT) -> dict[str, Any]:
    """`bd sync --json` with nothing to exchange against a plain `git fetch --quiet origin` of the same
    remote, interleaved (one of each per round), one unrecorded warm-up round, then `runs` rounds;
    medians. Every sync must succeed, and the ledger must not move."""
    before = rev(clone, "beads", env)
    noop_ms, fetch_ms, actions = [], [], set()
    for r in range(runs + 1):
        ms, result = run_timed([BD, "sync", "--json"], clone, env, timeout)
        if result.returncode != 0:
            raise RuntimeError(f"no-op bd sync exited {result.returncode}: {result.stderr.strip()[-2000:]}")
        report = json.loads(result.stdout)
        actions.add(f"{report['action']}, pushed {report['pushed']}")
        fms, _ = timed(["git", "fetch", "--quiet", "origin"], clone, env, timeout=timeout)
        if r:
            noop_ms.append(ms)
            fetch_ms.append(fms)
    return {
        "sync": stats_ms(noop_ms), "git_fetch": stats_ms(fetch_ms),
        "sync_over_fetch_ms": round(statistics.median(noop_ms) - statistics.median(fetch_ms), 1),
        "actions": sorted(actions), "ledger_unchanged": rev(clone, "beads", env) == before,
    }


def sync_bench(workdir: str, env: dict[str, str], n: int, changes: int, noop_runs: int) -> dict[str, Any]:
    """Two clones of a guarded bare hub change the same N-bead ledger offline, then `bd sync`; a no-op
    sync against a plain fetch; and the guard checking a push of `changes` new ledger commits."""
    root = os.path.join(workdir, "sync")
    os.makedirs(root)
    hub, a, b = (os.path.join(root, name) for name in ("hub.git", "A", "B"))
    base_env = {k: v for k, v in env.items() if k != "BD_ACTOR"}  # the actor is each clone's user.name

    log(f"sync: bare hub with the guard, clone A imports {n} beads and syncs, clone B syncs")
    run(["git", "init", "-q", "--bare", hub], root, base_env)
    installed = json.loads(run([BD, "hooks", "install", "--bare", hub, "--json"], root, base_env).stdout)
    for clone, user in ((a, "alice"), (b, "bob")):
        run(["git", "clone", "-q", hub, clone], root, base_env)
        run(["git", "config", "user.name", user], clone, base_env)
        run(["git", "config", "user.email", f"{user}@example.com"], clone, base_env)
    run([BD, "init", "--prefix", "gt"], a, base_env)
    records, timings = import_beads(a, root, n, f"beads-{n}.jsonl")
    first_a = bd_sync(a, base_env)
    first_b = bd_sync(b, base_env)
    base = rev(a, "beads", base_env)
    if first_a["exit"] or first_b["exit"] or rev(b, "beads", base_env) != base or rev(hub, "beads", base_env) != base:
        raise RuntimeError(f"the initial syncs failed: A {first_a}, B {first_b}")
    setup = {"beads": n, "changes_per_clone": changes, "guard_hooks": installed, "import_s": timings["import_s"],
             "first_sync_a": first_a, "first_sync_b": first_b, "ledger_commits": count_commits(a, ["beads"], base_env)}
    log(f"sync:   A's first sync (pushes the import) {first_a['s']} s, B's first sync {first_b['s']} s")

    # the change plans: 10% of the beads both clones change, the rest split between them
    ids = [r["id"] for r in records]
    rng = random.Random(20261127)
    order = ids[:]
    rng.shuffle(order)
    shared, own_a, own_b = order[: n // 10], order[n // 10: n // 10 + (n - n // 10) // 2], order[n // 10 + (n - n // 10) // 2:]
    parents = {i.rsplit(".", 1)[0] for i in ids if "." in i}
    closable = {r["id"] for r in records
                if r["status"] != "closed" and not r.get("dependencies") and r["id"] not in parents}
    plans = {
        "A": plan_changes(records, "A", changes, shared, own_a, [i for i in shared if i in closable],
                          [i for i in own_a if i in closable], 1),
        "B": plan_changes(records, "B", changes, shared, own_b, [i for i in shared if i in closable],
                          [i for i in own_b if i in closable], 1),
    }
    del records
    gc.collect()

    offline: dict[str, Any] = {}
    touched: dict[str, set[str]] = {}
    heads: dict[str, str] = {}
    for side, clone, user in (("A", a, "alice"), ("B", b, "bob")):
        log(f"sync: clone {side} makes {changes} changes offline (one process, one commit each)")
        plan_path = os.path.join(root, f"plan-{side}.json")
        with open(plan_path, "w", encoding="utf-8") as f:
            json.dump(plans[side], f)
        before = count_commits(clone, ["beads"], base_env)
        result = run([PY, "-c", SYNC_WRITER, clone, plan_path, user], clone, base_env)
        report = json.loads(result.stdout.strip().splitlines()[-1])
        offline[side] = writer_stats(report, count_commits(clone, ["beads"], base_env) - before)
        touched[side] = set(report["touched"])
        heads[side] = rev(clone, "beads", base_env)
        log(f"sync:   {offline[side]['writes']} writes in {offline[side]['total_s']} s "
            f"({offline[side]['writes_per_s']}/s), {offline[side]['commits_added']} commits, "
            f"{offline[side]['errors']} errors")
    offline["beads_changed_by_both"] = len(touched["A"] & touched["B"])

    log("sync: bd sync on A (pushes its changes), on B (fetches, merges, pushes), on A again")
    sync_a = bd_sync(a, base_env)
    sync_b = bd_sync(b, base_env)
    sync_a2 = bd_sync(a, base_env)
    log(f"sync:   A {sync_a['s']} s ({sync_a.get('action')}), B {sync_b['s']} s ({sync_b.get('action')}, "
        f"{sync_b.get('merged_beads')} beads merged), A again {sync_a2['s']} s ({sync_a2.get('action')})")

    log("sync: convergence (rev-parse beads, git fsck, one-sided changes)")
    final = {"A": rev(a, "beads", base_env), "B": rev(b, "beads", base_env), "hub": rev(hub, "beads", base_env)}
    fsck = {name: run(["git", "fsck", "--no-progress"], repo, base_env, check=False).returncode == 0
            for name, repo in (("A", a), ("B", b), ("hub", hub))}
    identical = len(set(final.values())) == 1 and final["A"] is not None
    contains = identical and all(
        run(["git", "merge-base", "--is-ancestor", heads[side], final["A"]], hub, base_env, check=False).returncode == 0
        for side in ("A", "B"))
    one_sided = one_sided_check(a, final["A"], {s: (heads[s], touched[s]) for s in ("A", "B")}) if identical else None
    convergence = {
        "beads": final, "identical": identical, "fsck_ok": fsck,
        "both_sides_histories_included": contains,
        "ledger_commits": count_commits(hub, ["beads"], base_env) if identical else None,
        "one_sided_beads": one_sided,
    }
    convergence["ok"] = bool(identical and all(fsck.values()) and contains and one_sided
                             and not one_sided["missing"] and not one_sided["differing"]
                             and not any(s["exit"] for s in (sync_a, sync_b, sync_a2)))
    log(f"sync:   identical {identical}, fsck {fsck}, one-sided {one_sided}")

    log(f"sync: no-op bd sync on A vs plain git fetch ({noop_runs} rounds + 1 warm-up)")
    noop = noop_sync(a, base_env, noop_runs)
    log(f"sync:   no-op sync {noop['sync']['median_ms']} ms, git fetch {noop['git_fetch']['median_ms']} ms")

    log(f"sync: the guard checks a push of {changes} new ledger commits (B's offline history) to a fresh hub")
    hub2 = os.path.join(root, "guarded.git")
    run(["git", "init", "-q", "--bare", hub2], root, base_env)
    run([BD, "hooks", "install", "--bare", hub2], root, base_env)
    seed_ms, seed = run_timed(["git", "push", "-q", hub2, f"{base}:refs/heads/beads"], b, base_env)
    new_commits = count_commits(b, [f"{base}..{heads['B']}"], base_env)
    push_ms, pushed = run_timed(["git", "push", hub2, f"{heads['B']}:refs/heads/beads"], b, base_env)
    refused = run(["git", "push", hub2, ":refs/heads/beads"], b, base_env, check=False)
    # the same two pushes to a hub without the guard: what git itself takes
    plain = os.path.join(root, "unguarded.git")
    run(["git", "init", "-q", "--bare", plain], root, base_env)
    run(["git", "push", "-q", plain, f"{base}:refs/heads/beads"], b, base_env)
    plain_ms, _ = timed(["git", "push", plain, f"{heads['B']}:refs/heads/beads"], b, base_env)
    guard = {
        "seed_push": {"commits": count_commits(b, [base], base_env), "s": round(seed_ms / 1000, 3),
                      "exit": seed.returncode},
        "push": {"new_commits": new_commits, "s": round(push_ms / 1000, 3), "exit": pushed.returncode,
                 "accepted": pushed.returncode == 0 and rev(hub2, "beads", base_env) == heads["B"]},
        "delete_refused": refused.returncode != 0 and "ledger guard" in refused.stderr,
        "unguarded_push_s": round(plain_ms / 1000, 3),
        "guard_s_per_commit_ms": round((push_ms - plain_ms) / max(new_commits, 1), 2),
    }
    if pushed.returncode:
        guard["push"]["stderr"] = pushed.stderr.strip()[-2000:]
    log(f"sync:   seed push {guard['seed_push']['s']} s; push of {new_commits} commits {guard['push']['s']} s, "
        f"exit {pushed.returncode} (without the guard {guard['unguarded_push_s']} s); "
        f"deleting the branch refused: {guard['delete_refused']}")

    return {"setup": setup, "offline_changes": offline, "offline_heads": heads,
            "sync": {"A_push": sync_a, "B_merge_push": sync_b, "A_again": sync_a2},
            "convergence": convergence, "noop": noop, "guard": guard}


# -- the report ------------------------------------------------------------------------------------


def town_bench(workdir: str, env: dict[str, str], runs: int) -> dict[str, Any]:
    """A town with one rig and a polecat: the transition hooks' cost, and gt sling/hook/prime times."""
    bin_dir = os.path.dirname(sys.executable)
    gt = os.path.join(bin_dir, "gt")
    bd = os.path.join(bin_dir, "bd")
    town = os.path.join(workdir, "town")
    sample = os.path.join(workdir, "sample")
    run([sys.executable, os.path.join(ROOT, "fixtures", "make_sample.py"), sample, "--name", "sample"], workdir, env)
    run([gt, "install", town, "--actor", "bench"], workdir, env)
    run([gt, "rig", "add", "sample", sample, "--prefix", "sm"], town, env)
    os.makedirs(os.path.join(town, "sample", "settings"), exist_ok=True)
    with open(os.path.join(town, "sample", "settings", "config.yaml"), "w") as f:
        f.write(f"max_polecats: {runs + 2}\n")  # one polecat per timed sling
    beads = [run([bd, "create", f"bench bead {i}", "--rig", "sample"], town, env).stdout.strip() for i in range(runs + 2)]
    sling = [timed([gt, "sling", beads[i], "sample", "--no-start", "--no-convoy"], town, env)[0] for i in range(runs)]
    home = os.path.join(town, "sample", "polecats")
    worktree = os.path.join(home, sorted(os.listdir(home))[0])
    hooks = os.path.join(town, "sample", ".repo.git", "hooks")
    with open(os.path.join(worktree, "f.txt"), "w") as f:
        f.write("first\n")
    run(["git", "add", "f.txt"], worktree, env)
    run(["git", "commit", "-qm", "first (starts the bead)"], worktree, env)  # the one write: hooked -> in_progress
    message = os.path.join(workdir, "MSG")
    prepare, post = [], []
    for _ in range(runs):
        with open(message, "w") as f:
            f.write("a message\n")
        prepare.append(timed([os.path.join(hooks, "prepare-commit-msg"), message, "message"], worktree, env)[0])
        post.append(timed([os.path.join(hooks, "post-commit")], worktree, env)[0])
    prime = [timed([gt, "prime"], worktree, env)[0] for _ in range(runs)]
    hook_show = [timed([gt, "hook", "--json"], worktree, env)[0] for _ in range(runs)]
    # what Claude Code and Codex run after every tool call of every agent (nothing waiting: the common case)
    event = json.dumps({"hook_event_name": "PostToolUse", "tool_name": "Bash", "tool_input": {"command": "ls"}})
    agent_env = {**env, "BD_ACTOR": f"sample/polecats/{os.path.basename(worktree)}"}
    runtime_hook = [timed([gt, "runtime-hook", "post-tool-use"], worktree, agent_env, event)[0] for _ in range(runs)]
    with_hooks, without = [], []
    for i in range(runs):
        with open(os.path.join(worktree, "f.txt"), "w") as f:
            f.write(f"change {i}\n")
        run(["git", "add", "f.txt"], worktree, env)
        with_hooks.append(timed(["git", "commit", "-qm", f"with hooks {i}"], worktree, env)[0])
        with open(os.path.join(worktree, "f.txt"), "w") as f:
            f.write(f"change {i} again\n")
        run(["git", "add", "f.txt"], worktree, env)
        without.append(timed(["git", "-c", "core.hooksPath=/dev/null", "commit", "-qm", f"without {i}"], worktree, env)[0])
    return {"sling_no_start": stats_ms(sling), "prepare_commit_msg": stats_ms(prepare), "post_commit": stats_ms(post),
            "git_commit_with_hooks": stats_ms(with_hooks), "git_commit_without_hooks": stats_ms(without),
            "gt_prime": stats_ms(prime), "gt_hook_json": stats_ms(hook_show),
            "gt_runtime_hook_post_tool_use": stats_ms(runtime_hook)}


def make_history(repo: str, commits: int, seed: int = 7) -> dict[str, Any]:
    """`commits` ledger commits written through dulwich (not one CLI call each): agents hooking,
    submitting, being merged or rejected, escalating, as the dispatch commands record them."""
    import random

    from dulwich.objects import Commit
    from dulwich.repo import Repo

    rng = random.Random(seed)
    r = Repo(repo)
    head = r.refs[b"refs/heads/beads"]
    tree = r[head].tree
    workers = [f"rig/polecats/p{i}" for i in range(40)]
    models = ["model-a", "model-b"]
    parent, batch, t0 = head, [], 1_700_000_000
    for i in range(commits):
        bead = f"bd-{i // 4:06d}"
        worker = workers[(i // 4) % len(workers)]
        model = models[(i // 4) % 2]
        step = i % 4
        if step == 0:
            subject, op, extra = f"hook {bead} on {worker}", "hook", [("Bead-Id", bead), ("Agent", worker)]
        elif step == 1:
            subject, op, extra = f"done {bead} by {worker}", "done", [("Bead-Id", f"{bead}-mr"), ("Agent", worker)]
        elif rng.random() < 0.8 or step == 3:
            subject, op, extra = (f"close {bead}: merged", "merge",
                                  [("Bead-Id", bead), ("Merge-Request", f"{bead}-mr"), ("Worker", worker),
                                   ("Merged-Commit", f"{i:040x}"), ("Attempts", "1")])
        else:
            subject, op, extra = (f"reject {bead}-mr", "reject",
                                  [("Bead-Id", f"{bead}-mr"), ("Worker", worker), ("Result", "failed")])
        trailers = extra + [("Op", op), ("Actor", worker), ("Source", bead), ("Model", model), ("Runtime", "script")]
        c = Commit()
        c.tree, c.parents = tree, [parent]
        c.author = c.committer = f"{worker} <bench@example.com>".encode()
        c.author_time = c.commit_time = t0 + i * 7
        c.author_timezone = c.commit_timezone = 0
        c.message = (subject + "\n\n" + "\n".join(f"{k}: {v}" for k, v in trailers) + "\n").encode()
        batch.append((c, None))
        parent = c.id
    r.object_store.add_objects(batch)  # one pack, as the ledger's own packing would leave it
    r.refs[b"refs/heads/beads"] = parent
    return {"commits": commits, "workers": len(workers)}


def history_bench(workdir: str, env: dict[str, str], commits: int) -> dict[str, Any]:
    """bd stats --group-by model and bd audit over a long ledger history: cold, then again."""
    bd = os.path.join(os.path.dirname(sys.executable), "bd")
    repo = os.path.join(workdir, "history")
    run(["git", "init", "-q", "-b", "main", repo], workdir, env)
    run(["git", "commit", "-q", "--allow-empty", "-m", "start"], repo, env)
    run([bd, "init", "--prefix", "bd"], repo, env)
    t = time.perf_counter()
    made = make_history(repo, commits)
    made["generate_s"] = round(time.perf_counter() - t, 1)
    cache = os.path.join(repo, ".git", "gt", "log")
    out: dict[str, Any] = {"history": made}
    for name, cmd in (("stats_group_by_model", [bd, "stats", "--group-by", "model", "--json"]),
                      ("audit", [bd, "audit", "--actor", "rig/polecats/p7", "--json"])):
        shutil.rmtree(cache, ignore_errors=True)  # cold: no log cache, no derived cache
        first, text = timed(cmd, repo, env)
        again = [timed(cmd, repo, env)[0] for _ in range(3)]
        out[name] = {"first_s": round(first / 1000, 2), "again_s": round(statistics.median(again) / 1000, 3),
                     "output_bytes": len(text)}
    return out


def check(name: str, value: Any, target: float, op: str) -> dict[str, Any]:
    if value is None:
        return {"name": name, "value": None, "target": f"{op} {target:g}", "pass": None, "note": "not measured"}
    ok = {"<=": value <= target, "<": value < target, "==": value == target}[op]
    return {"name": name, "value": value, "target": f"{op} {target:g}", "pass": bool(ok)}


def evaluate(sizes: dict[str, Any], concurrency: dict[str, Any] | None, ratios: dict[str, Any],
             sync: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    at10k = sizes.get("10000")
    checks = []
    for name in READS:
        value = at10k["commands"][name]["over_click_ms"] if at10k else None
        checks.append(check(f"{name} over click at 10k (ms)", value, TARGETS["read_over_click_ms_at_10k"], "<="))
    for name in WRITES:
        value = at10k["commands"][name]["over_click_ms"] if at10k else None
        checks.append(check(f"{name} over click at 10k (ms)", value, TARGETS["write_over_click_ms_at_10k"], "<="))
    checks.append(check("update time over click, 10k/1k", ratios.get("update_over_click_10k_over_1k"),
                        TARGETS["write_time_ratio_10k_over_1k"], "<="))
    checks.append(check("bytes per write, 10k/1k", ratios.get("bytes_per_write_10k_over_1k"),
                        TARGETS["bytes_per_write_ratio_10k_over_1k"], "<="))
    checks.append(check("cold index rebuild at 10k (s, first run)", at10k["cold_rebuild"]["first_s"] if at10k else None,
                        TARGETS["cold_rebuild_s_at_10k"], "<"))
    if concurrency is None:
        checks.append(check("lost updates (concurrent writers)", None, 0, "=="))
    else:
        intact = (concurrency["failed_writes"] == 0 and concurrency["crashed_processes"] == 0
                  and concurrency["missing_note_lines"] == 0 and concurrency["commits_added"] == concurrency["expected_writes"])
        label = f"lost updates ({concurrency['processes']} x {concurrency['updates_per_process']} concurrent)"
        result = check(label, concurrency["lost_updates"], 0, "==")
        result["pass"] = bool(result["pass"] and intact)
        result["detail"] = {k: concurrency[k] for k in ("failed_writes", "crashed_processes", "missing_note_lines",
                                                         "commits_added", "expected_writes")}
        checks.append(result)
    checks += evaluate_sync(sync)
    return checks


def evaluate_history(history: dict[str, Any] | None) -> list[dict[str, Any]]:
    n = f"{history['history']['commits']:,}" if history and "history" in history else "N"
    checks = []
    for name, label in (("stats_group_by_model", "bd stats --group-by model"), ("audit", "bd audit")):
        for key, target in (("first_s", "history_first_s"), ("again_s", "history_again_s")):
            value = history[name][key] if history and "error" not in history else None
            when = "first run" if key == "first_s" else "second run"
            c = check(f"{label} at {n} ledger commits, {when} (s)", value, TARGETS[target], "<")
            if history and "error" in history:
                c.update({"pass": False, "note": f"the history benchmark failed: {history['error']}"})
            checks.append(c)
    return checks


def evaluate_town(town: dict[str, Any] | None) -> list[dict[str, Any]]:
    value = (lambda name: town[name]["median_ms"] if town and "error" not in town else None)
    checks = [check(f"{name} hook, nothing to write (ms, median)", value(key), TARGETS["hook_ms"], "<")
              for name, key in (("prepare-commit-msg", "prepare_commit_msg"), ("post-commit", "post_commit"))]
    if town and "error" in town:
        for c in checks:
            c.update({"pass": False, "note": f"the town benchmark failed: {town['error']}"})
    return checks


def evaluate_sync(sync: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The sync targets; not measured with --no-sync, failed (value None) when the section broke."""
    k = f"{sync['setup']['changes_per_clone']:,}" if sync and "setup" in sync else "N"
    names = (f"bd sync on B: fetch {k} + merge with its {k} + push (s)",
             "no-op bd sync minus plain git fetch (s, medians)",
             f"guard: plain git push of {k} new ledger commits (s)",
             "sync divergence (A, B, hub on one commit; fsck; one-sided changes kept)")
    targets = (("sync_merge_s", "<"), ("noop_sync_over_fetch_s", "<"), ("guard_push_s", "<"), ("sync_divergence", "=="))
    if sync is None or "error" in sync:
        checks = [check(name, None, TARGETS[key], op) for name, (key, op) in zip(names, targets)]
        if sync is not None:
            for c in checks:
                c.update({"pass": False, "note": f"the sync benchmark failed: {sync['error']}"})
        return checks
    b = sync["sync"]["B_merge_push"]
    merge = check(names[0], b["s"], TARGETS["sync_merge_s"], "<")
    offline = sync["offline_changes"]
    as_planned = all(offline[side]["commits_added"] == sync["setup"]["changes_per_clone"] and not offline[side]["errors"]
                     for side in ("A", "B"))
    merge["pass"] = bool(merge["pass"] and as_planned and b["exit"] == 0 and b.get("action") == "merged" and b.get("pushed"))
    merge["detail"] = {k: b.get(k) for k in ("exit", "action", "pushed", "rounds", "merged_beads")}
    merge["detail"]["offline_commits"] = {side: offline[side]["commits_added"] for side in ("A", "B")}
    merge["detail"]["A_push_s"] = sync["sync"]["A_push"]["s"]
    noop = sync["noop"]
    idle = check(names[1], round(noop["sync_over_fetch_ms"] / 1000, 3), TARGETS["noop_sync_over_fetch_s"], "<")
    idle["pass"] = bool(idle["pass"] and noop["ledger_unchanged"])
    idle["detail"] = {"sync_median_ms": noop["sync"]["median_ms"], "git_fetch_median_ms": noop["git_fetch"]["median_ms"]}
    push = sync["guard"]["push"]
    guard = check(names[2], push["s"], TARGETS["guard_push_s"], "<")
    guard["pass"] = bool(guard["pass"] and push["accepted"] and sync["guard"]["delete_refused"])
    guard["detail"] = {"new_commits": push["new_commits"], "exit": push["exit"], "accepted": push["accepted"],
                       "delete_refused": sync["guard"]["delete_refused"]}
    conv = sync["convergence"]
    one_sided = conv["one_sided_beads"] or {}
    problems = ((not conv["identical"]) + sum(not ok for ok in conv["fsck_ok"].values())
                + (not conv["both_sides_histories_included"]) + one_sided.get("missing", 0)
                + one_sided.get("differing", 0) + sum(bool(s["exit"]) for s in sync["sync"].values()))
    divergence = check(names[3], problems, TARGETS["sync_divergence"], "==")
    divergence["detail"] = {"identical": conv["identical"], "fsck_ok": conv["fsck_ok"],
                            "missing": one_sided.get("missing"), "differing": one_sided.get("differing")}
    return [merge, idle, guard, divergence]


def ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a is not None and b else None


def main(argv: list[str] | None = None) -> None:
    ensure_venv()
    # run as a script (bench/run.py), this module is __main__: the scale section imports it as bench.run
    sys.modules.setdefault("bench.run", sys.modules[__name__])
    from bench import scale as scale_mod  # also takes the peer's cache folder from HOME before it changes

    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0],
                                     epilog=SCALE_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000", help="ledger sizes of the default sections (default: 1000,10000)")
    parser.add_argument("--scale", action="store_true",
                        help="run the scale section alone: issue 17's table at 1k, 10k and 100k beads, with the "
                             "microbeads peer at 1k and 10k (see below)")
    parser.add_argument("--big", action="store_true",
                        help="the default sections, then the scale section (it builds its own 1k, 10k and 100k "
                             "ledgers; --sizes is unchanged)")
    parser.add_argument("--dashboard", action="store_true",
                        help="run the dashboard section alone: gt dashboard on a town of --dashboard-beads beads and "
                             "50 polecats, its main page over HTTP and in headless Chromium, and the live feed's latency")
    parser.add_argument("--dashboard-beads", type=int, default=10000, help="beads in the dashboard's town (default: 10000)")
    parser.add_argument("--dashboard-agents", type=int, default=50, help="polecats in the dashboard's town (default: 50)")
    parser.add_argument("--scale-sizes", default="1000,10000,100000", help=argparse.SUPPRESS)
    parser.add_argument("--scale-writes", type=int, default=1000,
                        help="scale: bd update --append-notes processes on the largest ledger, for the index size "
                             "over writes (default: 1000; 0 skips)")
    parser.add_argument("--scale-cold-runs", type=int, default=3,
                        help="scale: fresh git clones, each timed on its first bd list --json (default: 3, at least 2)")
    parser.add_argument("--no-peer", action="store_true", help="scale: skip the microbeads peer")
    parser.add_argument("--runs", type=int, default=9, help="timed runs per command (default: 9)")
    parser.add_argument("--bytes-writes", type=int, default=10, help="writes averaged for bytes per write")
    parser.add_argument("--cold-runs", type=int, default=3, help="cold index rebuilds per size")
    parser.add_argument("--writers", type=int, default=50, help="concurrent writer processes")
    parser.add_argument("--writes-per-writer", type=int, default=20)
    parser.add_argument("--concurrency-size", type=int, default=None,
                        help="ledger size for the concurrent writers (default: 10000 if measured, else the largest)")
    parser.add_argument("--no-sync", action="store_true", help="skip the bd sync and ledger guard section")
    parser.add_argument("--sync-beads", type=int, default=1000, help="beads in the synced ledger (default: 1000)")
    parser.add_argument("--sync-changes", type=int, default=1000, help="offline changes per clone (default: 1000)")
    parser.add_argument("--noop-runs", type=int, default=5, help="timed no-op syncs and fetches (default: 5)")
    parser.add_argument("--no-town", action="store_true", help="skip the town section (git hooks, gt sling/prime)")
    parser.add_argument("--history-commits", type=int, default=100000,
                        help="ledger commits for bd stats/audit over history (default: 100000; 0 skips)")
    parser.add_argument("--out", help="also write the JSON report to this file")
    parser.add_argument("--keep", action="store_true", help="keep the temporary repositories")
    parser.add_argument("--no-bytecode-cache", action="store_true",
                        help="keep the caller's bytecode settings (by default .pyc files are cached in the work dir)")
    args = parser.parse_args(argv)

    default_sections = not (args.scale and not args.big) and not args.dashboard
    with_scale = args.scale or args.big
    sizes = sorted({int(s) for s in args.sizes.split(",") if s.strip()})
    conc_size = args.concurrency_size or (10000 if 10000 in sizes else max(sizes))
    if conc_size not in sizes:
        sizes = sorted(set(sizes) | {conc_size})
    scale_sizes = sorted({int(s) for s in args.scale_sizes.split(",") if s.strip()})

    workdir = tempfile.mkdtemp(prefix="bd-bench-")
    pycache = None if args.no_bytecode_cache else os.path.join(workdir, "pycache")
    env = hermetic_env(os.path.join(workdir, "home"), pycache)
    os.environ.update({k: env[k] for k in ("HOME", "GIT_CONFIG_NOSYSTEM", "GIT_CONFIG_GLOBAL")})
    for name in [k for k in os.environ if k.startswith(("GIT_DIR", "GIT_WORK_TREE", "BD_"))]:
        del os.environ[name]
    log((f"sizes {sizes}" if default_sections else "default sections skipped (--scale)")
        + (f", scale sizes {scale_sizes}" if with_scale else "") + f", {args.runs} runs each, work dir {workdir}")

    report: dict[str, Any] = {
        "benchmark": "bd (gastown-git)",
        "started_at": iso(time.time()),
        "machine": machine(),
        "command": "cd /work/main && .venv/bin/python -m bench " + " ".join(sys.argv[1:] if argv is None else argv),
        "config": {"sizes": sizes if default_sections else [], "runs": args.runs, "bytes_writes": args.bytes_writes,
                   "cold_runs": args.cold_runs,
                   "writers": args.writers, "writes_per_writer": args.writes_per_writer,
                   "concurrency_size": conc_size if default_sections else None,
                   "sync": None if args.no_sync or not default_sections else {
                       "beads": args.sync_beads, "changes_per_clone": args.sync_changes, "noop_runs": args.noop_runs},
                   "scale": {"sizes": scale_sizes, "writes": args.scale_writes, "cold_clones": args.scale_cold_runs,
                             "noop_runs": args.noop_runs, "peer": not args.no_peer} if with_scale else None,
                   "bytecode_cache": "PYTHONPYCACHEPREFIX in the work dir" if pycache else "caller's settings",
                   "caller_PYTHONDONTWRITEBYTECODE": os.environ.get("PYTHONDONTWRITEBYTECODE")},
        "targets": TARGETS,
    }
    results: dict[str, Any] = {}
    ledgers: dict[int, dict[str, Any]] = {}
    concurrency: dict[str, Any] | None = None
    sync: dict[str, Any] | None = None
    history: dict[str, Any] | None = None
    town: dict[str, Any] | None = None
    scale: dict[str, Any] | None = None
    dashboard: dict[str, Any] | None = None
    try:
        if args.dashboard:
            from bench import dashboard as dashboard_mod

            try:
                dashboard = dashboard_mod.dashboard_bench(workdir, env, args.dashboard_beads, args.dashboard_agents,
                                                          args.runs)
            except Exception as exc:
                log(f"dashboard: FAILED: {type(exc).__name__}: {exc}")
                dashboard = {"error": f"{type(exc).__name__}: {exc}"[:2000]}
        for n in sizes if default_sections else []:
            log(f"{n} beads: building the ledger (one import through gt.beads.exchange)")
            ledger = build_ledger(workdir, n, env)
            ledgers[n] = ledger
            info = ledger["info"]
            log(f"{n} beads: generated {info['generate_s']}s, parsed {info['parse_s']}s, imported {info['import_s']}s, "
                f"first bd list {info['first_list_ms']} ms")
            repo, ids = ledger["repo"], ledger["open_ids"]
            # bead ids: 0-4 concurrency, then timed updates, then bytes-per-write updates
            needed = 5 + args.runs + 1 + args.bytes_writes
            if len(ids) < needed:
                raise RuntimeError(f"{n} beads give only {len(ids)} plain open beads; {needed} needed")
            log(f"{n} beads: timing commands ({args.runs} rounds + 1 warm-up)")
            commands = time_commands(repo, env, args.runs, ledger["show_id"], ids[5:5 + args.runs + 1])
            for name, value in commands.items():
                if not name.startswith("_"):
                    log(f"{n} beads:   {name:24s} median {value['median_ms']:7.1f} ms"
                        + (f"  (+{value['over_click_ms']:.1f} over click)" if "over_click_ms" in value else ""))
            log(f"{n} beads: bytes per write (after bd compact)")
            written = bytes_per_write(repo, env, ids[6 + args.runs: 6 + args.runs + args.bytes_writes])
            log(f"{n} beads:   {written['mean_bytes']} bytes, {written['objects_per_write']} objects per update")
            log(f"{n} beads: cold index rebuild")
            cold = cold_rebuild(repo, env, args.cold_runs)
            log(f"{n} beads:   {cold['samples_s']} s")
            results[str(n)] = {"ledger": info, "commands": commands, "bytes_per_write": written, "cold_rebuild": cold}
            del ledger["ids"], ledger["leaf_ids"]

        if default_sections:
            log(f"concurrent writers: {args.writers} x {args.writes_per_writer} on the {conc_size}-bead ledger")
            concurrency = concurrent_writers(ledgers[conc_size]["repo"], env, ledgers[conc_size]["open_ids"][:5],
                                             args.writers, args.writes_per_writer)
            concurrency["ledger_beads"] = conc_size
            log(f"concurrent writers: {concurrency['acknowledged_writes']} writes in {concurrency['total_s']} s, "
                f"lost {concurrency['lost_updates']}, failed {concurrency['failed_writes']}, "
                f"commits added {concurrency['commits_added']}")

        if default_sections and not args.no_sync:
            try:
                sync = sync_bench(workdir, env, args.sync_beads, args.sync_changes, args.noop_runs)
            except Exception as exc:  # report it as failed checks, keep the rest of the report
                log(f"sync: FAILED: {type(exc).__name__}: {exc}")
                sync = {"error": f"{type(exc).__name__}: {exc}"[:2000]}
        if default_sections and args.history_commits:
            log(f"history: {args.history_commits} ledger commits, bd stats --group-by model and bd audit")
            try:
                history = history_bench(workdir, env, args.history_commits)
                log(f"history: stats {history['stats_group_by_model']}, audit {history['audit']}")
            except Exception as exc:
                log(f"history: FAILED: {type(exc).__name__}: {exc}")
                history = {"error": f"{type(exc).__name__}: {exc}"[:2000]}
        if default_sections and not args.no_town:
            log("town: transition hooks, gt sling, gt prime")
            try:
                town = town_bench(workdir, env, args.runs)
                log(f"town: prepare-commit-msg {town['prepare_commit_msg']['median_ms']} ms, "
                    f"post-commit {town['post_commit']['median_ms']} ms, sling {town['sling_no_start']['median_ms']} ms, "
                    f"prime {town['gt_prime']['median_ms']} ms, runtime hook after a tool call "
                    f"{town['gt_runtime_hook_post_tool_use']['median_ms']} ms")
            except Exception as exc:
                log(f"town: FAILED: {type(exc).__name__}: {exc}")
                town = {"error": f"{type(exc).__name__}: {exc}"[:2000]}
        if with_scale:
            log(f"scale: issue 17's table at {scale_sizes}")
            t_scale = time.monotonic()
            try:
                scale = scale_mod.scale_bench(workdir, env, scale_sizes, args.runs, args.scale_cold_runs,
                                              args.noop_runs, args.scale_writes, not args.no_peer)
            except Exception as exc:  # its checks fail; the rest of the report stays
                log(f"scale: FAILED: {type(exc).__name__}: {exc}")
                scale = {"error": f"{type(exc).__name__}: {exc}"[:2000], "sizes": scale_sizes}
            scale["duration_s"] = round(time.monotonic() - t_scale, 1)
            log(f"scale: done in {scale['duration_s']} s")
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)

    ratios: dict[str, Any] = {}
    small, big = results.get("1000"), results.get("10000")
    if small and big:
        ratios = {
            "update_over_click_10k_over_1k": ratio(big["commands"]["update_append_notes"]["over_click_ms"],
                                                   small["commands"]["update_append_notes"]["over_click_ms"]),
            "update_total_10k_over_1k": ratio(big["commands"]["update_append_notes"]["median_ms"],
                                              small["commands"]["update_append_notes"]["median_ms"]),
            "create_over_click_10k_over_1k": ratio(big["commands"]["create"]["over_click_ms"],
                                                   small["commands"]["create"]["over_click_ms"]),
            "bytes_per_write_10k_over_1k": ratio(big["bytes_per_write"]["mean_bytes"],
                                                 small["bytes_per_write"]["mean_bytes"]),
        }
    report["sizes"] = results
    report["concurrency"] = concurrency
    report["ratios"] = ratios
    report["sync"] = sync
    report["town"] = town
    report["history"] = history
    checks: list[dict[str, Any]] = []
    if default_sections:
        checks += evaluate(results, concurrency, ratios, sync) + evaluate_town(town) + evaluate_history(history)
    checks += scale_mod.evaluate_scale(scale)  # also writes each row's targets into scale["rows"]
    if dashboard is not None:
        from bench import dashboard as dashboard_mod

        report["dashboard"] = dashboard
        checks += ([check("dashboard: ran", 0, 0, "<=") | {"pass": False}] if "error" in dashboard
                   else dashboard_mod.evaluate(dashboard))
    report["scale"] = scale
    report["checks"] = checks
    report["all_pass"] = all(c["pass"] for c in report["checks"] if c["pass"] is not None)
    report["duration_s"] = round(time.monotonic() - START, 1)
    text = json.dumps(report, indent=2)
    if args.out:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(text + "\n")
    for c in report["checks"]:
        mark = {True: "PASS", False: "FAIL", None: "----"}[c["pass"]]
        log(f"{mark}  {c['name']}: {c['value']} (target {c['target']})")
    if scale is not None:
        scale_mod.print_tables(scale)
    print(text)

if __name__ == "__main__":
    main()

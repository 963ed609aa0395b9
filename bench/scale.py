"""The scale section (issue 17, "100,000 beads: every command as fast as at 1,000"): every row of the
issue's table at 1,000, 10,000 and 100,000 beads, against its target, with the growth factors
1k -> 10k -> 100k, and the microbeads peer side by side at 1k and 10k (bench/peer.py).

    .venv/bin/python -m bench --scale     # this section alone
    .venv/bin/python -m bench --big       # the default sections, then this one

For each size N, in <work dir>/scale/ (sizes from the hidden --scale-sizes, default 1000,10000,100000):

1. **Import** (bench.run.build_ledger with via_process): `git init`, `bd init --prefix gt`, then one
   whole `bd import beads-N.jsonl --json` process into that fresh repository (the JSON Lines of
   bench.run.make_records). Its wall time, and its peak memory: the `ru_maxrss` that os.wait4 returns
   for that one child (the largest of bd and the git processes it waited for), taken by a small
   launcher so that the benchmark's own size does not count (bench.run.measure_process). The ledger it builds
   is the one measured next; one `bd list` warms it.
2. **Index and pack** after the import and that first read: `.git/gt/index` on disk (every file), the
   packs the import left (sum of .git/objects/pack/*.pack, and loose objects), and the pack after
   `git repack -adq` on a copy of `.git` without `gt/`: that last one is the bound for the index.
3. **Commands**, as bench.run.time_commands does (bench.run.interleaved_rounds: one unrecorded warm-up
   round, then --runs rounds, one of each command per round; medians; "over click" is the median minus
   the median of `python -c "import click"` in the same rounds): `ready --json`, `list --json`, `count`,
   `blocked --json`, `show ID --json`, `create TITLE`, `close ID`, `dep add A B` and
   `update ID --status in_progress`, the writes each on beads of their own (open, no dependencies, no
   children) so none is refused or a no-op. At the peer's sizes the same rounds also run
   `bd ready --json --limit 0`, `bd list --json --all --limit 0` and microbeads' commands.
4. **First read after `git clone`**: a bare hub (`git clone --bare` of the ledger's repository, local),
   then --scale-cold-runs plain `git clone`s of it (a clone has only origin/beads, read through bd's
   fallback ref, and no index); in each the first `bd list --json` is timed; median of the clones.
5. **No-op `bd sync`** between the first two of those clones, both already synced once:
   bench.run.noop_sync (`bd sync --json` and `git fetch --quiet origin` of the same remote interleaved,
   --noop-runs rounds after a warm-up; the sync's median minus the fetch's).
6. **Index over writes**, at the largest size only: --scale-writes (1,000) `bd update ID --append-notes`
   whole processes, each on another bead (a spread over every shard); the index on disk before and
   after, against the same bound (the repacked pack after the import).

Targets (checked at the largest size, as the issue states them for 100k; the check names say the
size): ready/list/count <= +30 ms over click (and <= +60 ms at 10k, as the default sections check);
blocked <= +150 ms; show <= +15 ms; create, close, dep add <= +120 ms and, over click, largest / smallest
<= 1.2; update --status <= +120 ms; `bd import` <= 30 s and <= 500 MB; first read after clone <= 5 s;
index <= pack, after the import and after the writes; no-op sync <= fetch + 40 ms.

Growth factors are value(next size) / value(size) for each row; for "over click" rows only when the
smaller value is at least 2 ms (below that the ratio is noise).
"""
from __future__ import annotations

import glob
import json
import os
import random
import re
import shutil
import statistics
import sys
import time
from typing import Any, Callable

from bench import peer as peer_mod
from bench.run import (BD, PY, build_ledger, check, dir_bytes, interleaved_rounds, log, noop_sync, run, stats_ms,
                       timed)

SCALE_TARGETS = {
    "read_over_click_ms": 30.0,  # ready --json, list --json, count; at the largest size (100k)
    "read_over_click_ms_at_10k": 60.0,  # the same, at 10k (as the default sections check ready/list)
    "blocked_over_click_ms": 150.0,
    "show_over_click_ms": 15.0,
    "write_over_click_ms": 120.0,  # create, close, dep add, update --status
    "write_growth": 1.2,  # create, close, dep add: over click, largest size / smallest size
    "import_s": 30.0,  # one whole `bd import` process of the largest size
    "import_peak_mb": 500.0,
    "first_read_after_clone_s": 5.0,
    "noop_sync_over_fetch_ms": 40.0,
    # and the index on disk <= the repacked pack, after the import and after --scale-writes writes
}
ROUND_TIMEOUT = 300.0  # seconds for one command of the timed rounds
COLD_TIMEOUT = 1800.0  # seconds for the first read in a fresh clone
IMPORT_TIMEOUT = 3600.0
READS = ("ready_json", "list_json", "count")
GROWTH_WRITES = ("create", "close", "dep_add")
MB = 1024 * 1024


def short(n: int) -> str:
    return f"{n // 1000}k" if n % 1000 == 0 and n >= 1000 else f"{n:,}"


def pack_bytes(git_dir: str) -> int:
    return sum(os.path.getsize(p) for p in glob.glob(os.path.join(git_dir, "objects", "pack", "*.pack")))


def count_objects(repo: str, env: dict[str, str]) -> dict[str, int]:
    out = run(["git", "count-objects", "-v"], repo, env, timeout=600).stdout
    return {k.strip(): int(v) for k, v in (line.split(":", 1) for line in out.splitlines() if ":" in line)}


def repacked_bytes(repo: str, scratch: str, env: dict[str, str]) -> tuple[int, float]:
    """The pack size after `git repack -adq` on a copy of the repository's .git (without bd's gt/),
    and the seconds the repack took; the copy is removed."""
    copy = os.path.join(scratch, "repack-copy.git")
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(os.path.join(repo, ".git"), copy, ignore=lambda d, names: ["gt"] if d.endswith(".git") else [])
    t = time.perf_counter()
    run(["git", f"--git-dir={copy}", "repack", "-adq"], scratch, env, timeout=1800)
    seconds = time.perf_counter() - t
    size = pack_bytes(copy)
    shutil.rmtree(copy, ignore_errors=True)
    return size, seconds


def shard_files(index: str) -> int:
    return sum(len(files) for _, _, files in os.walk(index))


def bd_commands(show_id: str, close_ids: list[str], update_ids: list[str], dep_a: list[str], dep_b: list[str],
                unlimited: bool) -> dict[str, Callable[[int], list[str]]]:
    commands: dict[str, Callable[[int], list[str]]] = {
        "baseline_import_click": lambda r: [PY, "-c", "import click"],
        "ready_json": lambda r: [BD, "ready", "--json"],
        "list_json": lambda r: [BD, "list", "--json"],
        "count": lambda r: [BD, "count"],
        "blocked_json": lambda r: [BD, "blocked", "--json"],
        "show_json": lambda r: [BD, "show", show_id, "--json"],
        "create": lambda r: [BD, "create", f"scale create {r}"],
        "close": lambda r: [BD, "close", close_ids[r]],
        "dep_add": lambda r: [BD, "dep", "add", dep_a[r], dep_b[r]],
        "update_status": lambda r: [BD, "update", update_ids[r], "--status", "in_progress"],
    }
    if unlimited:  # what microbeads prints: every ready bead, every bead
        commands["ready_json_all"] = lambda r: [BD, "ready", "--json", "--limit", "0"]
        commands["list_json_all"] = lambda r: [BD, "list", "--json", "--all", "--limit", "0"]
    return commands


def first_reads_after_clone(repo: str, root: str, n: int, env: dict[str, str], clones: int) -> tuple[dict[str, Any], list[str]]:
    """A bare hub of the ledger's repository, `clones` plain clones of it, the first `bd list --json`
    timed in each (cold: no index, only origin/beads). Returns the result and the clones' paths."""
    hub = os.path.join(root, f"hub-{n}.git")
    run(["git", "clone", "-q", "--bare", repo, hub], root, env, timeout=1800)
    paths, samples, branches = [], [], set()
    for k in range(clones):
        clone = os.path.join(root, f"clone-{n}-{k}")
        run(["git", "clone", "-q", hub, clone], root, env, timeout=1800)
        refs = run(["git", "for-each-ref", "--format=%(refname)", "refs/heads", "refs/remotes"], clone, env).stdout.split()
        branches.add(" ".join(sorted(refs)))
        if os.path.exists(os.path.join(clone, ".git", "gt")):
            raise RuntimeError(f"{clone} has a .git/gt before its first read: not cold")
        ms, out = timed([BD, "list", "--json"], clone, env, timeout=COLD_TIMEOUT)
        if not json.loads(out):
            raise RuntimeError(f"the first bd list --json in {clone} printed no bead")
        samples.append(ms / 1000)
        paths.append(clone)
        log(f"{n} beads:   clone {k + 1}/{clones}: first bd list --json {ms / 1000:.2f} s")
    return {"hub": hub, "clones": clones, "samples_s": [round(s, 3) for s in samples],
            "median_s": round(statistics.median(samples), 3), "first_s": round(samples[0], 3),
            "refs_in_clone": sorted(branches)}, paths


def index_over_writes(repo: str, env: dict[str, str], ids: list[str], writes: int, bound_bytes: int) -> dict[str, Any]:
    """`writes` whole `bd update ID --append-notes` processes, each on the next bead of `ids` (shuffled),
    and the index on disk before and after."""
    index = os.path.join(repo, ".git", "gt", "index")
    before, before_files = dir_bytes(index), shard_files(index)
    rng = random.Random(len(ids))
    order = ids[:]
    rng.shuffle(order)
    latencies = []
    t = time.perf_counter()
    for i in range(writes):
        ms, _ = timed([BD, "update", order[i % len(order)], "--append-notes", f"scale write {i}"], repo, env,
                      timeout=ROUND_TIMEOUT)
        latencies.append(ms)
        if (i + 1) % 200 == 0:
            log(f"  {i + 1}/{writes} writes, index {dir_bytes(index) / MB:.1f} MB")
    total = time.perf_counter() - t
    after, after_files = dir_bytes(index), shard_files(index)
    return {"writes": writes, "how": "whole `bd update ID --append-notes` processes", "total_s": round(total, 1),
            "write_ms": {k: v for k, v in stats_ms(latencies).items() if k != "samples_ms"},
            "index_bytes_before": before, "index_bytes_after": after, "index_files_before": before_files,
            "index_files_after": after_files, "growth_bytes": after - before,
            "growth_bytes_per_write": round((after - before) / max(writes, 1), 1), "bound_bytes": bound_bytes}


def measure_size(root: str, n: int, env: dict[str, str], runs: int, cold_runs: int, noop_runs: int, writes: int,
                 peer: dict[str, str] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    log(f"{n} beads: bd import of {n} generated beads as one whole process")
    ledger = build_ledger(root, n, env, via_process=True, import_timeout=IMPORT_TIMEOUT)
    repo, info = ledger["repo"], ledger["info"]
    process = info["bd_import_process"]
    log(f"{n} beads:   bd import {process['wall_s']} s, peak {process['max_rss_mb']} MB, index after it "
        f"{process['index_bytes'] / MB:.1f} MB; first bd list {info['first_list_ms']} ms")
    out["ledger"] = info

    index = os.path.join(repo, ".git", "gt", "index")
    objects = count_objects(repo, env)
    repacked, repack_s = repacked_bytes(repo, root, env)
    out["index"] = {
        "index_bytes_after_import": process["index_bytes"],
        "index_bytes": dir_bytes(index),  # after the import and the first read
        "index_files": shard_files(index),
        "pack_bytes_import": pack_bytes(os.path.join(repo, ".git")),
        "loose_objects_after_import": objects.get("count"), "packs_after_import": objects.get("packs"),
        "pack_bytes_repacked": repacked, "repack_s": round(repack_s, 1),
        "pack_method": "git repack -adq on a copy of .git without gt/ (the bound); the import's own packs also given",
    }
    log(f"{n} beads:   index {out['index']['index_bytes'] / MB:.1f} MB in {out['index']['index_files']} files; pack "
        f"{out['index']['pack_bytes_import'] / MB:.1f} MB as imported, {repacked / MB:.1f} MB after git repack -adq")

    rng = random.Random(20261201 + n)
    pool = ledger["leaf_ids"][:]
    rng.shuffle(pool)
    per = runs + 1  # one bead per round, warm-up included
    if len(pool) < 4 * per:
        raise RuntimeError(f"{n} beads give {len(pool)} open beads without dependencies or children; {4 * per} needed")
    close_ids, update_ids, dep_a, dep_b = (pool[i * per:(i + 1) * per] for i in range(4))
    commands = bd_commands(ledger["show_id"], close_ids, update_ids, dep_a, dep_b, unlimited=peer is not None)
    spare = [pool[i * per:(i + 1) * per] for i in range(4, 8)]  # fresh beads, should the rounds run again
    cwds: dict[str, str] = {}
    peer_info, peer_error = None, None
    if peer is not None:  # a failure of the peer's leaves bd's rows measured
        try:
            built = peer_mod.build_peer(root, n, os.path.join(root, f"beads-{n}.jsonl"), env, peer, run, timed, log)
            peer_info = built["info"]
            extra = peer_mod.peer_commands(peer, ledger["show_id"], close_ids, update_ids, dep_a, dep_b)
            commands.update(extra)
            cwds = {name: built["repo"] for name in extra}
        except Exception as exc:
            peer, peer_error = None, f"building microbeads' repository failed: {type(exc).__name__}: {exc}"[:2000]
            log(f"{n} beads: {peer_error}")
    log(f"{n} beads: timing {len(commands)} commands ({runs} rounds + 1 warm-up)")
    try:
        samples, outputs = interleaved_rounds(commands, runs, repo, env, cwds=cwds, timeout=ROUND_TIMEOUT)
    except Exception as exc:
        if peer is None:
            raise
        peer, peer_error = None, f"a microbeads round failed: {type(exc).__name__}: {exc}"[:2000]
        log(f"{n} beads: {peer_error}; timing bd's commands again (on fresh beads) without the peer")
        if any(len(ids) < per for ids in spare):
            raise RuntimeError(f"{peer_error}; too few fresh beads to time bd's commands again") from None
        commands = bd_commands(ledger["show_id"], spare[0], spare[1], spare[2], spare[3], unlimited=True)
        samples, outputs = interleaved_rounds(commands, runs, repo, env, timeout=ROUND_TIMEOUT)
    ready, listed, blocked, shown = (json.loads(outputs[name]) for name in
                                     ("ready_json", "list_json", "blocked_json", "show_json"))
    number = re.search(r"\d+", outputs["count"])
    counted = int(number.group()) if number else -1
    if not (ready and listed and blocked and shown[0].get("id") == ledger["show_id"] and counted >= n):
        raise RuntimeError("a read command returned nothing: the ledger was not built as intended")
    baseline = statistics.median(samples["baseline_import_click"])
    stats = {"baseline_import_click": stats_ms(samples["baseline_import_click"])}
    for name in commands:
        if name.startswith("mb_") or name == "baseline_import_click":
            continue
        stats[name] = stats_ms(samples[name], baseline)
        log(f"{n} beads:   {name:18s} median {stats[name]['median_ms']:8.1f} ms  ({stats[name]['over_click_ms']:+.1f} over click)")
    out["commands"] = stats
    out["result_sizes"] = {"ready": len(ready), "list": len(listed), "blocked": len(blocked), "count": counted}
    if peer is not None:
        mb_base = statistics.median(samples["mb_baseline_import_click"])
        mb_stats = {"mb_baseline_import_click": stats_ms(samples["mb_baseline_import_click"])}
        for name in commands:
            if name.startswith("mb_") and name != "mb_baseline_import_click":
                mb_stats[name] = stats_ms(samples[name], mb_base)
                log(f"{n} beads:   {name:18s} median {mb_stats[name]['median_ms']:8.1f} ms  "
                    f"({mb_stats[name]['over_click_ms']:+.1f} over its click)")
        out["peer"] = {"info": peer_info, "commands": mb_stats,
                       "result_sizes": peer_mod.check_peer_outputs(outputs, ledger["show_id"])}
    elif peer_error:
        out["peer"] = {"error": peer_error}

    log(f"{n} beads: first read after git clone ({max(cold_runs, 2)} clones of a bare hub)")
    cold, clones = first_reads_after_clone(repo, root, n, env, max(cold_runs, 2))
    out["first_read_after_clone"] = cold

    log(f"{n} beads: no-op bd sync vs git fetch between two clones ({noop_runs} rounds + 1 warm-up)")
    a, b = clones[0], clones[1]
    for clone in (b, a):  # both synced once before the rounds (noop_sync adds its own warm-up round)
        timed([BD, "sync", "--json"], clone, env, timeout=COLD_TIMEOUT)
    noop = noop_sync(a, env, noop_runs, timeout=ROUND_TIMEOUT)
    out["noop_sync"] = noop
    log(f"{n} beads:   no-op sync {noop['sync']['median_ms']} ms, git fetch {noop['git_fetch']['median_ms']} ms, "
        f"difference {noop['sync_over_fetch_ms']} ms ({', '.join(noop['actions'])})")
    for path in clones + [cold["hub"]]:
        shutil.rmtree(path, ignore_errors=True)

    if writes:
        log(f"{n} beads: index over {writes} writes (whole bd update --append-notes processes)")
        out["writes"] = index_over_writes(repo, env, ledger["ids"], writes, out["index"]["pack_bytes_repacked"])
        w = out["writes"]
        log(f"{n} beads:   {writes} writes in {w['total_s']} s; index {w['index_bytes_before'] / MB:.1f} -> "
            f"{w['index_bytes_after'] / MB:.1f} MB ({w['index_files_before']} -> {w['index_files_after']} files)")
        out["pack_bytes_after_writes"] = pack_bytes(os.path.join(repo, ".git"))
    del ledger
    return out


# -- rows, checks, tables ------------------------------------------------------------------------------

def _over(name: str) -> Callable[[dict[str, Any]], Any]:
    return lambda r: r["commands"][name]["over_click_ms"]


def _mb(value: int | None) -> float | None:
    return None if value is None else round(value / MB, 2)


# (key, label, unit, value at one size); "over click" rows are in ms over the click baseline
ROWS: list[tuple[str, str, str, Callable[[dict[str, Any]], Any]]] = [
    ("ready_json", "bd ready --json", "ms over click", _over("ready_json")),
    ("list_json", "bd list --json", "ms over click", _over("list_json")),
    ("count", "bd count", "ms over click", _over("count")),
    ("blocked_json", "bd blocked --json", "ms over click", _over("blocked_json")),
    ("show_json", "bd show ID --json", "ms over click", _over("show_json")),
    ("create", "bd create TITLE", "ms over click", _over("create")),
    ("close", "bd close ID", "ms over click", _over("close")),
    ("dep_add", "bd dep add A B", "ms over click", _over("dep_add")),
    ("update_status", "bd update ID --status in_progress", "ms over click", _over("update_status")),
    ("import_s", "bd import FILE (one process), wall", "s", lambda r: r["ledger"]["bd_import_process"]["wall_s"]),
    ("import_peak_mb", "bd import FILE, peak memory (wait4 maxrss)", "MB",
     lambda r: r["ledger"]["bd_import_process"]["max_rss_mb"]),
    ("first_read_after_clone_s", "first bd list --json after git clone", "s",
     lambda r: r["first_read_after_clone"]["median_s"]),
    ("index_import_mb", "index on disk right after bd import", "MB",
     lambda r: _mb(r["index"]["index_bytes_after_import"])),
    ("index_mb", "index on disk after import + first read", "MB", lambda r: _mb(r["index"]["index_bytes"])),
    ("pack_mb", "pack after git repack -adq (the bound)", "MB", lambda r: _mb(r["index"]["pack_bytes_repacked"])),
    ("pack_import_mb", "packs as bd import left them", "MB", lambda r: _mb(r["index"]["pack_bytes_import"])),
    ("loose_after_import", "loose objects after bd import", "objects",
     lambda r: r["index"]["loose_objects_after_import"]),
    ("index_after_writes_mb", "index after the writes", "MB",
     lambda r: _mb(r["writes"]["index_bytes_after"]) if "writes" in r else None),
    ("pack_after_writes_mb", "packs after the writes (bd's own packing)", "MB",
     lambda r: _mb(r.get("pack_bytes_after_writes"))),
    ("noop_sync_over_fetch_ms", "no-op bd sync minus git fetch", "ms", lambda r: r["noop_sync"]["sync_over_fetch_ms"]),
    ("noop_sync_ms", "  no-op bd sync (median)", "ms", lambda r: r["noop_sync"]["sync"]["median_ms"]),
    ("git_fetch_ms", "  git fetch (median)", "ms", lambda r: r["noop_sync"]["git_fetch"]["median_ms"]),
    ("baseline_click_ms", "python -c 'import click' (median)", "ms",
     lambda r: r["commands"]["baseline_import_click"]["median_ms"]),
]


def growth(values: dict[int, Any], sizes: list[int], unit: str) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    pairs = list(zip(sizes, sizes[1:]))
    if len(sizes) > 2:
        pairs.append((sizes[0], sizes[-1]))
    for a, b in pairs:
        va, vb = values.get(a), values.get(b)
        floor = 2.0 if unit == "ms over click" else 1e-9
        out[f"{short(a)}->{short(b)}"] = round(vb / va, 2) if (va is not None and vb is not None and va >= floor) else None
    return out


def build_rows(results: dict[int, dict[str, Any]], sizes: list[int]) -> list[dict[str, Any]]:
    rows = []
    for key, label, unit, get in ROWS:
        values: dict[int, Any] = {}
        for n in sizes:
            r = results.get(n)
            try:
                values[n] = get(r) if r and "error" not in r else None
            except (KeyError, TypeError):
                values[n] = None
        rows.append({"key": key, "row": label, "unit": unit, "values": {str(n): v for n, v in values.items()},
                     "growth": growth(values, sizes, unit)})
    return rows


def evaluate_scale(scale: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The scale section's checks (see SCALE_TARGETS); each row's target, value and pass also go into
    scale["rows"]."""
    if scale is None:
        return []
    if "rows" not in scale:  # the section broke before any row
        return [{"name": "scale: issue 17's table", "value": None, "target": "every row measured", "pass": False,
                 "note": f"the scale section failed: {scale.get('error')}"}]
    sizes: list[int] = scale["sizes"]
    largest, smallest = sizes[-1], sizes[0]
    rows = {row["key"]: row for row in scale["rows"]}
    at = short(largest)
    checks: list[dict[str, Any]] = []

    def value(key: str, n: int) -> Any:
        return rows[key]["values"].get(str(n))

    def add(key: str, name: str, v: Any, target: float | None, op: str, where: str) -> None:
        if target is None:  # a bound that was not measured
            c = {"name": f"scale: {name}", "value": v, "target": f"{op} (not measured)", "pass": False,
                 "note": "the bound was not measured"}
        else:
            c = check(f"scale: {name}", v, target, op)
        failed = [r["error"] for r in scale["results"].values() if "error" in r]
        if v is None and failed:
            c.update({"pass": False, "note": f"the scale section failed: {'; '.join(failed)}"[:2000]})
        checks.append(c)
        rows[key].setdefault("targets", []).append({"check": c["name"], "target": c["target"], "where": where,
                                                   "value": v, "pass": c["pass"]})

    t = SCALE_TARGETS
    for key in READS:
        add(key, f"{rows[key]['row']} over click at {at} (ms)", value(key, largest), t["read_over_click_ms"], "<=", at)
        if 10000 in sizes and largest != 10000:
            add(key, f"{rows[key]['row']} over click at 10k (ms)", value(key, 10000), t["read_over_click_ms_at_10k"],
                "<=", "10k")
    add("blocked_json", f"bd blocked --json over click at {at} (ms)", value("blocked_json", largest),
        t["blocked_over_click_ms"], "<=", at)
    add("show_json", f"bd show ID --json over click at {at} (ms)", value("show_json", largest),
        t["show_over_click_ms"], "<=", at)
    for key in GROWTH_WRITES + ("update_status",):
        add(key, f"{rows[key]['row']} over click at {at} (ms)", value(key, largest), t["write_over_click_ms"], "<=", at)
        if key in GROWTH_WRITES and len(sizes) > 1:
            big, small = value(key, largest), value(key, smallest)
            ratio = round(big / small, 2) if big is not None and small else None
            add(key, f"{rows[key]['row']} over click, {at} / {short(smallest)}", ratio, t["write_growth"], "<=",
                f"{at}/{short(smallest)}")
    add("import_s", f"bd import of {largest:,} beads, one process (s)", value("import_s", largest), t["import_s"],
        "<=", at)
    add("import_peak_mb", f"bd import of {largest:,} beads, peak memory (MB)", value("import_peak_mb", largest),
        t["import_peak_mb"], "<=", at)
    add("first_read_after_clone_s", f"first bd list --json after git clone at {at} (s, median)",
        value("first_read_after_clone_s", largest), t["first_read_after_clone_s"], "<=", at)
    pack = value("pack_mb", largest)
    add("index_mb", f"index on disk after import at {at} <= repacked pack (MB)", value("index_mb", largest), pack,
        "<=", f"{at}, pack")
    writes = scale["config"]["writes_at_largest"]
    if writes:
        add("index_after_writes_mb", f"index on disk after {writes:,} writes at {at} <= repacked pack (MB)",
            value("index_after_writes_mb", largest), pack, "<=", f"{at}, pack")
    add("noop_sync_over_fetch_ms", f"no-op bd sync minus git fetch at {at} (ms, medians)",
        value("noop_sync_over_fetch_ms", largest), t["noop_sync_over_fetch_ms"], "<=", at)
    return checks


SIDE_BY_SIDE = [  # label, bd command key, mb command key
    ("ready --json (bd: its default limit; mb: no limit)", "ready_json", "mb_ready_json"),
    ("  bd ready --json --limit 0 (every ready bead)", "ready_json_all", None),
    ("list --json (bd: default limit, open; mb: every issue)", "list_json", "mb_list_json"),
    ("  bd list --json --all --limit 0 (every bead)", "list_json_all", None),
    ("blocked --json", "blocked_json", "mb_blocked_json"),
    ("show ID --json", "show_json", "mb_show_json"),
    ("count (mb: none)", "count", None),
    ("create TITLE (mb: writes a file, no commit)", "create", "mb_create"),
    ("close ID (mb: no commit)", "close", "mb_close"),
    ("dep add A B (mb: no commit)", "dep_add", "mb_dep_add"),
    ("mb sync (commits that round's create, close, dep add)", None, "mb_sync_commit"),
    ("update ID --status in_progress (both commit)", "update_status", "mb_update_status"),
    ("python -c 'import click' (each one's venv)", "baseline_import_click", "mb_baseline_import_click"),
]


def side_by_side(scale: dict[str, Any]) -> list[dict[str, Any]]:
    peer = scale["peer"]
    if not peer.get("available"):
        return []
    out = []
    for label, ours, theirs in SIDE_BY_SIDE:
        row: dict[str, Any] = {"row": label, "bd": ours, "mb": theirs}
        for n in peer["sizes"]:
            r = scale["results"].get(str(n), {})
            pick = (lambda stats, key: {k: stats[key].get(k) for k in ("median_ms", "over_click_ms")}
                    if key and key in stats else None)
            row[str(n)] = {"bd": pick(r.get("commands", {}), ours),
                           "mb": pick(r.get("peer", {}).get("commands", {}), theirs)}
        out.append(row)
    return out


def _fmt(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:,.1f}" if abs(v) < 1000 else f"{v:,.0f}"
    return f"{v:,}" if isinstance(v, int) else str(v)


def print_tables(scale: dict[str, Any], file: Any = None) -> None:
    file = file or sys.stderr
    sizes = scale["sizes"]
    say = (lambda line="": print(line, file=file))
    say()
    if "rows" not in scale:
        say(f"scale (issue 17): FAILED: {scale.get('error')}")
        return
    say("scale (issue 17): medians of whole processes; 'over click' = median - median of python -c 'import click' "
        "in the same rounds")
    gkeys = list(scale["rows"][0]["growth"]) if scale["rows"] else []
    head = f"{'row':46s} {'unit':13s}" + "".join(f"{short(n):>9s}" for n in sizes) + "".join(f"{'x' + g:>13s}" for g in gkeys)
    say(head + "  target")
    for row in scale["rows"]:
        line = f"{row['row'][:46]:46s} {row['unit']:13s}" + "".join(f"{_fmt(row['values'][str(n)]):>9s}" for n in sizes)
        line += "".join(f"{_fmt(row['growth'][g]):>13s}" for g in gkeys)
        marks = "; ".join(f"{t['target']} [{t['where']}] {'PASS' if t['pass'] else 'FAIL' if t['pass'] is False else '----'}"
                          for t in row.get("targets", []))
        say(line + ("  " + marks if marks else ""))
    for key in ("import", "index", "writes", "notes"):
        for text in scale.get("explain", {}).get(key, []):
            say(f"  {text}")
    peer = scale["peer"]
    say()
    if not peer.get("available"):
        say(f"microbeads peer: not measured. {peer.get('unavailable_reason', '')}")
        return
    psizes = peer["sizes"]
    say(f"side by side with {peer['name']} {peer['version']} ({peer['repository']}): ms, median (over each one's "
        "own click baseline); mb's issues saved through its Python API, then one mb sync")
    say(f"{'command':56s}" + "".join(f"{'bd ' + short(n):>18s}{'mb ' + short(n):>18s}" for n in psizes))
    for row in scale["peer"]["side_by_side"]:
        cells = ""
        for n in psizes:
            for side in ("bd", "mb"):
                v = row[str(n)][side]
                if v is None:
                    cell = "—"
                elif v.get("over_click_ms") is None:
                    cell = _fmt(v["median_ms"])
                else:
                    cell = f"{_fmt(v['median_ms'])} ({v['over_click_ms']:+.1f})"
                cells += f"{cell:>18s}"
        say(f"{row['row'][:56]:56s}{cells}")
    for n in psizes:
        r = scale["results"].get(str(n), {})
        ours, theirs = r.get("result_sizes"), r.get("peer", {}).get("result_sizes")
        if ours and theirs:
            say(f"  rows printed at {short(n)}: bd ready {ours['ready']}, list {ours['list']}, blocked {ours['blocked']}; "
                f"mb ready {theirs['ready']}, list {theirs['list']}, blocked {theirs['blocked']}")
    for note in peer.get("notes", []):
        say(f"  {note}")
    for n, error in peer.get("errors", {}).items():
        say(f"  at {short(int(n))}: FAILED: {error}")


def scale_bench(workdir: str, env: dict[str, str], sizes: list[int], runs: int, cold_runs: int, noop_runs: int,
                writes: int, with_peer: bool, peer_max: int = 10000) -> dict[str, Any]:
    """The whole section: every size, the rows with their growth factors, the peer."""
    root = os.path.join(workdir, "scale")
    os.makedirs(root, exist_ok=True)
    sizes = sorted(set(sizes))
    peer_sizes = [n for n in sizes if n <= peer_max]
    peer: dict[str, Any] = {"name": peer_mod.PEER, "version": peer_mod.PEER_VERSION,
                            "repository": peer_mod.PEER_REPOSITORY, "available": False, "sizes": []}
    installed = None
    if not with_peer:
        peer["unavailable_reason"] = "skipped (--no-peer)"
    elif not peer_sizes:
        peer["unavailable_reason"] = f"no scale size is at most {peer_max:,}"
    else:
        log(f"scale: the peer, {peer_mod.PEER} {peer_mod.PEER_VERSION} (cached venv under {peer_mod.CACHE})")
        try:
            installed = peer_mod.ensure_peer()
            peer.update(available=True, sizes=peer_sizes, venv=installed["venv"],
                        how_built=" ".join(peer_mod.__doc__.split("\n\n")[2].split()))
        except peer_mod.PeerUnavailable as exc:
            peer["unavailable_reason"] = f"microbeads {peer_mod.PEER_VERSION} could not be installed here: {exc}"
            log(f"scale: {peer['unavailable_reason']}")
    results: dict[str, Any] = {}
    for n in sizes:
        t = time.perf_counter()
        try:
            results[str(n)] = measure_size(root, n, env, runs, cold_runs, noop_runs,
                                           writes if n == sizes[-1] else 0,
                                           installed if (installed and n in peer_sizes) else None)
        except Exception as exc:  # the other sizes still report; this one's checks fail
            log(f"scale: {n} beads FAILED: {type(exc).__name__}: {exc}")
            results[str(n)] = {"error": f"{type(exc).__name__}: {exc}"[:2000]}
        error = results[str(n)].get("error") or results[str(n)].get("peer", {}).get("error")
        if error and installed and n in peer_sizes:
            peer.setdefault("errors", {})[str(n)] = error
        results[str(n)]["section_s"] = round(time.perf_counter() - t, 1)
        for leftover in glob.glob(os.path.join(root, f"beads-{n}.jsonl")):
            os.remove(leftover)
    scale: dict[str, Any] = {"sizes": sizes, "targets": SCALE_TARGETS,
                             "config": {"runs": runs, "cold_clones": max(cold_runs, 2), "noop_runs": noop_runs,
                                        "writes_at_largest": writes},
                             "results": results}
    scale["rows"] = build_rows({int(k): v for k, v in results.items()}, sizes)
    scale["peer"] = peer
    peer["side_by_side"] = side_by_side(scale)
    largest = results.get(str(sizes[-1]), {})
    proc = largest.get("ledger", {}).get("bd_import_process", {})
    scale["explain"] = {
        "import": [f"bd import peak memory: {proc.get('peak_memory_method', 'os.wait4 rusage')}"] if proc else [],
        "index": [f"index bound: {largest['index']['pack_method']}"] if "index" in largest else [],
        "writes": [f"index over writes: {largest['writes']['writes']} {largest['writes']['how']} on the "
                   f"{sizes[-1]:,}-bead ledger, {largest['writes']['total_s']} s"] if "writes" in largest else [],
        "notes": ["first read after clone: a plain `git clone` of a bare hub (itself a local `git clone --bare` of "
                  "the ledger's repository): the clone has only refs/remotes/origin/beads and no index; median "
                  "of the clones",
                  "every read in the rounds follows the previous round's writes (for bd and microbeads alike)"],
    }
    peer["notes"] = [
        "mb reads re-read every issue file whenever one is newer than its disk cache, and `mb sync` and "
        "`mb update --status in_progress` delete that cache: in these rounds its first read of a round rebuilds it",
        "mb list/ready print every issue (list: closed ones too) with no limit; bd has default limits, the "
        "indented bd rows are bd without one",
        "each side's 'over click' is over `python -c \"import click\"` in its own venv, timed in the same rounds",
    ] if peer.get("available") else []
    return scale

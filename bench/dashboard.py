"""`python -m bench --dashboard`: issue 18's targets for `gt dashboard`.

A town with one rig of N generated beads (10,000 by default) and 50 polecats each hooked on one of
them (one open convoy of 50), then `gt dashboard` started on it and measured:
- the main page `/` over HTTP: the first load after start-up, loads with nothing new, and the
  first load after a write (the dashboard reads the town again);
- the main page in headless Chromium (Debian's chromium and chromedriver, through selenium): the
  navigation's duration from the request to the load event, after a write and with nothing new;
- the live feed's latency: from `bd create` returning (its commit is in) to its line arriving on
  the server-sent event stream `/events`.
Targets: main page under 300 ms, feed latency under 1 s.
"""
from __future__ import annotations

import http.client
import json
import os
import queue
import statistics
import subprocess
import sys
import threading
import time
from typing import Any

from bench.run import ROOT, log, run, stats_ms, write_jsonl

TARGETS = {"main_page_ms": 300.0, "feed_latency_ms": 1000.0}


def _gt(name: str) -> str:
    return os.path.join(os.path.dirname(sys.executable), name)


def build_town(workdir: str, env: dict[str, str], beads: int, agents: int) -> dict[str, Any]:
    """gt install, one rig (prefix gt) with `beads` imported, `agents` polecats slung (not started)."""
    town = os.path.join(workdir, "dash-town")
    sample = os.path.join(workdir, "dash-sample")
    run([sys.executable, os.path.join(ROOT, "fixtures", "make_sample.py"), sample, "--name", "sample"], workdir, env)
    run([_gt("gt"), "install", town, "--actor", "bench"], workdir, env)
    run([_gt("gt"), "rig", "add", "sample", sample, "--prefix", "gt"], town, env)
    os.makedirs(os.path.join(town, "sample", "settings"), exist_ok=True)
    with open(os.path.join(town, "sample", "settings", "config.yaml"), "w") as f:
        f.write(f"max_polecats: {agents + 5}\n")
    records, jsonl, _ = write_jsonl(workdir, beads, f"dash-{beads}.jsonl")
    rig_worktree = os.path.join(town, "sample", "refinery", "rig")
    t = time.perf_counter()
    run([_gt("bd"), "import", jsonl], rig_worktree, env)
    imported = time.perf_counter() - t
    ready = json.loads(run([_gt("bd"), "ready", "--json", "-n", str(agents)], rig_worktree, env).stdout)
    ids = [row["id"] for row in ready][:agents]
    t = time.perf_counter()
    run([_gt("gt"), "sling", *ids, "sample", "--no-start"], town, env, timeout=1800)
    slung = time.perf_counter() - t
    return {"town": town, "rig_worktree": rig_worktree, "beads": beads, "agents": len(ids),
            "import_s": round(imported, 1), "sling_s": round(slung, 1)}


class Server:
    def __init__(self, town: str, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen([_gt("gt"), "dashboard", "--port", "0", "--json"], cwd=town, env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=lambda: lines.put(self.proc.stdout.readline() if self.proc.stdout else ""),
                         daemon=True).start()
        t = time.perf_counter()
        first = lines.get(timeout=300)
        self.start_s = round(time.perf_counter() - t, 2)
        if not first:
            raise RuntimeError(f"gt dashboard ended: {self.proc.stderr.read() if self.proc.stderr else ''}")
        started = json.loads(first)
        self.url, self.token = started["url"].rstrip("/"), started["token"]
        self.host, port = self.url.removeprefix("http://").rsplit(":", 1)
        self.port = int(port)

    def get_ms(self, path: str = "/") -> float:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        t = time.perf_counter()
        conn.request("GET", path, headers={"Host": f"{self.host}:{self.port}"})
        reply = conn.getresponse()
        reply.read()
        elapsed = (time.perf_counter() - t) * 1000
        conn.close()
        if reply.status != 200:
            raise RuntimeError(f"GET {path}: {reply.status}")
        return elapsed

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def _write(built: dict[str, Any], env: dict[str, str], i: int) -> None:
    run([_gt("bd"), "create", f"dashboard bench write {i}"], built["rig_worktree"], env)


def _wait_fresh(server: Server) -> None:
    """Let the server's watcher see the last write (the page load after it then reads the town again)."""
    time.sleep(0.6)  # two of the watcher's polls


def feed_latency(server: Server, built: dict[str, Any], env: dict[str, str], rounds: int) -> list[float]:
    """Milliseconds from `bd create` returning to its line on the event stream, per round."""
    conn = http.client.HTTPConnection(server.host, server.port, timeout=30)
    conn.request("GET", "/events", headers={"Host": f"{server.host}:{server.port}"})
    reply = conn.getresponse()
    arrived: queue.Queue[tuple[float, str]] = queue.Queue()

    def read() -> None:
        event = ""
        try:
            for raw in reply:
                line = raw.decode("utf-8", "replace").rstrip("\n")
                if line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: ") and event == "feed":
                    arrived.put((time.perf_counter(), line[6:]))
        except (OSError, ValueError):
            pass

    threading.Thread(target=read, daemon=True).start()
    time.sleep(0.5)
    out = []
    for i in range(rounds):
        title = f"latency probe {i} {time.time()}"
        run([_gt("bd"), "create", title], built["rig_worktree"], env)
        done = time.perf_counter()
        deadline = done + 10
        while True:
            at, data = arrived.get(timeout=max(0.01, deadline - time.perf_counter()))
            if title in json.loads(data)["html"]:
                out.append((at - done) * 1000)
                break
        time.sleep(0.3)
    conn.close()
    return out


def browser_loads(server: Server, built: dict[str, Any], env: dict[str, str], rounds: int) -> dict[str, Any]:
    """The main page in headless Chromium: navigation start to the load event, in ms."""
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--window-size=1400,1000"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.set_page_load_timeout(60)
    timing = "const n = performance.getEntriesByType('navigation')[0]; return [n.responseEnd, n.loadEventEnd];"
    try:
        driver.get(f"{server.url}/?token={server.token}")
        warm, fresh, response = [], [], []
        for i in range(rounds):
            driver.get(f"{server.url}/")
            warm.append(driver.execute_script(timing)[1])
            driver.get("about:blank")  # an open dashboard would read the write itself (its live refresh)
            _write(built, env, 1000 + i)
            _wait_fresh(server)
            driver.get(f"{server.url}/")
            got = driver.execute_script(timing)
            response.append(got[0])
            fresh.append(got[1])
    finally:
        driver.quit()
    return {"unchanged": stats_ms(warm), "after_a_write": stats_ms(fresh), "after_a_write_response_end": stats_ms(response)}


def dashboard_bench(workdir: str, env: dict[str, str], beads: int, agents: int, rounds: int) -> dict[str, Any]:
    log(f"dashboard: a town of {beads} beads and {agents} polecats")
    built = build_town(workdir, env, beads, agents)
    log(f"dashboard:   imported in {built['import_s']} s, slung {built['agents']} in {built['sling_s']} s")
    server = Server(built["town"], env)
    try:
        log(f"dashboard:   started in {server.start_s} s (it reads the main page once before it prints)")
        first = server.get_ms("/")
        warm = [server.get_ms("/") for _ in range(rounds)]
        fresh = []
        for i in range(rounds):
            _write(built, env, i)
            _wait_fresh(server)
            fresh.append(server.get_ms("/"))
        pages = {path: stats_ms([server.get_ms(path) for _ in range(3)])
                 for path in ("/convoys", "/agents", "/queue", "/escalations", "/feed", "/records", "/ready")}
        log(f"dashboard:   GET / first {first:.1f} ms, unchanged median {statistics.median(warm):.1f} ms, "
            f"after a write median {statistics.median(fresh):.1f} ms")
        latency = feed_latency(server, built, env, rounds)
        log(f"dashboard:   feed latency median {statistics.median(latency):.0f} ms, max {max(latency):.0f} ms")
        browser = browser_loads(server, built, env, rounds)
        log(f"dashboard:   Chromium load: unchanged median {browser['unchanged']['median_ms']} ms, after a write "
            f"median {browser['after_a_write']['median_ms']} ms")
    finally:
        server.stop()
    return {"town": {k: v for k, v in built.items() if k not in ("town", "rig_worktree")}, "start_s": server.start_s,
            "http_main_page": {"first_ms": round(first, 1), "unchanged": stats_ms(warm), "after_a_write": stats_ms(fresh)},
            "http_other_pages": pages, "feed_latency": stats_ms(latency), "chromium_main_page": browser}


def evaluate(result: dict[str, Any]) -> list[dict[str, Any]]:
    from bench.run import check

    worst_page = max(result["http_main_page"]["after_a_write"]["median_ms"],
                     result["chromium_main_page"]["after_a_write"]["median_ms"])
    return [check("dashboard: main page load at 10k beads / 50 agents, after a write (ms, worst of HTTP and Chromium)",
                  worst_page, TARGETS["main_page_ms"], "<="),
            check("dashboard: live feed latency, median (ms)", result["feed_latency"]["median_ms"],
                  TARGETS["feed_latency_ms"], "<="),
            check("dashboard: live feed latency, slowest (ms)", result["feed_latency"]["max_ms"],
                  TARGETS["feed_latency_ms"], "<=")]

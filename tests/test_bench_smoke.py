"""The benchmark still runs against the code as it is (a tiny run: it measures nothing, it only must finish)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_benchmark_runs_end_to_end_on_a_tiny_ledger(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    done = subprocess.run([sys.executable, "-m", "bench", "--sizes", "100", "--runs", "1", "--cold-runs", "1",
                           "--bytes-writes", "1", "--writers", "2", "--writes-per-writer", "2", "--no-sync",
                           "--no-town", "--history-commits", "0", "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(out.read_text())
    assert report["sizes"] and "Traceback" not in done.stderr


def test_the_dashboard_benchmark_runs_on_a_tiny_town(tmp_path: Path) -> None:
    from conftest import require_program

    require_program("chromium", "the dashboard benchmark's browser")
    out = tmp_path / "report.json"
    done = subprocess.run([sys.executable, "-m", "bench", "--dashboard", "--dashboard-beads", "200",
                           "--dashboard-agents", "2", "--runs", "1", "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(out.read_text())
    assert "error" not in report["dashboard"], report["dashboard"]
    assert report["dashboard"]["feed_latency"]["median_ms"] > 0 and "Traceback" not in done.stderr

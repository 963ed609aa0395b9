"""`gt demo` (what `make demo` runs) completes with real commands and leaves an inspectable repo."""
import subprocess

from conftest import BIN, git


def test_demo_runs_the_tour(tmp_path):
    result = subprocess.run([str(BIN / "gt"), "demo", "--dir", str(tmp_path / "d")], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "demo step failed" not in result.stdout
    repo = tmp_path / "d" / "demo"
    log = git(repo, "log", "--format=%an|%s", "beads").splitlines()
    assert log[-1] == "overseer|init ledger (prefix demo)"
    assert any(line.startswith("gastown/polecats/nux|close ") for line in log)
    assert "Design the login page" in result.stdout.split("$ bd ready")[-1]
    assert git(repo, "branch", "--list", "main").strip() == ""

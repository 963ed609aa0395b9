"""The README's quick start runs as pasted."""
import os
import re
import subprocess
from pathlib import Path

from conftest import BIN

README = Path(__file__).resolve().parents[1] / "README.md"


def section_script(title: str) -> str:
    """The shell blocks of one README section, as one script."""
    text = README.read_text()
    section = text[text.index(f"## {title}\n"):]
    section = section[:section.index("\n## ", 1)]
    return "".join(re.findall(r"```sh\n(.*?)```", section, re.S))


def test_town_quick_start_runs(tmp_path):
    block = section_script("Quick start: a town")
    script = block.replace('export PATH="$PWD/.venv/bin:$PATH"', f'export PATH="{BIN}:$PATH"')
    assert script != block
    env = {k: v for k, v in os.environ.items() if k != "GT_ROOT"}
    result = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=README.parent, capture_output=True,
                            text=True, timeout=180, env={**env, "TMPDIR": str(tmp_path)})
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr
    out = result.stdout
    assert "[landed]  1/1 completed" in out and "Convoy landed: Greeting" in out
    assert "gizmo/refinery | close gz-" in out and "gizmo/polecats/toast | gz-" in out
    assert "model-a         1" in out
    assert "+ rig gizmo" in out and out.rstrip().endswith("Status: closed   Priority: P2   Type: task")
    leftovers = subprocess.run(["pgrep", "-f", str(tmp_path)], capture_output=True, text=True).stdout.split()
    assert leftovers == []  # gt down stopped everything


def test_quick_start_block_runs(tmp_path):
    block = section_script("Quick start: beads in any repository")
    assert "bd sync" in block
    script = block.replace('export PATH="$PWD/.venv/bin:$PATH"', f'export PATH="{BIN}:$PATH"')
    result = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=tmp_path, capture_output=True,
                            text=True, timeout=120, env={**os.environ, "TMPDIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    log = [line for line in result.stdout.splitlines() if " | " in line]  # the `git log` at the end
    assert log[0].startswith("alice | close ") and log[-1].endswith("| init ledger (prefix mp)")
    assert "Fix login" in result.stdout
    assert result.stdout.rstrip().endswith("Status: open   Priority: P0   Type: bug")  # bob's edit, synced back

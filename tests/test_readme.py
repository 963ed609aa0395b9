"""The README's quick start runs as pasted."""
import os
import re
import subprocess
from pathlib import Path

from conftest import BIN

README = Path(__file__).resolve().parents[1] / "README.md"


def test_quick_start_block_runs(tmp_path):
    text = README.read_text()
    section = text[text.index("## Quick start"):]
    section = section[:section.index("\n## ", 1)]
    block = "".join(re.findall(r"```sh\n(.*?)```", section, re.S))
    assert "bd sync" in block
    script = block.replace('export PATH="$PWD/.venv/bin:$PATH"', f'export PATH="{BIN}:$PATH"')
    result = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=tmp_path, capture_output=True,
                            text=True, timeout=120, env={**os.environ, "TMPDIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    log = [line for line in result.stdout.splitlines() if " | " in line]  # the `git log` at the end
    assert log[0].startswith("alice | close ") and log[-1].endswith("| init ledger (prefix mp)")
    assert "Fix login" in result.stdout
    assert result.stdout.rstrip().endswith("Status: open   Priority: P0   Type: bug")  # bob's edit, synced back

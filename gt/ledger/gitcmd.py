"""Running the git binary: for transport (fetch, push, clone) and work trees, never for ledger reads or writes."""
from __future__ import annotations

import os
import subprocess

from gt.errors import GtError


def run(*args: str, cwd: str | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    """`git ARGS`, never prompting; with `check`, a failure raises GtError with git's last line."""
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0"}
    env.pop("GIT_DIR", None)
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, env=env)
    if check and result.returncode != 0:
        command = next((a for i, a in enumerate(args) if not a.startswith("-") and (i == 0 or args[i - 1] != "-C")), "")
        raise GtError(f"git {command} failed: {last_line(result.stderr)}")
    return result


def last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no output"

"""`gt demo`: a narrated tour of `bd` in a temporary repository, running the real commands.

The town issues replace this with the full scenario (town, rigs, polecats, convoys); for now it
shows the ledger: beads as YAML on a git branch, every change a commit, plain git to inspect it.
"""
from __future__ import annotations

import os
import shlex
import subprocess
import sys
import tempfile
from typing import Callable

STEPS: list[tuple[str, str]] = [
    ("Make a project and give it a ledger (the `beads` branch; nothing is committed to main)",
     "git init -q -b main demo && cd demo && bd init --prefix demo"),
    ("File some work", 'bd create "Design the login page" -t feature -p 1 -l web'),
    ("", 'bd create "Store sessions in Redis" -t task -p 2 -l backend'),
    ("", 'bd create "Login fails on Safari" -t bug -p 0 -d "Steps:\n1. open Safari\n2. log in"'),
    ("The login page waits for the session store", "bd dep add {b1} {b2}"),
    ("What can be worked on right now?", "bd ready"),
    ("What is waiting, and on what?", "bd blocked"),
    ("An agent claims the P0 bug atomically", "bd update {b3} --claim --actor gastown/polecats/nux"),
    ("…and closes it", 'bd close {b3} -r "fixed in 4c1e2" --actor gastown/polecats/nux'),
    ("Finishing the session store makes the login page ready", 'bd close {b2} -r done'),
    ("", "bd ready"),
    ("Every change is a commit on the ledger branch, attributed to its actor",
     "git log --format='%h %<(24)%an %s' beads"),
    ("A bead is a YAML file any git tool can read", "git show beads:{path3}"),
    ("Its history comes straight from those commits", "bd history {b3}"),
    ("Counts at a glance", "bd stats"),
]


def run(workdir: str | None = None, echo: Callable[[str], None] = print) -> int:
    """Run the tour in `workdir` (default: a temporary directory removed afterwards)."""
    if workdir is None:
        with tempfile.TemporaryDirectory(prefix="gt-demo-") as tmp:
            return _tour(tmp, echo, kept=False)
    os.makedirs(workdir, exist_ok=True)
    return _tour(os.path.abspath(workdir), echo, kept=True)


def _tour(root: str, echo: Callable[[str], None], kept: bool) -> int:
    from gt.ledger.store import document_path

    env = {**os.environ, "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""),
           "BD_ACTOR": os.environ.get("BD_ACTOR", "overseer"), "GIT_AUTHOR_NAME": "overseer",
           "GIT_AUTHOR_EMAIL": "overseer@localhost", "GIT_COMMITTER_NAME": "overseer",
           "GIT_COMMITTER_EMAIL": "overseer@localhost"}
    ids: list[str] = []
    cwd = root
    for narration, template in STEPS:
        values = {f"b{n + 1}": bead for n, bead in enumerate(ids)}
        if len(ids) >= 3:
            values["path3"] = document_path("beads", ids[2])
        command = template.format(**values)
        if narration:
            echo(f"\n# {narration}")
        for part in command.split(" && "):
            echo(f"$ {part}")
            if part.startswith("cd "):
                cwd = os.path.join(cwd, part[3:])
                continue
            result = subprocess.run(part, shell=True, cwd=cwd, env=env, capture_output=True, text=True)
            output = (result.stdout + result.stderr).rstrip()
            if output:
                echo(output)
            if result.returncode != 0:
                echo(f"demo step failed: {part} (exit {result.returncode})")
                return 1
            if part.startswith("bd create"):
                ids.append(result.stdout.strip())
    where = f"kept in {shlex.quote(cwd)}" if kept else "removed now; pass --dir PATH to keep it"
    echo(f"\nDone: a real repository, inspectable with plain git ({where}).")
    return 0

"""A deterministic agent: does what its hooked bead's `gt-script` block says, then runs `gt done`.

It runs like any agent runtime — a process in the polecat's worktree with the role environment —
and uses only the commands an agent would (`gt hook`, git, `gt done`). The block, in the bead's
description, is YAML:

    ```gt-script
    files: {hello.txt: "hello\\n"}     # files to write (relative to the worktree)
    run: ./tests.sh                    # a shell command; a failure ends the session without `gt done`
    commit: "Add hello"                # the commit message (default: "<bead>: <title>")
    attempts: {1: {files: {...}}}      # overrides for the Nth attempt (1 = first submission); from
                                       # the 2nd on, the branch is first rebased onto the default branch
    conflict: README.md                # write a line that conflicts with any other change there
    fail: "why"                        # exit 1 without doing anything (a crashed agent)
    stall: 600                         # sleep this many seconds, then exit (a stuck agent)
    escalate: "why"                    # gt done --status ESCALATED -m why
    defer: "why"                       # gt done --status DEFERRED -m why
    ```

A molecule on the hook (gt.beads.molecules) is walked step by step: `bd mol current` names the
step, its own description's block is done as above (a step's commit is `<step>: <title>`), and
the step is closed; the root's block, if any, comes last, then `gt done`.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from typing import Any



def script_of(description: str) -> dict[str, Any]:
    from gt.ledger.yamlio import load_mapping

    from gt.model.bead import SCRIPT_BLOCK

    match = SCRIPT_BLOCK.search(description or "")
    return load_mapping(match.group(2), "gt-script block") if match else {}


def plan_for(script: dict[str, Any], attempt: int) -> dict[str, Any]:
    plan = {k: v for k, v in script.items() if k != "attempts"}
    overrides = (script.get("attempts") or {}).get(attempt) or (script.get("attempts") or {}).get(str(attempt)) or {}
    return {**plan, **overrides}


def say(text: str) -> None:
    print(f"[scripted] {text}", flush=True)


def run(*command: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(command, capture_output=True, text=True)
    if check and result.returncode != 0:
        say(f"{' '.join(command)} failed: {result.stderr.strip() or result.stdout.strip()}")
        sys.exit(1)
    return result


MAX_STEPS = 200  # a molecule has at most this many steps (gt.beads.formulas.MAX_STEPS)


def special(plan: dict[str, Any]) -> int | None:
    """The exit code of a plan that does not work (fail, stall, escalate, defer); None for one that does."""
    if plan.get("fail"):
        say(f"failing as asked: {plan['fail']}")
        return 1
    if plan.get("stall"):
        say(f"stalling for {plan['stall']} s as asked")
        time.sleep(float(plan["stall"]))
        return 0
    if plan.get("escalate"):
        return run("gt", "done", "--status", "ESCALATED", "-m", str(plan["escalate"]), check=False).returncode
    if plan.get("defer"):
        return run("gt", "done", "--status", "DEFERRED", "-m", str(plan["defer"]), check=False).returncode
    return None


def perform(plan: dict[str, Any], bead: dict[str, Any]) -> int:
    """Write the plan's files, run its command and commit: 0, or 1 when the command failed."""
    for path, content in (plan.get("files") or {}).items():
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(str(content))
    if plan.get("conflict"):
        with open(plan["conflict"], "w", encoding="utf-8") as f:
            f.write(f"changed by {os.environ.get('BD_ACTOR', 'the scripted agent')} for {bead['id']}\n")
    if plan.get("run"):
        result = subprocess.run(plan["run"], shell=True)
        if result.returncode != 0:
            say(f"`{plan['run']}` failed with exit {result.returncode}")
            return 1
    run("git", "add", "-A")
    if run("git", "diff", "--cached", "--quiet", check=False).returncode != 0:
        run("git", "commit", "--quiet", "-m", str(plan.get("commit") or f"{bead['id']}: {bead['title']}"))
    return 0


def walk(attempt: int) -> int | None:
    """A molecule on the hook: each current step's own `gt-script` block done, then the step closed,
    until none is left (`bd mol current`). None when every step is closed; else the exit code."""
    for _ in range(MAX_STEPS + 1):
        step = json.loads(run("bd", "mol", "current", "--json").stdout).get("step")
        if not step:
            return None
        shown = json.loads(run("bd", "show", step["id"], "--json").stdout)
        doc = shown[0] if isinstance(shown, list) else shown
        plan = plan_for(script_of(doc.get("description", "")), attempt)
        say(f"step {step['id']}: {step['title']}")
        code = special(plan)
        if code is None:
            code = perform(plan, doc) or None
        if code is not None:
            return code
        run("bd", "close", step["id"], "-r", "done by the scripted agent")
    return None


def main() -> int:
    hook = json.loads(run("gt", "hook", "--json").stdout)
    bead = hook.get("bead")
    if not bead:
        say("nothing on my hook")
        return 0
    attempt = int(hook.get("attempt") or 1)
    plan = plan_for(script_of(bead.get("description", "")), attempt)
    say(f"working on {bead['id']} (attempt {attempt}): {bead['title']}")
    code = special(plan)
    if code is not None:
        return code
    target = os.environ.get("GT_TARGET_BRANCH")
    if attempt > 1 and target:  # sent back: bring the branch up to date, keeping our side of any conflict
        if run("git", "rebase", "--quiet", "-X", "theirs", target, check=False).returncode != 0:
            run("git", "rebase", "--abort", check=False)
            say(f"cannot rebase onto {target}")
            return 1
    if (bead.get("metadata") or {}).get("molecule"):  # a molecule: its steps first, one block each
        code = walk(attempt)
        if code is not None:
            return code
    if perform(plan, bead):
        return 1
    done = run("gt", "done", check=False)
    print(done.stdout, end="")
    if done.returncode != 0:
        say(f"gt done failed: {done.stderr.strip()}")
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())

"""Dogs: the Deacon's helpers for infrastructure work, never project work.

`boot` triages the Deacon; `maintenance` repacks every ledger, prunes tombstones older than
`dogs.tombstone_days` (default 30) and deletes polecat branches that have landed and that no
worktree has checked out. Each run is recorded on the dog's agent record in the town ledger.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable

from gt.errors import GtError
from gt.ledger import git
from gt.ledger.store import Signature
from gt.town import layout, settings as town_settings


def _boot(town: Path) -> dict[str, Any]:
    from gt.roles import boot

    return boot.triage(town)


def _maintenance(town: Path) -> dict[str, Any]:
    from gt.ledger.gitdir import discover
    from gt.town import rigs
    from gt.beads.doctor import compact
    from gt.beads.tracker import Tracker

    me = Signature("deacon/dogs/maintenance")
    days = town_settings.load(town).dogs.tombstone_days
    result: dict[str, Any] = {"ledgers": {}, "branches_deleted": []}
    registry = rigs.registry(town)
    for label, path in [("town", town)] + [(n, layout.rig_dir(town, n) / layout.RIG_REPO) for n in sorted(registry)]:
        if path.exists():
            result["ledgers"][label] = compact(Tracker(discover(str(path))), me, days)
    for name, record in sorted(registry.items()):
        repo = layout.rig_dir(town, name) / layout.RIG_REPO
        default = record.get("default_branch", "main")
        checked_out = {line.split()[-1].removeprefix("refs/heads/") for line in
                       git.run(f"--git-dir={repo}", "worktree", "list", "--porcelain").stdout.splitlines()
                       if line.startswith("branch ")}
        for branch in git.run(f"--git-dir={repo}", "branch", "--list", "polecat/*", "--format=%(refname:short)").stdout.split():
            landed = not any(line.startswith("+") for line in
                             git.run(f"--git-dir={repo}", "cherry", default, branch).stdout.splitlines())
            if landed and branch not in checked_out:
                git.run(f"--git-dir={repo}", "branch", "-D", branch)
                result["branches_deleted"].append(f"{name}:{branch}")
    return result


DOGS: dict[str, tuple[str, Callable[[Path], dict[str, Any]]]] = {
    "boot": ("triage the deacon: nothing, nudge or restart", _boot),
    "maintenance": ("repack ledgers, prune old tombstones and landed polecat branches", _maintenance),
}


def listing() -> list[dict[str, str]]:
    return [{"name": name, "identity": f"deacon/dogs/{name}", "does": does} for name, (does, _) in DOGS.items()]


def call(town: Path, name: str) -> dict[str, Any]:
    from gt.dispatch import agents

    if name not in DOGS:
        raise GtError(f"no dog named {name!r}: {', '.join(DOGS)}", code="not_found")
    (town / "deacon" / "dogs" / name).mkdir(parents=True, exist_ok=True)
    result = DOGS[name][1](town)
    if name != "boot":  # boot records its own decisions, only when it acts
        identity = f"deacon/dogs/{name}"
        agents.set_state(town, Signature(identity), identity, f"dog {name} ran", state="idle",
                         last_run=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    return result

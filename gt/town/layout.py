"""The town: the workspace (default `~/gt`, or $GT_ROOT) where rigs, agents and their homes live.

    <town>/
      .git/                 the town repository; its ledger holds town beads (prefix `hq`)
      .beads/routes.yaml    which ledger owns each bead prefix
      mayor/town.json       name, owner, created_at, version
      mayor/rigs.json       the rig registry, mirrored for people
      deacon/dogs/boot/     the Deacon's helpers
      settings/config.yaml  the town's defaults: agents, merge queue, name pool
"""
from __future__ import annotations

import os
from pathlib import Path

TOWN_FILE = Path("mayor") / "town.json"
RIGS_FILE = Path("mayor") / "rigs.json"
ROUTES_FILE = Path(".beads") / "routes.yaml"
SETTINGS_FILE = Path("settings") / "config.yaml"
TOWN_PREFIX = "hq"

DEFAULT_SETTINGS = """\
# Town defaults. Agents are commands run in the agent's worktree with the role environment;
# `preset: claude` / `preset: codex` are the shipped Claude Code and Codex commands (docs/agents.md).
# Your own: `command: [prog, --model, '{model}', '{prompt}']`, where {prompt} is what `gt prime`
# prints and {prompt_file} a file holding it (or `prompt: stdin`). Never put {prompt} inside a
# `sh -c` string: pass it as an argument of its own, or use {prompt_file}.
agents:
  claude:
    preset: claude
  codex:
    preset: codex
default_agent: claude
merge_queue:
  strategy: rebase
  on_failure: assign_back
  on_conflict: assign_back
  retry_flaky_tests: 1
name_pool: [toast, nux, slit, furiosa, capable, dag, ace, rictus, morsov, cheedo, angharad, valkyrie]
"""


def default_root() -> Path:
    return Path(os.environ.get("GT_ROOT") or Path.home() / "gt").expanduser()


def require_town() -> Path:
    """The town of the current directory (or $GT_ROOT); a clear error outside any town."""
    from gt.errors import GtError

    town = find_town()
    if town is None:
        raise GtError("not in a town: run this inside one (or set GT_ROOT), or create one with `gt install`")
    return town


def find_town(start: str | Path | None = None) -> Path | None:
    """The town containing `start` (default: cwd), found by its `mayor/town.json`; else $GT_ROOT's."""
    here = Path(start or os.getcwd()).resolve()
    for path in (here, *here.parents):
        if (path / TOWN_FILE).is_file():
            return path
    root = os.environ.get("GT_ROOT")
    if start is None and root and (Path(root) / TOWN_FILE).is_file():
        return Path(root).resolve()
    return None


RIG_CONFIG = "config.json"
RIG_REPO = ".repo.git"
REDIRECT = Path(".beads") / "redirect"
RIGS_COLLECTION = "rigs"  # the town ledger's registry of rigs, one document per rig


def rig_dir(town: Path, name: str) -> Path:
    return town / name


def read_routes(town: Path) -> dict[str, str]:
    """Bead prefix -> ledger repository path relative to the town (`.` is the town's own)."""
    from gt.beads.clone_settings import parse_flat

    path = town / ROUTES_FILE
    try:
        return parse_flat(path.read_text(encoding="utf-8"), str(path))
    except FileNotFoundError:
        return {}


def write_routes(town: Path, routes: dict[str, str]) -> None:
    lines = ["# bead prefix -> the ledger that owns it (a path relative to the town)"]
    lines += [f"{prefix}: {target}" for prefix, target in sorted(routes.items())]
    (town / ROUTES_FILE).write_text("\n".join(lines) + "\n", encoding="utf-8")


def route(town: Path, bead_id: str) -> Path | None:
    """The ledger repository that owns `bead_id` by its prefix (the longest routed prefix wins)."""
    routes = read_routes(town)
    matches = [p for p in routes if bead_id.lower().startswith(p + "-")]
    if not matches:
        return None
    return (town / routes[max(matches, key=len)]).resolve()

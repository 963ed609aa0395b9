"""`gt`: the town — agents and orchestration. Each subcommand lives in its own module, imported on use."""
from __future__ import annotations

import click

from gt.cli.common import LazyGroup, main_entry

COMMANDS: dict[str, str] = {
    name: f"gt.cli.gt.{module}:{module}"
    for name, module in {"demo": "demo", "install": "install", "whoami": "whoami", "role": "role", "rig": "rig", "crew": "crew", "worktree": "worktree", "remote": "remote", "sync": "sync", "doctor": "doctor", "hook": "hook", "unsling": "unsling", "sling": "sling", "queue": "queue", "done": "done",
                     "mail": "mail", "escalate": "escalate", "handoff": "handoff", "nudge": "nudge", "convoy": "convoy", "prime": "prime",
                     "agents": "agents", "session": "session", "mq": "mq",
                     "refinery": "refinery", "witness": "witness", "up": "up", "down": "down",
                     "status": "status", "deacon": "deacon", "boot": "boot", "dog": "dog", "mayor": "mayor",
                     "hooks": "hooks", "hook-impl": "hook_impl", "runtime-hook": "runtime_hook", "feed": "feed", "polecat": "polecat",
                     "costs": "costs", "dashboard": "dashboard"}.items()
}


SECTIONS = {
    "Work": ("sling", "queue", "hook", "unsling", "done", "prime", "handoff", "convoy", "mq"),
    "Agents": ("agents", "polecat", "crew", "mayor", "session", "worktree", "whoami", "role"),
    "Communication": ("mail", "escalate", "nudge", "feed"),
    "Services": ("up", "down", "status", "deacon", "boot", "dog", "refinery", "witness"),
    "Workspace": ("install", "rig", "remote", "sync", "hooks"),
    "Diagnostics": ("dashboard", "doctor", "costs", "demo"),
}


@click.group(cls=LazyGroup, lazy=COMMANDS, sections=SECTIONS, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="gastown-git", prog_name="gt")
def gt() -> None:
    """Gas Town: orchestrate coding agents whose work is recorded in git."""


main = main_entry(gt)

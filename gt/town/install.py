"""`gt install`: create a town (see gt/town/layout.py for what it holds), or repair a broken one."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gt import __version__
from gt.errors import GtError
from gt.town import layout


@dataclass
class InstallReport:
    root: Path
    created: list[str] = field(default_factory=list)
    existed: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"root": str(self.root), "created": self.created, "existed": self.existed}


def install(root: Path, actor: str, name: str | None = None, force: bool = False,
            ledger: bool = True, default_agent: str | None = None) -> InstallReport:
    """Create the town at `root`; on an existing town do nothing unless `force` (which only adds
    what is missing, never touching data). Without `ledger`, the town ledger is left to be fetched."""
    from datetime import datetime, timezone

    root = root.expanduser().resolve()
    report = InstallReport(root, existed=(root / layout.TOWN_FILE).is_file())
    if report.existed and not force:
        return report
    if root.exists() and not root.is_dir():
        raise GtError(f"{root} exists and is not a directory")
    root.mkdir(parents=True, exist_ok=True)

    def write(relative: Path, text: str) -> None:
        path = root / relative
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            report.created.append(str(relative))

    def directory(relative: str) -> None:
        path = root / relative
        if not path.is_dir():
            path.mkdir(parents=True)
            report.created.append(relative + "/")

    if not (root / ".git").exists():
        from dulwich.repo import Repo

        Repo.init(str(root), default_branch=b"main")
        report.created.append(".git/")
    from gt.town.identity import git_config
    from gt.town.settings import SCRIPTED, SCRIPTED_AGENT

    email = git_config(None, "user", "email") or ""
    town = {"name": name or root.name, "owner": actor, "email": email, "created_at": datetime.now(timezone.utc).isoformat(),
            "version": __version__}
    write(layout.TOWN_FILE, json.dumps(town, indent=2) + "\n")
    write(layout.RIGS_FILE, json.dumps({"rigs": {}}, indent=2) + "\n")
    write(layout.ROUTES_FILE, f"# bead prefix -> the ledger that owns it (a path relative to the town)\n{layout.TOWN_PREFIX}: .\n")
    write(Path(".beads") / ".gitignore", "# local settings of bd: never committed\n*\n")
    settings = layout.DEFAULT_SETTINGS
    if default_agent:
        settings = settings.replace("default_agent: claude", f"default_agent: {default_agent}")
    if default_agent == SCRIPTED:  # named explicitly: the scripted stand-in joins the town's agents
        command = ", ".join(SCRIPTED_AGENT.command)
        settings = settings.replace("default_agent:", f"  {SCRIPTED}:\n    command: [{command}]\ndefault_agent:", 1)
    write(layout.SETTINGS_FILE, settings)
    for folder in ("deacon/dogs/boot",):
        directory(folder)
    exclude = root / ".git" / "info" / "exclude"
    exclude.parent.mkdir(parents=True, exist_ok=True)
    if ".runtime/" not in (exclude.read_text() if exclude.exists() else ""):
        with exclude.open("a") as f:
            f.write(".runtime/\n")  # agent processes, logs, nudges: facts that are not history
    if ledger:
        _init_town_ledger(root, actor, report)
    return report


def _init_town_ledger(root: Path, actor: str, report: InstallReport) -> None:
    from gt.ledger.gitdir import discover
    from gt.ledger.store import Signature
    from gt.beads import operations
    from gt.beads.tracker import Tracker

    tracker = Tracker(discover(str(root)))
    if tracker.ledger.exists():
        return
    operations.init(tracker, Signature(actor), layout.TOWN_PREFIX)
    report.created.append("ledger (beads branch, prefix hq)")


def role_env(explicit: str | None = None) -> dict[str, str]:
    """The variables an agent session is started with: its role, rig, name, actor and git identity."""
    from gt.ledger.gitdir import discover
    from gt.town.identity import detect

    try:
        repo = discover()
    except GtError:
        repo = None
    who = detect(explicit, repo)
    if who.role == "human":
        raise GtError(f"{who.name} is not an agent identity: run this in an agent's home inside a town "
                      "(e.g. <town>/<rig>/polecats/<name>) or pass --actor <rig>/polecats/<name>")
    return agent_env(layout.find_town(), who.name, repo)


def agent_env(town: Path | None, identity: str, repo: Any = None) -> dict[str, str]:
    """The environment of `identity`'s sessions: GT_* role variables, BD_ACTOR and the git identity."""
    from gt.town.identity import git_config, parse

    who = parse(identity)
    out = {"GT_ROLE": who.role}
    if town:
        out["GT_ROOT"] = str(town)
    if who.rig:
        out["GT_RIG"] = who.rig
    if who.role == "polecat":
        out["GT_POLECAT"] = who.agent or ""
    if who.role == "crew":
        out["GT_CREW"] = who.agent or ""
    if who.role == "dog":
        out["GT_DOG"] = who.agent or ""
    out.update(BD_ACTOR=who.name, GIT_AUTHOR_NAME=who.name, GIT_COMMITTER_NAME=who.name)
    from gt.town.identity import email_of

    # the agent's own address, as on its ledger writes (a person's: git's user.email, if any)
    email = email_of(who.name) if who.role != "human" else git_config(repo, "user", "email")
    if email:
        out["GIT_AUTHOR_EMAIL"] = email
        out["GIT_COMMITTER_EMAIL"] = email
    return out

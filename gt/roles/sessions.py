"""Sessions of the persistent roles: the mayor in `mayor/`, crew members in their clones.

They run the configured agent runtime with their `gt prime` context, like polecats, but nothing
hooks work for them automatically: they coordinate (mayor) or follow their human (crew).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from gt.errors import GtError
from gt.town import layout, rundir, settings as town_settings


def home_of(town: Path, identity: str) -> Path:
    from gt.town.identity import parse

    who = parse(identity)
    if identity == "mayor":
        return town / "mayor"
    if who.role == "crew":
        home = layout.rig_dir(town, str(who.rig)) / "crew" / str(who.agent)
        if not home.exists():
            raise GtError(f"no crew member {identity}", code="not_found")
        return home
    raise GtError(f"{identity} has no persistent session (polecats are started by `gt sling`)", code="refused")


def start_home(town: Path, identity: str, agent: str | None = None, model: str | None = None) -> dict[str, Any]:
    from gt.town.identity import parse
    from gt.roles import runtimes

    settings = town_settings.load(town, parse(identity).rig)
    role_agent, role_model = settings.session_defaults(parse(identity).role)
    agent = agent or role_agent or settings.default_agent
    return runtimes.start(town, identity, home_of(town, identity), agent, settings, model or role_model)


def stop_home(town: Path, identity: str) -> bool:
    from gt.roles import runtimes

    home_of(town, identity)
    return runtimes.stop(town, identity)


def status(town: Path, identity: str) -> dict[str, Any]:
    session = rundir.session(town, identity) or {}
    return {"identity": identity, "running": rundir.alive(session.get("pid")), **session}

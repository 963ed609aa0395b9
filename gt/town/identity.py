"""Who is acting: the identity recorded as author of every ledger write and commit.

Order: an explicit --actor, then $BD_ACTOR (or the original bd's $BEADS_ACTOR), then the GT_* role variables an agent session is
started with, then the identity recorded in the clone's or worktree's git config (`gt.identity`:
how a cross-rig worktree keeps its owner's identity), then the current directory inside a town
(`<town>/mayor/…` is the mayor, `<town>/<rig>/polecats/<name>/…` that polecat, …), then git's
user.name, then the operating-system user.

Identities: `mayor`, `deacon`, `deacon/dogs/<name>`, `<rig>/witness`, `<rig>/refinery`,
`<rig>/crew/<name>`, `<rig>/polecats/<name>`; anything else is a human.
"""
from __future__ import annotations

import getpass
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping

from gt.errors import UsageError
from gt.ledger.gitdir import RepoPaths
from gt.ledger.store import Signature

AGENT_HOMES = ("polecats", "crew")


@dataclass(frozen=True)
class Identity:
    name: str
    role: str  # mayor, deacon, dog, witness, refinery, crew, polecat, or human
    rig: str | None
    agent: str | None  # the polecat's, crew member's or dog's own name
    source: str  # how it was decided


def parse(name: str, source: str = "") -> Identity:
    """The role, rig and agent name an identity string stands for."""
    parts = name.split("/")
    if name in ("mayor", "deacon"):
        return Identity(name, name, None, None, source)
    if len(parts) == 3 and parts[:2] == ["deacon", "dogs"]:
        return Identity(name, "dog", None, parts[2], source)
    if len(parts) == 2 and parts[1] in ("witness", "refinery"):
        return Identity(name, parts[1], parts[0], None, source)
    if len(parts) == 3 and parts[1] in AGENT_HOMES:
        return Identity(name, "polecat" if parts[1] == "polecats" else "crew", parts[0], parts[2], source)
    return Identity(name, "human", None, None, source)


def from_role_env(env: Mapping[str, str]) -> str | None:
    """The identity the GT_* variables of an agent session name, if they name one."""
    role, rig = env.get("GT_ROLE", "").strip(), env.get("GT_RIG", "").strip()
    if role in ("mayor", "deacon"):
        return role
    if role == "dog" and env.get("GT_DOG"):
        return f"deacon/dogs/{env['GT_DOG']}"
    if role in ("witness", "refinery") and rig:
        return f"{rig}/{role}"
    if role == "crew" and rig and env.get("GT_CREW"):
        return f"{rig}/crew/{env['GT_CREW']}"
    if role == "polecat" and rig and env.get("GT_POLECAT"):
        return f"{rig}/polecats/{env['GT_POLECAT']}"
    return None


def from_directory(town: Path, cwd: Path) -> str | None:
    """The agent whose home `cwd` is in (Gas Town uses the working directory for identity)."""
    try:
        parts = cwd.resolve().relative_to(town.resolve()).parts
    except ValueError:
        return None
    if not parts:
        return None
    if parts[0] == "mayor":
        return "mayor"
    if parts[0] == "deacon":
        return f"deacon/dogs/{parts[2]}" if len(parts) >= 3 and parts[1] == "dogs" else "deacon"
    if len(parts) >= 2 and (town / parts[0] / "config.json").is_file():
        rig, home = parts[0], parts[1]
        if home in AGENT_HOMES and len(parts) >= 3:
            return f"{rig}/{home}/{parts[2]}"
        if home in ("witness", "refinery"):
            return f"{rig}/{home}"
        if home == "mayor":
            return "mayor"
    return None


def git_config(repo: RepoPaths | None, section: str, name: str) -> str | None:
    from dulwich.config import ConfigFile, StackedConfig

    local = [] if repo is None else [os.path.join(repo.gitdir, "config.worktree"), os.path.join(repo.commondir, "config")]
    backends = [ConfigFile.from_path(p) for p in local if os.path.exists(p)]  # earlier ones win
    backends += StackedConfig.default_backends()
    try:
        value = StackedConfig(backends).get((section.encode(),), name.encode())
    except KeyError:
        return None
    return value.decode("utf-8", "replace").strip() or None


def detect(explicit: str | None, repo: RepoPaths | None, cwd: Path | None = None,
           env: Mapping[str, str] | None = None) -> Identity:
    """Decide who is acting, and say how it was decided."""
    env = os.environ if env is None else env
    candidates: list[tuple[str, Callable[[], str | None]]] = [
        ("--actor", lambda: explicit),
        ("BD_ACTOR", lambda: env.get("BD_ACTOR")),
        ("BEADS_ACTOR", lambda: env.get("BEADS_ACTOR")),
        ("GT_ROLE", lambda: from_role_env(env)),
        ("git config gt.identity", lambda: git_config(_checkout(repo, cwd), "gt", "identity")),
        ("directory", lambda: _from_cwd(cwd)),
        ("git config user.name", lambda: git_config(repo, "user", "name")),
        ("OS user", _os_user),
    ]
    for source, find in candidates:
        name = (find() or "").strip()
        if name:
            if any(c in name for c in "<>\n\x00"):
                raise UsageError(f"invalid actor name {name!r}")
            return parse(name, source)
    return parse("unknown", "nothing")


def _checkout(repo: RepoPaths | None, cwd: Path | None) -> RepoPaths | None:
    """The clone or worktree the command runs in, whose own git config names its agent (a crew
    clone's `.beads/redirect` points bd at the rig's ledger, but its identity is in the clone)."""
    from gt.ledger.gitdir import discover

    if repo is not None and repo.worktree is not None and cwd is None:
        return repo
    try:
        return discover(str(cwd) if cwd else None, follow_redirect=False)
    except Exception:
        return repo


def _from_cwd(cwd: Path | None) -> str | None:
    from gt.town.layout import find_town

    here = cwd or Path(os.getcwd())
    town = find_town(here)
    return from_directory(town, here) if town else None


def _os_user() -> str | None:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return None


def email_of(identity: str) -> str:
    """The address an agent identity's commits carry, in the ledger and in code alike
    (`gizmo/crew/joe` -> `gizmo.crew.joe@<host>`): never its human's."""
    from gt.ledger.store import default_email

    return default_email(identity)


def detect_actor(explicit: str | None, repo: RepoPaths | None) -> Signature:
    """The acting identity as the signature of ledger writes: an agent with its own address
    (`email_of`), a person with git's user.email when known."""
    who = detect(explicit, repo)
    if who.role != "human":
        return Signature(who.name, email_of(who.name))
    return Signature(who.name, git_config(repo, "user", "email") or "")

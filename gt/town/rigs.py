"""`gt rig add/list/remove`: rigs are project containers inside a town.

    <town>/<rig>/
      config.json        type, name, git_url, default_branch, beads prefix
      .repo.git/         bare clone shared by every worktree; the rig's ledger lives here
      .beads/redirect    so `bd` anywhere inside the rig finds that ledger
      mayor/rig/         the mayor's worktree (detached at the default branch)
      refinery/rig/      the merge queue's worktree (detached likewise)
      witness/ crew/ polecats/

A rig record in the town ledger may come from any machine that can push to the town's remote, so
this machine clones, fetches from or pushes to a rig's URL only with its user's say: the rigs it
added (`gt rig add`), joined with (`gt install --from`) or adopted (`gt rig adopt`), remembered by
name and URL in the town repository's `.git/gt/adopted-rigs.json` (never in the ledger). Any other
record waits (`waiting`), and `gt sync` and `gt doctor` show it.
"""
from __future__ import annotations

import json
import os
import shutil
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from gt.errors import GtError, UsageError
from gt.ledger import git
from gt.ledger.gitdir import paths_for_gitdir
from gt.beads.tracker import Edit
from gt.ledger.store import Signature
from gt.model.ids import check_prefix, prefix_from_name
from gt.town import layout, rundir
from gt.town.context import Town

WORKTREES = ("mayor/rig", "refinery/rig")
FOLDERS = ("witness", "crew", "polecats")


def enable_worktree_config(repo: Path) -> None:
    """Let each linked worktree of the bare `repo` have its own config (its agent's identity).

    With `extensions.worktreeConfig`, git reads `core.bare` for every worktree from the shared
    config, so it moves into the bare repository's own `config.worktree`, or every linked worktree
    would think it is bare.
    """
    git.output(f"--git-dir={repo}", "config", "extensions.worktreeConfig", "true")
    git.output(f"--git-dir={repo}", "config", "--worktree", "core.bare", "true")
    git.run(f"--git-dir={repo}", "config", "--unset", "core.bare", check=False)


def bind_identity(checkout: Path, identity: str, worktree: bool) -> None:
    """Make every commit and ledger write in `checkout` carry `identity` and its own address
    (`identity.email_of`, not its human's): `git commit` typed by a person there too. A linked
    worktree gets it in its own config (`--worktree`)."""
    from gt.town.identity import email_of

    scope = ("--worktree",) if worktree else ()
    for key, value in (("user.name", identity), ("gt.identity", identity), ("user.email", email_of(identity))):
        git.output("-C", str(checkout), "config", *scope, key, value)


def owner_email(town: Path) -> str:
    """The town owner's address, recorded by `gt install` (what agents' commits carry)."""
    try:
        return str(json.loads((town / layout.TOWN_FILE).read_text()).get("email") or "")
    except (OSError, ValueError):
        return ""


def registry(town: Path) -> dict[str, dict[str, Any]]:
    """The rigs recorded in the town ledger, by name."""
    return Town.at(town).registry()


def _mirror(town: Path) -> None:
    rigs = registry(town)
    (town / layout.RIGS_FILE).write_text(json.dumps({"rigs": rigs}, indent=2, sort_keys=True) + "\n")


def _check_name(name: str) -> None:
    from gt.ledger.store import check_key

    try:
        check_key(name)
    except GtError:
        raise UsageError(f"invalid rig name {name!r}: use lowercase letters, digits, '.', '_' and '-'") from None
    if name in ("mayor", "deacon", "settings") or name.startswith("."):
        raise UsageError(f"{name!r} is reserved in a town")


def add(town: Path, name: str, url: str, actor: Signature, prefix: str | None = None,
        branch: str | None = None) -> dict[str, Any]:
    """Clone `url` as a rig of the town; records it in the town ledger and the routes."""
    from gt.town.remotes import check_url

    _check_name(name)
    check_url(url)
    if name in registry(town) or layout.rig_dir(town, name).exists():
        raise GtError(f"a rig named {name} exists already", code="exists")
    source = os.path.abspath(url) if os.path.isdir(url) else url
    config = build(town, name, source, actor, prefix, branch)
    record = {**config, "added_at": datetime.now(timezone.utc).isoformat(), "added_by": actor.name}

    Town.at(town).tracker().write(actor, lambda view: Edit(
        "rig-add", f"rig add {name} (prefix {config['prefix']})", trailers=[("Rig", name)],
        records={(layout.RIGS_COLLECTION, name): record}))
    remember(town, name, source, "gt rig add")
    _mirror(town)
    return config


# -- which rigs this machine's user said yes to (machine-local, never in the ledger) ----------------

def _adopted_file(town: Path) -> Path:
    return Path(Town.at(town).tracker().repo.private) / "adopted-rigs.json"


def adopted(town: Path) -> dict[str, dict[str, str]]:
    """The rigs this machine may clone, fetch and push, by name: {git_url, how, at}."""
    rigs = (rundir.read_json(_adopted_file(town)) or {}).get("rigs")
    return {k: v for k, v in rigs.items() if isinstance(v, dict)} if isinstance(rigs, dict) else {}


def _update_adopted(town: Path, name: str, entry: dict[str, str] | None) -> None:
    from filelock import FileLock

    path = _adopted_file(town)
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(path) + ".lock", timeout=30):
        rigs = adopted(town)
        if entry is None:
            rigs.pop(name, None)
        else:
            rigs[name] = entry
        rundir.write_json(path, {"rigs": rigs})


def remember(town: Path, name: str, url: str, how: str) -> None:
    """Record that this machine's user said yes to rig `name` at `url` (`how`: the command that said it)."""
    _update_adopted(town, name, {"git_url": url, "how": how, "at": datetime.now(timezone.utc).isoformat()})


def _present(town: Path, name: str) -> bool:
    return (layout.rig_dir(town, name) / layout.RIG_REPO).is_dir()


def here(town: Path) -> list[str]:
    """The registered rigs whose ledger is on this machine (not those waiting or that failed to clone)."""
    return [name for name in sorted(registry(town)) if _present(town, name)]


def waiting(town: Path) -> list[dict[str, str]]:
    """Rig records of the town ledger this machine lacks and its user never said yes to (at that URL):
    nothing clones them until `gt rig adopt`. Each: name, git_url, reason."""
    from gt.town.remotes import check_url

    taken = adopted(town)
    out = []
    for name, record in sorted(registry(town).items()):
        if _present(town, name):
            continue
        url = record.get("git_url")
        url = url if isinstance(url, str) else ""
        yes = taken.get(name)
        if yes is not None and yes.get("git_url") == url:
            continue
        reason = "not adopted on this machine" if yes is None else \
            f"its URL changed from {yes.get('git_url')} (adopted there)"
        try:
            _check_name(name)
            check_url(url)
        except GtError as exc:
            reason = str(exc)
        out.append({"name": name, "git_url": url, "reason": reason})
    return out


def adopt(town: Path, name: str, actor: Signature) -> dict[str, Any]:
    """`gt rig adopt NAME`: this machine's user says yes to a rig record it did not add: clone it."""
    from gt.town.remotes import check_url

    record = registry(town).get(name)
    if record is None:
        raise GtError(f"no rig named {name} in the town ledger", code="not_found")
    if _present(town, name):
        raise GtError(f"rig {name} is on this machine already", code="exists")
    _check_name(name)
    url = record.get("git_url")
    check_url(url if isinstance(url, str) else "")
    if layout.rig_dir(town, name).exists():
        raise GtError(f"{layout.rig_dir(town, name)} exists and is not a rig: move it away first", code="exists")
    config = build(town, name, str(url), actor, record.get("prefix"), record.get("default_branch"))
    remember(town, name, str(url), "gt rig adopt")
    _mirror(town)
    return config


def build(town: Path, name: str, source: str, actor: Signature, prefix: str | None = None,
          branch: str | None = None) -> dict[str, Any]:
    """Make the rig's directories from `source` and route its prefix (not recorded in the ledger)."""
    from gt.town.remotes import PROTOCOL_ARGS, check_url

    check_url(source)  # the branch and prefix may come from a ledger record too: checked like the URL
    if branch is not None and (not isinstance(branch, str) or branch.startswith("-")
                               or git.run("check-ref-format", f"refs/heads/{branch}", check=False).returncode):
        raise UsageError(f"invalid branch name {branch!r}")
    if prefix is not None and not isinstance(prefix, str):
        raise UsageError(f"invalid prefix {prefix!r}")
    rig = layout.rig_dir(town, name)
    routes = layout.read_routes(town)
    repo = rig / layout.RIG_REPO
    try:
        rig.mkdir(parents=True)
        git.output(*PROTOCOL_ARGS, "clone", "--bare", "--quiet", "--", source, str(repo))
        # a bare clone has no fetch refspec, and a mirror one would overwrite the local ledger on fetch
        git.output(f"--git-dir={repo}", "config", "remote.origin.fetch", "+refs/heads/*:refs/remotes/origin/*")
        git.output(*PROTOCOL_ARGS, f"--git-dir={repo}", "fetch", "--quiet", "origin")
        default = branch or _default_branch(repo)
        paths = paths_for_gitdir(str(repo), None)
        prefix = _rig_ledger(paths, name, prefix, routes, actor)
        enable_worktree_config(repo)
        for worktree, identity in zip(WORKTREES, ("mayor", f"{name}/refinery")):
            git.output(f"--git-dir={repo}", "worktree", "add", "--quiet", "--detach", str(rig / worktree), default)
            bind_identity(rig / worktree, identity, worktree=True)
        for folder in FOLDERS:
            (rig / folder).mkdir()
        (rig / ".beads").mkdir()
        (rig / layout.REDIRECT).write_text(f"{layout.RIG_REPO}\n")
        from gt.githooks import install as git_hooks

        git_hooks.install(paths, git_hooks.RIG_HOOKS)
    except BaseException:
        shutil.rmtree(rig, ignore_errors=True)  # nothing recorded yet: leave no half rig behind
        raise
    config = {"type": "rig", "name": name, "git_url": source, "default_branch": default, "prefix": prefix}
    (rig / layout.RIG_CONFIG).write_text(json.dumps(config, indent=2) + "\n")
    routes[prefix] = f"{name}/{layout.RIG_REPO}"
    layout.write_routes(town, routes)
    return config


def rebuild_missing(town: Path, actor: Signature) -> tuple[list[str], dict[str, str]]:
    """Re-create the rigs the town ledger registers but this machine lacks, among those its user said
    yes to at the URL recorded (see `waiting` for the others); their ledgers come from their origins.
    Returns the rigs made and, by name, why others could not be (one unreachable URL does not stop
    the rest)."""
    made, failed = [], {}
    taken = adopted(town)
    for name, record in sorted(registry(town).items()):
        if name not in taken or taken[name].get("git_url") != record.get("git_url"):
            continue
        if not layout.rig_dir(town, name).exists():
            try:
                build(town, name, record["git_url"], actor, record.get("prefix"), record.get("default_branch"))
            except GtError as exc:
                failed[name] = f"cannot clone {record['git_url']}: {exc}"
                continue
            made.append(name)
    if made:
        _mirror(town)
    return made, failed


def _unsaved_checkouts(rig: Path) -> list[str]:
    """Crew clones and worktrees of the rig with uncommitted changes or commits pushed nowhere."""
    found = []
    homes = [rig / "mayor" / "rig", rig / "refinery" / "rig"]
    for kind in ("crew", "polecats"):
        folder = rig / kind
        homes += sorted(p for p in folder.iterdir() if (p / ".git").exists()) if folder.is_dir() else []
    for home in homes:
        if not (home / ".git").exists():
            continue
        unpushed = git.unpushed(home) if (home / ".git").is_dir() else 0  # a clone (a worktree pushes nowhere)
        if git.is_dirty(home) or unpushed:
            found.append(str(home.relative_to(rig)))
    return found


def _default_branch(repo: Path) -> str:
    head = (repo / "HEAD").read_text().strip()
    if head.startswith("ref: refs/heads/"):
        from gt.ledger.gitdir import check_branch_name

        branch = head[len("ref: refs/heads/"):]
        if branch.startswith("-"):  # the source's HEAD names it: never let git read it as an option
            raise GtError(f"the default branch of {repo} is named {branch!r}: pass --branch")
        check_branch_name(branch)
        return branch
    raise GtError(f"cannot tell the default branch of {repo}: pass --branch")


def _rig_ledger(paths: Any, name: str, prefix: str | None, routes: dict[str, str], actor: Signature) -> str:
    """Adopt the ledger the project already has, or create one; its prefix must be free in the town."""
    from gt.beads import operations
    from gt.beads.tracker import Tracker

    tracker = Tracker(paths)
    existing = tracker.ledger.view().config.get("prefix") if tracker.ledger.exists() else None
    if existing and prefix and existing != prefix:
        raise UsageError(f"the project's ledger already has prefix {existing!r}")
    chosen = check_prefix(existing or prefix or prefix_from_name(name))
    if chosen in routes and routes[chosen] != f"{name}/{layout.RIG_REPO}":  # its own route: a rig re-created
        raise GtError(f"prefix {chosen!r} belongs to {routes[chosen]} already: pass --prefix", code="exists")
    if existing is None:
        operations.init(tracker, actor, chosen)
    return chosen


def remove(town: Path, name: str, actor: Signature, force: bool = False) -> None:
    """Remove a rig; refuses while a polecat branch holds work not merged into the default branch."""
    rigs = registry(town)
    if name not in rigs:
        raise GtError(f"no rig named {name}", code="not_found")
    rig = layout.rig_dir(town, name)
    repo = rig / layout.RIG_REPO
    default = rigs[name].get("default_branch", "main")
    if repo.exists() and not force:
        unmerged = git.output(f"--git-dir={repo}", "branch", "--format=%(refname:short)", "--list", "polecat/*",
                              "crew/*", "--no-merged", default).split()
        if unmerged:
            raise GtError(f"{name} has unmerged work ({', '.join(unmerged[:5])}): merge it or use --force",
                          code="refused")
        unsaved = _unsaved_checkouts(rig)
        if unsaved:
            raise GtError(f"{name} has uncommitted or unpushed work in {', '.join(unsaved[:5])}: "
                          "push it or use --force", code="refused")

    Town.at(town).tracker().write(actor, lambda view: Edit(
        "rig-remove", f"rig remove {name}", trailers=[("Rig", name)], records={(layout.RIGS_COLLECTION, name): None}))
    routes = {p: t for p, t in layout.read_routes(town).items() if t != f"{name}/{layout.RIG_REPO}"}
    layout.write_routes(town, routes)
    shutil.rmtree(rig, ignore_errors=True)
    _update_adopted(town, name, None)
    _mirror(town)

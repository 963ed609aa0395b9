"""`gt doctor [--fix]`: the town's health — layout, registry, routes, hooks, ledgers, identities, locks.

Every finding names the path and what `--fix` does about it (None: a human decides).
"""
from __future__ import annotations

import functools

import json
from pathlib import Path
from typing import Any, Callable

from gt.errors import GtError
from gt.ledger import git
from gt.ledger.gitdir import discover
from gt.ledger.store import Signature
from gt.town import layout
from gt.town.identity import git_config
from gt.beads.doctor import Finding, doctor as ledger_doctor
from gt.beads.tracker import Tracker

LAYOUT = (layout.TOWN_FILE, layout.RIGS_FILE, layout.ROUTES_FILE, layout.SETTINGS_FILE, Path("deacon/dogs/boot"))


def doctor(town: Path, actor: Signature, fix: bool = False) -> list[Finding]:
    findings: list[Finding] = []

    def found(kind: str, path: Path | str, problem: str, fix_text: str | None = None,
              repair: Callable[[], object] | None = None) -> None:
        finding = Finding(kind, str(path), problem, fix_text)
        if fix and repair is not None:
            try:
                repair()
                finding.fixed = True
            except GtError as exc:
                finding.problem += f" (fix failed: {exc})"
        findings.append(finding)

    from gt.githooks import install as git_hooks
    from gt.town import rigs
    from gt.town.install import install

    missing = [str(p) for p in LAYOUT if not (town / p).exists()]
    if missing:
        found("layout", f"{town}: {', '.join(missing)}", "missing", "re-create them (gt install --force)",
              lambda: install(town, actor.name, force=True))

    registered = rigs.registry(town)
    # rig records this machine never said yes to: shown, never cloned, and the town is still healthy
    waiting = {w["name"]: w for w in rigs.waiting(town)}
    for name, w in waiting.items():
        findings.append(Finding("waiting-rig", str(layout.rig_dir(town, name)),
                                f"rig {name} from {w['git_url']} waits ({w['reason']}): "
                                f"`gt rig adopt {name}` takes it", None, notice=True))
    for name, record in sorted(registered.items()):
        if name not in waiting and not layout.rig_dir(town, name).is_dir():
            found("registry", layout.rig_dir(town, name), f"rig {name} is registered but its folder is missing",
                  f"clone it again from {record.get('git_url')}", lambda: _rebuilt(town, actor))
    for path in sorted(town.iterdir()):
        if (path / layout.RIG_CONFIG).is_file() and path.name not in registered:
            found("registry", path, f"{path.name} looks like a rig but is not registered",
                  None)  # a human decides: `gt rig add` it properly, or delete the folder

    routes = layout.read_routes(town)
    wanted = {layout.TOWN_PREFIX: ".", **{r["prefix"]: f"{n}/{layout.RIG_REPO}" for n, r in registered.items()
                                          if n not in waiting}}
    if routes != wanted:
        wrong = sorted(set(routes.items()) ^ set(wanted.items()))
        found("routes", town / layout.ROUTES_FILE, f"routes disagree with the registry: {wrong}",
              "rewrite them from the registry", lambda: layout.write_routes(town, wanted))
    mirrored = _read_json(town / layout.RIGS_FILE).get("rigs")
    if (town / layout.RIGS_FILE).exists() and mirrored != json.loads(json.dumps(registered)):
        found("registry", town / layout.RIGS_FILE, "differs from the registry in the town ledger",
              "rewrite it from the ledger", lambda: rigs._mirror(town))

    from gt.town.context import Town

    other_ledgers = Town(town).other_ledgers  # convoys track rigs' beads: checked in their ledgers
    ledgers = [("town", town)] + [(n, layout.rig_dir(town, n) / layout.RIG_REPO) for n in sorted(registered)]
    for label, path in ledgers:
        if not path.exists():
            continue
        tracker = Tracker(discover(str(path)))
        for finding in ledger_doctor(tracker, fix, other_ledgers):
            finding.problem = f"{label} ledger: {finding.problem}"
            findings.append(finding)
        if label != "town":
            findings += git_hooks.check(tracker.repo, git_hooks.RIG_HOOKS, required=True, fix=fix)
            crew = layout.rig_dir(town, label) / "crew"
            for clone in sorted(crew.iterdir()) if crew.is_dir() else ():
                if (clone / ".git").is_dir():  # a crew clone has hooks of its own (a worktree shares its repo's)
                    clone_repo = discover(str(clone), follow_redirect=False)
                    findings += git_hooks.check(clone_repo, git_hooks.CLONE_HOOKS, required=False, fix=fix)
    for name in sorted(registered):
        findings += _identities(town, name, actor, fix)
    findings += _settings(town, sorted(registered))
    from gt.town import settings

    for stale in settings.stale_presets(town, sorted(registered)):
        found("settings", stale.path, f"agents.{stale.agent}.command runs {stale.preset} without {{model}}: "
              f"`gt sling --model` would be recorded but not used, and its usage never read",
              f"use `preset: {stale.preset}` (docs/agents.md)", functools.partial(settings.use_preset, stale))
    return findings


def _settings(town: Path, rigs: list[str]) -> list[Finding]:
    """Unknown keys (often misspellings) and bad values in the town's and the rigs' settings files."""
    from gt.town import settings

    return [Finding("settings", str(town / p.file), p.text) for p in settings.problems(town, rigs)]


def _rebuilt(town: Path, actor: Signature) -> None:
    from gt.town import rigs

    _, failed = rigs.rebuild_missing(town, actor)
    if failed:
        raise GtError("; ".join(failed.values()))


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _identities(town: Path, rig: str, actor: Signature, fix: bool) -> list[Finding]:
    """Every clone and worktree of the rig commits as its agent; linked worktrees need worktree config."""
    from gt.town import rigs

    findings: list[Finding] = []
    home = layout.rig_dir(town, rig)
    repo = home / layout.RIG_REPO
    if not repo.is_dir():
        return findings
    shared_bare = git.run(f"--git-dir={repo}", "config", "--file", str(repo / "config"), "core.bare",
                             check=False).stdout.strip()
    enabled = git.run(f"--git-dir={repo}", "config", "extensions.worktreeConfig", check=False).stdout.strip()
    if enabled != "true" or shared_bare:
        finding = Finding("worktree-config", str(repo / "config"),
                          "per-worktree identities need extensions.worktreeConfig with core.bare in config.worktree",
                          "enable it and move core.bare")
        if fix:
            rigs.enable_worktree_config(repo)
            finding.fixed = True
        findings.append(finding)
    checkouts: list[tuple[Path, str | None]] = [(home / "mayor" / "rig", "mayor"),
                                                (home / "refinery" / "rig", f"{rig}/refinery")]
    for kind in ("crew", "polecats"):
        folder = home / kind
        for path in sorted(folder.iterdir()) if folder.is_dir() else ():
            if (path / ".git").exists():
                owner = None if (path / ".git").is_file() and kind == "crew" else f"{rig}/{kind}/{path.name}"
                checkouts.append((path, owner))  # a cross-rig worktree keeps whatever owner it names
    for path, identity in checkouts:
        if not path.exists():
            continue
        paths = discover(str(path), follow_redirect=False)
        recorded = git_config(paths, "gt", "identity")
        name = git_config(paths, "user", "name")
        expected = identity or recorded
        if expected and recorded == expected and name == expected:
            continue
        worktree = (path / ".git").is_file()
        finding = Finding("identity", str(path), f"commits here would not carry {expected or 'an agent identity'} "
                          f"(gt.identity={recorded}, user.name={name})",
                          f"set it to {expected}" if expected else None)
        if fix and expected:
            rigs.bind_identity(path, expected, worktree=worktree)
            finding.fixed = True
        findings.append(finding)
    return findings

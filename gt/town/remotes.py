"""A town on many machines: the town ledger's remote, `gt sync` of every ledger, `gt install --from`.

Each rig's ledger syncs with the rig's origin; the town ledger with the town's own remote
(`origin` of the town repository). Nothing but git remotes: no server of ours.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gt.errors import GtError
from gt.ledger import git
from gt.ledger.store import Signature
from gt.town import layout

TOWN_REMOTE = "origin"


def absolute(url: str) -> str:
    """A local path as an absolute one (git resolves relative remotes against wherever it runs)."""
    import os

    return os.path.abspath(url) if os.path.exists(url) else url


def set_remote(town: Path, url: str) -> str:
    """Point the town ledger at `url` (added, or changed when set already)."""
    url = absolute(url)
    exists = _has_remote(str(town / ".git"), TOWN_REMOTE) is not None
    git.run("-C", str(town), "remote", "set-url" if exists else "add", TOWN_REMOTE, url)
    return url


@dataclass
class LedgerSync:
    ledger: str  # "town" or the rig's name
    remote: str | None
    action: str  # what the sync did, "no remote", or "failed"
    pushed: bool = False
    merged_beads: int = 0
    error: str | None = None
    renamed: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"ledger": self.ledger, "remote": self.remote, "action": self.action, "pushed": self.pushed,
                "merged_beads": self.merged_beads, "error": self.error, "renamed": self.renamed}


def _has_remote(gitdir: str, name: str) -> str | None:
    result = git.run(f"--git-dir={gitdir}", "remote", "get-url", name, check=False)
    return result.stdout.strip() if result.returncode == 0 else None


def sync_town(town: Path, actor: Signature, push_changes: bool = True) -> tuple[list[LedgerSync], list[str]]:
    """Sync the town ledger, re-create rigs registered elsewhere, then sync every rig's ledger.

    A failing ledger is reported and the others still sync. Returns the per-ledger results and the
    rigs this machine gained.
    """
    from gt.ledger.gitdir import discover
    from gt.town import rigs
    from gt.beads.sync import sync
    from gt.beads.tracker import Tracker

    results = []
    targets = [("town", town)] + [(name, layout.rig_dir(town, name) / layout.RIG_REPO)
                                  for name in sorted(rigs.registry(town))]

    def one(label: str, path: Path) -> None:
        tracker = Tracker(discover(str(path)))
        remote = tracker.settings.remote
        url = _has_remote(tracker.repo.commondir, remote)
        if url is None:
            results.append(LedgerSync(label, None, "no remote"))
            return
        try:
            report = sync(tracker, actor, remote, push_changes)
        except GtError as exc:
            results.append(LedgerSync(label, url, "failed", error=str(exc)))
            return
        results.append(LedgerSync(label, url, report.action, report.pushed, len(report.merged_beads),
                                  renamed=report.renamed))

    one(*targets[0])
    gained, failed = rigs.rebuild_missing(town, actor)
    results += [LedgerSync(name, None, "failed", error=why) for name, why in failed.items()]
    for name in sorted(rigs.registry(town)):
        path = layout.rig_dir(town, name) / layout.RIG_REPO
        if path.is_dir():
            one(name, path)
    return results, gained


def join(root: Path, url: str, actor: Signature) -> dict[str, Any]:
    """`gt install --from URL`: a town whose ledger comes from `url`, with its registered rigs."""
    from gt.town.install import install

    import shutil

    root = root.expanduser().resolve()
    url = absolute(url)
    if (root / layout.TOWN_FILE).exists():
        raise GtError(f"a town exists at {root} already: use `gt remote set` and `gt sync` there", code="exists")
    existed = root.exists()
    report = install(root, actor.name, ledger=False)
    set_remote(root, url)
    results, gained = sync_town(root, actor, push_changes=False)
    town_result = results[0]
    if town_result.action == "failed" or not town_result.remote:
        if not existed:
            shutil.rmtree(root, ignore_errors=True)  # nothing half-built is left to trip a retry
        raise GtError(f"cannot join the town at {url}: {town_result.error}", code="fetch")
    failed = {r.ledger: r.error for r in results if r.action == "failed"}
    return {"root": str(root), "remote": url, "rigs": gained, "created": report.created, "failed": failed}

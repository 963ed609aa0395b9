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

# The transports a rig or town URL may use: git runs a program of its own for every other scheme
# (`git-remote-<scheme>`) and for `<helper>::<address>` (`ext::` runs any command line).
TRANSPORTS = ("file", "ssh", "git+ssh", "ssh+git", "git", "http", "https")
# Given to every git that clones from a URL a ledger record names: the same list, enforced by git too.
PROTOCOL_ARGS = ("-c", "protocol.allow=never",
                 *(a for t in ("file", "ssh", "git", "http", "https") for a in ("-c", f"protocol.{t}.allow=always")))


def check_url(url: str) -> str:
    """`url` when this machine may clone, fetch from or push to it; UsageError otherwise.

    Allowed: a local path, file://, ssh:// (and git+ssh://), scp-like [user@]host:path, git://,
    http(s)://. Refused: remote helpers (`ext::`, `fd::`, any `<helper>::`), other schemes, anything
    git or ssh could read as an option (a leading `-`, a host or user starting with `-`) and control
    characters. The one place every rig and town URL is checked.
    """
    import re
    from urllib.parse import urlsplit

    from gt.errors import UsageError
    from gt.model.schema import HELPER_RE

    def refuse(why: str) -> UsageError:
        return UsageError(f"refused URL {url!r}: {why}")

    if not url.strip():
        raise refuse("it is empty")
    if any(ord(c) < 32 or ord(c) == 127 for c in url):
        raise refuse("it holds control characters")
    if url.startswith("-"):
        raise refuse("git would read it as an option")
    if HELPER_RE.match(url):
        raise refuse("a remote helper (<helper>::) runs a program of its own")
    scheme = re.match(r"([A-Za-z][A-Za-z0-9+.-]*)://", url)
    if scheme:
        if scheme.group(1).lower() not in TRANSPORTS:
            raise refuse(f"unknown transport {scheme.group(1)}:// (allowed: {', '.join(TRANSPORTS)}, local paths, "
                         "user@host:path)")
        netloc = urlsplit(url).netloc
        if any(part.startswith("-") for part in netloc.split("@")):
            raise refuse("a host or user starting with '-' is an option to ssh")
        return url
    colon, slash = url.find(":"), url.find("/")
    if colon > 0 and (slash < 0 or colon < slash):  # scp-like [user@]host:path, as git reads it
        if any(part.startswith("-") for part in url[:colon].split("@")):
            raise refuse("a host or user starting with '-' is an option to ssh")
    return url


def absolute(url: str) -> str:
    """A local path as an absolute one (git resolves relative remotes against wherever it runs)."""
    import os

    return os.path.abspath(url) if os.path.exists(url) else url


def set_remote(town: Path, url: str) -> str:
    """Point the town ledger at `url` (added, or changed when set already)."""
    url = absolute(check_url(url))
    exists = _has_remote(str(town / ".git"), TOWN_REMOTE) is not None
    git.run("-C", str(town), "remote", "set-url" if exists else "add", "--", TOWN_REMOTE, url)
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


def sync_town(town: Path, actor: Signature, push_changes: bool = True,
              adopt_listed: str | None = None) -> tuple[list[LedgerSync], list[str], list[dict[str, str]]]:
    """Sync the town ledger, re-create the rigs this machine took that it lacks, then sync every rig's
    ledger.

    A rig record this machine's user never said yes to waits (no clone, fetch or push); with
    `adopt_listed` (the command saying yes: `gt install --from`), every rig the town ledger lists
    with a URL `check_url` allows is taken. A failing ledger is reported and the others still sync.
    Returns the per-ledger results, the rigs this machine gained and the rig records waiting.
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
    if adopt_listed:
        taken = rigs.adopted(town)
        for record in rigs.waiting(town):
            if record["reason"] == "not adopted on this machine" and record["name"] not in taken:
                rigs.remember(town, record["name"], record["git_url"], adopt_listed)
    gained, failed = rigs.rebuild_missing(town, actor)
    results += [LedgerSync(name, None, "failed", error=why) for name, why in failed.items()]
    for name in sorted(rigs.registry(town)):
        path = layout.rig_dir(town, name) / layout.RIG_REPO
        if path.is_dir():
            one(name, path)
    rigs._mirror(town)  # the registry as the town ledger has it now, waiting records included
    return results, gained, rigs.waiting(town)


def join(root: Path, url: str, actor: Signature) -> dict[str, Any]:
    """`gt install --from URL`: a town whose ledger comes from `url`, with its registered rigs."""
    from gt.town.install import install

    import shutil

    root = root.expanduser().resolve()
    url = absolute(check_url(url))
    if (root / layout.TOWN_FILE).exists():
        raise GtError(f"a town exists at {root} already: use `gt remote set` and `gt sync` there", code="exists")
    existed = root.exists()
    report = install(root, actor.name, ledger=False)
    set_remote(root, url)
    results, gained, waiting = sync_town(root, actor, push_changes=False, adopt_listed="gt install --from")
    town_result = results[0]
    if town_result.action == "failed" or not town_result.remote:
        if not existed:
            shutil.rmtree(root, ignore_errors=True)  # nothing half-built is left to trip a retry
        raise GtError(f"cannot join the town at {url}: {town_result.error}", code="fetch")
    failed = {r.ledger: r.error for r in results if r.action == "failed"}
    from gt.town import rigs

    urls = {name: entry["git_url"] for name, entry in rigs.adopted(root).items()}
    return {"root": str(root), "remote": url, "rigs": gained, "urls": urls, "created": report.created,
            "failed": failed, "rigs_waiting": waiting}

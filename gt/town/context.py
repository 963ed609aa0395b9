"""The town a command or a patrol pass works in: its ledgers, registry and settings, each opened once.

`Town(root)` is cheap; its trackers and settings are made on first use and kept for the life of
the object (the registry and the routes too, re-read when the town ledger or the routes file
changes). A pass of the refinery or the witness runs inside `with town.session():`, and everything
it calls that asks for the town (`Town.at`, `Town.find`, `routed`) gets that same object, so the
pass opens every ledger and reads the settings once. Outside a session each of those makes a new
one: nothing is kept between commands or passes, so the next one sees a change made meanwhile.
`routed(bead_ids)` is the tracker that owns beads by their prefix, in a town or outside one.
"""
from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from gt.beads.tracker import Tracker
from gt.errors import GtError
from gt.ledger.gitdir import discover
from gt.town import layout

if TYPE_CHECKING:
    from gt.ledger.store import View
    from gt.town.settings import Settings


_SESSION: ContextVar[Town | None] = ContextVar("town_session", default=None)


class Town:
    """One town, with its ledgers and settings read once."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._trackers: dict[str, Tracker] = {}
        self._settings: dict[str | None, Settings] = {}
        self._registry: tuple[str | None, dict[str, dict[str, Any]]] | None = None  # (town ledger head, rigs)
        self._routes: tuple[tuple[int, int], dict[str, str]] | None = None  # ((mtime, size) of the file, routes)

    @classmethod
    def at(cls, root: Path) -> Town:
        """The town at `root`: the session's when one is open for it, else a new one."""
        active = _SESSION.get()
        return active if active is not None and active.root == Path(root) else cls(root)

    @classmethod
    def find(cls, start: str | Path | None = None) -> Town | None:
        root = layout.find_town(start)
        return cls.at(root) if root is not None else None

    @classmethod
    def require(cls) -> Town:
        return cls.at(layout.require_town())

    @contextmanager
    def session(self) -> Iterator[Town]:
        """Within the block, `Town.at(self.root)` (and `find`, `routed`) give this object."""
        token = _SESSION.set(self)
        try:
            yield self
        finally:
            _SESSION.reset(token)

    # -- ledgers ---------------------------------------------------------------------------------

    def _tracker_at(self, repo: Path) -> Tracker:
        key = str(repo)
        if key not in self._trackers:
            self._trackers[key] = Tracker(discover(key))
        return self._trackers[key]

    def tracker(self) -> Tracker:
        """The town's own ledger (prefix hq: mail, convoys, town agents, the rig registry)."""
        return self._tracker_at(self.root)

    def rig_tracker(self, rig: str) -> Tracker:
        """The ledger of `rig` (its `.repo.git`); a clear error for a rig that does not exist."""
        repo = layout.rig_dir(self.root, rig) / layout.RIG_REPO
        if not repo.is_dir():
            raise GtError(f"no rig named {rig} in {self.root}", code="not_found")
        return self._tracker_at(repo)

    def tracker_of(self, identity: str) -> Tracker:
        """The ledger holding `identity`'s agent record: its rig's, or the town's."""
        from gt.town.identity import parse

        rig = parse(identity).rig
        return self.rig_tracker(rig) if rig else self.tracker()

    def routes(self) -> dict[str, str]:
        """Bead prefix -> ledger path (re-read when the routes file changes)."""
        try:
            stat = (self.root / layout.ROUTES_FILE).stat()
            stamp = (stat.st_mtime_ns, stat.st_size)
        except OSError:
            stamp = (0, 0)
        if self._routes is None or self._routes[0] != stamp:
            self._routes = (stamp, layout.read_routes(self.root))
        return self._routes[1]

    def tracker_for(self, bead_id: str) -> Tracker | None:
        """The tracker of the ledger that owns `bead_id` by its prefix (None: no route matches)."""
        routes = self.routes()
        matches = [p for p in routes if bead_id.lower().startswith(p + "-")]
        if not matches:
            return None
        return self._tracker_at((self.root / routes[max(matches, key=len)]).resolve())

    def views(self) -> list[View]:
        """Every ledger of the town that exists, once each (for `--all-rigs`)."""
        out, seen = [], set()
        for target in sorted(set(self.routes().values())):
            path = (self.root / target).resolve()
            if not path.exists():
                continue  # a rig folder gone: `gt doctor` says so
            tracker = self._tracker_at(path)
            if tracker.repo.commondir not in seen and tracker.ledger.exists():
                seen.add(tracker.repo.commondir)
                out.append(tracker.view())
        return out

    def other_ledgers(self, view: View, bead_ids: set[str]) -> dict[str, dict[str, Any]]:
        """The bead summaries of the other ledgers that own `bead_ids` (for dependencies across rigs)."""
        here = view.ledger.repo.commondir
        merged: dict[str, dict[str, Any]] = {}
        trackers = {t.repo.commondir: t for t in map(self.tracker_for, bead_ids) if t is not None}
        for commondir, tracker in trackers.items():
            if commondir != here and tracker.ledger.exists():
                merged.update(tracker.view().summaries("beads"))
        return merged

    # -- registry, settings, identities ----------------------------------------------------------

    def registry(self) -> dict[str, dict[str, Any]]:
        """The rigs recorded in the town ledger, by name (re-read when the town ledger moves)."""
        ledger = self.tracker().ledger
        head = ledger.head()
        if self._registry is None or self._registry[0] != head:
            self._registry = (head, ledger.view().summaries(layout.RIGS_COLLECTION) if head is not None else {})
        return self._registry[1]

    def default_branch(self, rig: str) -> str:
        return str(self.registry().get(rig, {}).get("default_branch", "main"))

    def settings(self, rig: str | None = None) -> Settings:
        """The town's settings with the rig's over them (read once)."""
        if rig not in self._settings:
            from gt.town.settings import load

            self._settings[rig] = load(self.root, rig)
        return self._settings[rig]

    @staticmethod
    def witness(rig: str) -> str:
        return f"{rig}/witness"

    @staticmethod
    def refinery(rig: str) -> str:
        return f"{rig}/refinery"

    @staticmethod
    def polecat(rig: str, name: str) -> str:
        return f"{rig}/polecats/{name}"

    @staticmethod
    def crew(rig: str, name: str) -> str:
        return f"{rig}/crew/{name}"

    def env_for(self, identity: str) -> dict[str, str]:
        """The environment of `identity`'s sessions: GT_* role variables, BD_ACTOR and the git identity."""
        from gt.town.install import agent_env

        return agent_env(self.root, identity)


def routed(bead_ids: list[str] | tuple[str, ...] = (), prefix: str | None = None, rig: str | None = None) -> Tracker:
    """The tracker that owns these beads: inside a town, a bead's prefix names its ledger (`bd close
    gp-xyz` from anywhere writes to the gp rig); elsewhere, the current repository's. Wisps'
    ids (`gp-wisp-…`) name the wisp ledger beside the ledger of their prefix (gt.beads.molecules)."""
    if bead_ids and not prefix and not rig and all("-wisp-" in i for i in bead_ids):  # gt.beads.molecules.is_wisp_id
        from gt.beads.molecules import WISP_INFIX, wisp_tracker

        shared = routed([i.split(f"{WISP_INFIX}-", 1)[0] + "-" for i in bead_ids])
        wisps = wisp_tracker(shared)
        return wisps if wisps.ledger.exists() else shared
    town = Town.find()
    if town is None:
        if prefix or rig:
            raise GtError("--prefix and --rig route between ledgers of a town: not in a town")
        return Tracker.open()
    if rig:
        return town.rig_tracker(rig)
    keys = [f"{prefix}-"] if prefix else list(bead_ids)
    targets = {t.repo.commondir: t for t in map(town.tracker_for, keys) if t is not None}
    if prefix and not targets:
        raise GtError(f"no ledger in {town.root} has prefix {prefix!r}", code="not_found")
    if len(targets) > 1:
        raise GtError("these beads live in different ledgers: give them one command per ledger")
    return targets.popitem()[1] if targets else Tracker.open()


def all_views(view: View | None = None) -> list[View]:
    """Every ledger of the town of `view` (or of the current directory); just `view`'s outside a town."""
    town = Town.find(view.ledger.repo.commondir if view else None)
    if town is None:
        return [view if view else Tracker.open().view()]
    return town.views()


def with_other_ledgers(view: View, beads: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """`beads` plus the beads of the other town ledgers they depend on (`gt-abc` blocked by `bd-xyz`
    waits for the bd rig's bead). Only read when such a dependency exists."""
    from gt.model import graph

    foreign = {str(d.get("target")) for doc in beads.values() for d in doc.get("dependencies") or ()
               if d.get("type") in graph.ORDERING} - beads.keys()
    town = Town.find(view.ledger.repo.commondir) if foreign else None
    merged = town.other_ledgers(view, foreign) if town is not None else {}
    return {**merged, **beads} if merged else beads

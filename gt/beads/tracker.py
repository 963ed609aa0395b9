"""The bead tracker of one repository: its ledger, id resolution and attributed writes."""
from __future__ import annotations

import copy
from typing import Any, Callable, Iterable, Iterator, Mapping

from gt.errors import GtError
from gt.ledger.gitdir import RepoPaths, discover
from gt.ledger.store import Change, Ledger, Signature, View, require_writable, check_key
from gt.ledger.yamlio import YamlError
from gt.model.bead import SUMMARY_VERSION, is_deleted, require_live, summarize
from gt.model.merge import stamp_edit, strip_stamps
from gt.model.ids import resolve
from gt.beads import clone_settings

LEDGER_FORMAT = 2  # 2: beads carry Lamport stamps (see gt/model/merge.py); 1 is read as 2 without stamps
BEADS = "beads"  # the ledger collection holding one document per bead


class Edit:  # a plain class: every bd process imports it, and a dataclass costs ~0.4 ms to define
    """What one bead command writes: bead documents by id (None removes the file), the commit subject
    and extra trailers."""

    def __init__(self, op: str, subject: str, beads: dict[str, dict[str, Any] | None] | None = None,
                 trailers: list[tuple[str, str]] | None = None, config: dict[str, Any] | None = None,
                 records: dict[tuple[str, str], dict[str, Any] | None] | None = None, result: Any = None,
                 commit: str | None = None) -> None:
        self.op = op
        self.subject = subject
        self.beads = beads if beads is not None else {}
        self.trailers = trailers if trailers is not None else []
        self.config = config
        self.records = records if records is not None else {}  # other collections
        self.result = result  # what the command reports back (not written)
        self.commit = commit  # the ledger commit, once written


def check_is_ledger(view: View) -> None:
    """Refuse a branch that is not a ledger (no readable `ledger.yaml`), e.g. a code branch."""
    manifest = view.manifest
    if manifest is not None and manifest.config_error:
        raise GtError(manifest.config_error, code="bad_config")
    if manifest is not None and "format" not in manifest.config:
        why = "its ledger.yaml has no `format`" if manifest.config else "it has no ledger.yaml"
        raise GtError(f"branch '{view.ledger.branch}' is not a ledger ({why})", code="not_ledger")


def _summarize(collection: str, key: str, doc: dict[str, Any]) -> dict[str, Any]:
    """Beads are summarized (and checked) by the model; other collections' documents are kept whole."""
    return summarize(key, doc) if collection == BEADS else doc


def stamped(view: View, bead_id: str, doc: dict[str, Any], actor: str) -> dict[str, Any]:
    """The document to write: stamped for what it changes relative to the ledger's current one."""
    try:
        before = view.doc(BEADS, bead_id)
    except YamlError:
        before = None  # an unreadable file being replaced: nothing to compare with
    return stamp_edit(before, doc, actor)


class Lookup(Mapping[str, Mapping[str, Any]]):
    """The live beads' summaries of one or more views (the first holding a bead wins), read one shard
    at a time: for checks that follow a few edges (blockers, a cycle) in a ledger of any size.
    Iterating it reads every summary, as `Tracker.summaries` does."""

    def __init__(self, *views: View) -> None:
        self.views = views

    def __getitem__(self, bead_id: str) -> Mapping[str, Any]:
        for view in self.views:
            entry = view.entry(BEADS, bead_id) if isinstance(bead_id, str) else None
            if entry is not None and entry[1] is not None and not is_deleted(entry[1]):
                return entry[1]
        raise KeyError(bead_id)

    def __iter__(self) -> Iterator[str]:
        merged: dict[str, Any] = {}
        for view in reversed(self.views):
            merged.update(Tracker.summaries(view))
        return iter(merged)

    def __len__(self) -> int:
        return sum(1 for _ in self)


class Tracker:
    def __init__(self, repo: RepoPaths, settings: clone_settings.LocalSettings | None = None) -> None:
        from gt.ledger.gitdir import check_branch_name

        self.repo = repo
        self.settings = settings or clone_settings.load(repo)
        check_branch_name(self.settings.branch)
        fallback = (f"refs/remotes/{self.settings.remote}/{self.settings.branch}",)
        self.ledger = Ledger(repo, self.settings.branch, _summarize, SUMMARY_VERSION, fallback)

    @classmethod
    def open(cls, start: str | None = None) -> "Tracker":
        return cls(discover(start))

    def require(self) -> None:
        if not self.ledger.exists():
            raise GtError(
                f"no ledger here: branch '{self.ledger.branch}' does not exist (run `bd init`)",
                code="no_ledger",
            )

    def view(self) -> View:
        self.require()
        view = self.ledger.view()
        check_is_ledger(view)
        return view

    @property
    def prefix(self) -> str:
        return str(self.view().config.get("prefix", "bd"))

    # -- reads ---------------------------------------------------------------------------------

    @staticmethod
    def summaries(view: View, include_deleted: bool = False) -> dict[str, dict[str, Any]]:
        beads = view.summaries(BEADS)
        return beads if include_deleted else {k: v for k, v in beads.items() if not is_deleted(v)}

    @staticmethod
    def select(view: View, types: Iterable[str] | None = None,
               statuses: Iterable[str] | None = None) -> dict[str, dict[str, Any]]:
        """The live beads of these types and statuses (None: any) with their summaries, by id: found
        through the derived tables' columns when there are some, so that finding a town's few
        convoys or queued beads does not read a ledger of 100,000 beads whole."""
        from gt.beads.derived import derived_of

        types = None if types is None else set(types)
        statuses = None if statuses is None else set(statuses)
        derived = derived_of(view)
        if derived is None:
            return {i: s for i, s in sorted(Tracker.summaries(view).items())
                    if (types is None or s.get("type") in types) and (statuses is None or s.get("status") in statuses)}
        found = {}
        for bead_id in derived.ids(types, statuses):
            entry = view.entry(BEADS, bead_id)
            if entry is not None and entry[1] is not None:
                found[bead_id] = entry[1]
        return found

    @staticmethod
    def resolve(view: View, query: str) -> str:
        """The id `query` names (an exact id, or a unique prefix; case-sensitive first, see
        gt.model.ids.resolve); deleted beads only by exact id."""
        query = query.strip()
        if view.entry(BEADS, query) is not None:
            return query
        return resolve(query, Tracker.summaries(view), view.config.get("prefix"))

    @staticmethod
    def get(view: View, bead_id: str) -> dict[str, Any]:
        """A copy of the full, live bead (safe to modify), without its merge stamps."""
        return copy.deepcopy(strip_stamps(require_live(view.doc(BEADS, bead_id), bead_id)))

    # -- writes --------------------------------------------------------------------------------

    @staticmethod
    def writable_format(view: View) -> int:
        """The ledger's format, refusing a branch that is not a ledger or one newer than this bd."""
        check_is_ledger(view)
        found = view.config.get("format", LEDGER_FORMAT)
        if not isinstance(found, int) or found > LEDGER_FORMAT:
            raise GtError(
                f"the ledger has format {found!r}, newer than this bd understands ({LEDGER_FORMAT}): upgrade bd",
                code="format",
            )
        return found

    @staticmethod
    def migrated(view: View, found: int, config: dict[str, Any] | None) -> dict[str, Any] | None:
        """The config a write commits: the ledger's migrated on its first write in an older format
        (whose documents are valid as they are)."""
        if found < LEDGER_FORMAT:
            return {**(config if config is not None else view.config), "format": LEDGER_FORMAT}
        return config

    @staticmethod
    def trailers(bead_ids: Iterable[str], op: str, actor: Signature,
                 extra: list[tuple[str, str]]) -> list[tuple[str, str]]:
        """A bead commit's trailers: each bead it writes, the operation, who acted, then `extra`."""
        return [("Bead-Id", bead_id) for bead_id in bead_ids] + [("Op", op), ("Actor", actor.name)] + extra

    def write(self, actor: Signature, build: Callable[[View], Edit]) -> Edit:
        """Run `build` on the current ledger and commit what it returns as one attributed commit.

        An Edit with no beads writes nothing (its `commit` stays None) but is still returned.
        """
        require_writable()
        self.require()
        outcome: dict[str, Edit] = {}
        parent: dict[str, str | None] = {}

        def transaction(view: View) -> Change | None:
            found = Tracker.writable_format(view)
            parent["commit"] = view.commit
            edit = outcome["edit"] = build(view)
            if not edit.beads and edit.config is None and not edit.records:
                return None
            change = Change(edit.subject, Tracker.trailers(edit.beads, edit.op, actor, edit.trailers),
                            config=Tracker.migrated(view, found, edit.config))
            for bead_id, doc in edit.beads.items():
                change.put(BEADS, bead_id, None if doc is None else stamped(view, bead_id, doc, actor.name))
            for (collection, key), doc in edit.records.items():
                change.put(collection, check_key(key), doc)  # names (agents, rigs): lower case, unlike bead ids
            return change

        commit = self.ledger.transact(transaction, actor)
        edit = outcome["edit"]
        edit.commit = commit
        if commit is not None and edit.beads:  # the derived tables follow the write at once
            from gt.beads.derived import follow_write

            follow_write(self.view(), parent["commit"], commit, edit.beads)
        return edit

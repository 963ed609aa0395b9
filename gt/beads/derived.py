"""Results derived from one ledger commit, kept beside the index so reads touch only what they print.

A SQLite file per ledger ref under the index folder holds, for the commit it names (`meta.commit`):
- `node`: every bead that is not a tombstone, with what ordering and readiness need: priority,
  creation time, status, type, assignee, `blocked` (as gt.model.graph defines it, within this
  ledger), the time it is deferred to, and `external` (it depends on a bead this ledger lacks, so
  a town must look in its other ledgers);
- `edge`: every dependency of those beads (source, target, type): the reverse-dependency index;
- `tally`: how many beads have each (status, type);
- `blockrow`: the JSON row `bd blocked` prints for each bead that is blocked or waits for another
  ledger, in parts (gt.beads.contract.row_parts), compressed in groups; made on the first `blocked`
  read and kept up from then on, so computing the tables whole stays as cheap as before.

It is a cache like the rest of the index: a pure function of the commit, never a second source of
truth. A read brings it to the view's commit first: by diffing the two commits' trees and redoing
only the beads that changed and those whose blocking they change (a write, a sync and a commit made
with plain git all arrive this way), or, with no usable file, by computing it whole. Every update is
one SQLite transaction that checks the commit it starts from, so a killed process or two at once
leave either the old state or the new one. Deleting the file costs nothing but speed.
"""
from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Mapping, NamedTuple

from gt.model.bead import BLOCKING, BOOKKEEPING_TYPES, PARENT, TOMBSTONE, parent_of

if TYPE_CHECKING:
    import sqlite3

    from gt.ledger.store import View

VERSION = 4  # the schema, the meaning of its columns and the rows' text; a file of another version is rebuilt
DONE = ("closed", TOMBSTONE)  # statuses of a bead that blocks nothing (gt.model.graph)
ORDERING = (BLOCKING, PARENT)
MAX_FLIPS = 3  # times one bead's flags may change while following a change (a parent cycle flips for ever)
FULL_REBUILD_AT = 20_000  # changed beads from which computing it whole is cheaper than following them
BUSY_SECONDS = 30.0
KEPT_LOG_BYTES = 1 << 20  # a write-ahead log larger than this after an update is truncated
ROW_GROUPS = 256  # blockrow groups: a change recompresses one group of about 1/256 of the rows

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS node (
    id TEXT PRIMARY KEY, priority INTEGER NOT NULL, newest REAL NOT NULL, status TEXT NOT NULL,
    type TEXT NOT NULL, assignee TEXT, blocked INTEGER NOT NULL, defer REAL, external INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS edge (source TEXT NOT NULL, target TEXT NOT NULL, type TEXT NOT NULL,
                                 PRIMARY KEY (source, target, type)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS tally (status TEXT NOT NULL, type TEXT NOT NULL, n INTEGER NOT NULL,
                                  PRIMARY KEY (status, type)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS blockrow (grp INTEGER PRIMARY KEY, data BLOB NOT NULL);
"""


SCHEMA_INDEXES = (  # made after the tables are filled when they are computed whole
    "CREATE INDEX IF NOT EXISTS node_order ON node (priority, newest, id) WHERE status <> 'closed'",
    "CREATE INDEX IF NOT EXISTS edge_target ON edge (target, type)",
    # the beads with a blockrow (ROW_MEMBER), in the default order, with what `blocked_rows` reads
    "CREATE INDEX IF NOT EXISTS node_blocked ON node (priority, newest, id, status, blocked, external) "
    "WHERE (blocked = 1 OR external = 1) AND status <> 'closed'",
)


class Node(NamedTuple):  # a tuple: made per row read, and cheaper to define than a dataclass
    """One bead as the derived tables hold it."""

    id: str
    priority: int
    newest: float  # minus the creation time: ascending order is newest first
    status: str
    type: str
    assignee: str | None
    blocked: bool
    defer: float | None
    external: bool

    def summary(self) -> dict[str, Any]:
        """What gt.beads.queries.Filter reads of a bead, for the filters these columns can answer."""
        return {"id": self.id, "priority": self.priority, "status": self.status, "type": self.type or None,
                "assignee": self.assignee}

    @classmethod
    def from_row(cls, row: tuple[Any, ...]) -> "Node":
        return cls(row[0], row[1], row[2], row[3], row[4], row[5], bool(row[6]), row[7], bool(row[8]))


class BlockedRow(NamedTuple):  # a tuple: `bd blocked` makes one per blocked bead, 15,000 at 100k
    """A bead that is blocked (or waits for another ledger), with its printed row: in parts, and
    whole as it is within this ledger (`blockers`, `via` and `text` leave other ledgers out)."""

    id: str
    status: str
    blocked: int  # within this ledger (0 or 1)
    external: int
    parent: str | None
    blocks: tuple[str, ...]  # the targets of its `blocks` dependencies, in the document's order
    blockers: tuple[str, ...]  # those of `blocks` that are open beads of this ledger
    via: str | None  # its parent, when that is blocked
    dependents: int  # dependent_count
    pre_end: int  # where `row_parts`' first part ends in `text`
    post_end: int  # and where its second part (without its closing brace) ends
    text: str  # the row `bd blocked --json` prints outside a town

    @staticmethod
    def parts_of(pre_end: int, post_end: int, dependents: int, text: str) -> tuple[str, str]:
        """`row_parts` of the bead again, from its text."""
        from gt.beads.contract import BETWEEN_PARTS

        return text[:pre_end], text[pre_end + len(BETWEEN_PARTS % dependents):post_end] + "}"

    @property
    def parts(self) -> tuple[str, str]:
        return self.parts_of(self.pre_end, self.post_end, self.dependents, self.text)



# a bead has a blockrow when it is not closed and is blocked or waits for another ledger
ROW_MEMBER = "(n.blocked = 1 OR n.external = 1) AND n.status <> 'closed'"
IN_JSON = "(SELECT value FROM json_each(?))"  # a list of ids as one parameter


def _group(bead_id: str) -> int:
    import zlib

    return zlib.crc32(bead_id.encode()) % ROW_GROUPS


def _row(bead_id: str, summary: Mapping[str, Any], blocked: bool, external: bool) -> tuple[Any, ...]:
    """A bead's row of the `node` table."""
    defer = summary.get("_defer") if summary.get("defer_until") else None
    assignee = summary.get("assignee")
    return (bead_id, _priority(summary), -float(summary.get("_created") or 0.0), str(summary.get("status")),
            str(summary.get("type") or ""), assignee if isinstance(assignee, str) and assignee else None,
            int(blocked), float(defer) if isinstance(defer, (int, float)) else None, int(external))


class _Cascade(Exception):
    """Following a change did not settle: the tables are computed whole instead."""


def _direct_external(edges: Iterable[tuple[str, str]], present: Mapping[str, Any]) -> bool:
    """Whether these (target, type) edges of a bead order it after a bead this ledger does not hold."""
    return any(kind in ORDERING and target not in present for target, kind in edges)


def _edges(summary: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(target, type) of a bead's dependencies, once each."""
    deps = summary.get("dependencies")
    if not deps:
        return []
    found: dict[tuple[str, str], None] = {}
    for dep in deps:
        if isinstance(dep, dict) and isinstance(dep.get("target"), str) and isinstance(dep.get("type"), str):
            found[(dep["target"], dep["type"])] = None
    return list(found)


def _priority(summary: Mapping[str, Any]) -> int:
    value = summary.get("priority", 2)
    return value if type(value) is int else 2


class Derived:
    """The derived tables of one ledger, brought to one view's commit (see the module docstring)."""

    def __init__(self, db: sqlite3.Connection, view: View, path: str) -> None:
        self.db = db
        self.view = view
        self.path = path

    # -- opening and updating ----------------------------------------------------------------------

    @classmethod
    def of(cls, view: View) -> "Derived":
        """The derived tables at `view`'s commit (updated or built as needed)."""
        import sqlite3

        path = _path(view)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        try:
            return cls._open(path, view)
        except sqlite3.DatabaseError as exc:
            if getattr(exc, "sqlite_errorcode", None) not in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB):
                raise  # busy, read-only, anything else: not the file's fault (the caller reads summaries)
            forget(path)  # a damaged file: made again from the ledger
            for suffix in ("", "-wal", "-shm", "-journal"):
                try:
                    os.unlink(path + suffix)
                except FileNotFoundError:
                    pass
            return cls._open(path, view)

    @classmethod
    def _open(cls, path: str, view: View) -> "Derived":
        import sqlite3

        db = _OPEN.get(path)
        if db is None:
            db = _OPEN[path] = _connect(path)
        try:
            derived = cls(db, view, path)
            for _ in range(5):
                derived._bring_up_to_date()
                db.execute("BEGIN")  # a read transaction: every read of this object sees one commit
                if derived._meta()[1] == view.commit:
                    return derived
                db.execute("COMMIT")  # another process moved it meanwhile (to its own view): again
            raise sqlite3.OperationalError("the derived tables kept moving to other commits")
        except BaseException:
            forget(path)
            raise

    def _flag(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row else None

    def _meta(self) -> tuple[int | None, str | None]:
        rows = dict(self.db.execute("SELECT key, value FROM meta").fetchall())
        version = rows.get("version")
        return (int(version) if version and version.isdigit() else None), rows.get("commit")

    def _bring_up_to_date(self, written: tuple[str, list[str]] | None = None) -> None:
        """Move the tables to the view's commit. `written`: (the commit it was made on, the beads it
        changed) for a commit this process just wrote, which then needs no tree diff."""
        if self.db.in_transaction:  # the read transaction of an earlier object on this connection
            self.db.execute("COMMIT")
        target = self.view.commit
        version, commit = self._meta()
        if version == VERSION and commit == target:
            return
        with _transaction(self.db):
            version, commit = self._meta()  # again, inside the write lock: another process may have done it
            if version == VERSION and commit == target:
                return
            if written is not None and version == VERSION and commit == written[0]:
                changed: list[str] | None = written[1]
            else:
                changed = self._changed_since(commit) if version == VERSION and commit else None
            if changed is None or len(changed) >= FULL_REBUILD_AT:
                self._rebuild()
            else:
                try:
                    self._follow(changed)
                except _Cascade:
                    self._rebuild()
            self.db.execute("INSERT OR REPLACE INTO meta VALUES ('version', ?), ('commit', ?)",
                            (str(VERSION), target or ""))
        self._shrink_log()

    def _shrink_log(self) -> None:
        """After a large update, give back the write-ahead log's space at once (it would stay until
        the next write); a reader still in the log leaves it for later, without waiting."""
        import sqlite3

        try:
            if os.path.getsize(self.path + "-wal") <= KEPT_LOG_BYTES:
                return
        except OSError:
            return
        self.db.execute("PRAGMA busy_timeout = 0")
        try:
            self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        except sqlite3.OperationalError:
            pass
        finally:
            self.db.execute(f"PRAGMA busy_timeout = {int(BUSY_SECONDS * 1000)}")

    def _changed_since(self, commit: str) -> list[str] | None:
        """Bead ids that differ between `commit` and the view's; None when `commit` cannot be read."""
        from gt.beads.tracker import BEADS

        if not self.view.commit:
            return None
        try:
            return [key for collection, key, _, _ in self.view.ledger.diff(commit, self.view.commit)
                    if collection == BEADS]
        except (KeyError, ValueError, AttributeError):  # a commit gc removed, or not a commit
            return None

    def _rebuild(self) -> None:
        from gt.beads.tracker import BEADS
        from gt.model import graph

        every = self.view.summaries(BEADS)  # tombstones too: a dependency on one is not on another ledger
        summaries = {i: s for i, s in every.items() if s.get("status") != TOMBSTONE}
        edges = {i: _edges(s) for i, s in summaries.items()}
        self.db.execute("DELETE FROM node")
        self.db.execute("DELETE FROM edge")
        self.db.execute("DELETE FROM tally")
        self.db.execute("DELETE FROM blockrow")  # made again on the next `blocked` read
        self.db.execute("INSERT OR REPLACE INTO meta VALUES ('rows', '0')")
        self.db.execute("DROP INDEX IF EXISTS node_order")  # made again after the rows: faster than kept up
        self.db.execute("DROP INDEX IF EXISTS edge_target")
        self.db.execute("DROP INDEX IF EXISTS node_blocked")
        is_blocked = graph.blocked_checker(every)
        external: dict[str, bool] = {}

        def is_external(bead_id: str) -> bool:  # a foreign dependency of the bead or of a live ancestor
            chain: list[str] = []
            current: str | None = bead_id
            found = False
            while current is not None and current not in external and current not in chain and len(chain) < 10_000:
                chain.append(current)
                doc = every[current]
                if _direct_external(edges[current], every):
                    found = True
                    break
                parent = parent_of(doc)
                current = parent if parent in every and every[parent].get("status") not in DONE else None
            if not found and current is not None and current in external:
                found = external[current]
            for each in chain:
                external[each] = found
            return found

        rows = sorted(_row(i, s, is_blocked(i), is_external(i)) for i, s in summaries.items())
        # in key order: SQLite appends to its trees instead of splitting pages all over them (40% faster)
        self.db.executemany("INSERT INTO node VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        self.db.executemany("INSERT INTO edge VALUES (?, ?, ?)",
                            sorted((i, target, kind) for i, pairs in edges.items() for target, kind in pairs))
        for statement in SCHEMA_INDEXES:
            self.db.execute(statement)
        tally: dict[tuple[str, str], int] = {}
        for row in rows:
            tally[(row[3], row[4])] = tally.get((row[3], row[4]), 0) + 1
        self.db.executemany("INSERT INTO tally VALUES (?, ?, ?)", ((s, t, n) for (s, t), n in tally.items()))

    def _stored(self, bead_id: str) -> tuple[str, str, bool, bool] | None:
        """(status, type, blocked, external) of a bead as the tables hold it now."""
        row = self.db.execute("SELECT status, type, blocked, external FROM node WHERE id = ?", (bead_id,)).fetchone()
        return (row[0], row[1], bool(row[2]), bool(row[3])) if row else None

    def _follow(self, changed: list[str]) -> None:
        """Redo the changed beads, then every bead whose blocking they change, until nothing moves."""
        from gt.beads.tracker import BEADS

        summaries: dict[str, Mapping[str, Any] | None] = {}

        def summary(bead_id: str) -> Mapping[str, Any] | None:
            if bead_id not in summaries:
                entry = self.view.entry(BEADS, bead_id)
                found = entry[1] if entry is not None else None
                summaries[bead_id] = found if found is not None and found.get("status") != TOMBSTONE else None
            return summaries[bead_id]

        pending: dict[str, None] = {}
        touched: dict[str, None] = {}  # beads whose blockrow may change (see _update_rows)
        for bead_id in dict.fromkeys(changed):
            before = self._stored(bead_id)
            now = summary(bead_id)
            touched[bead_id] = None
            if before is not None:
                # the beads it blocked lose a dependent
                touched.update(dict.fromkeys(t for t, in self.db.execute(
                    "SELECT target FROM edge WHERE source = ? AND type = ?", (bead_id, BLOCKING))))
                self._count(before[0], before[1], -1)
                self.db.execute("DELETE FROM node WHERE id = ?", (bead_id,))
                self.db.execute("DELETE FROM edge WHERE source = ?", (bead_id,))
            if now is not None:
                row = _row(bead_id, now, False, False)  # both flags are worked out below
                self.db.execute("INSERT INTO node VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", row)
                self.db.executemany("INSERT INTO edge VALUES (?, ?, ?)",
                                    ((bead_id, target, kind) for target, kind in _edges(now)))
                self._count(row[3], row[4], 1)
                pending[bead_id] = None
                touched.update(dict.fromkeys(t for t, kind in _edges(now) if kind == BLOCKING))
            # whoever depends on it may change: it appeared, went, or changed its status
            for source, in self.db.execute("SELECT source FROM edge WHERE target = ? AND type IN (?, ?)",
                                           (bead_id, BLOCKING, PARENT)).fetchall():
                pending[source] = None
                touched[source] = None
        present = _Present(self, summary)
        flips: dict[str, int] = {}
        while pending:
            bead_id = next(iter(pending))
            del pending[bead_id]
            stored = self._stored(bead_id)
            current = summary(bead_id)
            if stored is None or current is None:
                continue
            status, _, was_blocked, was_external = stored
            blocked = self._blocked(current, status)
            external = _direct_external(_edges(current), present) or self._parent_external(current)
            if (blocked, external) == (was_blocked, was_external):
                continue
            self.db.execute("UPDATE node SET blocked = ?, external = ? WHERE id = ?",
                            (int(blocked), int(external), bead_id))
            flips[bead_id] = flips.get(bead_id, 0) + 1
            if flips[bead_id] > MAX_FLIPS:  # only a parent cycle (an import can make one) keeps flipping
                raise _Cascade
            touched[bead_id] = None
            for child, in self.db.execute("SELECT source FROM edge WHERE target = ? AND type = ?",
                                          (bead_id, PARENT)).fetchall():
                pending[child] = None
                touched[child] = None  # its `blocked_via_parent`
        if self._flag("rows") == "1":
            self._update_rows(list(touched), set(changed))

    def _parent_external(self, summary: Mapping[str, Any]) -> bool:
        """Whether the bead's live parent in this ledger waits for another ledger (so the bead does)."""
        parent = parent_of(summary)
        found = self._stored(parent) if parent else None
        return found is not None and found[0] not in DONE and found[3]

    def _has_tombstone(self, bead_id: str) -> bool:
        from gt.beads.tracker import BEADS

        entry = self.view.entry(BEADS, bead_id)
        return entry is not None and entry[1] is not None and entry[1].get("status") == TOMBSTONE

    def _blocked(self, summary: Mapping[str, Any], status: str) -> bool:
        """gt.model.graph's `is_blocked`, one level deep: the parent's own flag is already derived."""
        if status == "blocked":
            return True
        for target, kind in _edges(summary):
            if kind not in ORDERING:
                continue
            stored = self._stored(target)
            if stored is None or stored[0] in DONE:
                continue
            if kind == BLOCKING or stored[2]:
                return True
        return False

    # -- the rows of `bd blocked` -------------------------------------------------------------------

    def _render(self, ids: Iterable[str]) -> dict[str, tuple[str | None, tuple[str, ...], str, str]]:
        """(parent, blocking targets, row text parts) of these beads, from their full documents."""
        from gt.beads.contract import row_parts
        from gt.beads.tracker import BEADS

        out = {}
        for doc in self.view.docs(BEADS, ids):
            blocks = tuple(d["target"] for d in doc.get("dependencies") or ()
                           if isinstance(d, dict) and d.get("type") == BLOCKING and isinstance(d.get("target"), str))
            out[doc["id"]] = (parent_of(doc), blocks, *row_parts(doc))
        return out

    def _groups(self, groups: Iterable[int] | None = None) -> dict[int, dict[str, Any]]:
        import marshal
        import zlib

        if groups is None:
            rows = self.db.execute("SELECT grp, data FROM blockrow").fetchall()
        else:
            wanted = list(groups)
            rows = self.db.execute(f"SELECT grp, data FROM blockrow WHERE grp IN ({', '.join('?' * len(wanted))})",
                                   wanted).fetchall()
        return {grp: marshal.loads(zlib.decompress(data)) for grp, data in rows}

    def _save_groups(self, groups: dict[int, dict[str, Any]]) -> None:
        import marshal
        import zlib

        for grp, rows in groups.items():
            if rows:
                self.db.execute("INSERT OR REPLACE INTO blockrow VALUES (?, ?)",
                                (grp, zlib.compress(marshal.dumps(rows), 6)))
            else:
                self.db.execute("DELETE FROM blockrow WHERE grp = ?", (grp,))

    def _update_rows(self, ids: list[str], changed: set[str] | None = None) -> None:
        """Make the blockrows of `ids` what the tables say now: the beads among them that have one get
        it (the parts read again from the document for those in `changed`, or that had none), and
        the others lose theirs. None for `changed`: make them all from nothing."""
        from gt.beads.contract import BETWEEN_PARTS, blocked_row_text

        touched: dict[int, list[str]] = {}
        for bead_id in ids:
            touched.setdefault(_group(bead_id), []).append(bead_id)
        groups = self._groups(touched) if changed is not None else {}
        members = {i: status for i, status in self._among(f"SELECT id, status FROM node n WHERE {ROW_MEMBER} AND id IN {IN_JSON}", ids)}
        kept = {i: groups.get(_group(i), {}).get(i) for i in members}
        again = [i for i, row in kept.items() if row is None or (changed is not None and i in changed)]
        parts = {i: (row[0], row[1], *BlockedRow.parts_of(row[5], row[6], row[4], row[7]))
                 for i, row in kept.items() if row is not None}
        parts.update(self._render(again))
        blocks = {t for each in parts.values() for t in each[1]}
        open_targets = {i for i, in self._among(f"SELECT id FROM node WHERE status <> 'closed' AND id IN {IN_JSON}",
                                                blocks)}
        parents = {p for each in parts.values() if (p := each[0]) is not None}
        blocked_parents = {i for i, in self._among(
            f"SELECT id FROM node WHERE blocked = 1 AND status <> 'closed' AND id IN {IN_JSON}", parents)}
        dependents = self.blocking_dependents(parts)
        before = {grp: dict(rows) for grp, rows in groups.items()}  # a group that ends the same is not written
        for grp, each in touched.items():
            rows = groups.setdefault(grp, {})
            for bead_id in each:
                rows.pop(bead_id, None)
        for bead_id, status in members.items():
            if bead_id not in parts:
                continue  # a document that cannot be read: `blocked_rows` then gives None
            parent, targets, pre, post = parts[bead_id]
            blockers = tuple(t for t in targets if t in open_targets)
            via = parent if parent in blocked_parents else None
            count = dependents.get(bead_id, 0)
            text = blocked_row_text(pre, post, count, blockers, via, status == "blocked")
            # the parts are kept as where they lie in the text (half the bytes to decompress)
            cut = (len(pre), len(pre) + len(BETWEEN_PARTS % count) + len(post) - 1)
            groups.setdefault(_group(bead_id), {})[bead_id] = (parent, targets, blockers, via, count, *cut, text)
        self._save_groups({grp: rows for grp, rows in groups.items() if rows != before.get(grp, {})})

    def _among(self, sql: str, ids: Iterable[str]) -> list[Any]:
        """The rows of `sql`, whose one parameter (IN_JSON) is this list of ids."""
        import json

        return self.db.execute(sql, (json.dumps(list(ids)),)).fetchall()

    def _ensure_rows(self, again: bool = False) -> bool:
        """Whether the blockrows are there for the view's commit (made now if they were not, or
        made again with `again`)."""
        if self._flag("rows") == "1" and not again:
            return True
        self.db.execute("COMMIT")  # leave the read transaction for a write one
        try:
            with _transaction(self.db):
                version, commit = self._meta()
                if version == VERSION and commit == self.view.commit and (again or self._flag("rows") != "1"):
                    self.db.execute("DELETE FROM blockrow")
                    self._update_rows([i for i, in self.db.execute(f"SELECT id FROM node n WHERE {ROW_MEMBER}")])
                    self.db.execute("INSERT OR REPLACE INTO meta VALUES ('rows', '1')")
            self._shrink_log()
        finally:
            self.db.execute("BEGIN")
        return self._meta()[1] == self.view.commit and self._flag("rows") == "1"

    def blocked_rows(self, texts: bool = False) -> list[Any] | None:
        """Every bead that is blocked or waits for another ledger (not closed), in the default order,
        as a BlockedRow; with `texts`, a bead blocked within this ledger that waits for no other is
        given as its `text` alone (`bd blocked --json` at 100,000 beads prints 15,000 of them). None
        when the rows cannot be had at this commit (another process moved on, or a document cannot
        be read)."""
        import zlib

        for attempt in range(2):
            if not self._ensure_rows(again=attempt > 0):
                return None
            try:
                return self._read_rows(texts)
            except (zlib.error, ValueError, EOFError, TypeError):  # a damaged group: made again, once
                continue
        return None

    def _read_rows(self, texts: bool) -> list[Any] | None:
        rows: dict[str, Any] = {}
        for group in self._groups().values():
            rows.update(group)
        out: list[Any] = []
        make = BlockedRow._make
        for bead_id, status, blocked, external in self.db.execute(
                f"SELECT id, status, blocked, external FROM node n WHERE {ROW_MEMBER} ORDER BY priority, newest, id"):
            found = rows.get(bead_id)
            if found is None:
                return None
            out.append(found[-1] if texts and not external else make((bead_id, status, blocked, external, *found)))
        return out

    def _count(self, status: str, kind: str, delta: int) -> None:
        self.db.execute("INSERT INTO tally VALUES (?, ?, ?) ON CONFLICT (status, type) DO UPDATE SET n = n + ?",
                        (status, kind, delta, delta))

    # -- reading -----------------------------------------------------------------------------------

    def ordered(self, *, statuses: Iterable[str] | None = None, hidden_types: Iterable[str] = (),
                ready_at: float | None = None) -> Iterator[Node]:
        """Beads that are not closed (`statuses`: of these, none closed) in the default order
        (priority, then newest, then id), read lazily: with `ready_at`, only those ready then within
        this ledger (open, not blocked, not deferred past it, not bookkeeping); `external` ones may
        still wait for another ledger's bead."""
        where = ["status <> 'closed'"]  # lets SQLite walk the order index
        args: list[Any] = []
        if statuses is not None:
            wanted = tuple(statuses)
            where.append(f"status IN ({', '.join('?' * len(wanted))})")
            args += list(wanted)
        types = tuple(hidden_types) + (tuple(BOOKKEEPING_TYPES) if ready_at is not None else ())
        if types:
            where.append(f"type NOT IN ({', '.join('?' * len(types))})")
            args += list(types)
        if ready_at is not None:
            where.append("status = 'open' AND blocked = 0 AND (defer IS NULL OR defer <= ?)")
            args.append(ready_at)
        sql = f"SELECT * FROM node WHERE {' AND '.join(where)} ORDER BY priority, newest, id"
        for row in self.db.execute(sql, args):
            yield Node.from_row(row)

    def count(self, hidden_types: Iterable[str] = ()) -> int:
        """Beads that are not tombstones (closed ones too), without `hidden_types`."""
        hidden = tuple(hidden_types)
        sql = "SELECT COALESCE(SUM(n), 0) FROM tally"
        if hidden:
            sql += f" WHERE type NOT IN ({', '.join('?' * len(hidden))})"
        return int(self.db.execute(sql, hidden).fetchone()[0])

    def tally(self) -> dict[tuple[str, str], int]:
        return {(s, t): n for s, t, n in self.db.execute("SELECT status, type, n FROM tally WHERE n > 0")}

    def ids(self, types: Iterable[str] | None = None, statuses: Iterable[str] | None = None) -> list[str]:
        """The beads (tombstones aside) of these types and statuses (None: any), by id."""
        where, args = [], []
        for column, wanted in (("type", types), ("status", statuses)):
            if wanted is not None:
                values = list(wanted)
                where.append(f"{column} IN ({', '.join('?' * len(values))})")
                args += values
        sql = "SELECT id FROM node" + (f" WHERE {' AND '.join(where)}" if where else "") + " ORDER BY id"
        return [i for i, in self.db.execute(sql, args)]

    def blocking_dependents(self, ids: Iterable[str]) -> dict[str, int]:
        """How many beads each of `ids` blocks through a `blocks` dependency (dependent_count)."""
        return dict(self._among(
            f"SELECT target, COUNT(*) FROM edge WHERE type = '{BLOCKING}' AND target IN {IN_JSON} GROUP BY target",
            dict.fromkeys(ids)))

    def dependents(self, bead_id: str, types: Iterable[str] | None = None) -> list[tuple[str, str]]:
        """(source, type) of the beads that depend on `bead_id`, by source id."""
        rows = self.db.execute("SELECT source, type FROM edge WHERE target = ? ORDER BY source, type", (bead_id,))
        wanted = set(types) if types is not None else None
        return [(s, t) for s, t in rows if wanted is None or t in wanted]

    def blocked(self) -> list[str]:
        """Ids of beads blocked within this ledger (not closed), in the default order (for tests)."""
        return [i for i, in self.db.execute(
            "SELECT id FROM node WHERE blocked = 1 AND status <> 'closed' ORDER BY priority, newest, id")]

    def nodes(self) -> dict[str, Node]:
        """Every node (for checks and tests: reads use the queries above)."""
        return {r[0]: Node.from_row(r) for r in self.db.execute("SELECT * FROM node")}

    def edges(self) -> set[tuple[str, str, str]]:
        return set(self.db.execute("SELECT source, target, type FROM edge"))


def derived_of(view: View) -> Derived | None:
    """The derived tables at `view`'s commit, or None when they cannot be had (a read-only disk, a
    database busy past its timeout): the caller then reads every summary, as before."""
    import sqlite3

    if view.commit is None:
        return None
    try:
        return Derived.of(view)
    except (sqlite3.Error, OSError):
        return None


def follow_write(view: View, parent: str | None, commit: str, changed: Iterable[str]) -> None:
    """After this process wrote `commit` on `parent`, changing these beads: bring the derived tables
    along, if they are at `parent` (and `view` is still at `commit`), so that the next read finds
    them current (a write knows what it changed: no tree diff, and no import of the git library for
    one). Tables elsewhere, or none, are left to the next reader; nothing here can fail the write."""
    import sqlite3

    path = _path(view)
    if view.commit != commit or parent is None or not os.path.exists(path):
        return
    try:
        db = _OPEN.get(path)
        if db is None:
            db = _OPEN[path] = _connect(path)
        Derived(db, view, path)._bring_up_to_date((parent, list(dict.fromkeys(changed))))
    except (sqlite3.Error, OSError):
        forget(path)


def _path(view: View) -> str:
    """The derived tables' file of the view's ledger."""
    ledger = view.ledger
    return os.path.join(ledger.index.root, "derived", ledger.ref.replace("/", "%") + ".sqlite")


class Links(Mapping[str, Mapping[str, Any]]):
    """The live beads as the checks that follow edges read them (a cycle search, a close's blockers
    and children): each bead's status and dependencies, from the derived tables, so that following
    an edge costs one indexed lookup instead of decoding the shard of summaries it lands in.
    Iterating it lists every bead."""

    def __init__(self, derived: Derived) -> None:
        self.derived = derived
        self._found: dict[str, Mapping[str, Any]] = {}

    def __getitem__(self, bead_id: str) -> Mapping[str, Any]:
        found = self._found.get(bead_id)
        if found is None:
            db = self.derived.db
            row = db.execute("SELECT status FROM node WHERE id = ?", (bead_id,)).fetchone()
            if row is None:
                raise KeyError(bead_id)
            deps = [{"type": t, "target": target} for target, t in
                    db.execute("SELECT target, type FROM edge WHERE source = ?", (bead_id,))]
            found = self._found[bead_id] = {"id": bead_id, "status": row[0], "dependencies": deps}
        return found

    def __iter__(self) -> Iterator[str]:
        return iter([i for i, in self.derived.db.execute("SELECT id FROM node")])

    def __len__(self) -> int:
        return int(self.derived.db.execute("SELECT COUNT(*) FROM node").fetchone()[0])


def links_of(view: View) -> Mapping[str, Mapping[str, Any]]:
    """`Links` of the view's ledger, or (no derived tables) a Lookup of its summaries."""
    derived = derived_of(view)
    if derived is not None:
        return Links(derived)
    from gt.beads.tracker import Lookup

    return Lookup(view)


def dependents_of(view: View, bead_id: str, types: Iterable[str] | None = None) -> list[tuple[str, str]]:
    """(source, type) of the live beads that depend on `bead_id` (through one of `types`; None: any),
    by source then type: from the reverse index, else (no derived tables) from every summary."""
    derived = derived_of(view)
    if derived is not None:
        return derived.dependents(bead_id, types)
    from gt.beads.tracker import BEADS
    from gt.model.bead import is_deleted

    wanted = set(types) if types is not None else None
    return sorted({(source, kind) for source, summary in view.summaries(BEADS).items() if not is_deleted(summary)
                   for target, kind in _edges(summary) if target == bead_id and (wanted is None or kind in wanted)})


class _Present(Mapping[str, Any]):
    """`target in present` for `_direct_external`: whether this ledger holds the bead (a tombstone counts)."""

    def __init__(self, derived: Derived, summary: Any) -> None:
        self.derived, self.summary = derived, summary

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and (self.summary(key) is not None or self.derived._has_tombstone(key))

    def __getitem__(self, key: str) -> Any:
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


_OPEN: dict[str, "sqlite3.Connection"] = {}  # one connection per file and process (the Deacon reads often)


def forget(path: str | None = None) -> None:
    """Close this process's connection to `path` (default: all of them)."""
    for key in [path] if path is not None else list(_OPEN):
        db = _OPEN.pop(key, None)
        if db is not None:
            db.close()


def _connect(path: str) -> sqlite3.Connection:
    import sqlite3

    db = sqlite3.connect(path, timeout=BUSY_SECONDS, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = NORMAL")  # a cache: a power cut may lose the last update, never corrupt it
    db.execute(f"PRAGMA journal_size_limit = {KEPT_LOG_BYTES}")  # the log shrinks back on the next write
    db.executescript(SCHEMA + ";\n".join(SCHEMA_INDEXES) + ";\n")
    return db


class _transaction:
    """BEGIN IMMEDIATE … COMMIT (ROLLBACK on any error): one writer at a time, all or nothing."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind: object, *rest: object) -> None:
        self.db.execute("ROLLBACK" if kind is not None else "COMMIT")

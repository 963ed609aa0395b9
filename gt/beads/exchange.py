"""`bd export` and `bd import`: JSON Lines in the original beads format; one commit per import, which
takes every good line and reports each refused one."""
from __future__ import annotations

import json
import marshal
from dataclasses import dataclass, field
from typing import IO, Any, Iterable, Iterator, Mapping

from gt.errors import GtError
from gt.ledger.index import pack_doc
from gt.ledger.store import Bulk, Change, Directory, Signature, View, check_doc_key, require_writable
from gt.ledger.yamlio import YamlError
from gt.model.bead import canonical, problems
from gt.model.ids import check_id, is_id
from gt.model.jsonl import MAX_LINE, from_record, load_line, to_record
from gt.model.merge import stamp_edit, strip_stamps
from gt.beads.tracker import BEADS, Edit, Tracker


def export(view: View, out: IO[str], include_deleted: bool = True) -> int:
    """Write every bead as one JSON line, sorted by id; returns how many."""
    docs = sorted(view.docs(BEADS), key=lambda d: d["id"])
    count = 0
    for doc in docs:
        if not include_deleted and doc.get("status") == "tombstone":
            continue
        out.write(json.dumps(to_record(strip_stamps(doc)), ensure_ascii=False, separators=(",", ":")) + "\n")
        count += 1
    return count


def export_file(view: View, path: str) -> int:
    """`export` into a file, replaced atomically (a reader never sees half of it); the bead count."""
    import io

    from gt.ledger.index import write_atomic

    buffer = io.StringIO()
    count = export(view, buffer)
    write_atomic(path, buffer.getvalue().encode("utf-8"), make_dirs=False)
    return count


def read_lines(stream: IO[bytes]) -> Iterator[bytes]:
    """The lines of a JSON Lines file, without reading more than one bead's worth at a time: a line
    longer than MAX_LINE comes back cut at MAX_LINE + 1 bytes (read_records refuses it)."""
    while True:
        line = stream.readline(MAX_LINE + 1)
        if not line:
            return
        yield line


MAX_REASON = 500  # characters of a refusal's reason (it may quote the bad value)


@dataclass
class Refusal:
    """A line of an import that was not taken: its number, why, and the record's id when it had a valid one."""

    line: int
    reason: str
    id: str | None = None

    def text(self, source: str) -> str:
        """One line: `<source>:<line>: [<id>: ]<reason>`."""
        where = f"{source}:{self.line}: " + (f"{self.id}: " if self.id else "")
        return where + self.reason.replace("\r", "\\r").replace("\n", "\\n")

    def as_json(self) -> dict[str, Any]:
        return {"line": self.line, **({"id": self.id} if self.id else {}), "reason": self.reason}


@dataclass
class Records:
    """What an import file holds: the beads to import, by id in the order they first appear (a later
    line for the same id wins, as in the original), each kept as the marshal bytes of its canonical
    document (`pack_doc`: 100,000 decoded documents would take several times the memory), and the
    lines refused."""

    beads: dict[str, bytes] = field(default_factory=dict)
    refused: list[Refusal] = field(default_factory=list)

    @property
    def docs(self) -> list[dict[str, Any]]:
        """The documents to import, decoded (canonical: as they would be written)."""
        return [marshal.loads(data) for data in self.beads.values()]


def read_records(lines: Iterable[bytes], source: str, strict: bool = False) -> Records:
    """Parse JSON Lines (UTF-8) into bead documents. A bad line is refused with its number and the
    reason, and the others are kept; with `strict`, the first bad line refuses the whole file
    (GtError, code bad_input)."""
    beads: dict[str, bytes] = {}
    refused: list[Refusal] = []
    for number, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        record: Any = None
        try:
            if len(raw) > MAX_LINE:
                raise ValueError(f"the line is longer than {MAX_LINE // (1024 * 1024)} MiB")
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise ValueError(f"not UTF-8 text (byte {raw[exc.start]:#04x} at column {exc.start + 1})") from None
            record = load_line(line)
            doc = from_record(record)
            check_id(doc["id"])
            check_doc_key(doc["id"])
            found = problems(doc, doc["id"])
            if found:
                raise ValueError("; ".join(found))
        except (ValueError, GtError) as exc:
            bead_id = record.get("id") if isinstance(record, dict) and is_id(record.get("id")) else None
            reason = str(exc) if len(str(exc)) <= MAX_REASON else str(exc)[:MAX_REASON] + " …"
            refusal = Refusal(number, reason, bead_id)
            if strict:
                raise GtError(refusal.text(source), code="bad_input") from None
            refused.append(refusal)
            continue
        beads[doc["id"]] = pack_doc(canonical(doc))  # a later line for the same id wins, as in the original
    return Records(beads, refused)


def import_docs(tracker: Tracker, actor: Signature, docs: Mapping[str, bytes] | Iterable[dict[str, Any]],
                source: str, refused: int = 0) -> Edit:
    """Create or update beads by id in one commit; unchanged beads are not rewritten. `docs` are bead
    documents, or Records.beads (by id, each its pack_doc bytes); a later one for the same id wins.
    `refused` (lines of the file that were not taken) is named in the commit.

    The documents are compared, stamped, written and indexed one fan-out directory at a time (a
    Bulk change), so an import holds one directory's worth of decoded documents at once. The Edit
    returned has the result and the commit, and no documents."""
    from gt import progress

    if isinstance(docs, Mapping):
        beads: Mapping[str, bytes] = docs
    else:
        beads = {}
        for doc in docs:
            beads[doc["id"]] = pack_doc(canonical(doc))
    require_writable()
    tracker.require()
    outcome: dict[str, Edit] = {}

    def transaction(view: View) -> Change:
        found = Tracker.writable_format(view)
        counts = {"created": 0, "updated": 0, "unchanged": 0}
        changed: set[str] = set()
        seen = 0

        def documents(fan: str, keys: list[str], before: Directory) -> Iterator[tuple[str, dict[str, Any]]]:
            nonlocal seen
            for bead_id in keys:
                seen += 1
                progress.report(f"importing {seen}/{len(beads)} beads …")
                doc = marshal.loads(beads[bead_id])
                old = None
                if before.entry(bead_id) is not None:
                    try:
                        old = before.doc(bead_id)
                        same = strip_stamps(old or {}) == doc
                    except YamlError:
                        old, same = None, False  # an unreadable file is replaced by the imported bead
                    if same:
                        counts["unchanged"] += 1
                        continue
                    counts["updated"] += 1
                else:
                    counts["created"] += 1
                changed.add(bead_id)
                yield bead_id, stamp_edit(old, doc, actor.name)

        def finish(change: Change) -> None:
            subject = f"import {counts['created']} new, {counts['updated']} updated beads from {source}"
            trailers = [("Refused-Lines", str(refused))] if refused else []
            change.subject = subject
            change.trailers = Tracker.trailers((i for i in beads if i in changed), "import", actor, trailers)
            outcome["edit"] = Edit("import", subject, {}, trailers, result={**counts, "source": source})

        return Change("import", config=Tracker.migrated(view, found, None), bulk=Bulk(BEADS, beads, documents, finish))

    commit = tracker.ledger.transact(transaction, actor)
    edit = outcome["edit"]
    edit.commit = commit
    return edit


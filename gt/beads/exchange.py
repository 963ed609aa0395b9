"""`bd export` and `bd import`: JSON Lines in the original beads format; one commit per import, which
takes every good line and reports each refused one."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import IO, Any, Iterable, Iterator

from gt.errors import GtError
from gt.ledger.store import Signature, View, check_doc_key
from gt.ledger.yamlio import YamlError
from gt.model.bead import canonical, problems
from gt.model.ids import check_id, is_id
from gt.model.jsonl import MAX_LINE, from_record, load_line, to_record
from gt.model.merge import strip_stamps
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
    """What an import file holds: the documents to import (a later line for the same id wins, as in
    the original) and the lines refused."""

    docs: list[dict[str, Any]] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)


def read_records(lines: Iterable[bytes], source: str, strict: bool = False) -> Records:
    """Parse JSON Lines (UTF-8) into bead documents. A bad line is refused with its number and the
    reason, and the others are kept; with `strict`, the first bad line refuses the whole file
    (GtError, code bad_input)."""
    docs: dict[str, dict[str, Any]] = {}
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
        docs[doc["id"]] = doc  # a later line for the same id wins, as in the original
    return Records(list(docs.values()), refused)


def import_docs(tracker: Tracker, actor: Signature, docs: list[dict[str, Any]], source: str,
                refused: int = 0) -> Edit:
    """Create or update beads by id in one commit; unchanged beads are not rewritten. `refused`
    (lines of the file that were not taken) is named in the commit."""

    for number, doc in enumerate(docs):  # once, in place: a retried build must not hold a second copy
        docs[number] = canonical(doc)

    def build(view: View) -> Edit:
        from gt import progress

        created, updated, unchanged = [], [], []
        changed: dict[str, dict[str, Any] | None] = {}
        for number, doc in enumerate(docs, 1):
            progress.report(f"importing {number}/{len(docs)} beads …")
            bead_id = doc["id"]
            if view.entry(BEADS, bead_id) is not None:
                try:
                    same = strip_stamps(view.doc(BEADS, bead_id) or {}) == doc
                except YamlError:
                    same = False  # an unreadable file is replaced by the imported bead
                if same:
                    unchanged.append(bead_id)
                    continue
                updated.append(bead_id)
            else:
                created.append(bead_id)
            changed[bead_id] = doc
        result = {"created": len(created), "updated": len(updated), "unchanged": len(unchanged), "source": source}
        subject = f"import {len(created)} new, {len(updated)} updated beads from {source}"
        trailers = [("Refused-Lines", str(refused))] if refused else []
        return Edit("import", subject, changed, trailers, result=result)

    edit = tracker.write(actor, build)
    return edit

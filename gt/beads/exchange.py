"""`bd export` and `bd import`: JSON Lines in the original beads format; one commit per import."""
from __future__ import annotations

import json
from typing import IO, Any, Iterable, Iterator

from gt.errors import GtError
from gt.ledger.store import Signature, View, check_key
from gt.ledger.yamlio import YamlError
from gt.model.bead import canonical, problems
from gt.model.ids import check_id
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


def read_records(lines: Iterable[bytes], source: str) -> list[dict[str, Any]]:
    """Parse JSON Lines (UTF-8) into bead documents; the first bad line refuses the whole file."""
    docs: dict[str, dict[str, Any]] = {}
    for number, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        try:
            if len(raw) > MAX_LINE:
                raise ValueError(f"the line is longer than {MAX_LINE // (1024 * 1024)} MiB")
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise ValueError(f"not UTF-8 text (byte {raw[exc.start]:#04x} at column {exc.start + 1})") from None
            doc = from_record(load_line(line))
            check_id(doc["id"])
            check_key(doc["id"])
            found = problems(doc, doc["id"])
            if found:
                raise ValueError(f"{doc['id']}: {'; '.join(found)}")
        except (ValueError, GtError) as exc:
            raise GtError(f"{source}:{number}: {exc}", code="bad_input") from None
        docs[doc["id"]] = doc  # a later line for the same id wins, as in the original
    return list(docs.values())


def import_docs(tracker: Tracker, actor: Signature, docs: list[dict[str, Any]], source: str) -> Edit:
    """Create or update beads by id in one commit; unchanged beads are not rewritten."""

    def build(view: View) -> Edit:
        from gt import progress

        created, updated, unchanged = [], [], []
        changed: dict[str, dict[str, Any] | None] = {}
        for number, doc in enumerate(docs, 1):
            progress.report(f"importing {number}/{len(docs)} beads …")
            doc = canonical(doc)
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
        return Edit("import", subject, changed, result=result)

    edit = tracker.write(actor, build)
    return edit

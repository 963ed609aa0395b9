"""Conversion to and from the original beads JSON Lines records (`issues.jsonl`).

beads -> ours: `issue_type` becomes `type`; embedded dependencies `{issue_id, depends_on_id, type}`
become `{type, target}` (other keys kept); comment ids stay the original integers (as text), and ours
are random 60-bit integers, so both fit the original's int64 and round-trip exactly; unknown keys go
to `metadata`.
"""
from __future__ import annotations

import hashlib
import json
from typing import Any

from gt.model.bead import FIELD_ORDER, canonical

RENAMED = {"issue_type": "type"}
DIRECT = frozenset(FIELD_ORDER) - {"type", "dependencies", "comments", "metadata", "stamps"}


def comment_id(bead_id: str, original: Any) -> str:
    """Our id for an imported comment: the original integer as text, else one derived from it."""
    if isinstance(original, int) or (isinstance(original, str) and original.isdigit()):
        return str(int(original))
    return str(int(hashlib.sha1(f"{bead_id}#{original}".encode()).hexdigest()[:15], 16))


def export_comment_id(comment_id: Any) -> int:
    """The original format's comment ids are 64-bit integers."""
    text = str(comment_id)
    return int(text) if text.isdigit() else int(hashlib.sha1(text.encode()).hexdigest()[:15], 16)


def from_record(record: dict[str, Any]) -> dict[str, Any]:
    """One beads record as our bead document. Raises ValueError when it has no usable id or title."""
    bead_id = record.get("id")
    if not isinstance(bead_id, str) or not bead_id:
        raise ValueError("record has no id")
    doc: dict[str, Any] = {}
    metadata: dict[str, Any] = {}
    for key, value in record.items():
        if value is None:
            continue
        if key in DIRECT:
            doc[key] = value
        elif key in RENAMED:
            doc[RENAMED[key]] = value
        elif key == "dependencies":
            doc["dependencies"] = [_dep_from(d) for d in value if isinstance(d, dict) and d.get("depends_on_id")]
        elif key == "comments":
            doc["comments"] = [_comment_from(bead_id, c) for c in value if isinstance(c, dict)]
        elif key == "metadata":
            metadata.update(_as_mapping(value))
        else:
            metadata[key] = value
    if metadata:
        doc["metadata"] = metadata
    if not isinstance(doc.get("title"), str):
        raise ValueError(f"{bead_id}: record has no title")
    doc.setdefault("status", "open")
    doc.setdefault("type", "task")
    doc.setdefault("priority", 2)
    return canonical(doc)


def _as_mapping(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError:
            return {"metadata": value}
        return parsed if isinstance(parsed, dict) else {"metadata": parsed}
    return {"metadata": value}


def _dep_from(dep: dict[str, Any]) -> dict[str, Any]:
    out = {"type": dep.get("type") or "blocks", "target": dep["depends_on_id"]}
    for key, value in dep.items():
        if key not in ("issue_id", "depends_on_id", "type") and value is not None:
            out[key] = value
    return out


def _comment_from(bead_id: str, comment: dict[str, Any]) -> dict[str, Any]:
    original = comment.get("id")
    out = {
        "id": comment_id(bead_id, original),
        "author": comment.get("author", ""),
        "created_at": comment.get("created_at", ""),
        "text": comment.get("text", ""),
    }
    for key, value in comment.items():
        if key not in ("id", "issue_id", "author", "created_at", "text") and value is not None:
            out[key] = value
    return {k: v for k, v in out.items() if v != ""}


def to_record(doc: dict[str, Any]) -> dict[str, Any]:
    """Our bead document as a beads record."""
    bead_id = doc["id"]
    record: dict[str, Any] = {}
    for key, value in doc.items():
        if key == "type":
            record["issue_type"] = value
        elif key == "dependencies":
            record["dependencies"] = [
                {"issue_id": bead_id, "depends_on_id": d["target"], "type": d["type"],
                 **{k: v for k, v in d.items() if k not in ("target", "type")}}
                for d in value
            ]
        elif key == "comments":
            record["comments"] = [{"id": export_comment_id(c.get("id")), "issue_id": bead_id,
                                   **{k: v for k, v in c.items() if k != "id"}} for c in value]
        else:
            record[key] = value
    return record

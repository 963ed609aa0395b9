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
TEXT_KEYS = ("id", "title", "issue_type", "status", "assignee", "description", "design", "acceptance_criteria",
             "notes", "created_at", "created_by", "updated_at", "closed_at", "close_reason", "deleted_at",
             "deleted_by", "delete_reason", "external_ref", "due_at", "defer_until")
LIST_KEYS = ("labels", "dependencies", "comments")
# One record becomes one ledger file, which must stay within what gt.ledger.yamlio reads (32 MiB,
# nesting 100, 100,000 values): the YAML of a line can be half as long again (indented text).
MAX_DEPTH = 32  # nesting of objects and arrays in one record
MAX_LINE = 16 * 1024 * 1024  # bytes in one line (a 10 MB description fits)
MAX_VALUES = 50_000  # values (strings, numbers, arrays, objects…) in one record
JSON_TYPES = {dict: "an object", list: "an array", str: "a string", int: "a number", float: "a number",
              bool: "a boolean", type(None): "null"}


def load_line(line: str) -> dict[str, Any]:
    """One JSON Lines record, parsed; ValueError says what is wrong with it."""
    if line.startswith("\ufeff"):
        raise ValueError("the line starts with a byte order mark (BOM): save the file as UTF-8 without BOM")
    try:
        record = json.loads(line)
    except RecursionError:
        raise ValueError(f"nested more than {MAX_DEPTH} levels deep") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"invalid JSON: {exc.msg} (column {exc.pos + 1})") from None
    except ValueError as exc:  # e.g. an integer of thousands of digits
        raise ValueError(f"invalid JSON: {str(exc).split(';')[0]}") from None
    if not isinstance(record, dict):
        raise ValueError(f"a record must be a JSON object, not {JSON_TYPES.get(type(record), 'that')}")
    if _depth(record) > MAX_DEPTH:
        raise ValueError(f"nested more than {MAX_DEPTH} levels deep")
    return record


def _depth(value: Any) -> int:
    """How deeply lists and dicts nest in `value` (without recursion). ValueError for more than
    MAX_VALUES values, or a string holding a lone surrogate (a `\\udXXX` escape JSON allows and
    UTF-8 cannot encode)."""
    deepest, values = 0, 1
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            _check_strings(item.keys())
            item = list(item.values())
        elif not isinstance(item, list):
            continue
        _check_strings(item)
        values += len(item)
        if values > MAX_VALUES:
            raise ValueError(f"more than {MAX_VALUES:,} values in one record")
        deepest = max(deepest, depth)
        if depth <= MAX_DEPTH:
            stack.extend((child, depth + 1) for child in item if isinstance(child, (dict, list)))
    return deepest


def _check_strings(values: Any) -> None:
    for text in values:
        if isinstance(text, str) and not text.isascii():
            try:
                text.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise ValueError(f"a string holds an unpaired surrogate escape "
                                 f"(\\u{ord(text[exc.start]):04x}): not valid Unicode text") from None


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
    if bead_id is None or bead_id == "":
        raise ValueError("record has no id")
    for key in TEXT_KEYS:
        if record.get(key) is not None and not isinstance(record[key], str):
            raise ValueError(f"{key} must be a string, not {JSON_TYPES.get(type(record[key]), 'that')}")
    for key in LIST_KEYS:
        if record.get(key) is not None and not isinstance(record[key], list):
            raise ValueError(f"{key} must be an array, not {JSON_TYPES.get(type(record[key]), 'that')}")
    estimate = record.get("estimated_minutes")
    if estimate is not None and (type(estimate) is not int or estimate < 0):
        raise ValueError(f"estimated_minutes must be a whole number of minutes, not {estimate!r}")
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
        raise ValueError("record has no title")
    for comment in doc.get("comments") or ():
        for key in ("author", "created_at", "text"):
            if key in comment and not isinstance(comment[key], str):
                raise ValueError(f"comment {key} must be a string")
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
        except (ValueError, RecursionError):
            return {"metadata": value}
        if _depth(parsed) > MAX_DEPTH:
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

"""The bead: fields, vocabularies, validation and the canonical YAML document shape."""
from __future__ import annotations

import re
from datetime import date, datetime, timezone
from typing import TYPE_CHECKING, Any

from gt.patterns import lazy
from gt.errors import GtError, UsageError

if TYPE_CHECKING:
    from collections.abc import Mapping

STATUSES = ("open", "in_progress", "blocked", "deferred", "queued", "hooked", "pinned", "closed")
QUEUED = "queued"  # slung at a rig at its cap: waits on the ledger for a slot (gt.dispatch.queue)
TOMBSTONE = "tombstone"  # a deleted bead: kept so that sync cannot resurrect it
TYPES = (
    "bug", "feature", "task", "epic", "chore", "message", "convoy",
    "merge-request", "agent", "molecule", "gate", "escalation",
)
BOOKKEEPING_TYPES = frozenset({"message", "convoy", "merge-request", "agent", "molecule", "gate", "escalation"})
# What `bd list` and `bd count` leave out unless asked (--include-infra, --type), as the original does;
# the ledger setting `types.infra` replaces the set.
INFRA_TYPES = ("agent", "rig", "role", "message", "merge-request", "escalation", "convoy")
# The dependency types commands accept: the original beads' named types. Only `blocks` and
# `parent-child` order work (gt.model.graph); the others are links that never block. The original's
# two other ordering types are refused: `bd ready` does not implement their gates (see check_dep_type).
DEP_TYPES = (
    "blocks", "parent-child", "related", "discovered-from", "tracks", "replies-to", "relates-to",
    "duplicates", "supersedes", "authored-by", "assigned-to", "approved-by", "attests", "until",
    "caused-by", "validates", "delegated-from",
)
UNSUPPORTED_DEP_TYPES = ("conditional-blocks", "waits-for")  # the original's gates on ready work
BLOCKING = "blocks"
PARENT = "parent-child"
PRIORITIES = range(0, 5)
DEFAULT_PRIORITY = 2
MAX_TITLE = 500

# The order keys are written in; unknown keys follow in the order they came.
FIELD_ORDER = (
    "id", "title", "type", "status", "priority", "assignee", "labels",
    "description", "design", "acceptance_criteria", "notes",
    "dependencies", "comments",
    "created_at", "created_by", "updated_at", "closed_at", "close_reason",
    "deleted_at", "deleted_by", "delete_reason",
    "external_ref", "estimated_minutes", "due_at", "defer_until", "metadata", "stamps",
)
TEXT_FIELDS = ("description", "design", "acceptance_criteria", "notes")
# A `gt-script` block in a description (what the scripted agent and the stand-in model play): fenced
# with backticks or tildes; group 2 is its YAML.
SCRIPT_BLOCK = lazy(__name__, "SCRIPT_BLOCK", r"(```|~~~)gt-script[ \t]*\n(.*?)\1", re.S)
# Fields left out of the read index's summaries: long texts, read only by `show`, `search`, `export`.
HEAVY_FIELDS = ("description", "design", "acceptance_criteria", "notes", "comments", "metadata")


SUMMARY_VERSION = "s7"  # bump when summarize() changes: cached summaries are keyed by it


SUMMARY_FIELDS = ("id", "title", "type", "status", "priority", "assignee", "labels", "dependencies",
                  "defer_until", "deleted_at", "mail")


def summarize(key: str, doc: dict[str, Any]) -> dict[str, Any]:
    """What list, ready and blocked need of a bead (no long texts), plus epoch times to sort on.

    Raises ValueError for a document that breaks the schema, so reads skip it and name the file.
    """
    found = problems(doc, key)
    if found:
        raise ValueError("; ".join(found))
    summary = {k: doc[k] for k in SUMMARY_FIELDS if k in doc}
    summary["_created"] = parse_time(doc.get("created_at")) or 0.0
    summary["_updated"] = parse_time(doc.get("updated_at")) or 0.0
    for key, field in (("_defer", "defer_until"), ("_closed", "closed_at"), ("_due", "due_at")):
        if doc.get(field):
            summary[key] = parse_time(doc[field])
    return summary


def now_iso() -> str:
    """The current time as an ISO 8601 UTC string with microseconds."""
    return datetime.now(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


def parse_time(value: Any) -> float | None:
    """Epoch seconds of an ISO 8601 date or timestamp (any zone); None when absent or unparseable."""
    if value is None or value == "":
        return None
    text = str(value).strip()
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        try:
            moment = datetime.combine(date.fromisoformat(text[:10]), datetime.min.time())
        except ValueError:
            return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


RELATIVE_TIME = lazy(__name__, "RELATIVE_TIME", r"^([+-]?)([0-9]{1,4})([hdw])$")  # the original's +6h, +2d, +1w (up to 9999)
TIME_UNITS = {"h": 3600, "d": 86400, "w": 7 * 86400}


def iso_utc(epoch: float, timespec: str = "seconds") -> str:
    """A moment as UTC ISO 8601 (`…Z`); `?` for a commit time no calendar holds (a hostile commit's)."""
    try:
        return datetime.fromtimestamp(epoch, timezone.utc).isoformat(timespec=timespec).replace("+00:00", "Z")
    except (ValueError, OverflowError, OSError):
        return "?"


def normalize_time(value: str, what: str, now: datetime | None = None) -> str:
    """A date or timestamp from the user, as given; `+6h`, `+2d`, `+1w` (`-` for the past), `today`
    and `tomorrow` become a UTC timestamp from now. Anything else unparseable is refused."""
    text = value.strip().lower()
    relative = RELATIVE_TIME.match(text)
    if relative or text in ("today", "tomorrow"):
        moment = now or datetime.now(timezone.utc)
        seconds = 86400 if text == "tomorrow" else 0
        if relative:
            seconds = int(relative.group(2)) * TIME_UNITS[relative.group(3)] * (-1 if relative.group(1) == "-" else 1)
        return datetime.fromtimestamp(moment.timestamp() + seconds, timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
    if not _whole_time(value.strip()):
        shown = repr(value) if len(value) <= 60 else repr(value[:60]) + " …"
        raise UsageError(f"invalid {what} {shown}: use YYYY-MM-DD, an ISO 8601 timestamp, +6h, +2d, +1w, "
                         "today or tomorrow")
    return value.strip()


def _whole_time(text: str) -> bool:
    """The whole text is an ISO 8601 date or timestamp (parse_time, lenient for stored values, reads
    only the date of `2026-01-01; junk`)."""
    try:
        datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        return True
    except ValueError:
        pass
    try:
        date.fromisoformat(text)
        return True
    except ValueError:
        return False


def parse_priority(value: Any) -> int:
    """0-4, or P0-P4; anything else is a usage error."""
    text = str(value).strip().upper()
    if text.startswith("P"):
        text = text[1:]
    if text.isdigit() and int(text) in PRIORITIES:
        return int(text)
    raise UsageError(f"invalid priority {value!r}: use 0-4 (0 is the highest) or P0-P4")


def check_status(value: str) -> str:
    if value not in STATUSES:
        raise UsageError(f"invalid status {value!r}: use one of {', '.join(STATUSES)}")
    return value


def check_type(value: str, extra_types: tuple[str, ...] = ()) -> str:
    if value not in TYPES and value not in extra_types:
        allowed = ", ".join(TYPES + tuple(extra_types))
        raise UsageError(f"invalid type {value!r}: use one of {allowed} (or add it to the ledger's `types`)")
    return value


def check_dep_type(value: str) -> str:
    if value in UNSUPPORTED_DEP_TYPES:
        raise UsageError(f"dependency type {value!r} is not supported: `bd ready` does not implement its gate "
                         "(use blocks, which holds a bead back until its blocker closes)")
    if value not in DEP_TYPES:
        raise UsageError(f"invalid dependency type {value!r}: use one of {', '.join(DEP_TYPES)}")
    return value


def check_title(value: str) -> str:
    title = value.strip()
    if not title:
        raise UsageError("a bead needs a title")
    if "\n" in title or "\r" in title:
        raise UsageError("a title is one line: put longer text in the description")
    if any(ord(c) < 32 or c == "\x7f" for c in title):
        raise UsageError("a title cannot contain control characters")
    if len(title) > MAX_TITLE:
        raise UsageError(f"title too long ({len(title)} characters; at most {MAX_TITLE})")
    return title


def check_text(value: str, what: str) -> str:
    if "\x00" in value:
        raise UsageError(f"{what} contains a NUL character")
    return value


def canonical(doc: dict[str, Any]) -> dict[str, Any]:
    """The document as written: fields in FIELD_ORDER, empty optional fields left out (0 is kept)."""
    out: dict[str, Any] = {}
    for key in FIELD_ORDER:
        if key in doc and not _is_empty(doc[key]):
            out[key] = doc[key]
    for key, value in doc.items():
        if key not in out and key not in FIELD_ORDER and not _is_empty(value):
            out[key] = value
    return out


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def new_bead(
    bead_id: str, title: str, *, actor: str, now: str, type: str = "task",
    priority: int = DEFAULT_PRIORITY, **fields: Any,
) -> dict[str, Any]:
    return canonical({
        "id": bead_id, "title": title, "type": type, "status": "open", "priority": priority,
        "created_at": now, "created_by": actor, "updated_at": now, **fields,
    })


def is_closed(doc: Mapping[str, Any]) -> bool:
    return doc.get("status") == "closed"


def is_deleted(doc: Mapping[str, Any]) -> bool:
    return doc.get("status") == TOMBSTONE


def parent_of(doc: Mapping[str, Any]) -> str | None:
    for dep in doc.get("dependencies") or ():
        if dep.get("type") == PARENT:
            target = dep.get("target")
            return target if isinstance(target, str) else None
    return None


ATTEMPTS = "attempts"  # the retry breaker's count on a bead (gt.dispatch.attempts)
RETRY_AFTER = "retry_after"  # and when the next attempt may start
BREAKER_AT = "breaker_at"  # when the breaker stopped it (its escalation is about that moment)


def reset_attempts(doc: dict[str, Any]) -> bool:
    """Start the retry breaker's count again (`gt sling --force`, `bd update --status open`); whether
    there was one."""
    had = ATTEMPTS in doc or RETRY_AFTER in doc
    doc.pop(ATTEMPTS, None)
    doc.pop(RETRY_AFTER, None)
    doc.pop(BREAKER_AT, None)
    return had


def set_status(doc: dict[str, Any], status: str, now: str, reason: str | None = None) -> None:
    """Change status keeping `closed_at` set exactly when the bead is closed."""
    doc["status"] = status
    if status == "closed":
        doc["closed_at"] = now
        if reason:
            doc["close_reason"] = reason
    else:
        doc.pop("closed_at", None)
        doc.pop("close_reason", None)


def require_live(doc: dict[str, Any] | None, bead_id: str) -> dict[str, Any]:
    if doc is None:
        raise GtError(f"no bead {bead_id}", code="not_found")
    if is_deleted(doc):
        raise GtError(f"{bead_id} was deleted", code="deleted")
    return doc


def problems(doc: Any, key: str) -> list[str]:
    """What is wrong with a bead file whose name says it is `key` (empty when it is well formed)."""
    if not isinstance(doc, dict):
        return ["not a mapping"]
    found = []
    if doc.get("id") != key:
        found.append(f"id {doc.get('id')!r} does not match the file name {key!r}")
    title = doc.get("title")
    if not isinstance(title, str) or not title.strip() or len(title) > MAX_TITLE or "\x00" in title:
        found.append("title must be non-empty text of at most 500 characters")  # `bd create` also wants one line
    if doc.get("status") not in STATUSES and doc.get("status") != TOMBSTONE:
        found.append(f"unknown status {doc.get('status')!r}")
    if type(doc.get("priority")) is not int or doc.get("priority") not in PRIORITIES:
        found.append(f"priority {doc.get('priority')!r} is not 0-4")
    if not isinstance(doc.get("type", ""), str):
        found.append("type must be a string")
    if doc.get("assignee") is not None and not isinstance(doc["assignee"], str):
        found.append("assignee must be a string")
    for name in ("labels", "dependencies", "comments"):
        if not isinstance(doc.get(name, []), list):
            found.append(f"{name} must be a list")
    if isinstance(doc.get("labels"), list) and not all(isinstance(x, str) for x in doc["labels"]):
        found.append("labels must be strings")
    for dep in doc.get("dependencies") or () if isinstance(doc.get("dependencies"), list) else ():
        if not isinstance(dep, dict) or not isinstance(dep.get("type"), str) or not isinstance(dep.get("target"), str):
            found.append("each dependency needs a type and a target")
            break
    for comment in doc.get("comments") or () if isinstance(doc.get("comments"), list) else ():
        if not isinstance(comment, dict) or not comment.get("id"):
            found.append("each comment needs an id")
            break
    stamps = doc.get("stamps", {})
    if not isinstance(stamps, dict) or not all(isinstance(v, str) for v in stamps.values()):
        found.append("stamps must map names to '<counter> <actor>' strings")
    return found

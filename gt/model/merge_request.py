"""A merge request: a bead of type `merge-request` whose `mr` field says what to merge and how it went.

`gt done` creates one per submission (keyed by source bead and head commit); the refinery records
every attempt on it (gates, timings, conflicts) and its outcome; track records are computed from them.
"""
from __future__ import annotations

from typing import Any, TypedDict, cast

MERGE_REQUEST = "merge-request"  # the bead type


class Attempt(TypedDict, total=False):
    """One try of the refinery: where it started, what the gates said, how it ended."""

    at: str
    strategy: str  # rebase | merge
    base: str
    races: int
    result: str  # merged | failed | conflict | raced | rejected
    detail: str
    commit: str
    conflicts: list[str]
    gates: list[dict[str, Any]]
    auto_rebased: bool
    by: str
    push_error: str  # merged, but pushing the default branch to origin failed


class MergeRequestFields(TypedDict, total=False):
    """The `mr` field of a merge-request bead."""

    branch: str
    target: str
    head: str
    source: str  # the bead the work is for
    worker: str  # the identity that submitted it
    model: str
    agent: str
    convoy: str
    rig: str
    commits: int
    submitted_at: str
    attempts: list[Attempt]
    merged_commit: str
    outcome: str  # merged | rejected


def is_merge_request(doc: dict[str, Any]) -> bool:
    return doc.get("type") == MERGE_REQUEST


def fields(doc: dict[str, Any]) -> MergeRequestFields:
    """The merge request's `mr` field (empty for a bead that has none)."""
    found = doc.get("mr")
    return cast(MergeRequestFields, found) if isinstance(found, dict) else {}  # a YAML mapping


def new_fields(**values: Any) -> MergeRequestFields:
    """A merge request's `mr` field from `gt done`'s facts, leaving out the unknown ones."""
    return cast(MergeRequestFields, {k: v for k, v in values.items() if v is not None})


def attempts(doc: dict[str, Any]) -> list[Attempt]:
    """The attempts recorded, leaving out entries that are not mappings (a hand-edited or pushed
    ledger may hold anything: the guard refuses them on a guarded hub, a plain remote does not)."""
    found = fields(doc).get("attempts")
    return [a for a in found if isinstance(a, dict)] if isinstance(found, list) else []


def text(doc: dict[str, Any], name: str) -> str | None:
    """One text field of the `mr` mapping; None when absent or not text."""
    value = fields(doc).get(name)
    return value if isinstance(value, str) else None


"""Pure model pieces: YAML round trips, ids, priorities, the beads JSONL mapping."""
from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from gt.errors import GtError, UsageError
from gt.ledger.yamlio import YamlError, dump, load_mapping
from gt.model import ids
from gt.model.bead import canonical, parse_priority, parse_time
from gt.model.jsonl import from_record, to_record

text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=200)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(["title", "description", "notes", "x"]), text, min_size=1),
       st.integers(0, 4))
def test_yaml_round_trip_is_exact(fields, priority):
    doc = {"id": "gt-abc", **fields, "priority": priority, "labels": ["a", "b c"],
           "created_at": "2026-01-01T00:00:00Z", "due_at": "2026-12-01"}
    data = dump(doc)
    assert load_mapping(data, "x") == doc
    assert dump(load_mapping(data, "x")) == data  # deterministic bytes


def test_multiline_text_is_a_block_scalar_and_timestamps_stay_strings():
    data = dump({"description": "line one\nline two\n", "created_at": "2026-01-01T00:00:00Z"}).decode()
    assert "description: |\n  line one\n  line two\n" in data
    assert load_mapping(data, "x")["created_at"] == "2026-01-01T00:00:00Z"
    assert load_mapping("due: 2026-01-01\n", "x") == {"due": "2026-01-01"}


def test_invalid_yaml_names_the_file():
    with pytest.raises(YamlError, match="beads/ab/x.yaml"):
        load_mapping("a: [b\n", "beads/ab/x.yaml")
    with pytest.raises(YamlError, match="expected a YAML mapping"):
        load_mapping("- a\n", "f")


def test_id_length_grows_with_the_ledger_and_keeps_collisions_rare():
    assert ids.id_length(0) == 6
    previous = 6
    for count in (10, 100, 1000, 10_000, 100_000):
        length = ids.id_length(count)
        n = 2 * (count + 1)
        assert n * n / (2 * 36**length) <= ids.COLLISION_BOUND
        assert length >= previous
        previous = length


def test_new_ids_are_well_formed_and_distinct():
    import os

    made = {ids.new_id("gt", 50, os.urandom(16)) for _ in range(2000)}
    assert len(made) == 2000
    assert all(ids.ID_RE.fullmatch(i) and len(i) == 3 + 6 for i in made)
    child = ids.child_id("gt-abc123", 0, os.urandom(16))
    assert child.startswith("gt-abc123.") and len(child.split(".")[1]) == 4


def test_resolve_prefixes():
    known = {"gt-abc123", "gt-abd999", "gt-xyz000", "gt-xyz000.k3m9"}
    assert ids.resolve("gt-abc", known) == "gt-abc123"
    assert ids.resolve("abd", known) == "gt-abd999"
    assert ids.resolve("gt-xyz000", known) == "gt-xyz000"  # exact beats prefix of a child
    with pytest.raises(GtError, match="ambiguous id ab: matches gt-abc123, gt-abd999"):
        ids.resolve("ab", known)
    with pytest.raises(GtError, match="no bead"):
        ids.resolve("qqq", known)


@pytest.mark.parametrize("value,expected", [("0", 0), ("P0", 0), ("p4", 4), (3, 3)])
def test_priorities(value, expected):
    assert parse_priority(value) == expected


@pytest.mark.parametrize("value", ["5", "-1", "P9", "high", ""])
def test_bad_priorities(value):
    with pytest.raises(UsageError):
        parse_priority(value)


def test_parse_time_handles_zones_and_dates():
    assert parse_time("2025-11-02T21:58:07.295058-08:00") == parse_time("2025-11-03T05:58:07.295058Z")
    assert parse_time("2026-01-01") == parse_time("2026-01-01T00:00:00Z")
    assert parse_time("not a date") is None


def test_jsonl_mapping_keeps_everything():
    record = {
        "id": "bd-1", "title": "T", "status": "tombstone", "priority": 0, "issue_type": "event",
        "dependencies": [{"issue_id": "bd-1", "depends_on_id": "bd-2", "type": "supersedes",
                          "created_at": "2025-01-01T00:00:00Z", "created_by": "me"}],
        "comments": [{"id": 7, "issue_id": "bd-1", "author": "a", "text": "hi", "created_at": "2025-01-01T00:00:00Z"}],
        "original_type": "bug", "await_id": "x", "deleted_at": "2025-01-02T00:00:00Z",
    }
    doc = from_record(record)
    assert doc["type"] == "event" and doc["priority"] == 0
    assert doc["dependencies"] == [{"type": "supersedes", "target": "bd-2", "created_at": "2025-01-01T00:00:00Z",
                                    "created_by": "me"}]
    assert doc["metadata"] == {"original_type": "bug", "await_id": "x"}
    assert doc["comments"][0]["id"] == "7" and doc["comments"][0]["text"] == "hi"
    back = to_record(doc)
    assert back["issue_type"] == "event" and back["dependencies"][0]["depends_on_id"] == "bd-2"
    assert back["comments"][0]["id"] == 7
    assert from_record(back) == doc  # stable under a second round trip
    assert canonical(doc) == doc

"""The fast YAML reader (gt/ledger/yamlio.py `_fast_load`) reads what `dump` writes exactly as the full
parser does, and gives way to it on anything else: it never accepts a document the parser reads
differently or refuses."""
from __future__ import annotations

import json
import string

from hypothesis import given, settings, strategies as st

from gt.beads.exchange import read_records
from gt.ledger.yamlio import YamlError, _fast_load, _full_load, dump, load_mapping


def typed(value):
    """A value with its types spelled out (True is not 1, 1 is not 1.0)."""
    if isinstance(value, dict):
        return {"dict": [[typed(k), typed(v)] for k, v in value.items()]}
    if isinstance(value, list):
        return {"list": [typed(v) for v in value]}
    return [type(value).__name__, value]


def same_as_the_parser(text: str) -> None:
    fast = _fast_load(text)
    try:
        full = _full_load(text, "doc")
    except YamlError:
        assert fast is None, f"the fast reader accepted what the parser refuses: {text!r}"
        return
    assert fast is None or typed(fast) == typed(full), text


KEYS = st.from_regex(r"[a-z_][a-z0-9_]{0,8}", fullmatch=True)
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40) | st.sampled_from(
    ["true", "True", "null", "~", "12", "012", "-0", "1e3", ".inf", "a: b", "a #b", "a#b", "- x", "x:", " x", "x ",
     "it's", '"q"', "'q'", "|", ">", "&a", "*a", "!x", "%x", "@x", "`x", "[a, b]", "{a: b}", "a\n", "a\n\n", "\na",
     "a\nb\n", "\ta", "a\tb", "(#1) fix, now", "2026-01-01T00:00:00Z", "0x1F", "1_000", "yes", "on", "NaN",
     "2025-11-25T14:56:49.13027-08:00", "2025-11-25", "2025-1-5", "2025-11-25 14:56:49", "2025-11-25T14:56:49",
     "2025-11-25t14:56:49z", "2fa login", "1.5", "+12", "-", "a: ", " lead", "trail ", "it's 'quoted'", "''", "~x",
     "x~", "a\n b", "a  \nb", "a\n\n\nb\n\n", "é ü", "<<", "=", "a,b", "[x", "{x", "x]", "#x", "x #y", "x#y",
     "Fix\u2028crash", "a\u2029", "x\n\u2028y", "\x85x", "a\x85", "1 Seed f559af82 maintainers", "12 a: b",
     "3 #x", "4 ", "5 x:", "2026 plans", "2026-01-01 10:00:00", "1 ", "0 x", "07 x", "1 2", "1  x", "1 -x"])
LEAVES = TEXT | st.integers() | st.booleans() | st.none() | st.floats(allow_nan=False)
DOCS = st.dictionaries(KEYS | TEXT, st.recursive(LEAVES, lambda inner: st.lists(inner, max_size=4)
                                                 | st.dictionaries(KEYS | TEXT, inner, max_size=4), max_leaves=12),
                       max_size=8)


@settings(max_examples=600, deadline=None)
@given(DOCS)
def test_what_dump_writes_reads_back_the_same_either_way(doc):
    text = dump(doc).decode("utf-8")
    same_as_the_parser(text)
    assert typed(load_mapping(text.encode(), "doc")) == typed(_full_load(text, "doc"))


FRAGMENTS = st.sampled_from(["key", "a", "b", ": ", ":", " ", "  ", "- ", "-", "|", "|-", "|+", "|2", ">", "'", "''",
                             '"', "\\", "#", " #", "x", "1", "0", "true", "null", "~", "[]", "{}", "[", "{", ",",
                             "&", "*", "!", "\t", "?", "%", "---", "\ufeff", "\u2028", "\x85", "é"])
LINES = st.lists(st.lists(FRAGMENTS, max_size=6).map("".join), min_size=1, max_size=8)


@settings(max_examples=1500, deadline=None)
@given(LINES)
def test_anything_else_is_read_the_same_or_left_to_the_parser(lines):
    same_as_the_parser("\n".join(lines) + "\n")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(KEYS, TEXT), min_size=1, max_size=6))
def test_near_misses_of_the_subset(pairs):
    """Documents shaped like a bead file, with values written in every way YAML allows."""
    for style in ("plain", "single", "double", "block"):
        lines = []
        for key, value in pairs:
            if style == "plain":
                lines.append(f"{key}: {value}")
            elif style == "single":
                lines.append(f"{key}: '{value}'")
            elif style == "double":
                lines.append(f'{key}: "{value}"')
            else:
                lines.append(f"{key}: |")
                lines += ["  " + part for part in value.split("\n")]
        same_as_the_parser("\n".join(lines) + "\n")


def test_the_corpus_takes_the_fast_path(corpus):
    """Every bead of the real corpus, written as the ledger writes it, reads back identically, and
    nearly all without the full parser."""
    with open(corpus, "rb") as f:
        docs = read_records(f, str(corpus), strict=False).docs
    fast = 0
    for doc in docs:
        text = dump(doc).decode("utf-8")
        same_as_the_parser(text)
        fast += _fast_load(text) is not None
    assert len(docs) > 1000 and fast / len(docs) > 0.95, (fast, len(docs))


def test_a_typical_bead_file():
    text = ("id: gt-bxhtxel1nc\ntitle: Fix retry logic in town (#88150), again\ntype: bug\nstatus: open\npriority: 2\n"
            "description: |\n  The retry logic: it misbehaves.\n\n  Seen: 391 retries.\n"
            "dependencies:\n- type: blocks\n  target: gt-df31lqdb79\n  created_at: '2026-10-17T23:30:46Z'\n"
            "labels:\n- frontend\n- it's\nmetadata:\n  points: 3\n  tags:\n  - a\ncreated_at: '2026-10-17T23:30:46Z'\n")
    fast = _fast_load(text)
    assert fast is not None and typed(fast) == typed(_full_load(text, "doc"))
    assert json.loads(json.dumps(fast))["metadata"] == {"points": 3, "tags": ["a"]}
    assert _fast_load(text.replace("priority: 2", "priority: 2 # a comment")) is None  # the parser's to read
    assert string.ascii_letters  # (keeps the import list honest)


@settings(max_examples=1500, deadline=None)
@given(DOCS)
def test_the_fast_writer_writes_what_the_emitter_writes(doc):
    from gt.ledger.yamlio import _fast_dump, _full_dump

    fast = _fast_dump(doc)
    assert fast is None or fast.encode("utf-8") == _full_dump(doc), doc


def test_the_corpus_is_written_by_the_fast_writer(corpus):
    from gt.ledger.yamlio import _fast_dump, _full_dump

    with open(corpus, "rb") as f:
        docs = read_records(f, str(corpus), strict=False).docs
    fast = [d for d in docs if _fast_dump(d) is not None]
    assert all(_fast_dump(d).encode("utf-8") == _full_dump(d) for d in docs if _fast_dump(d) is not None)
    assert len(fast) / len(docs) > 0.8, (len(fast), len(docs))

"""The YAML reader's limits hold whatever line breaks a file uses (YAML knows CR, NEL, LS and PS too)."""
from __future__ import annotations

import pytest

from gt.ledger.yamlio import YamlError, load_mapping


@pytest.mark.parametrize("newline", ["\n", "\r", "\r\n", "\u0085", "\u2028", "\u2029"],
                         ids=["LF", "CR", "CRLF", "NEL", "LS", "PS"])
def test_nesting_by_indentation_is_bounded_with_any_line_break(newline: str) -> None:
    text = "a:" + newline + "".join("  " * i + f"k{i}:" + newline for i in range(1, 300)) + "  " * 300 + "v: 1" + newline
    with pytest.raises(YamlError, match="nested more than 100 levels deep"):
        load_mapping(text, "deep.yaml")


def test_a_plain_small_file_with_cr_line_breaks_still_reads() -> None:
    assert load_mapping("title: x\rpriority: 2\r", "ok.yaml") == {"title": "x", "priority": 2}

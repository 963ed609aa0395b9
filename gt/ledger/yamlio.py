"""YAML documents: the C-backed safe loader for reads, a deterministic block-style dump for writes.

Timestamps stay strings (they are data, not datetimes), multi-line text is written as a literal
block scalar, keys keep the order they were given in, and long lines are never folded.

Every document read is held to limits before it reaches the parser (see docs/security.md): at most
MAX_BYTES, nesting at most MAX_DEPTH, at most MAX_NODES values, and no anchors or aliases (ledger
files need none, and aliases are how a small file becomes a huge document). A cheap scan of the
bytes shows most documents plainly within them; any other is walked once with the parser's event
stream, which is iterative, before it is composed (the composer recurses in C: 50,000 nested `[`
crash the process). Writes are held to the same limits, so nothing written can be unreadable.
"""
from __future__ import annotations

import io
import re
from functools import cache
from typing import Any

from gt.errors import GtError

MAX_BYTES = 32 * 1024 * 1024  # one ledger file: a 10 MB description fits even as short lines (indented by 2)
MAX_DEPTH = 100  # mappings and sequences nested in one document (a bead needs 6)
MAX_NODES = 100_000  # values (scalars, mappings, sequences) in one document

# Where an anchor (&name) or alias (*name) can start: the start of a line, after white space or a
# flow indicator, or after a byte order mark. A superset: a match only means "look closer".
_MAYBE_ANCHOR = re.compile(rb"(?:^|[\s\[{,:]|\xef\xbb\xbf)[&*]", re.M)
# A line indented (with block indicators `- `, `? `, `: `) deeper than _PLAIN_INDENT columns.
_PLAIN_INDENT = 23
_DEEP_INDENT = re.compile(rb"[ \t?:-]{%d}" % (_PLAIN_INDENT + 1))
_DEEP_INDENT_LATER = re.compile(rb"\n[ \t?:-]{%d}" % (_PLAIN_INDENT + 1))
_PLAIN_SIZE = 64 * 1024  # larger documents are always walked: the scan is for the many small ones
# Every byte but those a value can start after (line breaks, indicators, flow openers): deleted, the
# rest is counted in one pass.
_NOT_INDICATOR = bytes(b for b in range(256) if b not in b"\n,:-?[{")


class YamlError(GtError):
    """A document that does not parse, or does not have the shape a ledger document needs."""


@cache
def _yaml() -> Any:
    """The dumper (and its representer): built once."""
    from ruamel.yaml import YAML
    from ruamel.yaml.representer import SafeRepresenter

    class Representer(SafeRepresenter):
        def represent_str(self, data: str) -> Any:
            style = "|" if "\n" in data else None
            return self.represent_scalar("tag:yaml.org,2002:str", data, style=style)

    Representer.add_representer(str, Representer.represent_str)

    yaml = YAML(typ="safe")
    yaml.Representer = Representer
    yaml.default_flow_style = False
    yaml.sort_base_mapping_type_on_output = False  # type: ignore[assignment]  # ruamel types it as None
    yaml.allow_unicode = True
    yaml.width = 1 << 20
    return yaml


@cache
def _loader_class() -> Any:
    """A loader built once: ruamel's C parser, the safe constructor with timestamps kept as strings,
    and the YAML 1.2 resolver rules compiled once (ruamel's own `YAML.load` rebuilds a loader class
    and its rule table for every document, which dominated indexing 10,000 beads)."""
    from ruamel.yaml.constructor import SafeConstructor
    from ruamel.yaml.cyaml import CParser  # type: ignore[attr-defined]  # from ruamel.yaml.clib: no stubs
    from ruamel.yaml.nodes import ScalarNode, SequenceNode
    from ruamel.yaml.resolver import BaseResolver, implicit_resolvers
    from ruamel.yaml.tag import Tag

    rules: dict[Any, list[tuple[str, Any]]] = {}
    for versions, tag, regexp, first in implicit_resolvers:
        if (1, 2) in versions:
            starts: list[str | None] = [*first] if first else [None]
            for char in starts:
                rules.setdefault(char, []).append((tag, regexp))
    any_first = rules.get(None, [])

    class Constructor(SafeConstructor):
        pass

    Constructor.add_constructor("tag:yaml.org,2002:timestamp", SafeConstructor.construct_yaml_str)

    class Loader(CParser, Constructor, BaseResolver):  # type: ignore[misc]  # CParser is untyped (C extension)
        processing_version = (1, 2)  # what the constructor asks to pick YAML 1.2 number rules

        def __init__(self, stream: Any) -> None:
            CParser.__init__(self, stream)
            self._parser = self._composer = self
            Constructor.__init__(self, loader=self)
            self.allow_duplicate_keys = False
            BaseResolver.__init__(self, loadumper=self)

        def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
            if kind is ScalarNode:
                if implicit[0]:
                    for tag, regexp in rules.get(value[0] if value else "", ()):
                        if regexp.match(value):
                            return Tag(suffix=tag)
                    for tag, regexp in any_first:
                        if regexp.match(value):
                            return Tag(suffix=tag)
                return self.DEFAULT_SCALAR_TAG
            if kind is SequenceNode:
                return self.DEFAULT_SEQUENCE_TAG
            return self.DEFAULT_MAPPING_TAG

    return Loader


def _plainly_within_limits(data: bytes) -> bool:
    """Whether the bytes alone show the document within MAX_DEPTH and MAX_NODES, without anchors or
    aliases. Upper bounds: nesting is at most the flow openers (`[`, `{`) plus twice the deepest
    indentation (+2: a block collection nests only by indenting, or a sequence under a mapping
    key), and every value starts after a line break or an indicator (at most two per indicator:
    `{a, b}` holds two empty values). UTF-16 (zero bytes) is always looked at closer."""
    if len(data) > _PLAIN_SIZE or b"\0" in data:
        return False
    if b"\r" in data or b"\xc2\x85" in data or b"\xe2\x80\xa8" in data or b"\xe2\x80\xa9" in data:
        return False  # line breaks other than \n (CR, NEL, LS, PS): the scan counts lines by \n alone
    if data.count(b"[") + data.count(b"{") + 2 * (_PLAIN_INDENT + 1) > MAX_DEPTH:
        return False
    if 2 * len(data.translate(None, _NOT_INDICATOR)) + 2 > MAX_NODES:
        return False
    if (b"&" in data or b"*" in data) and _MAYBE_ANCHOR.search(data) is not None:
        return False
    return _DEEP_INDENT.match(data) is None and _DEEP_INDENT_LATER.search(data) is None


def check_limits(data: bytes | str, name: str) -> None:
    """Raise YamlError naming `name` when a document is larger, deeper or has more values than a
    ledger file may, or uses anchors or aliases. Never composes the document: safe on any input."""
    raw = data if isinstance(data, bytes) else data.encode("utf-8", "surrogatepass")
    if len(raw) > MAX_BYTES:
        raise YamlError(f"{name}: the file is {len(raw):,} bytes: a ledger file may hold at most "
                        f"{MAX_BYTES // (1024 * 1024)} MiB")
    if not _plainly_within_limits(raw):
        _check_events(data, name)


def _check_events(data: bytes | str, name: str) -> None:
    """Walk the parser's events (no document is built) and stop at the first limit passed."""
    from ruamel.yaml.cyaml import CParser  # type: ignore[attr-defined]  # from ruamel.yaml.clib: no stubs
    from ruamel.yaml.events import AliasEvent, CollectionEndEvent, CollectionStartEvent, NodeEvent

    parser = CParser(data)
    depth = nodes = 0
    problem = None
    try:
        while problem is None and parser.check_event():
            event = parser.get_event()
            if isinstance(event, CollectionEndEvent):
                depth -= 1
                continue
            if not isinstance(event, NodeEvent):
                continue
            nodes += 1
            line = event.start_mark.line + 1 if event.start_mark is not None else 0
            if isinstance(event, AliasEvent) or event.anchor is not None:
                problem = f"line {line}: YAML anchors and aliases are not allowed (&name, *name): ledger files need none"
            elif isinstance(event, CollectionStartEvent) and (depth := depth + 1) > MAX_DEPTH:
                problem = f"line {line}: nested more than {MAX_DEPTH} levels deep"
            elif nodes > MAX_NODES:
                problem = f"more than {MAX_NODES:,} values in one document"
    except Exception as exc:  # does not parse: say so as load_mapping would
        raise YamlError(f"{name}: invalid YAML: {_first_line(exc)}") from None
    finally:
        parser.dispose()
    if problem is not None:
        raise YamlError(f"{name}: {problem}")


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def load_mapping(data: bytes | str, name: str) -> dict[str, Any]:
    """Parse one YAML document that must be a mapping; `name` is used in the error message.
    A document beyond the limits (check_limits) is refused before it is parsed."""
    check_limits(data, name)
    try:
        loader = _loader_class()(data)
        try:
            doc = loader.get_single_data()
        finally:
            loader.dispose()
    except Exception as exc:  # ruamel raises many types; all mean "does not parse"
        raise YamlError(f"{name}: invalid YAML: {_first_line(exc)}") from None
    if not isinstance(doc, dict):
        raise YamlError(f"{name}: expected a YAML mapping, found {type(doc).__name__}")
    return doc


def dump(doc: dict[str, Any]) -> bytes:
    """Serialise a mapping deterministically: the same mapping always gives the same bytes.
    Raises YamlError for a document the reader would refuse (too deep, too many values, too large)."""
    _check_shape(doc)
    out = io.StringIO()
    _yaml().dump(doc, out)
    data = out.getvalue().encode("utf-8")
    if len(data) > MAX_BYTES:
        raise YamlError(f"the document would be {len(data):,} bytes: a ledger file may hold at most "
                        f"{MAX_BYTES // (1024 * 1024)} MiB")
    return data


def _check_shape(doc: dict[str, Any]) -> None:
    """Nesting and number of values within the reader's limits (walked without recursion)."""
    nodes = 0
    pending: list[tuple[Any, int]] = [(doc, 1)]
    while pending:
        value, depth = pending.pop()
        nodes += 1
        if nodes > MAX_NODES:
            raise YamlError(f"the document would hold more than {MAX_NODES:,} values: more than a ledger file may")
        if isinstance(value, dict):
            children: Any = [c for pair in value.items() for c in pair]
        elif isinstance(value, (list, tuple)):
            children = value
        else:
            continue
        if depth > MAX_DEPTH:
            raise YamlError(f"the document would be nested more than {MAX_DEPTH} levels deep: more than a ledger "
                            "file may")
        pending.extend((child, depth + 1) for child in children)

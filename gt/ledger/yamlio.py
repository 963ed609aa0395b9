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
from gt.patterns import lazy

MAX_BYTES = 32 * 1024 * 1024  # one ledger file: a 10 MB description fits even as short lines (indented by 2)
MAX_DEPTH = 100  # mappings and sequences nested in one document (a bead needs 6)
MAX_NODES = 100_000  # values (scalars, mappings, sequences) in one document

# Where an anchor (&name) or alias (*name) can start: the start of a line, after white space or a
# flow indicator, or after a byte order mark. A superset: a match only means "look closer".
_MAYBE_ANCHOR = lazy(__name__, "_MAYBE_ANCHOR", rb"(?:^|[\s\[{,:]|\xef\xbb\xbf)[&*]", re.M)
# A line indented (with block indicators `- `, `? `, `: `) deeper than _PLAIN_INDENT columns.
_PLAIN_INDENT = 23
_DEEP_INDENT = lazy(__name__, "_DEEP_INDENT", rb"[ \t?:-]{%d}" % (_PLAIN_INDENT + 1))
_DEEP_INDENT_LATER = lazy(__name__, "_DEEP_INDENT_LATER", rb"\n[ \t?:-]{%d}" % (_PLAIN_INDENT + 1))
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


# -- the fast reader ------------------------------------------------------------------------------
# `dump` writes a small, fixed subset of YAML. `_fast_load` reads exactly that subset, about ten
# times faster than the full parser, and gives up (None) on anything else: the full parser then
# reads it, so any valid YAML still loads, with the same result (a property test compares the two).

_KEY = lazy(__name__, "_KEY", r"([A-Za-z_][A-Za-z0-9_-]*):(?: (.*))?\Z")
_INT = lazy(__name__, "_INT", r"-?(?:0|[1-9][0-9]{0,17})\Z")
# a plain scalar that starts as only text can, or with a number and a space (a stamp: `2 mayor`, text
# to every resolver, none of which allows a space there); more checks below
_PLAIN = lazy(__name__, "_PLAIN", r"(?:[A-Za-z_/(]|[0-9]+ )[^\n]*\Z")
# Characters the fast reader leaves to the parser: tabs and line breaks other than \n, control and
# non-printable characters, byte order marks, surrogates.
_UNUSUAL_CHARS = lazy(__name__, "_UNUSUAL_CHARS", "[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff\ud800-\udfff]")
_WORDS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False,
          "null": None, "Null": None, "NULL": None}
_FAST_DEPTH = 8


class _Unusual(Exception):
    """The document is outside the fast reader's subset (never an error: the full parser reads it)."""


def _fast_load(text: str) -> dict[str, Any] | None:
    """The document as `load_mapping` would return it, if it is in the subset `dump` writes; else None."""
    if not text.endswith("\n") or text.startswith(("---", "%")) or _UNUSUAL_CHARS.search(text):
        return None
    lines = text[:-1].split("\n")
    try:
        doc, at = _fast_mapping(lines, 0, 0, 1)
    except _Unusual:
        return None
    return doc if at == len(lines) else None


def _fast_mapping(lines: list[str], at: int, indent: int, depth: int,
                  first: tuple[str, str | None] | None = None) -> tuple[dict[str, Any], int]:
    """A block mapping whose keys sit at `indent` (its first pair already split off for `- key: v`)."""
    if depth > _FAST_DEPTH:
        raise _Unusual
    out: dict[str, Any] = {}
    pad = " " * indent
    while first is not None or at < len(lines):
        if first is not None:
            key, rest = first
            first = None
        else:
            line = lines[at]
            if not line.startswith(pad) or line[indent:indent + 1] in (" ", "-", ""):
                break
            found = _KEY.match(line, indent)
            if found is None:
                raise _Unusual
            key, rest = found.group(1), found.group(2)
            at += 1
        if key in out or key in _WORDS:
            raise _Unusual
        out[key], at = _fast_value(lines, at, indent, rest, depth)
    return out, at


def _fast_value(lines: list[str], at: int, indent: int, rest: str | None, depth: int) -> tuple[Any, int]:
    """The value after `key:` (`rest`: what follows `: ` on its line, None for nothing)."""
    if rest is None:
        nxt = lines[at] if at < len(lines) else ""
        if nxt.startswith(" " * indent + "- "):
            return _fast_sequence(lines, at, indent, depth + 1)
        if nxt.startswith(" " * (indent + 2)) and nxt[indent + 2:indent + 3] not in (" ", "-", ""):
            return _fast_mapping(lines, at, indent + 2, depth + 1)
        if nxt[:indent + 1].strip() == "" and len(nxt) > indent and nxt[indent] == " ":
            raise _Unusual  # something indented that is neither: let the parser decide
        return None, at
    if rest in ("|", "|-", "|+"):
        return _fast_block(lines, at, indent + 2, rest[1:])
    return _fast_scalar(rest), at


def _fast_sequence(lines: list[str], at: int, indent: int, depth: int) -> tuple[list[Any], int]:
    if depth > _FAST_DEPTH:
        raise _Unusual
    out: list[Any] = []
    head = " " * indent + "- "
    while at < len(lines) and lines[at].startswith(head):
        item = lines[at][len(head):]
        at += 1
        pair = _KEY.match(item)
        if pair is not None:
            value, at = _fast_mapping(lines, at, indent + 2, depth + 1, (pair.group(1), pair.group(2)))
            out.append(value)
        elif item.startswith(("- ", "? ", "|", ">")) or item in ("", "-"):
            raise _Unusual
        else:
            out.append(_fast_scalar(item))
    return out, at


def _fast_block(lines: list[str], at: int, indent: int, chomp: str) -> tuple[str, int]:
    """A literal block scalar (`|`, `|-`, `|+`) whose lines are indented by `indent`."""
    pad = " " * indent
    body: list[str] = []
    while at < len(lines) and (lines[at] == "" or lines[at].startswith(pad)):
        line = lines[at]
        if line and not line.strip(" "):
            raise _Unusual  # a line of spaces: indentation rules the parser knows best
        body.append(line[indent:])
        at += 1
    if not body or body[0] == "" or body[0].startswith(" "):
        raise _Unusual
    content = "\n".join(body)
    if chomp == "-":
        return content.rstrip("\n"), at
    if chomp == "+":
        return content + "\n", at
    return content.rstrip("\n") + "\n", at


def _fast_scalar(text: str) -> Any:
    """A scalar on one line: a number, a word (true, false, null), quoted text, or plain text."""
    if text in _WORDS:
        return _WORDS[text]
    if text == "[]":
        return []
    if text == "{}":
        return {}
    if text == "~":
        return None
    if _INT.match(text):
        return int(text)
    if len(text) > 1 and text[0] == "'" and text[-1] == "'":
        inner = text[1:-1]
        if "'" in inner.replace("''", ""):
            raise _Unusual
        return inner.replace("''", "'")
    if len(text) > 1 and text[0] == '"' and text[-1] == '"':
        return _unescaped(text[1:-1])
    if (_PLAIN.match(text) and " #" not in text and ": " not in text and not text.endswith((" ", ":"))
            and not text.startswith(("- ", "? "))):
        return text
    raise _Unusual


_ESCAPE = lazy(__name__, "_ESCAPE", r'\\(x[0-9A-Fa-f]{2}|u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|[0abtnvfre "/\\N_LP])')
_ESCAPED = {"0": "\x00", "a": "\x07", "b": "\x08", "t": "\t", "n": "\n", "v": "\x0b", "f": "\x0c", "r": "\r",
            "e": "\x1b", " ": " ", '"': '"', "/": "/", "\\": "\\", "N": "\x85", "_": "\xa0", "L": "\u2028",
            "P": "\u2029"}


def _unescaped(inner: str) -> str:
    """The text of a double-quoted scalar on one line (YAML's escapes)."""
    def one(found: re.Match[str]) -> str:
        code = found.group(1)
        if len(code) == 1:
            return _ESCAPED[code]
        number = int(code[1:], 16)
        if 0xD800 <= number <= 0xDFFF or number > 0x10FFFF:
            raise _Unusual
        return chr(number)

    rest = _ESCAPE.sub("", inner)
    if "\\" in rest or '"' in rest:
        raise _Unusual
    return str(_ESCAPE.sub(one, inner))


def load_mapping(data: bytes | str, name: str) -> dict[str, Any]:
    """Parse one YAML document that must be a mapping; `name` is used in the error message.
    A document beyond the limits (check_limits) is refused before it is parsed."""
    if len(data) <= _PLAIN_SIZE:  # what `dump` writes is read without the full parser (same result)
        try:
            text = data.decode("utf-8") if isinstance(data, bytes) else data
        except UnicodeDecodeError:
            text = ""
        fast = _fast_load(text) if text else None
        if fast is not None:
            return fast
    return _full_load(data, name)


def _full_load(data: bytes | str, name: str) -> dict[str, Any]:
    """`load_mapping` through the full parser, whatever the document."""
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


# -- the fast writer ------------------------------------------------------------------------------
# `_fast_dump` writes the common documents (text, whole numbers, true/false/null, lists and mappings
# of them) byte for byte as the full emitter would, several times faster, and gives up (None) on
# anything it is not sure of: the full emitter then writes it. A property test holds the two equal.

_PLAIN_OUT = lazy(__name__, "_PLAIN_OUT", r"(?:[A-Za-z_]|[0-9]+ )[^\n]*\Z")  # a letter, or a number and a space (a stamp)
_SAFE_TEXT = lazy(__name__, "_SAFE_TEXT", "[\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd]*\\Z")  # what the emitter writes as is
# Text the emitter certainly single-quotes: plain, it would read as a number, a time or a word.
_QUOTED_OUT = lazy(__name__, "_QUOTED_OUT", r"(?:[-+]?[0-9]+|[0-9]{4}-[0-9]{2}-[0-9]{2}(?:T[0-9]{2}:[0-9]{2}:[0-9]{2}"
                   r"(?:\.[0-9]+)?(?:Z|[-+][0-9]{2}:[0-9]{2})?)?|true|True|TRUE|false|False|FALSE|null|Null|NULL|~)\Z")
_INDICATORS = tuple("#,[]{}&*!|>'\"%@`")  # a plain scalar cannot start with one of these
_RESERVED_OUT = frozenset({"true", "True", "TRUE", "false", "False", "FALSE", "null", "Null", "NULL", "y", "Y",
                           "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF"})


def _fast_text(value: str, indent: int) -> str:
    """A string as the emitter writes it after `key: ` or `- ` (a block's lines indented by `indent`)."""
    if "\n" in value:
        if "\t" in value or not _SAFE_TEXT.match(value.replace("\n", "")) or value[0] in " \n":
            raise _Unusual
        body = value.rstrip("\n")
        trailing = len(value) - len(body)
        lines = body.split("\n")
        if not body or any(line != line.rstrip(" \t") for line in lines) or any(
                line and line[0] in " \t" and number == 0 for number, line in enumerate(lines)):
            raise _Unusual
        chomp = "-" if trailing == 0 else "" if trailing == 1 else "+"
        pad = " " * indent
        text = "|" + chomp + "\n" + "\n".join(pad + line if line else "" for line in lines)
        return text + "\n" * (trailing - 1 if trailing > 1 else 0)
    if not value or not _SAFE_TEXT.match(value) or "\t" in value:
        raise _Unusual
    if (_PLAIN_OUT.match(value) and value not in _RESERVED_OUT and " #" not in value and ": " not in value
            and not value.endswith((" ", ":"))):
        return value
    if (_QUOTED_OUT.match(value) or value.startswith((" ", *_INDICATORS)) or value.endswith((" ", ":"))
            or ": " in value or " #" in value):  # plain, it would read as another type, lose spaces, or not parse
        return "'" + value.replace("'", "''") + "'"
    raise _Unusual


def _fast_scalar_out(value: Any, indent: int) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if type(value) is int:
        return str(value)
    if type(value) is str:
        return _fast_text(value, indent)
    raise _Unusual


def _fast_dump_mapping(doc: dict[str, Any], indent: int, out: list[str], depth: int) -> None:
    pad = " " * indent
    for key, value in doc.items():
        if type(key) is not str or not key[:1].isalpha() or key in _RESERVED_OUT or not key.isascii() \
                or not key.replace("_", "").replace("-", "").isalnum():
            raise _Unusual
        if isinstance(value, dict) and type(value) is dict:
            if not value:
                out.append(f"{pad}{key}: {{}}\n")
            elif depth < _FAST_DEPTH:
                out.append(f"{pad}{key}:\n")
                _fast_dump_mapping(value, indent + 2, out, depth + 1)
            else:
                raise _Unusual
        elif type(value) is list:
            if not value:
                out.append(f"{pad}{key}: []\n")
            else:
                out.append(f"{pad}{key}:\n")
                _fast_dump_sequence(value, indent, out, depth + 1)
        else:
            out.append(f"{pad}{key}: {_fast_scalar_out(value, indent + 2)}\n")


def _fast_dump_sequence(items: list[Any], indent: int, out: list[str], depth: int) -> None:
    pad = " " * indent
    for item in items:
        if type(item) is dict and item and depth < _FAST_DEPTH:
            nested: list[str] = []
            _fast_dump_mapping(item, indent + 2, nested, depth + 1)
            first = nested[0]
            if first.startswith(" " * (indent + 2)) and not first.startswith(" " * (indent + 3)):
                nested[0] = pad + "- " + first[indent + 2:]
                out.extend(nested)
                continue
            raise _Unusual
        if isinstance(item, (list, dict)):
            raise _Unusual  # a list in a list, an empty mapping: the emitter's own forms
        out.append(f"{pad}- {_fast_scalar_out(item, indent + 2)}\n")


def _fast_dump(doc: dict[str, Any]) -> str | None:
    """`dump`'s text for documents in the subset it is sure of; None for any other."""
    out: list[str] = []
    try:
        _fast_dump_mapping(doc, 0, out, 1)
    except _Unusual:
        return None
    return "".join(out) if out else None


def dump(doc: dict[str, Any]) -> bytes:
    """Serialise a mapping deterministically: the same mapping always gives the same bytes.
    Raises YamlError for a document the reader would refuse (too deep, too many values, too large)."""
    _check_shape(doc)
    fast = _fast_dump(doc) if type(doc) is dict else None
    data = fast.encode("utf-8") if fast is not None else _full_dump(doc)
    if len(data) > MAX_BYTES:
        raise YamlError(f"the document would be {len(data):,} bytes: a ledger file may hold at most "
                        f"{MAX_BYTES // (1024 * 1024)} MiB")
    return data


def _full_dump(doc: dict[str, Any]) -> bytes:
    """`dump` through the full emitter, whatever the document."""
    out = io.StringIO()
    _yaml().dump(doc, out)
    return out.getvalue().encode("utf-8")


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

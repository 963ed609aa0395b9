"""YAML documents: the C-backed safe loader for reads, a deterministic block-style dump for writes.

Timestamps stay strings (they are data, not datetimes), multi-line text is written as a literal
block scalar, keys keep the order they were given in, and long lines are never folded.
"""
from __future__ import annotations

import io
from functools import cache
from typing import Any

from gt.errors import GtError


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


def load_mapping(data: bytes | str, name: str) -> dict[str, Any]:
    """Parse one YAML document that must be a mapping; `name` is used in the error message."""
    try:
        loader = _loader_class()(data)
        try:
            doc = loader.get_single_data()
        finally:
            loader.dispose()
    except Exception as exc:  # ruamel raises many types; all mean "does not parse"
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise YamlError(f"{name}: invalid YAML: {first}") from None
    if not isinstance(doc, dict):
        raise YamlError(f"{name}: expected a YAML mapping, found {type(doc).__name__}")
    return doc


def dump(doc: dict[str, Any]) -> bytes:
    """Serialise a mapping deterministically: the same mapping always gives the same bytes."""
    out = io.StringIO()
    _yaml().dump(doc, out)
    return out.getvalue().encode("utf-8")

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
    from ruamel.yaml import YAML
    from ruamel.yaml.constructor import SafeConstructor
    from ruamel.yaml.representer import SafeRepresenter

    class Constructor(SafeConstructor):
        pass

    Constructor.add_constructor("tag:yaml.org,2002:timestamp", SafeConstructor.construct_yaml_str)

    class Representer(SafeRepresenter):
        def represent_str(self, data: str) -> Any:
            style = "|" if "\n" in data else None
            return self.represent_scalar("tag:yaml.org,2002:str", data, style=style)

    Representer.add_representer(str, Representer.represent_str)

    yaml = YAML(typ="safe")
    yaml.Constructor = Constructor
    yaml.Representer = Representer
    yaml.default_flow_style = False
    yaml.sort_base_mapping_type_on_output = False
    yaml.allow_unicode = True
    yaml.width = 1 << 20
    return yaml


def load_mapping(data: bytes | str, name: str) -> dict[str, Any]:
    """Parse one YAML document that must be a mapping; `name` is used in the error message."""
    try:
        doc = _yaml().load(data)
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

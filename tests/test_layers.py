"""The packages of gt import only the layers below them (docs/concepts.md shows the table).

Every import counts: at module level, inside functions and under `if TYPE_CHECKING:`.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

GT = Path(__file__).resolve().parents[1] / "gt"

# Each layer may import itself and the layers listed; "*" is everything but the cli.
BASE = {"errors", "progress", "patterns"}
MAY_IMPORT: dict[str, set[str]] = {
    "": set(),  # gt/__init__.py: the version, nothing else
    "errors": set(),
    "progress": set(),
    "patterns": set(),
    "ledger": BASE,
    "model": BASE | {"ledger"},
    "beads": BASE | {"ledger", "model"},
    "town": BASE | {"ledger", "model", "beads", "githooks.install"},
    "dispatch": BASE | {"ledger", "model", "beads", "town", "githooks.install"},
    "roles": BASE | {"ledger", "model", "beads", "town", "githooks.install", "dispatch"},
    "githooks": {"*"},
    "records": {"*"},
    "agents": {"*"},
    "web": {"*"},
    "cli": {"*", "cli"},
}
# What the town may import of the git hooks must itself stay at the town's level.
NARROWER = {"githooks.install": MAY_IMPORT["town"] - {"githooks.install"}}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(GT.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path, name: str | None = None) -> set[str]:
    """Every gt module `path` (module `name`) imports, wherever the import statement is."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    name = name or module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.split(".")[0] == "gt")
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "gt":
                continue
            for alias in node.names:  # `from gt.town import rigs` imports the module gt.town.rigs
                sub = GT.parent / (target.replace(".", "/") + "/" + alias.name)
                found.add(f"{target}.{alias.name}" if sub.with_suffix(".py").exists() or sub.is_dir() else target)
    return found


def layer(module: str) -> str:
    """`gt.town.rigs` -> `town`; `gt.githooks.install` -> `githooks.install` (a layer of its own)."""
    parts = module.split(".")[1:]
    if parts[:2] == ["githooks", "install"]:
        return "githooks.install"
    return parts[0] if parts else ""


def allowed(importer: str, target: str) -> bool:
    source_layer, target_layer = layer(importer), layer(target)
    if target_layer == "" or source_layer == target_layer:
        return True
    if source_layer in NARROWER:
        return target_layer in NARROWER[source_layer]
    rules = MAY_IMPORT[source_layer.split(".")[0]]
    if target_layer in rules:
        return True
    if target_layer.startswith("githooks") and "githooks" in source_layer:
        return True
    return "*" in rules and target_layer != "cli"


MODULES = sorted(GT.rglob("*.py"))


def test_every_package_has_a_rule() -> None:
    packages = {layer(module_name(p)).split(".")[0] for p in MODULES} - {""}
    assert packages <= MAY_IMPORT.keys(), f"no import rule for {packages - MAY_IMPORT.keys()}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: module_name(p))
def test_imports_respect_the_layers(path: Path) -> None:
    me = module_name(path)
    broken = sorted(t for t in imported(path) if not allowed(me, t))
    assert not broken, f"{me} imports {', '.join(broken)}: not allowed for {layer(me)} (see docs/concepts.md)"


def test_the_rule_catches_a_crossing(tmp_path: Path) -> None:
    """The checker itself: an upward import, hidden in a function or under TYPE_CHECKING, is found."""
    probe = tmp_path / "probe.py"
    probe.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from gt.town import rigs\n"
                     "def f():\n    from gt.roles.refinery import queue\n    from ..model import bead\n", encoding="utf-8")
    found = imported(probe, "gt.beads._probe_layers")
    assert found == {"gt.town.rigs", "gt.roles.refinery", "gt.model.bead"}
    assert not allowed("gt.beads._probe_layers", "gt.town.rigs")
    assert not allowed("gt.beads._probe_layers", "gt.roles.refinery")
    assert allowed("gt.town.rigs", "gt.githooks.install") and not allowed("gt.town.rigs", "gt.githooks.handlers")
    assert not allowed("gt.githooks.install", "gt.dispatch.agents")
    assert not allowed("gt.records.stats", "gt.cli.common") and allowed("gt.cli.common", "gt.roles.refinery")

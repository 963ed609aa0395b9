"""The town's settings (`settings/config.yaml`), with a rig's own `<rig>/settings/config.yaml` over them.

Agents are commands: `agents: {name: {command: [...]}}`, `default_agent`; polecats come from
`name_pool` (names unique in the town), at most `max_polecats` per rig, on branches named by
`polecat_branch`; `merge_queue` holds the refinery's defaults and a rig's gates.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from gt.town import layout

BUILTIN: dict[str, Any] = {
    "agents": {"script": {"command": ["python", "-m", "gt.agents.scripted"]}},
    "default_agent": "script",
    "name_pool": ["toast", "nux", "slit", "furiosa", "capable", "dag", "ace", "rictus"],
    "max_polecats": 8,
    "polecat_branch": "polecat/{name}/{bead}",
    "merge_queue": {},
    "models": {},  # agent name -> the model it runs by default (for analytics)
}


def _read(path: Path) -> dict[str, Any]:
    from gt.ledger.yamlio import load_mapping

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    return load_mapping(text, str(path))


def load(town: Path, rig: str | None = None) -> dict[str, Any]:
    """Built-in defaults, then the town's settings, then the rig's (mappings merge one level deep)."""
    merged: dict[str, Any] = {k: (dict(v) if isinstance(v, dict) else v) for k, v in BUILTIN.items()}
    layers = [town / layout.SETTINGS_FILE]
    if rig:
        layers.append(layout.rig_dir(town, rig) / layout.SETTINGS_FILE)
    for path in layers:
        for key, value in _read(path).items():
            if isinstance(value, dict) and isinstance(merged.get(key), dict):
                merged[key] = {**merged[key], **value}
            else:
                merged[key] = value
    return merged

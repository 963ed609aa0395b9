"""A session log for people: runtimes' JSON event lines (Claude Code's stream-json, Codex's
`--json`) shown as one short line each; every other line as plain text (no terminal control)."""
from __future__ import annotations

import json
import re
from typing import Any

ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")
CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def plain(line: str) -> str:
    """A line of a terminal's output as text: escape sequences and other control characters removed,
    and of a line rewritten with carriage returns only what was written last."""
    line = ESCAPES.sub("", line).rstrip("\r")
    if "\r" in line:
        line = line.rsplit("\r", 1)[-1]
    return CONTROLS.sub("", line)

WIDTH = 240


def render_line(line: str) -> str:
    """One log line as a person reads it."""
    text = plain(line.rstrip("\n"))
    stripped = text.strip()
    if not stripped.startswith("{") or len(stripped) > 4 * 1024 * 1024:
        return text
    try:
        event = json.loads(stripped)
    except (ValueError, RecursionError):  # not JSON, or nested deeper than the parser goes
        return text
    if not isinstance(event, dict):
        return text
    shown = _claude(event) if "message" in event or event.get("type") in ("system", "result") else _codex(event)
    # what the JSON held is text again: escapes it carried (`\u001b`) are removed here
    return plain(_short(shown)) if shown else (shown if shown is not None else _short(stripped))


def render(lines: list[str]) -> list[str]:
    """The lines worth showing, rendered (runtime events with nothing to say are left out)."""
    out = []
    for line in lines:
        shown = render_line(line)
        if shown.strip():
            out.append(shown)
    return out


def _short(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= WIDTH else text[: WIDTH - 1] + "…"


def _claude(event: dict[str, Any]) -> str | None:
    kind = event.get("type")
    if kind == "system":
        if event.get("subtype") == "init":
            return f"[session] model {event.get('model')}, in {event.get('cwd')}"
        return ""  # hook progress and the like
    if kind == "result":
        cost = event.get("total_cost_usd")
        return _short(f"[result] {event.get('subtype')}" + (f" (error {event.get('api_error_status')})"
                                                             if event.get("is_error") else "")
                      + f", {event.get('num_turns')} turns" + (f", ${cost:.4f}" if isinstance(cost, (int, float)) else "")
                      + f": {event.get('result') or ''}")
    message = event.get("message")
    content = message.get("content") if isinstance(message, dict) else None
    if isinstance(content, str):
        return _short(f"{kind}: {content}")
    parts = []
    for block in content if isinstance(content, list) else []:
        if not isinstance(block, dict):
            continue
        if block.get("type") == "text" and block.get("text"):
            parts.append(f"{kind}: {block['text']}")
        elif block.get("type") == "tool_use":
            given = block.get("input")
            data: dict[str, Any] = given if isinstance(given, dict) else {}
            detail = data.get("command") or data.get("file_path") or data.get("pattern") or json.dumps(data)[:200]
            parts.append(f"tool {block.get('name')}: {detail}")
        elif block.get("type") == "tool_result":
            result = block.get("content")
            if isinstance(result, list):
                result = " ".join(str(r.get("text", "")) for r in result if isinstance(r, dict))
            parts.append(("tool error: " if block.get("is_error") else "tool output: ") + str(result or "")[:300])
    return _short(" | ".join(parts)) if parts else ""


def _codex(event: dict[str, Any]) -> str | None:
    kind = event.get("type")
    item = event.get("item") if isinstance(event.get("item"), dict) else None
    if kind == "error":
        return _short(f"[error] {event.get('message')}")
    if kind == "turn.failed":
        error = event.get("error")
        return _short(f"[turn failed] {error.get('message') if isinstance(error, dict) else error}")
    if kind == "turn.completed":
        given = event.get("usage")
        usage: dict[str, Any] = given if isinstance(given, dict) else {}
        return f"[turn] {usage.get('input_tokens')} tokens in, {usage.get('output_tokens')} out"
    if kind == "thread.started":
        return f"[session] thread {event.get('thread_id')}"
    if item is None or kind != "item.completed":
        return "" if kind else None
    if item.get("type") == "agent_message":
        return _short(f"assistant: {item.get('text')}")
    if item.get("type") == "command_execution":
        return _short(f"tool shell: {item.get('command')} (exit {item.get('exit_code')})")
    if item.get("type") == "reasoning":
        return ""
    return _short(f"{item.get('type')}: {json.dumps(item)[:200]}")

"""Checks of command-line text that need no Click (gt.cli.bd.quick answers before Click is imported)."""
from __future__ import annotations


def shown_bytes(text: str) -> str:
    """Text that may hold undecodable bytes, as the bytes it came from (the first 60)."""
    try:
        raw = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        raw = text.encode("utf-8", "backslashreplace")
    return repr(raw[:60]) + (" …" if len(raw) > 60 else "")


def is_utf8(text: str) -> bool:
    """Whether the text is valid UTF-8 (an argument's undecodable bytes arrive as surrogate escapes)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True

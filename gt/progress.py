"""Progress of long operations (index rebuilds, imports, syncs, merge gates, the demo's waits).

Shown on stderr when it is a terminal and the command was not asked for --json; silent otherwise,
so programs reading the output never see it. The CLI turns it on; library code just reports.
"""
from __future__ import annotations

import sys
import time

_enabled = False
_last = 0.0
_shown = False


def enable(flag: bool) -> None:
    global _enabled
    _enabled = flag


def report(text: str, every: float = 0.1) -> None:
    """Show `text` on the progress line (at most every `every` seconds)."""
    global _last, _shown
    if not _enabled:
        return
    now = time.monotonic()
    if now - _last < every:
        return
    _last, _shown = now, True
    sys.stderr.write("\r\033[K" + text[:120])
    sys.stderr.flush()


def clear() -> None:
    global _shown
    if _enabled and _shown:
        sys.stderr.write("\r\033[K")
        sys.stderr.flush()
        _shown = False

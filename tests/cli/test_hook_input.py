"""gt.cli.common.hook_input: what `gt prime --hook` and `gt runtime-hook` read of the event JSON a
runtime writes on their stdin. Only an object counts; anything else, too much, or a stdin that
stays open and silent gives {} at once or after HOOK_INPUT_WAIT, never an error or a wait past it."""
from __future__ import annotations

import os
import threading
import time

import pytest

from gt.cli import common


def read_from(data: bytes, monkeypatch: pytest.MonkeyPatch, *, close: bool = True) -> tuple[dict, float]:
    """hook_input() with `data` written on a pipe as its stdin (left open unless `close`): (it, seconds taken)."""
    reader, writer = os.pipe()

    def write() -> None:
        try:
            os.write(writer, data)  # more than a pipe holds: blocks until read (or the reader is closed)
        except OSError:
            pass
        if close:
            os.close(writer)

    feeder = threading.Thread(target=write, daemon=True)
    with os.fdopen(reader, "rb") as stdin:
        monkeypatch.setattr("sys.stdin", stdin)
        feeder.start()
        started = time.monotonic()
        found = common.hook_input()
        taken = time.monotonic() - started
    feeder.join(timeout=10)
    assert not feeder.is_alive()
    if not close:
        os.close(writer)
    return found, taken


@pytest.mark.parametrize("data, expected", [
    (b'{"session_id": "s-1", "source": "compact"}', {"session_id": "s-1", "source": "compact"}),
    (b"", {}), (b"[1]", {}), (b'"text"', {}), (b"{not json", {}), (b"\xff{}", {}),
    (b"[" * 200000, {}),  # nested past what the parser takes
    (b'{"x": "' + b"a" * common.MAX_HOOK_INPUT + b'"}', {}),  # over the limit: not read to the end
])
def test_only_an_object_within_the_limit_counts(data, expected, monkeypatch):
    found, taken = read_from(data, monkeypatch)
    assert found == expected and taken < common.HOOK_INPUT_WAIT + 2


def test_an_open_silent_stdin_costs_at_most_the_wait(monkeypatch):
    monkeypatch.setattr(common, "HOOK_INPUT_WAIT", 0.3)
    found, taken = read_from(b'{"source": "startup"', monkeypatch, close=False)  # half an event, then nothing
    assert found == {} and 0.25 < taken < 2

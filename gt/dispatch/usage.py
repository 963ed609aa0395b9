"""What an agent session used, from the runtime's own report, recorded on the ledger.

One commit per session (`Op: usage`) in the ledger of the agent's record. Its trailers carry the
figures (`Tokens-In`, `Tokens-Out`, `Cache-Read-Tokens`, `Cache-Write-Tokens`, `Cost-Usd`, `Turns`,
`Duration-Ms`, `Session`, `Model`, `Runtime`, `Source` = the bead), so track records are computed
from history; the record's `usage` keeps the sum per bead across restarts. A figure the runtime
did not report is left out (unknown), never written as 0.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from gt.ledger.store import Signature, View
from gt.beads.tracker import Edit

COUNTS = ("tokens_in", "tokens_out", "cache_read_tokens", "cache_write_tokens", "turns", "duration_ms")
TRAILERS = {"tokens_in": "Tokens-In", "tokens_out": "Tokens-Out", "cache_read_tokens": "Cache-Read-Tokens",
            "cache_write_tokens": "Cache-Write-Tokens", "cost_usd": "Cost-Usd", "turns": "Turns",
            "duration_ms": "Duration-Ms"}


@dataclass(frozen=True)
class Usage:
    """One session's figures as the runtime reported them (None: not reported)."""

    model: str | None = None  # the model the runtime says it used
    session: str | None = None  # the runtime's own session id
    tokens_in: int | None = None  # input tokens not read from a cache
    tokens_out: int | None = None
    cache_read_tokens: int | None = None
    cache_write_tokens: int | None = None
    cost_usd: float | None = None
    turns: int | None = None
    duration_ms: int | None = None

    def reported(self) -> bool:
        return any(getattr(self, name) is not None for name in (*COUNTS, "cost_usd"))

    def trailers(self) -> list[tuple[str, str]]:
        out = [(TRAILERS[f.name], _number(getattr(self, f.name))) for f in fields(self)
               if f.name in TRAILERS and getattr(self, f.name) is not None]
        if self.session:
            out.append(("Session", self.session))
        return out

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _number(value: float | int) -> str:
    return repr(round(value, 6)) if isinstance(value, float) else str(value)


# Trailer numbers: anyone who can push to a ledger writes its commit messages.
WHOLE = re.compile(r"-?[0-9]{1,18}")  # ASCII only: int() also takes "²", "١٢" and "1_000"
AMOUNT = re.compile(r"[0-9]{1,15}(?:\.[0-9]{1,15})?(?:[eE][-+]?[0-9]{1,3})?")  # as written here: "0.25", "1e-05"
MAX_AMOUNT = 1_000_000.0  # dollars: no session costs more; anything above is a bad value


def whole(raw: str | None, low: int = -(10 ** 18), high: int = 10 ** 18) -> int | None:
    """A trailer's whole number from `low` to `high`; None (unknown) for anything else."""
    if raw is None or not WHOLE.fullmatch(raw.strip()):
        return None
    value = int(raw.strip())
    return value if low <= value <= high else None


def amount(raw: str | None, high: float = MAX_AMOUNT) -> float | None:
    """A trailer's finite amount from 0 to `high`; None (unknown) for anything else (`1e400`, `nan`, `-1`)."""
    if raw is None or not AMOUNT.fullmatch(raw.strip()):
        return None
    value = float(raw.strip())
    return value if math.isfinite(value) and 0 <= value <= high else None


def from_trailers(get: Any) -> Usage:
    """A Usage from a ledger entry's trailers (`get(name)` -> value or None); bad numbers are unknown."""
    values: dict[str, Any] = {}
    for name, trailer in TRAILERS.items():
        number = amount(get(trailer)) if name == "cost_usd" else whole(get(trailer), low=0)
        if number is not None:
            values[name] = number
    return Usage(model=get("Reported-Model") or get("Model"), session=get("Session"), **values)


def summed(previous: Any, usage: Usage) -> dict[str, Any]:
    """The per-bead sum kept on the agent record, with this session added. A sum that is not a
    number the schema accepts (a record written elsewhere) starts again; every sum stays within
    the schema's bound; `sessions_without_cost` says how many sessions the cost leaves out."""
    from gt.model.schema import MAX_USAGE, USAGE_FIELDS, usage_ok

    old = previous if isinstance(previous, dict) else {}
    out = {k: v for k, v in old.items() if k in USAGE_FIELDS and usage_ok({k: v})}
    for name in (*COUNTS, "cost_usd"):
        value = getattr(usage, name)
        if value is not None:
            total = min((out.get(name) or 0) + value, MAX_USAGE)
            out[name] = round(total, 6) if isinstance(total, float) else total
    out["sessions"] = min(int(out.get("sessions") or 0) + 1, MAX_USAGE)
    if usage.cost_usd is None:
        out["sessions_without_cost"] = min(int(out.get("sessions_without_cost") or 0) + 1, MAX_USAGE)
    return out


def record(town: Path, actor: Signature, identity: str, bead: str | None, usage: Usage,
           requested_model: str | None, runtime: str | None, exit_code: int | None = None) -> None:
    """Write one session's usage as an `Op: usage` commit on the agent's record."""
    from gt.dispatch import agents
    from gt.town.context import Town

    model = requested_model or usage.model
    trailers: list[tuple[str, str]] = [("Worker", identity)]
    if bead:
        trailers.append(("Source", bead))
    if model:
        trailers.append(("Model", model))
    if usage.model and usage.model != model:
        trailers.append(("Reported-Model", usage.model))
    if runtime:
        trailers.append(("Runtime", runtime))
    if exit_code is not None:
        trailers.append(("Exit-Code", str(exit_code)))
    trailers += usage.trailers()
    cost = "unknown cost" if usage.cost_usd is None else f"${usage.cost_usd:.4f}"
    subject = f"usage of {identity}" + (f" on {bead}" if bead else "") + \
        f": {usage.tokens_in or 0} tokens in, {usage.tokens_out or 0} out, {cost}"

    def build(view: View) -> Edit:
        doc = agents.updated(view, identity)
        if bead:
            from gt.model.ids import is_id
            from gt.model.schema import MAX_USAGE_BEADS, usage_ok

            given = doc.get("usage")  # what another machine wrote may be anything: keep what is valid
            per_bead = {k: v for k, v in (given.items() if isinstance(given, dict) else ())
                        if is_id(k) and usage_ok(v)}
            per_bead[bead] = summed(per_bead.pop(bead, None), usage)
            while len(per_bead) > MAX_USAGE_BEADS:  # the oldest beads' sums go first (their commits keep them)
                per_bead.pop(next(iter(per_bead)))
            doc["usage"] = per_bead
        if model and not doc.get("model"):
            doc["model"] = model
        return agents.put(Edit("usage", subject, trailers=list(trailers)), identity, doc)

    Town.at(town).tracker_of(identity).write(actor, build)

"""What an agent session used, from the runtime's own report, recorded on the ledger.

One commit per session (`Op: usage`) in the ledger of the agent's record. Its trailers carry the
figures (`Tokens-In`, `Tokens-Out`, `Cache-Read-Tokens`, `Cache-Write-Tokens`, `Cost-Usd`, `Turns`,
`Duration-Ms`, `Session`, `Model`, `Runtime`, `Source` = the bead), so track records are computed
from history; the record's `usage` keeps the sum per bead across restarts. A figure the runtime
did not report is left out (unknown), never written as 0.
"""
from __future__ import annotations

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


def from_trailers(get: Any) -> Usage:
    """A Usage from a ledger entry's trailers (`get(name)` -> value or None); bad numbers are unknown."""
    values: dict[str, Any] = {}
    for name, trailer in TRAILERS.items():
        raw = get(trailer)
        if raw is None:
            continue
        try:
            number = float(raw) if name == "cost_usd" else int(raw)
        except ValueError:
            continue
        if number >= 0:
            values[name] = number
    return Usage(model=get("Reported-Model") or get("Model"), session=get("Session"), **values)


def summed(previous: dict[str, Any] | None, usage: Usage) -> dict[str, Any]:
    """The per-bead sum kept on the agent record, with this session added (unknown stays unknown)."""
    out = dict(previous or {})
    for name in (*COUNTS, "cost_usd"):
        value = getattr(usage, name)
        if value is not None:
            total = (out.get(name) or 0) + value
            out[name] = round(total, 6) if isinstance(total, float) else total
    out["sessions"] = int(out.get("sessions") or 0) + 1
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
            per_bead = dict(doc.get("usage") or {})
            per_bead[bead] = summed(per_bead.get(bead), usage)
            doc["usage"] = per_bead
        if model and not doc.get("model"):
            doc["model"] = model
        return agents.put(Edit("usage", subject, trailers=list(trailers)), identity, doc)

    Town.at(town).tracker_of(identity).write(actor, build)

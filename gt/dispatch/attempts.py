"""The retry breaker: every refinery rejection and every witness restart of a bead is an attempt,
kept on the bead (`attempts`, shown by `bd show --json`). Between attempts the work waits
(`retry_after`: `retry.backoff_seconds`, doubling, at most `retry.backoff_max_seconds`); after
`retry.max_attempts` the bead leaves the loop: it is set `blocked` with the reason, its polecat is
released, its branch is kept, and one escalation names it. `gt sling --force` or
`bd update --status open` starts the count again (gt.model.bead.reset_attempts). A bead of another
ledger (a town bead slung to a rig) is counted in its own ledger (`count_elsewhere`).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from datetime import datetime, timezone
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from gt.beads.tracker import Edit, Lookup, Tracker
from gt.ledger.store import Signature, View
from gt.model.bead import ATTEMPTS, BREAKER_AT, RETRY_AFTER, canonical, now_iso, set_status
from gt.town.settings import Retry

if TYPE_CHECKING:
    from gt.town.context import Town

BREAKER_NOTE = "Stopped by the retry breaker"


@dataclass(frozen=True)
class Attempt:
    """What one more attempt did to the bead: its count, and whether the breaker tripped."""

    count: int
    tripped: bool
    retry_after: str | None


MAX_ATTEMPTS = 1_000_000  # what a bead may claim (a count read from a remote's ledger is data)


def count(doc: dict[str, Any]) -> int:
    """The bead's attempts so far: a whole number from 0 to MAX_ATTEMPTS, whatever the file holds."""
    value = doc.get(ATTEMPTS)
    return min(value, MAX_ATTEMPTS) if type(value) is int and value > 0 else 0


def backoff(count: int, base: float, cap: float) -> float:
    """Seconds to wait after the `count`-th attempt: base, doubling, at most cap."""
    return max(0.0, min(float(cap), float(base) * 2.0 ** max(0, count - 1)))


def record(doc: dict[str, Any], retry: Retry, reason: str, now: str) -> Attempt:
    """Count one more attempt on the bead document (changed in place): a wait before the next, or,
    at `retry.max_attempts`, the bead `blocked` with the reason in its notes."""
    done = count(doc) + 1
    doc[ATTEMPTS] = done
    if done >= retry.max_attempts:
        doc.pop(RETRY_AFTER, None)
        doc.pop("assignee", None)
        doc[BREAKER_AT] = now
        set_status(doc, "blocked", now)
        note = f"{BREAKER_NOTE} after {done} attempts: {reason}"
        doc["notes"] = (str(doc.get("notes") or "").rstrip("\n") + "\n" + note[:2000]).lstrip("\n")
        return Attempt(done, True, None)
    wait = backoff(done, retry.backoff_seconds, retry.backoff_max_seconds)
    moment = datetime.fromisoformat(now.replace("Z", "+00:00")).timestamp() + wait
    until = datetime.fromtimestamp(moment, timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
    doc[RETRY_AFTER] = until
    return Attempt(done, False, until)


def waiting(doc: dict[str, Any], now: float, longest: float) -> bool:
    """The bead's next attempt must wait: its backoff has not passed. A wait longer than `longest`
    (retry.backoff_max_seconds: a clock or a remote's ledger set it) is no wait at all."""
    from gt.model.bead import parse_time

    until = parse_time(doc.get(RETRY_AFTER))
    return until is not None and now < until <= now + longest


def count_elsewhere(ctx: Town, actor: Signature, bead: str, retry: Retry, reason: str, subject: str,
                    trailers: Sequence[tuple[str, str]] = (), tally: str | None = None) -> Attempt | None:
    """One more attempt on `bead` in its own ledger, a commit of its own (None: no ledger holds it open)."""
    tracker = ctx.tracker_for(bead)
    if tracker is None:
        return None
    counted: list[Attempt] = []

    def build(view: View) -> Edit:
        counted.clear()
        if bead not in Lookup(view):  # one shard read, not every summary
            return Edit("attempt", "no change")
        doc = Tracker.get(view, bead)
        if doc.get("status") in ("closed", "blocked"):  # landed, or out of the loop already (a crash before the release)
            return Edit("attempt", "no change")
        if tally:  # a counter of its own beside the attempts (the witness's `witness_restarts`)
            before = doc.get(tally)
            doc[tally] = (before if type(before) is int and before > 0 else 0) + 1
        attempt = record(doc, retry, reason, now_iso())
        doc["updated_at"] = now_iso()
        counted.append(attempt)
        return Edit("attempt", f"attempt {attempt.count} on {bead}: {subject}"[:300], {bead: canonical(doc)},
                    [("Attempt", str(attempt.count)), *trailers])

    written = tracker.write(actor, build)
    return counted[0] if counted and written.commit is not None else None


def escalate(town: Path, actor: Signature, bead: str, attempt: Attempt, last: str, output: str = "") -> None:
    """The one escalation of a tripped breaker: the bead, its attempts, the last one and its output."""
    from gt.dispatch import escalations

    reason = f"the retry breaker stopped {bead} after {attempt.count} attempts (the last: {last})"
    if output:
        reason += f"\n\nLast gate output:\n{output}"
    escalations.escalate(town, actor, f"{bead} stopped after {attempt.count} attempts", severity="high",
                         reason=reason, related=bead, source=actor.name)


RECONCILE_PER_TICK = 20  # breaker escalations one Deacon tick writes at most


def reconcile(town: Path, actor: Signature) -> list[str]:
    """Escalate beads the breaker blocked whose escalation was never written (the process died
    between the two ledgers' commits): blocked, stopped by the breaker (`breaker_at`), and no
    escalation about them raised or updated since. Returns the beads escalated now."""
    from gt.dispatch import escalations
    from gt.errors import GtError
    from gt.model.bead import parse_time
    from gt.town.context import Town as Context

    stopped: list[tuple[str, int, float]] = []  # (bead, attempts, when the breaker stopped it)
    for view in Context.at(town).views():
        for bead in Tracker.select(view, statuses=["blocked"]):
            doc = Tracker.get(view, bead)
            when = parse_time(doc.get(BREAKER_AT))
            if when is not None and count(doc):
                stopped.append((bead, count(doc), when))
    if not stopped:
        return []
    latest: dict[str, float] = {}  # related bead -> the latest escalation about it
    for info in escalations.list_(town, include_all=True):
        if info["related"]:
            latest[info["related"]] = max(latest.get(info["related"], 0.0), parse_time(info["updated_at"]) or 0.0)
    raised: list[str] = []
    for bead, tried, when in stopped:
        if len(raised) >= RECONCILE_PER_TICK or latest.get(bead, 0.0) >= when:
            continue
        try:
            escalate(town, actor, bead, Attempt(tried, True, None), "its escalation was not written; found by the Deacon")
        except GtError:
            continue  # the next tick tries again
        raised.append(bead)
    return raised

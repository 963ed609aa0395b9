"""Escalations: beads of type `escalation` in the town ledger, routed by severity.

An escalation holds `escalation: {severity, reason, related, source, raised_by, count, notified_at,
notifications, acked_by, acked_at, closed_by}` (gt.model.schema checks it); its title is the
description, its `description` the reason it was first raised with. Its status is `open`, `acked`
(someone acknowledged it: `acked_by` is set) or `closed` (the bead is closed).

Raising one about a bead (`related`) that already has an escalation not yet closed (or, about no
bead, one with the same description and source) folds into it: `count` goes up, the latest reason
is kept, the more urgent severity wins, and nobody is told again unless the last notice is older
than the severity's `stale_after` (and nobody acknowledged it).
Notices are mail to the severity's `notify` addresses (the escalation and its mail are one ledger
commit) and, for high and critical ones, the settings' `command`, run with the escalation as JSON on
stdin (never through a shell; its output ignored; a failure is logged, never raised): from the
command line it runs before the command returns, from a patrol in a detached process of its own, so
a slow notifier never holds up supervision. Routing comes from this machine's settings
(`escalation:` in settings/config.yaml), never from a ledger.
`stale` notifies again about open, unacknowledged escalations whose last notice is older than their
severity's `stale_after`, raising each one severity (low → medium → high → critical) at most
`max_reescalations` times, as the original does.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from gt.errors import GtError, UsageError
from gt.ledger.store import Signature, View
from gt.model.bead import MAX_TITLE, canonical, check_text, check_title, is_closed, new_bead, parse_time, set_status
from gt.model.ids import is_id, resolve
from gt.model.schema import ESCALATION, MAX_REASON, SEVERITIES
from gt.beads.queries import full
from gt.beads.tracker import Edit, Tracker
from gt.town import layout, rundir
from gt.town.context import Town
from gt.town.settings import Escalation as Routing

PRIORITY = {"critical": 0, "high": 1, "medium": 2, "low": 3}  # the bead's priority for each severity
URGENT = ("critical", "high")  # the severities the configured command runs for
STATES = ("open", "acked", "closed")
OP = "escalation"  # the ledger op of every escalation commit (not `escalate`: that one counts against the work)
LOG = "escalations.log"  # under .runtime/logs/: what the configured command did when it failed


def check_severity(value: str) -> str:
    severity = str(value).strip().lower()
    if severity not in SEVERITIES:
        raise UsageError(f"invalid severity {value!r}: use critical, high, medium or low")
    return severity


def _iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _line(value: str, what: str) -> str:
    text = value.strip()
    if not text or len(text) > 1000 or any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise UsageError(f"{what} must be one line of text (at most 1000 characters)")
    return text


def routing(town: Path) -> Routing:
    """The `escalation:` settings of this machine's town settings."""
    return Town.at(town).settings().escalation


def stale_after(rules: Routing, severity: str) -> float:
    return float(getattr(rules.stale_after, severity))


def targets(town: Path, rules: Routing, severity: str) -> list[str]:
    """The addresses mail about a `severity` escalation goes to; an unknown one is skipped with a warning."""
    from gt.dispatch import mail

    found = []
    for address in getattr(rules.notify, severity):
        try:
            found.append(mail.check_address(town, address))
        except UsageError as exc:
            print(f"warning: escalation.notify.{severity}: {exc}", file=sys.stderr)
    return list(dict.fromkeys(found))


def summary(doc: dict[str, Any]) -> dict[str, Any]:
    """An escalation as commands show it."""
    found = doc.get(ESCALATION)
    esc: dict[str, Any] = found if isinstance(found, dict) else {}
    state = "closed" if is_closed(doc) else "acked" if esc.get("acked_by") else "open"
    severity = _severity_of(esc)
    return {
        "id": doc["id"], "title": doc.get("title"), "status": state, "severity": severity,
        "reason": esc.get("reason"), "related": esc.get("related"), "source": esc.get("source"),
        "raised_by": esc.get("raised_by") or doc.get("created_by"), "count": int(esc.get("count") or 1),
        "notifications": int(esc.get("notifications") or 0), "notified_at": esc.get("notified_at"),
        "acked_by": esc.get("acked_by"), "acked_at": esc.get("acked_at"), "closed_by": esc.get("closed_by"),
        "original_severity": esc.get("original_severity") or severity, "reescalations": int(esc.get("reescalations") or 0),
        "closed_at": doc.get("closed_at"), "close_reason": doc.get("close_reason"),
        "created_at": doc.get("created_at"), "updated_at": doc.get("updated_at"),
    }


def _severity_of(esc: dict[str, Any]) -> str:
    value = esc.get("severity")
    return value if isinstance(value, str) and value in SEVERITIES else "medium"


def _ids(view: View, open_only: bool = False) -> list[str]:
    return [i for i, d in Tracker.select(view, types=[ESCALATION]).items() if not (open_only and is_closed(d))]


def _docs(view: View, open_only: bool = False) -> list[dict[str, Any]]:
    """The escalations (`open_only`: those not closed, which is all a patrol reads)."""
    return full(view, _ids(view, open_only))


def _resolve(view: View, query: str) -> str:
    try:
        return resolve(query, _ids(view), str(view.config.get("prefix") or layout.TOWN_PREFIX))
    except GtError as exc:
        if exc.code == "not_found":
            raise GtError(f"no escalation {query.strip()[:80]}", code="not_found") from None
        raise


def _subject(doc: dict[str, Any]) -> str:
    """The mail's subject: `ESCALATED <bead>: <title>`, naming the related bead (else the escalation)."""
    esc = doc.get(ESCALATION) or {}
    subject = f"ESCALATED {esc.get('related') or doc['id']}: {doc['title']}"
    return subject if len(subject) <= MAX_TITLE else subject[:MAX_TITLE - 1] + "…"


def _age(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f}{unit}"
    return f"{seconds:.0f}s"


MAIL_REASON = 4000  # characters of the reason a notice carries
STALE_PER_RUN = 50  # escalations one `gt escalate stale` re-notifies at most (the oldest first)


def _body(doc: dict[str, Any], event: str, now: float) -> str:
    info = summary(doc)
    head = f"Escalation {info['id']} ({info['severity']}) raised by {info['raised_by']}"
    if info["source"] and info["source"] != info["raised_by"]:
        head += f" for {info['source']}"
    lines = [head + "."]
    if info["related"]:
        lines.append(f"About: {info['related']}")
    if event == "stale":
        waited = now - (parse_time(info["created_at"]) or now)
        lines.append(f"Still open and unacknowledged after {_age(waited)}.")
        if info["severity"] != info["original_severity"]:
            lines.append(f"Raised from {info['original_severity']} to {info['severity']} "
                         f"({info['reescalations']} time{'s' if info['reescalations'] != 1 else ''}).")
    if info["count"] > 1:
        lines.append(f"Raised {info['count']} times; the latest reason:")
    reason = str(info["reason"] or "(no reason given)")
    if len(reason) > MAIL_REASON:  # the whole reason stays on the escalation (gt escalate show)
        reason = reason[:MAIL_REASON] + f"\n… (cut: gt escalate show {info['id']} has all of it)"
    lines += ["", reason, "",
              f"Acknowledge: gt escalate ack {info['id']}    Close: gt escalate close {info['id']} --reason TEXT"]
    return "\n".join(lines)


def _message(view: View, sender: str, to: list[str], doc: dict[str, Any], event: str, now: float,
             taken: set[str]) -> dict[str, Any]:
    """A message about `doc` whose id is none of `taken` (the ids this commit creates)."""
    from gt.dispatch import mail

    while True:
        message = mail.message_doc(view, sender, to, _subject(doc), _body(doc, event, now),
                                   labels=("escalation", f"escalation:{doc['id']}"))
        if message["id"] not in taken:
            taken.add(message["id"])
            return message


def _same(doc: dict[str, Any], related: str | None, title: str, source: str) -> bool:
    """Whether a new escalation is a repeat of `doc`: about the same bead, or about none with the same
    description from the same source."""
    esc = doc.get(ESCALATION) or {}
    if related:
        return bool(esc.get("related") == related)
    return not esc.get("related") and doc.get("title") == title and esc.get("source") == source


def escalate(town: Path, actor: Signature, description: str, severity: str = "medium", reason: str | None = None,
             related: str | None = None, source: str | None = None, *, cc: tuple[str, ...] = (),
             now: float | None = None, wait: bool = False) -> dict[str, Any]:
    """Raise an escalation (one commit), or fold it into its repeat not yet closed (see `_same`).

    `cc`: addresses told along with the severity's (a polecat's witness), when anyone is told.
    `wait`: run the configured command before returning (the command line), not in the background.
    Returns the escalation (see `summary`) with `folded`, `notified` (the addresses told, empty when
    a repeat was not worth a notice) and `mail` (the message's id, or None)."""
    from gt.beads.operations import fresh_id

    severity = check_severity(severity)
    title = check_title(description)
    if reason is not None:
        check_text(reason, "reason")
        if len(reason) > MAX_REASON:
            raise UsageError(f"the reason is longer than {MAX_REASON} characters")
        reason = reason.strip() or None
    if related is not None:
        related = related.strip()
        if not is_id(related):
            raise UsageError(f"invalid bead id {related[:80]!r} for --related")
    source = _line(source, "the source") if source is not None else actor.name
    moment = time.time() if now is None else now
    stamp = _iso(moment)
    rules = routing(town)
    outcome: dict[str, Any] = {}

    def build(view: View) -> Edit:
        # fold into one nobody has taken up yet: once acknowledged, a repeat is news and is told again
        open_ones = [d for d in _docs(view, open_only=True) if _same(d, related, title, source)
                     and not (d.get(ESCALATION) or {}).get("acked_by")]
        if open_ones:
            oldest = min(open_ones, key=lambda d: parse_time(d.get("created_at")) or 0.0)
            doc = Tracker.get(view, oldest["id"])  # a copy: the view's documents are never changed
            esc = dict(doc.get(ESCALATION) or {})
            esc["count"] = int(esc.get("count") or 1) + 1
            if reason:
                esc["reason"] = reason
            current = _severity_of(esc)
            more_urgent = PRIORITY[severity] < PRIORITY[current]
            if more_urgent:
                esc["severity"] = current = severity
                doc["priority"] = PRIORITY[severity]
            last = parse_time(esc.get("notified_at")) or parse_time(doc.get("created_at")) or 0.0
            period = stale_after(rules, current)
            due = more_urgent or (period > 0 and moment - last >= period)
            event, folded = "repeat", True
        else:
            new = fresh_id(view, str(view.config.get("prefix")), None)
            esc = {"severity": severity, "reason": reason, "related": related, "source": source,
                   "raised_by": actor.name, "count": 1, "notifications": 0}
            doc = new_bead(new, title, actor=actor.name, now=stamp, type=ESCALATION, priority=PRIORITY[severity],
                           description=reason or "")
            current, due, event, folded = severity, True, "new", False
        to = list(dict.fromkeys(targets(town, rules, current) + list(cc))) if due else []
        if due:
            esc["notified_at"] = stamp
            esc["notifications"] = int(esc.get("notifications") or 0) + 1
        doc[ESCALATION] = {k: v for k, v in esc.items() if v is not None}
        doc["updated_at"] = stamp
        doc = canonical(doc)
        verb = f"escalation {doc['id']} raised again ({esc['count']} times)" if folded else \
            f"escalation {doc['id']} ({current}) by {actor.name}"
        edit = Edit(OP, f"{verb}: {title}"[:300], {doc["id"]: doc},
                    trailers=[("Escalation", doc["id"]), ("Severity", current)]
                    + ([("Related", related)] if related else []))
        message = _message(view, actor.name, to, doc, event, moment, {doc["id"]}) if to else None
        if message is not None:
            edit.beads[message["id"]] = message
        outcome.update(doc=doc, folded=folded, due=due, event=event, to=to,
                       mail=message["id"] if message else None)
        return edit

    Town.at(town).tracker().write(actor, build)
    doc = outcome["doc"]
    if outcome["due"]:
        notify(town, rules, {"event": outcome["event"], **summary(doc)}, wait)
    return {**summary(doc), "folded": outcome["folded"], "notified": outcome["to"], "mail": outcome["mail"]}


def list_(town: Path, include_all: bool = False) -> list[dict[str, Any]]:
    """Escalations not yet closed (all with `include_all`): most severe first, then oldest first."""
    view = Town.at(town).tracker().view()
    found = [summary(d) for d in _docs(view) if include_all or not is_closed(d)]
    found.sort(key=lambda e: (e["status"] == "closed", PRIORITY[e["severity"]], parse_time(e["created_at"]) or 0.0,
                              e["id"]))
    return found


def show(town: Path, escalation_id: str) -> dict[str, Any]:
    view = Town.at(town).tracker().view()
    doc = Tracker.get(view, _resolve(view, escalation_id))
    return {**summary(doc), "description": doc.get("description")}


def _change(town: Path, actor: Signature, escalation_id: str, op: str,
            apply: Any) -> dict[str, Any]:
    """Write what `apply(doc, esc, stamp)` changes (it returns the commit subject, or None: nothing to do)."""
    stamp = _iso(time.time())
    result: dict[str, Any] = {}

    def build(view: View) -> Edit:
        found = _resolve(view, escalation_id)
        doc = Tracker.get(view, found)
        esc = dict(doc.get(ESCALATION) or {})
        subject = apply(doc, esc, stamp)
        result["changed"] = subject is not None
        if subject is None:
            result["doc"] = doc
            return Edit(op, "no change")
        doc[ESCALATION] = esc
        doc["updated_at"] = stamp
        doc = result["doc"] = canonical(doc)
        return Edit(op, subject[:300], {found: doc}, trailers=[("Escalation", found)])

    Town.at(town).tracker().write(actor, build)
    return {**summary(result["doc"]), "changed": result["changed"]}


def ack(town: Path, actor: Signature, escalation_id: str) -> dict[str, Any]:
    """Acknowledge: someone is on it; `stale` and repeats notify nobody about it any more."""
    def apply(doc: dict[str, Any], esc: dict[str, Any], stamp: str) -> str | None:
        if is_closed(doc):
            raise GtError(f"{doc['id']} is closed: nothing to acknowledge", code="refused")
        if esc.get("acked_by"):
            return None
        esc.update(acked_by=actor.name, acked_at=stamp)
        return f"escalation {doc['id']} acknowledged by {actor.name}"

    return _change(town, actor, escalation_id, f"{OP}-ack", apply)


def close(town: Path, actor: Signature, escalation_id: str, reason: str | None = None) -> dict[str, Any]:
    """Close it (resolved); closing a closed one changes nothing."""
    if reason is not None:
        reason = _line(reason, "the reason")

    def apply(doc: dict[str, Any], esc: dict[str, Any], stamp: str) -> str | None:
        if is_closed(doc):
            return None
        set_status(doc, "closed", stamp, reason)
        esc["closed_by"] = actor.name
        return f"escalation {doc['id']} closed by {actor.name}" + (f": {reason}" if reason else "")

    return _change(town, actor, escalation_id, f"{OP}-close", apply)


def _raised(severity: str) -> str:
    """The next severity up: low -> medium -> high -> critical."""
    return SEVERITIES[max(0, SEVERITIES.index(severity) - 1)]


def stale(town: Path, actor: Signature, now: float | None = None, wait: bool = False) -> list[dict[str, Any]]:
    """Notify again about every open, unacknowledged escalation whose last notice is older than its
    severity's `stale_after`, raised one severity while `max_reescalations` allows (one commit);
    returns those, each with `notified`, `mail` and `raised_from` (the severity before, or None)."""
    moment = time.time() if now is None else now
    stamp = _iso(moment)
    rules = routing(town)
    told: list[dict[str, Any]] = []

    def build(view: View) -> Edit:
        told.clear()
        edit = Edit(f"{OP}-stale", "no change")
        taken: set[str] = set()
        for doc in sorted(_docs(view, open_only=True), key=lambda d: (parse_time(d.get("created_at")) or 0.0, d["id"])):
            info = summary(doc)
            severity: str = info["severity"]
            if info["status"] != "open" or len(told) >= STALE_PER_RUN:
                continue
            period = stale_after(rules, severity)
            last = parse_time(info["notified_at"]) or parse_time(info["created_at"]) or 0.0
            if period <= 0 or moment - last < period:
                continue
            before = severity
            if severity != SEVERITIES[0] and info["reescalations"] < rules.max_reescalations:
                severity = _raised(severity)
            to = targets(town, rules, severity)
            if not to and not (rules.command and severity in URGENT):
                continue  # nobody to tell
            doc = Tracker.get(view, doc["id"])  # a copy: the view's documents are never changed
            esc = dict(doc.get(ESCALATION) or {})
            esc.update(notified_at=stamp, notifications=int(esc.get("notifications") or 0) + 1)
            if severity != before:
                esc.update(severity=severity, original_severity=esc.get("original_severity") or before,
                           reescalations=info["reescalations"] + 1)
                doc["priority"] = PRIORITY[severity]
            doc[ESCALATION] = esc
            doc["updated_at"] = stamp
            doc = canonical(doc)
            edit.beads[doc["id"]] = doc
            taken.add(doc["id"])
            message = _message(view, actor.name, to, doc, "stale", moment, taken) if to else None
            if message is not None:
                edit.beads[message["id"]] = message
            told.append({**summary(doc), "notified": to, "mail": message["id"] if message else None,
                         "waited_seconds": round(moment - last, 3), "raised_from": before if severity != before else None})
        if told:
            edit.subject = f"escalations still open: {', '.join(t['id'] for t in told)}"[:300]
            edit.trailers = [("Escalation", t["id"]) for t in told]
        return edit

    Town.at(town).tracker().write(actor, build)
    for item in told:
        notify(town, rules, {"event": "stale", **item}, wait)
    return told


_NOTIFIERS: list[subprocess.Popen[bytes]] = []  # detached notifiers of this process, reaped as they end


def notify(town: Path, rules: Routing, payload: dict[str, Any], wait: bool) -> None:
    """Run the configured command about `payload` now (`wait`), or in a detached process of its own
    (the payload in a private file under .runtime/notify/, so a large reason never blocks a pipe)."""
    if not rules.command or payload.get("severity") not in URGENT:
        return
    if wait:
        run_command(town, rules, payload)
        return
    for proc in list(_NOTIFIERS):
        if proc.poll() is not None:
            _NOTIFIERS.remove(proc)
    folder = rundir.folder(town, "notify")
    job = folder / f"{os.getpid()}-{time.time_ns()}.json"
    try:
        rundir.write_private(job, json.dumps({"town": str(town), "payload": payload}, ensure_ascii=False).encode())
        # -P and a private folder as the working directory: nothing beside the town is imported
        _NOTIFIERS.append(subprocess.Popen([sys.executable, "-P", "-m", __name__, str(town), str(job)],
                                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                           stderr=subprocess.DEVNULL, cwd=folder, start_new_session=True))
    except (OSError, ValueError) as exc:
        job.unlink(missing_ok=True)
        _log(town, payload, f"cannot start the notifier: {exc}")


def _notify_from_file(town: Path, job: Path) -> None:
    """The detached notifier (`notify` without `wait`): this machine's settings' command, the payload
    from the job file (removed once read); whatever goes wrong is logged."""
    payload: dict[str, Any] = {}
    try:
        with open(job, "rb") as f:
            data = f.read(MAX_REASON * 8)
        job.unlink(missing_ok=True)
        found = json.loads(data).get("payload")
        payload = found if isinstance(found, dict) else {}
        run_command(town, routing(town), payload)
    except Exception as exc:  # settings that do not load, a damaged job: said in the log, never lost silently
        _log(town, payload, f"the notifier failed: {exc}")


def run_command(town: Path, rules: Routing, payload: dict[str, Any]) -> bool:
    """Run the settings' `command` for a high or critical escalation: the argv as written (no shell),
    in the town, the escalation as JSON on stdin, its output discarded, killed after `command_timeout`
    seconds (at least 1). True when it ran and exited 0; a failure is logged, never raised."""
    if not rules.command or payload.get("severity") not in URGENT:
        return False
    argv = list(rules.command)
    data = json.dumps({**payload, "town": str(town)}, ensure_ascii=False).encode("utf-8")
    limit = max(float(rules.command_timeout), 1.0)
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                cwd=town, start_new_session=True)
    except (OSError, ValueError) as exc:
        _log(town, payload, f"cannot run {argv[0]!r}: {exc}")
        return False
    try:
        proc.communicate(data, timeout=limit)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            pass
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        _log(town, payload, f"{argv[0]} did not finish within {limit:g} s: killed")
        return False
    if proc.returncode != 0:
        _log(town, payload, f"{argv[0]} exited {proc.returncode}")
        return False
    return True


def _log(town: Path, payload: dict[str, Any], problem: str) -> None:
    line = f"escalation {payload.get('id')}: escalation.command: {problem}"
    print(f"warning: {line}", file=sys.stderr)
    try:
        path = rundir.folder(town, "logs") / LOG
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_NOFOLLOW", 0), 0o600)
        with os.fdopen(fd, "a", encoding="utf-8", errors="backslashreplace") as f:
            f.write(f"{_iso(time.time())} {line}\n")
    except OSError:
        pass  # the warning above said it


if __name__ == "__main__":
    _notify_from_file(Path(sys.argv[1]), Path(sys.argv[2]))

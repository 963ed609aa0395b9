"""Mail: beads of type `message` in the town ledger, addressed to identities (and `overseer`, the human).

A message holds `mail: {from, to, reply_to}`; each recipient's read and archived marks are labels
(`read:<identity>`, `archived:<identity>`), which merge as sets across machines. The town's own
mail (from a refinery, witness, deacon or polecat) names the bead it concerns right after its keyword
in the subject (`FIX_NEEDED gz-a3f8k`, `REBASE_NEEDED …`, `MERGED …`, `ESCALATED …: title`,
`RECOVERED_BEAD …`): see `concerns`.
Nudges are not mail: see gt/town/rundir.py.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from gt.errors import GtError, UsageError
from gt.ledger.store import Signature, View
from gt.model.bead import canonical, check_text, check_title, new_bead, now_iso
from gt.model.ids import is_id
from gt.town import layout
from gt.town.identity import Identity, detect, parse
from gt.beads.queries import full
from gt.beads.tracker import Edit, Tracker
from gt.town.context import Town

OVERSEER = "overseer"
MESSAGE = "message"
# The keywords of the town's own mail: the refinery's FIX_NEEDED, REBASE_NEEDED (to the polecat) and
# MERGED (to the witness); the witness's ESCALATED and RECOVERED_BEAD (to the mayor); `gt done
# --status ESCALATED`'s ESCALATED (to the witness and the mayor).
KEYWORDS = ("FIX_NEEDED", "REBASE_NEEDED", "MERGED", "ESCALATED", "RECOVERED_BEAD")
KEYWORD_SUBJECT = re.compile(rf"(?:{'|'.join(KEYWORDS)}) (\S+?):?(?:\s|$)")  # `ESCALATED gz-a3f8k: …`
TOWN_SENDERS = ("refinery", "witness", "deacon", "polecat")  # the roles that send it


def concerns(message: dict[str, Any]) -> str | None:
    """The bead a message is about: the id after a keyword of the town's own mail (`FIX_NEEDED gz-a3f8k`)
    from one of the roles that send it; None for other mail (a person's mail, or the mayor's, crew's or
    overseer's, is never parsed for ids: `URGENT gz-a3f8k reopen` concerns a person, not the prime)."""
    mail = message.get("mail")
    sender = mail.get("from") if isinstance(mail, dict) else None
    if not isinstance(sender, str) or parse(sender).role not in TOWN_SENDERS:
        return None
    match = KEYWORD_SUBJECT.match(str(message.get("title") or ""))
    found = match.group(1) if match else None  # as written: ids keep their case
    return found if found and is_id(found) else None


def identity(explicit: str | None) -> Identity:
    """Who reads mail here: in the town but outside any agent home, the human is the overseer."""
    who = detect(explicit, None)
    if who.role == "human" and explicit is None and layout.find_town() is not None:
        return Identity(OVERSEER, "human", None, None, "town, outside agent homes")
    return who


def check_address(town: Path, address: str) -> str:
    """A known identity of the town (or `overseer`); anything else is refused."""
    from gt.town.rigs import registry

    who = parse(address)
    rigs = registry(town)
    known = (
        address in (OVERSEER, "mayor", "deacon")
        or (who.role == "dog" and (town / "deacon" / "dogs" / str(who.agent)).is_dir())
        or (who.role in ("witness", "refinery") and who.rig in rigs)
        or (who.role == "crew" and who.rig in rigs
            and (layout.rig_dir(town, who.rig) / "crew" / str(who.agent)).exists())
        or (who.role == "polecat" and who.rig in rigs and _polecat_known(town, who))
    )
    if not known:
        raise UsageError(f"unknown address {address!r}: use an identity of this town (mayor, <rig>/witness, "
                         "<rig>/polecats/<name>, …) or overseer")
    return address


def _polecat_known(town: Path, who: Identity) -> bool:
    from gt.dispatch import agents

    if (layout.rig_dir(town, str(who.rig)) / "polecats" / str(who.agent)).exists():
        return True
    return agents.record(Town.at(town).tracker_of(who.name).view(), who.name) is not None


def message_doc(view: View, sender: str, to: list[str], subject: str, body: str, reply_to: str | None = None,
                labels: tuple[str, ...] = ()) -> dict[str, Any]:
    from gt.beads.operations import fresh_id

    new = fresh_id(view, str(view.config.get("prefix", layout.TOWN_PREFIX)), None)
    mail = {"from": sender, "to": to}
    if reply_to:
        mail["reply_to"] = reply_to
    deps = [{"type": "replies-to", "target": reply_to}] if reply_to else []
    return new_bead(new, subject, actor=sender, now=now_iso(), type=MESSAGE, description=body, mail=mail,
                    labels=list(labels), dependencies=deps)


def send(town: Path, actor: Signature, to: list[str], subject: str, body: str, reply_to: str | None = None,
         labels: tuple[str, ...] = (), check: bool = True) -> dict[str, Any]:
    """Send one message to every address in `to` (one commit)."""
    if not to:
        raise UsageError("to whom? give at least one address")
    to = list(dict.fromkeys(check_address(town, a) if check else a for a in to))
    subject = check_title(subject)
    check_text(body, "body")

    def build(view: View) -> Edit:
        doc = message_doc(view, actor.name, to, subject, body, reply_to, labels)
        return Edit("mail", f"mail {doc['id']} to {', '.join(to)}: {subject}", {doc["id"]: doc}, result=doc)

    doc: dict[str, Any] = Town.at(town).tracker().write(actor, build).result
    return doc


def inbox(town: Path, reader: str, include_archived: bool = False, unread_only: bool = False) -> list[dict[str, Any]]:
    """Messages to `reader`, oldest first, each with `read` for that reader."""
    view = Town.at(town).tracker().view()
    found = []
    for doc in Tracker.select(view, types=[MESSAGE]).values():
        mail = doc.get("mail") or {}
        if reader not in (mail.get("to") or ()):
            continue
        labels = doc.get("labels") or ()
        if f"archived:{reader}" in labels and not include_archived:
            continue
        read = f"read:{reader}" in labels
        if unread_only and read:
            continue
        found.append((doc.get("_created", 0.0), doc["id"], read))
    found.sort()
    docs = {d["id"]: d for d in full(view, [i for _, i, _ in found])}
    return [{**docs[i], "read": read} for _, i, read in found]


def _mark(town: Path, actor: Signature, reader: str, message_id: str, label: str, verb: str) -> dict[str, Any]:
    def build(view: View) -> Edit:
        found = Tracker.resolve(view, message_id)
        doc = Tracker.get(view, found)
        if doc.get("type") != MESSAGE:
            raise GtError(f"{found} is not a message", code="refused")
        if reader not in ((doc.get("mail") or {}).get("to") or ()) and reader != (doc.get("mail") or {}).get("from"):
            raise GtError(f"{found} is not addressed to {reader}", code="refused")
        mark = f"{label}:{reader}"
        if mark in (doc.get("labels") or ()):
            return Edit(verb, "no change", result=doc)
        doc["labels"] = list(doc.get("labels") or ()) + [mark]
        doc["updated_at"] = now_iso()
        doc = canonical(doc)
        return Edit(verb, f"{verb} {found} by {reader}", {found: doc}, result=doc)

    doc: dict[str, Any] = Town.at(town).tracker().write(actor, build).result
    return doc


def read(town: Path, actor: Signature, reader: str, message_id: str) -> dict[str, Any]:
    """The message, marked read for `reader`."""
    return _mark(town, actor, reader, message_id, "read", "read")


def archive(town: Path, actor: Signature, reader: str, message_id: str) -> dict[str, Any]:
    return _mark(town, actor, reader, message_id, "archived", "archive")


def reply(town: Path, actor: Signature, message_id: str, body: str) -> dict[str, Any]:
    view = Town.at(town).tracker().view()
    original = Tracker.get(view, Tracker.resolve(view, message_id))
    sender = (original.get("mail") or {}).get("from")
    if not isinstance(sender, str):
        raise GtError(f"{original['id']} is not a message with a sender", code="refused")
    subject = original.get("title", "")
    subject = subject if subject.lower().startswith("re:") else f"Re: {subject}"
    return send(town, actor, [sender], subject, body, reply_to=original["id"], check=False)

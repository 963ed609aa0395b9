"""`gt prime`: the prompt an agent starts with and re-reads after a context reset.

Who you are, what your role does, the commands you use, then the bead on your hook in full (with
its convoy and any handoff mail) and the instruction to run it. Every line costs tokens on every
start, so it stays within `BUDGET` tokens (as `estimate_tokens` counts them): a bead's long fields
are cut, saying so, the description first in line (its `gt-script` block kept whole when it fits),
then the acceptance criteria, design, notes and comments. Mail about a bead that has landed
(closed), other than the one on the hook, is stale: neither shown nor counted.
"""
from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from gt.town.identity import Identity

BUDGET = 1500  # tokens: the most a prime costs, whatever the bead holds
FLOOR = 120  # tokens each of a bead's other fields keeps however long its description is
SHOWN_MAIL = 5  # unread messages listed by subject
SHOWN_NUDGES = 10
SHOWN_COMMENTS = 5
SHOWN_HANDOFFS = 2  # the newest handoff notes shown; older ones are named by id
SHOWN_IDS = 5  # ids named on the line of older handoffs
NUDGE_TOKENS = 80  # each nudge
NUDGES_TOKENS = 200  # the nudges together (the newest first)
SUBJECT_TOKENS = 50
HANDOFF_TOKENS = 400  # the handoffs together: headers, notes and the line naming older ones
HANDOFF_HEADER_TOKENS = 40
TITLE_TOKENS = 80  # the hooked bead's title line
LINE_TOKENS = 40  # its branch, convoy and attempt lines
BEAD_ROOM = 600  # tokens the bead's fields keep, when they need them, before handoffs, nudges and mail
SQUEEZE = (1.0, 0.5, 0.25)  # what handoffs, nudges and mail subjects keep of their budgets to leave it
LEFT_OUT = re.compile(r"^\((\d+) earlier nudges wait: ", re.M)  # the line _nudge_lines writes
PIECES = re.compile(r"\w+|[^\w\s]")

ROLES = {
    "polecat": (
        "You are a polecat: a transient worker with your own worktree and branch. Work only on the bead on\n"
        "your hook; commit with git (your identity is set). When the work is committed and tests pass, run\n"
        "`gt done` (to the refinery's merge queue). Stuck: `gt done --status ESCALATED -m WHY`. Cannot do\n"
        "it: `gt done --status DEFERRED -m WHY`."
    ),
    "crew": (
        "You are crew: a persistent, human-directed worker with your own clone. Push finished work to the\n"
        "default branch yourself (`git push origin HEAD:main`); close beads with `bd close ID`."
    ),
    "mayor": (
        "You are the mayor: the town's coordinator. File beads, group them in convoys (`gt convoy create`),\n"
        "and sling ready work to rigs (`gt sling BEAD RIG`). Watch `gt convoy status` and your mail."
    ),
    "witness": "You are the witness of rig {rig}: you watch its polecats, nudge or restart stalled ones, and escalate.",
    "refinery": "You are the refinery of rig {rig}: you merge finished work from the merge queue onto the default branch.",
    "deacon": "You are the deacon: you supervise the town's agents and run the dogs' infrastructure work.",
    "dog": "You are a dog, one of the deacon's helpers: infrastructure work only, never project work.",
    "human": "You are {name}, a human in the town (the overseer for mail).",
}
COMMANDS = ("Commands: `bd show ID`, `bd comment ID TEXT`, `gt mail inbox`, `gt mail read ID`, "
            "`gt mail send ADDR -s SUBJECT -m BODY`, `gt handoff -s SUBJECT -m NOTE` (before your context fills up), "
            "`gt prime` (this again).")
RUN_IT = "If you find something on your hook, you run it: start now, without asking."
FIELDS = (("description", "Description"), ("design", "Design"), ("acceptance_criteria", "Acceptance criteria"),
          ("notes", "Notes"), ("comments", "Comments"))  # as shown
PRIORITY = ("description", "acceptance_criteria", "design", "notes", "comments")  # who gets the budget first


def estimate_tokens(text: str) -> int:
    """A conservative count of the tokens `text` costs a model: one per 3.5 characters, or one per word
    and punctuation mark, whichever is more."""
    return max(math.ceil(len(text) / 3.5), len(PIECES.findall(text)))


def prime(town: Path, who: Identity, drain: bool = True) -> dict[str, Any]:
    """The structured prime (identity, role, rig, hook, agent, convoy, handoff, nudges, unread_mail) and
    its `text`, the prompt (`gt prime --json` leaves the text out)."""
    from gt.dispatch import agents, convoys, mail
    from gt.town import rundir

    record, bead = agents.on_hook(town, who.name) if who.role != "human" else (None, None)
    convoy = None
    if bead:
        ids = convoys.tracking(town, [bead["id"]]).get(bead["id"], [])
        if ids:
            convoy = convoys.status(town, ids[0])[0]
    unread = current_mail(town, mail.inbox(town, who.name, unread_only=True), bead["id"] if bead else None)
    handoffs = [m for m in unread if "handoff" in (m.get("labels") or ())]
    others = [m for m in unread if "handoff" not in (m.get("labels") or ())]
    nudges = rundir.drain_nudges(town, who.name) if drain else []
    data = {"identity": who.name, "role": who.role, "rig": who.rig, "hook": bead,
            "agent": {k: record.get(k) for k in ("state", "model", "agent", "branch")} if record else None,
            "convoy": {"id": convoy["id"], "title": convoy["title"],
                       "progress": f"{convoy['completed']}/{convoy['total']}"} if convoy else None,
            "handoff": handoffs, "nudges": nudges, "unread_mail": len(others),
            "attempt": agents.attempt(town, who.name, bead["id"]) if bead else None,
            "molecule": _molecule(town, bead)}
    data["text"] = render(data, who, [(m["id"], str((m.get("mail") or {}).get("from")), m.get("title", ""))
                                      for m in others])
    left = LEFT_OUT.search(str(data["text"]))
    if drain and left:  # the oldest ones did not fit: back in the queue, delivered once all the same
        for nudge in nudges[:int(left.group(1))]:
            rundir.nudge(town, who.name, str(nudge.get("message")), str(nudge.get("from")))
    return data


def _molecule(town: Path, bead: dict[str, Any] | None) -> dict[str, Any] | None:
    """The molecule whose root is on the hook: its progress, current and next steps (None: a plain bead)."""
    from gt.beads.molecules import root_info

    if not bead or root_info(bead) is None:
        return None
    from gt.beads.molecules import molecule
    from gt.dispatch.molecules import summary
    from gt.town.context import routed

    return summary(molecule(routed([bead["id"]]).view(), str(bead["id"])))


def current_mail(town: Path, messages: list[dict[str, Any]], hooked: str | None) -> list[dict[str, Any]]:
    """`messages` without the stale ones: those about a bead that is closed, other than `hooked`."""
    from gt.beads.tracker import Lookup
    from gt.dispatch.mail import concerns
    from gt.town.context import Town

    ctx = Town.at(town)
    statuses: dict[str, str | None] = {}
    kept = []
    for message in messages:
        bead = concerns(message)
        if bead and bead != hooked:
            if bead not in statuses:
                tracker = ctx.tracker_for(bead)
                found = Lookup(tracker.view()).get(bead) if tracker and tracker.ledger.exists() else None
                statuses[bead] = (found or {}).get("status")
            if statuses[bead] == "closed":
                continue
        kept.append(message)
    return kept


def render(data: dict[str, Any], who: Identity, mail: list[tuple[str, str, str]] | None = None,
           budget: int = BUDGET) -> str:
    """The prompt, within `budget` tokens: the role, commands and bead lines whole; handoffs, nudges
    and mail subjects within their budgets (squeezed when the bead's fields would otherwise keep less
    than BEAD_ROOM); the bead's long fields cut to what is left."""
    bead = data["hook"]
    fields = _fields(bead) if bead else {}
    cost = {k: estimate_tokens(v) for k, v in fields.items()}
    need = min(BEAD_ROOM, sum(cost.values()))
    room, squeeze = 0, 1.0
    for squeeze in SQUEEZE:
        bare = _render(data, who, mail or [], {k: "" for k in fields}, squeeze)
        room = budget - estimate_tokens(bare) - 5 * len(fields)
        if room >= need:
            break
    text = ""
    for _ in range(5):  # the estimate of the whole can differ a little from the sum of its parts
        text = _render(data, who, mail or [], _fit_fields(bead, fields, cost, room) if bead else {}, squeeze)
        over = estimate_tokens(text) - budget
        if over <= 0 or not fields:
            break
        room -= over + 10
    return text


def _fields(bead: dict[str, Any]) -> dict[str, str]:
    found = {key: str(bead.get(key) or "").rstrip() for key, _ in FIELDS if key != "comments"}
    found["comments"] = "\n".join(_comment_lines(bead))
    return {k: v for k, v in found.items() if v}


def _comment_lines(bead: dict[str, Any]) -> list[str]:
    comments = bead.get("comments") or []
    lines = [f"- {c.get('author')}: {str(c.get('text') or '').strip()}" for c in comments[-SHOWN_COMMENTS:]]
    return ([f"({len(comments) - SHOWN_COMMENTS} earlier comments left out)"] if len(comments) > SHOWN_COMMENTS
            else []) + lines


def _cut_comments(bead: dict[str, Any], tokens: int, notice: str) -> str:
    """The newest comments within `tokens`, oldest first, each cut at its end if need be."""
    room = tokens - estimate_tokens(notice) - 2
    kept: list[str] = []
    for line in reversed([line for line in _comment_lines(bead) if line.startswith("- ")]):
        if room < 15:
            break
        kept.append(line if estimate_tokens(line) <= room else _prefix(line, room - 1) + " …")
        room -= estimate_tokens(kept[-1]) + 1
    return "\n".join([notice, *reversed(kept)])


def _fit_fields(bead: dict[str, Any], fields: dict[str, str], cost: dict[str, int], room: int) -> dict[str, str]:
    """Each field (of `cost` tokens) cut to its share of `room` tokens: the other fields keep up to
    FLOOR each, the description takes what it needs of the rest, then the others in PRIORITY order."""
    if sum(cost.values()) <= room:
        return fields
    share = {k: min(cost[k], FLOOR) for k in fields if k != "description"}
    if "description" in fields:
        share["description"] = max(0, min(cost["description"], room - sum(share.values())))
    left = room - sum(share.values())
    for key in PRIORITY:
        if key in fields and key != "description" and left > 0:
            extra = min(cost[key] - share[key], left)
            share[key] += extra
            left -= extra
    if left < 0:  # not even the floors fit: every field gets a part of what there is
        share = {k: max(0, room * v // max(1, sum(share.values()))) for k, v in share.items()}
    out = {}
    for key, text in fields.items():
        if cost[key] <= share[key]:
            out[key] = text
        elif key == "comments":
            out[key] = _cut_comments(bead, share[key], truncated(f"bd comments {bead['id']}"))
        else:
            out[key] = cut(text, share[key], truncated(f"bd show {bead['id']}"))
    return out


def truncated(command: str) -> str:
    """The line that says a text was cut, and how to read all of it."""
    return f"… (truncated: run `{command}` for all of it)"


def cut(text: str, tokens: int, notice: str) -> str:
    """`text` within `tokens` (as estimated), ending with `notice` when anything was left out. A
    `gt-script` block is kept whole when it fits."""
    if estimate_tokens(text) <= tokens:
        return text
    room = tokens - estimate_tokens(notice) - 2
    from gt.model.bead import SCRIPT_BLOCK

    block = SCRIPT_BLOCK.search(text)
    if block and estimate_tokens(block.group(0)) + 4 <= room:
        rest = room - estimate_tokens(block.group(0)) - 4
        before = _prefix(text[:block.start()], rest)
        after = _prefix(text[block.end():], rest - estimate_tokens(before))
        return "".join([before, " […]\n\n" if len(before) < block.start() else "", block.group(0),
                        after.rstrip(), "\n", notice])
    return _prefix(text, max(0, room)).rstrip() + "\n" + notice


def _line(text: str, tokens: int) -> str:
    """`text` on one line within `tokens`, ending with `…` when cut."""
    text = " ".join(text.split())
    return text if estimate_tokens(text) <= tokens else _prefix(text, tokens - 2) + " …"


def _prefix(text: str, tokens: int) -> str:
    """The longest start of `text` within `tokens`, ending at a space or line end when one is near."""
    if estimate_tokens(text) <= tokens:
        return text
    low, high = 0, min(len(text), int(tokens * 3.5) + 1)  # a token is at least 3.5 characters here
    while low < high:
        middle = (low + high + 1) // 2
        if estimate_tokens(text[:middle]) <= tokens:
            low = middle
        else:
            high = middle - 1
    found = text[:low]
    space = max(found.rfind(" "), found.rfind("\n"))
    return found[:space] if space > low * 0.8 else found


def _handoff_lines(handoffs: list[dict[str, Any]], budget: int = HANDOFF_TOKENS) -> list[str]:
    """The newest SHOWN_HANDOFFS handoff notes (oldest first), after one line naming the older ones,
    all within `budget` tokens: each note is cut to its share of what the lines around it leave."""
    if not handoffs:
        return []
    shown, older = handoffs[-SHOWN_HANDOFFS:], handoffs[:-SHOWN_HANDOFFS]
    out = []
    if older:
        named = ", ".join(str(m["id"]) for m in older[-SHOWN_IDS:])
        more = f" and {len(older) - SHOWN_IDS} more (`gt mail inbox`)" if len(older) > SHOWN_IDS else ""
        out += ["", _line(f"Older handoffs ({len(older)}; `gt mail read ID`): {named}{more}", LINE_TOKENS + 20)]
    headers = [_line(f"## Handoff from your previous session ({m['id']}): {m.get('title') or ''}",
                     HANDOFF_HEADER_TOKENS) for m in shown]
    room = (budget - sum(estimate_tokens(line) + 1 for line in [*out, *headers])) // len(shown) - 2
    for header, message in zip(headers, shown):
        out += ["", header, cut(str(message.get("description") or "").rstrip(), room,
                                truncated(f"gt mail read {message['id']}"))]
    return out


def _nudge_lines(nudges: list[dict[str, Any]], budget: int = NUDGES_TOKENS) -> list[str]:
    """The newest nudges (at most SHOWN_NUDGES, each within NUDGE_TOKENS), oldest first, within
    `budget` tokens together, after a line counting those left out."""
    kept: list[str] = []
    room = budget - 10  # the line counting the others
    for nudge in reversed(nudges[-SHOWN_NUDGES:]):
        line = _line(f"Nudge from {nudge.get('from')}: {nudge.get('message')}", min(NUDGE_TOKENS, room))
        if room < 15 or estimate_tokens(line) > room:
            break
        kept.append(line)
        room -= estimate_tokens(line) + 1
    left = len(nudges) - len(kept)
    return ([f"({left} earlier nudges wait: `gt mail check` shows them)"] if left else []) + kept[::-1]


def _render(data: dict[str, Any], who: Identity, mail: list[tuple[str, str, str]], fields: dict[str, str],
            squeeze: float = 1.0) -> str:
    role = ROLES.get(who.role, ROLES["human"]).format(rig=who.rig, name=who.name)
    out = [_line(f"# Gas Town: you are {who.name} ({who.role})", LINE_TOKENS), role, COMMANDS]
    out += _handoff_lines(data["handoff"], int(HANDOFF_TOKENS * squeeze))
    if data["nudges"] or mail:
        out.append("")
    out += _nudge_lines(data["nudges"], int(NUDGES_TOKENS * squeeze))
    if mail:
        out.append(f"Unread mail ({len(mail)}; `gt mail read ID`):")
        if len(mail) > SHOWN_MAIL:
            out.append(f"- … {len(mail) - SHOWN_MAIL} earlier: `gt mail inbox`")
        for message_id, sender, subject in mail[-SHOWN_MAIL:]:
            out.append(_line(f"- {message_id} from {sender}: {subject}", max(20, int(SUBJECT_TOKENS * squeeze))))
    bead = data["hook"]
    if not bead:
        out += ["", "Your hook is empty: nothing to run. Check `gt mail inbox`, or wait for work."]
        return "\n".join(out).rstrip() + "\n"
    out += ["", _line(f"## On your hook: {bead['id']}: {bead['title']}", TITLE_TOKENS),
            f"Type: {_line(str(bead.get('type')), 10)}   Priority: P{_line(str(bead.get('priority')), 5)}   "
            f"Status: {_line(str(bead.get('status')), 10)}"]
    if data["agent"] and data["agent"].get("branch"):
        out.append(_line(f"Branch: {data['agent']['branch']}", LINE_TOKENS))
    if data["convoy"]:
        c = data["convoy"]
        out.append(_line(f"Convoy: {c['id']} ({c['progress']} done): {c['title']}", LINE_TOKENS))
    if (data.get("attempt") or 1) > 1:
        out.append(f"Attempt {data['attempt']}: sent back {data['attempt'] - 1}x (your mail says why); "
                   "first rebase onto $GT_TARGET_BRANCH.")
    if data.get("molecule"):
        from gt.dispatch.molecules import prime_lines

        out += [_line(line, LINE_TOKENS + 10) if line else line for line in prime_lines(data["molecule"])]
    for key, title in FIELDS:
        if key in fields:
            out += ["", f"### {title}", fields[key]]
    out += ["", RUN_IT]
    return "\n".join(out) + "\n"

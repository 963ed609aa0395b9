"""`gt prime`: the prompt an agent starts with and re-reads after a context reset.

Who you are, what your role does, the commands you use, then the bead on your hook in full (with
its convoy and any handoff mail) and the instruction to run it. Every line costs tokens on every
start, so it stays short.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from gt.town.identity import Identity

ROLES = {
    "polecat": (
        "You are a polecat: a transient worker in rig {rig}, in your own worktree and branch.\n"
        "Work only on the bead on your hook. Commit with git (your identity is configured). When the work is\n"
        "committed and tests pass, run `gt done`; it goes to the refinery's merge queue. Stuck: `gt done\n"
        "--status ESCALATED -m WHY`. Cannot do it: `gt done --status DEFERRED -m WHY`."
    ),
    "crew": (
        "You are crew: a persistent, human-directed worker in rig {rig} with your own clone.\n"
        "Push finished work to the default branch yourself (`git push origin HEAD:main`); close beads with `bd close`."
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
COMMANDS = ("Commands: `gt hook` (your work), `bd show ID`, `bd comment ID TEXT`, `gt mail inbox`, "
            "`gt mail send ADDR -s SUBJECT -m BODY`, `gt handoff -s SUBJECT -m NOTE` (before your context fills up).")
RUN_IT = "If you find something on your hook, you run it: start now, without asking."


def prime(town: Path, who: Identity, drain: bool = True) -> dict[str, Any]:
    from gt.town import rundir
    from gt.dispatch import agents, convoys, mail

    record, bead = agents.on_hook(town, who.name) if who.role != "human" else (None, None)
    convoy = None
    if bead:
        ids = convoys.tracking(town, [bead["id"]]).get(bead["id"], [])
        if ids:
            convoy = convoys.status(town, ids[0])[0]
    unread = mail.inbox(town, who.name, unread_only=True)
    handoffs = [m for m in unread if "handoff" in (m.get("labels") or ())]
    nudges = rundir.drain_nudges(town, who.name) if drain else []
    data = {"identity": who.name, "role": who.role, "rig": who.rig, "hook": bead,
            "agent": {k: record.get(k) for k in ("state", "model", "agent", "branch")} if record else None,
            "convoy": {"id": convoy["id"], "title": convoy["title"],
                       "progress": f"{convoy['completed']}/{convoy['total']}"} if convoy else None,
            "handoff": handoffs, "nudges": nudges, "unread_mail": len(unread) - len(handoffs)}
    data["text"] = render(data, who)
    return data


def render(data: dict[str, Any], who: Identity) -> str:
    role = ROLES.get(who.role, ROLES["human"]).format(rig=who.rig, name=who.name)
    out = [f"# Gas Town: you are {who.name} ({who.role}" + (f", rig {who.rig}" if who.rig else "") + ")",
           role, COMMANDS, ""]
    for mail in data["handoff"]:
        out += [f"## Handoff from your previous session ({mail['id']}): {mail['title']}", mail.get("description", ""), ""]
    for nudge in data["nudges"]:
        out.append(f"Nudge from {nudge.get('from')}: {nudge.get('message')}")
    if data["unread_mail"]:
        out.append(f"You have {data['unread_mail']} unread messages: `gt mail inbox`.")
    bead = data["hook"]
    if not bead:
        out.append("Your hook is empty: nothing to run. Check `gt mail inbox`, or wait for work.")
        return "\n".join(out).rstrip() + "\n"
    out += ["", f"## On your hook: {bead['id']}: {bead['title']}",
            f"Type: {bead.get('type')}   Priority: P{bead.get('priority')}   Status: {bead.get('status')}"]
    if data["agent"] and data["agent"].get("branch"):
        out.append(f"Branch: {data['agent']['branch']}")
    if data["convoy"]:
        c = data["convoy"]
        out.append(f"Convoy: {c['id']} {c['title']} ({c['progress']} done)")
    for field, title in (("description", "Description"), ("design", "Design"),
                         ("acceptance_criteria", "Acceptance criteria"), ("notes", "Notes")):
        if bead.get(field):
            out += ["", f"### {title}", bead[field].rstrip()]
    for comment in (bead.get("comments") or [])[-5:]:
        out.append(f"Comment by {comment.get('author')}: {comment.get('text')}")
    out += ["", RUN_IT]
    return "\n".join(out) + "\n"

"""Text renderings of beads for terminals (JSON output prints the documents themselves)."""
from __future__ import annotations

from typing import Any, Mapping

from gt.model.bead import parent_of


# Marks: symbols (coloured unless NO_COLOR) on a terminal, plain ASCII when the output is read by a program.
MARKS = {"done": ("✓", "ok", "32"), "open": ("○", "..", "90"), "hooked": ("→", "->", "33"), "created": ("+", "+", "36"),
         "rejected": ("✗", "x", "31"), "escalated": ("!", "!", "31"), "submitted": ("⇢", "=>", "34"),
         "restart": ("↻", "~", "35"), "recover": ("↺", "<-", "35"), "mail": ("✉", "@", "36"), "other": ("•", "*", "0"),
         "convoy": ("🚚", "convoy", "0")}


def mark(kind: str) -> str:
    import os
    import sys

    symbol, plain, colour = MARKS.get(kind, MARKS["other"])
    if not sys.stdout.isatty():
        return plain
    return symbol if os.environ.get("NO_COLOR") or colour == "0" else f"\033[{colour}m{symbol}\033[0m"


def line(doc: Mapping[str, Any]) -> str:
    """One bead on one line: `gt-a3f8k [P1] [bug] open - Fix login @alice`."""
    text = f"{doc['id']} [P{doc.get('priority')}] [{doc.get('type')}] {doc.get('status')} - {doc.get('title')}"
    if doc.get("assignee"):
        text += f" @{doc['assignee']}"
    if doc.get("labels"):
        text += "  #" + " #".join(doc["labels"])
    return text


def lines(pairs: list[tuple[Any, str]]) -> str:
    """One line per (view, bead id), in the given order."""
    found = [doc for view, bead_id in pairs for doc in view.docs("beads", [bead_id])]  # only these beads' records
    return "\n".join(line(doc) for doc in found)


def detail(doc: Mapping[str, Any], beads: Mapping[str, Mapping[str, Any]] | None = None,
           dependents: list[str] | None = None) -> str:
    """The full bead as `bd show` prints it."""
    beads = {} if beads is None else beads  # not `or`: a Lookup's length would read every summary
    out = [f"{doc['id']}: {doc.get('title')}",
           f"Status: {doc.get('status')}   Priority: P{doc.get('priority')}   Type: {doc.get('type')}"]
    if doc.get("assignee"):
        out.append(f"Assignee: {doc['assignee']}")
    if doc.get("labels"):
        out.append(f"Labels: {', '.join(doc['labels'])}")
    out.append(f"Created: {doc.get('created_at')} by {doc.get('created_by', '?')}")
    out.append(f"Updated: {doc.get('updated_at')}")
    if doc.get("closed_at"):
        out.append(f"Closed: {doc['closed_at']}" + (f" ({doc['close_reason']})" if doc.get("close_reason") else ""))
    for key, label in (("external_ref", "External ref"), ("estimated_minutes", "Estimate (min)"),
                       ("due_at", "Due"), ("defer_until", "Deferred until")):
        if doc.get(key) not in (None, ""):
            out.append(f"{label}: {doc[key]}")
    parent = parent_of(doc)
    if parent:
        out.append(f"Parent: {_ref(parent, beads)}")
    deps = [d for d in doc.get("dependencies") or () if d.get("type") != "parent-child"]
    if deps:
        out.append("Depends on:")
        out += [f"  {d.get('type')} {_ref(d.get('target'), beads)}" for d in deps]
    if dependents:
        out.append("Needed by:")
        out += [f"  {_ref(i, beads)}" for i in dependents]
    for key, label in (("description", "Description"), ("design", "Design"),
                       ("acceptance_criteria", "Acceptance criteria"), ("notes", "Notes")):
        if doc.get(key):
            out += ["", f"{label}:", str(doc[key]).rstrip("\n")]
    comments = doc.get("comments") or []
    if comments:
        out += ["", f"Comments ({len(comments)}):"]
        out += [comment(c) for c in comments]
    return "\n".join(out)


def comment(c: Mapping[str, Any]) -> str:
    return f"  [{c.get('created_at')}] {c.get('author')}: {c.get('text')}"


def _ref(bead_id: str | None, beads: Mapping[str, Mapping[str, Any]]) -> str:
    other = beads.get(bead_id or "")
    if other is None:
        return f"{bead_id} (missing)"
    return f"{bead_id} [{other.get('status')}] {other.get('title')}"


def findings(found: list[Any], healthy: str) -> str:
    """Doctor findings, one per line, each with what --fix does (or did)."""
    if not found:
        return healthy
    lines = []
    for f in found:
        action = " [fixed]" if f.fixed else (f" (--fix: {f.fix})" if f.fix else "")
        lines.append(f"{f.kind}: {f.path}: {f.problem}{action}")
    return "\n".join(lines)


def cv_text(cv: Mapping[str, Any]) -> str:
    """An agent's record as `gt polecat identity show` prints it."""
    rate = cv.get("first_pass_rate")
    lines = [cv["identity"],
             f"  completed {cv['completed']}, failed {cv['failed']}, abandoned {cv['abandoned']}, "
             f"escalated {cv['escalated']}; first pass {'-' if rate is None else f'{rate:.0%}'}",
             f"  models: {', '.join(cv['models']) or '-'}",
             "  languages: " + (", ".join(f"{k} ({v} files)" for k, v in cv["languages"].items()) or "-")]
    lines += ["  recent:"] + [f"    {r['at']} {r['event']} {r['bead']} {r.get('title') or ''}" for r in cv["recent"]]
    return "\n".join(lines)

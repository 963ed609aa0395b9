"""What the documents of a ledger must look like, collection by collection.

The ledger guard (gt.beads.guard) holds every document a push brings to these rules, in every
collection; docs/security.md lists them.

Every document, in any collection, and `ledger.yaml`: a mapping within the reader's limits
(gt.ledger.yamlio: size, nesting, number of values, no anchors or aliases); its file name a ledger
key (`[A-Za-z0-9][A-Za-z0-9._-]*`, no `..`, at most 250 characters; a rig's or an agent's lower-case
and at most 200); top-level keys field names
(`[A-Za-z_][A-Za-z0-9_.-]*`, at most 64 characters); every key at any depth text of at most 1,000
characters without control characters; values only what JSON holds: text, integers (64-bit),
finite numbers, booleans, null, lists and mappings.

The collections this version knows add their own schema: `beads` (gt.model.bead.problems, plus the
fields of mail, convoys, merge requests, dispatch and escalations), `rigs` and `agents`. A
collection it does not know is held to the rules above only, so a later version can add one and older guards take it.
"""
from __future__ import annotations

import math
import re
from typing import Any

from gt.ledger.store import DOC_KEY_RE, KEY_RE, MAX_DOC_KEY_LENGTH, MAX_KEY_LENGTH
from gt.model.bead import parse_time, problems as bead_problems
from gt.model.ids import ID_RE, MAX_ID_LENGTH, PREFIX_RE, is_id

# The collections with a schema of their own (the same names as gt.beads.tracker.BEADS,
# gt.town.layout.RIGS_COLLECTION and gt.dispatch.agents.AGENTS).
BEADS, RIGS, AGENTS = "beads", "rigs", "agents"
COLLECTION_RE = re.compile(r"[a-z][a-z0-9_-]{0,63}")  # a collection folder's name
FIELD_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,63}")  # a top-level key
MAX_NESTED_KEY = 1000  # characters in a key below the top level (stamps, metadata, restarts)
INT64 = 1 << 63
MAX_URL = 4096
AGENT_ROLES = ("mayor", "deacon", "dog", "witness", "refinery", "crew", "polecat", "human")
IDENTITY_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.@+-]*(/[A-Za-z0-9_][A-Za-z0-9_.@+-]*)*")
STATE_RE = re.compile(r"[a-z][a-z_]{0,31}")
HELPER_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9+.-]*::")  # `<helper>::<address>`: git runs a program for it
MAX_MACHINE = 64
MACHINE_RE = re.compile(r"[0-9a-f]{8,64}")  # a machine's id in its town (gt.town.rundir.machine_id)


def _control(text: str) -> bool:
    return any(ord(c) < 32 or ord(c) == 127 for c in text)


def key_problems(collection: str, key: str) -> list[str]:
    """A document's file name must be a ledger key (a bead's a bead id, of either case; a rig's or an
    agent's a lower-case name)."""
    if len(key) > MAX_DOC_KEY_LENGTH or not DOC_KEY_RE.fullmatch(key) or ".." in key:
        return ["the file name is not a ledger key: letters, digits, '.', '_' and '-', "
                f"at most {MAX_DOC_KEY_LENGTH} characters"]
    if collection == BEADS and not is_id(key):
        return ["the file name is not a bead id (<prefix>-<letters and digits>)"]
    if collection in (RIGS, AGENTS) and (len(key) > MAX_KEY_LENGTH or not KEY_RE.fullmatch(key)):
        return ["the file name is not a ledger key: lowercase letters, digits, '.', '_' and '-', "
                f"at most {MAX_KEY_LENGTH} characters"]
    return []


def generic_problems(doc: Any) -> list[str]:
    """The rules every document follows, whatever its collection (walked without recursion)."""
    if not isinstance(doc, dict):
        return ["not a mapping"]
    found: list[str] = []
    for key in doc:
        if not isinstance(key, str) or not FIELD_RE.fullmatch(key):
            found.append(f"top-level key {_short(key)} is not a field name ([A-Za-z_][A-Za-z0-9_.-]*, "
                         "at most 64 characters)")
    pending: list[tuple[Any, str]] = [(value, str(key)) for key, value in doc.items()]
    while pending and len(found) < 5:
        value, where = pending.pop()
        if isinstance(value, dict):
            for key, child in value.items():
                if not isinstance(key, str):
                    found.append(f"{where}: key {_short(key)} is not text")
                elif len(key) > MAX_NESTED_KEY or _control(key):
                    found.append(f"{where}: key {_short(key)} is longer than {MAX_NESTED_KEY} characters "
                                 "or holds control characters")
                else:
                    pending.append((child, f"{where}.{key}"[:200]))
        elif isinstance(value, list):
            pending.extend((child, f"{where}[{i}]"[:200]) for i, child in enumerate(value))
        elif isinstance(value, bool) or value is None or isinstance(value, str):
            continue
        elif isinstance(value, int):
            if not -INT64 <= value < INT64:
                found.append(f"{where}: integer outside 64 bits")
        elif isinstance(value, float):
            if not math.isfinite(value):
                found.append(f"{where}: a number that is not finite ({value})")
        else:
            found.append(f"{where}: a value of type {type(value).__name__} (only text, numbers, booleans, "
                         "null, lists and mappings)")
    return found


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _text(doc: dict[str, Any], name: str, required: bool = False, pattern: re.Pattern[str] | None = None,
          longest: int = 1000) -> list[str]:
    """A field that must be text (one line, at most `longest` characters, matching `pattern`)."""
    value = doc.get(name)
    if value is None:
        return [f"{name} is missing"] if required else []
    if not isinstance(value, str) or (required and not value):
        return [f"{name} must be {'non-empty ' if required else ''}text"]
    if len(value) > longest or _control(value) or (pattern is not None and not pattern.fullmatch(value)):
        return [f"{name} {_short(value)} is not a valid {name}"]
    return []


def _texts(value: Any, name: str) -> list[str]:
    """A field that must be a list of one-line texts."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(x, str) and not _control(x) for x in value):
        return [f"{name} must be a list of text"]
    return []


def _mapping(doc: dict[str, Any], name: str) -> dict[str, Any] | None:
    value = doc.get(name)
    return value if isinstance(value, dict) else None


ESCALATION = "escalation"  # the type of an escalation bead, and the name of its mapping
SEVERITIES = ("critical", "high", "medium", "low")  # most urgent first
MAX_REASON = 100_000  # characters of an escalation's reason (the last lines of a session, a gate's output)


def escalation_problems(value: Any) -> list[str]:
    """An escalation's own fields (gt/dispatch/escalations.py): severity, the latest reason, the bead it
    is about, who raised, acknowledged and closed it, how often it was raised and notified."""
    if not isinstance(value, dict):
        return ["escalation must be a mapping"]
    found: list[str] = []
    if value.get("severity") not in SEVERITIES:
        found.append(f"escalation.severity {_short(value.get('severity'))} is not one of {', '.join(SEVERITIES)}")
    found += [f"escalation.{p}" for p in _text(value, "related", pattern=ID_RE, longest=MAX_ID_LENGTH)]
    for name in ("source", "raised_by", "acked_by", "acked_at", "closed_by", "notified_at"):
        found += [f"escalation.{p}" for p in _text(value, name)]
    reason = value.get("reason")
    if reason is not None and (not isinstance(reason, str) or len(reason) > MAX_REASON or "\x00" in reason):
        found.append(f"escalation.reason must be text of at most {MAX_REASON} characters")
    if value.get("original_severity") not in (None, *SEVERITIES):
        found.append(f"escalation.original_severity {_short(value.get('original_severity'))} is not one of "
                     f"{', '.join(SEVERITIES)}")
    for name, least in (("count", 1), ("notifications", 0), ("reescalations", 0)):
        number = value.get(name)
        if number is not None and (type(number) is not int or number < least):
            found.append(f"escalation.{name} must be a whole number, {least} or more")
    return found


def bead_field_problems(doc: dict[str, Any]) -> list[str]:
    """The fields gt adds to beads: mail (`message`), convoys, merge requests, dispatch, escalations."""
    found: list[str] = []
    if doc.get(ESCALATION) is not None:
        found += escalation_problems(doc[ESCALATION])
    for name in ("mail", "convoy", "mr", "dispatch"):
        if doc.get(name) is not None and not isinstance(doc[name], dict):
            found.append(f"{name} must be a mapping")
    mail = _mapping(doc, "mail")
    if mail is not None:
        found += [f"mail.{p}" for p in _text(mail, "from", required=doc.get("type") == "message")]
        found += _texts(mail.get("to"), "mail.to") + [f"mail.{p}" for p in _text(mail, "reply_to", pattern=ID_RE)]
    convoy = _mapping(doc, "convoy")
    if convoy is not None:
        found += _texts(convoy.get("notify"), "convoy.notify")
        if convoy.get("owned") is not None and not isinstance(convoy["owned"], bool):
            found.append("convoy.owned must be true or false")
    mr = _mapping(doc, "mr")
    if mr is not None:
        for name in ("branch", "target", "head", "source", "worker", "model", "agent", "convoy", "rig", "outcome"):
            found += [f"mr.{p}" for p in _text(mr, name)]
        attempts = mr.get("attempts")
        if attempts is not None and (not isinstance(attempts, list) or not all(
                isinstance(a, dict) and isinstance(a.get("gates", []), list) for a in attempts)):
            found.append("mr.attempts must be a list of mappings (with a list of gates)")
    dispatch = _mapping(doc, "dispatch")
    if dispatch is not None:
        for name in ("worker", "model", "agent", "by", "at", "rig", "merge", "queued_at", "reason"):
            found += [f"dispatch.{p}" for p in _text(dispatch, name)]
        found += [f"dispatch.{p}" for p in _text(dispatch, "machine", pattern=MACHINE_RE, longest=MAX_MACHINE)]
        for name in ("start", "convoy"):  # a queued bead's sling options (gt.dispatch.queue)
            if dispatch.get(name) is not None and not isinstance(dispatch[name], bool):
                found.append(f"dispatch.{name} must be true or false")
    restarts = doc.get("witness_restarts")
    if restarts is not None and (type(restarts) is not int or restarts < 0):
        found.append("witness_restarts must be a whole number")
    attempts = doc.get("attempts")  # the retry breaker's (gt.dispatch.attempts)
    if attempts is not None and (type(attempts) is not int or not 0 <= attempts <= 1_000_000):
        found.append("attempts must be a whole number from 0 to 1000000")
    for name in ("retry_after", "breaker_at"):  # the breaker's wait, and when it stopped the bead
        value = doc.get(name)
        if value is not None and (not isinstance(value, str) or len(value) > 40 or parse_time(value) is None):
            found.append(f"{name} must be an ISO 8601 time")
    return found


def rig_problems(doc: dict[str, Any], key: str) -> list[str]:
    """A rig record of the town ledger (gt/town/rigs.py): a URL a machine may be asked to clone."""
    found = [] if doc.get("name") == key else [f"name {_short(doc.get('name'))} does not match the file name {key!r}"]
    if doc.get("type", "rig") != "rig":
        found.append(f"type {_short(doc.get('type'))} is not 'rig'")
    url = doc.get("git_url")
    if not isinstance(url, str) or not url.strip():
        found.append("git_url must be non-empty text")
    elif len(url) > MAX_URL or _control(url):
        found.append(f"git_url is longer than {MAX_URL} characters or holds control characters")
    elif url.startswith("-"):
        found.append("git_url starts with '-': git would read it as an option")
    elif HELPER_RE.match(url):
        found.append("git_url names a remote helper (<helper>::): git would run a program for it")
    branch = doc.get("default_branch")
    if branch is not None and (not isinstance(branch, str) or not re.fullmatch(r"[^\s~^:?*\[\\-][^\s~^:?*\[\\]{0,254}", branch)
                               or ".." in branch or _control(branch)):
        found.append(f"default_branch {_short(branch)} is not a branch name")
    prefix = doc.get("prefix")
    if not isinstance(prefix, str) or not PREFIX_RE.fullmatch(prefix) or prefix.endswith("-"):
        found.append(f"prefix {_short(prefix)} is not a bead id prefix")
    for name in ("added_at", "added_by"):
        found += _text(doc, name)
    return found


def agent_problems(doc: dict[str, Any], key: str) -> list[str]:
    """An agent record (gt/dispatch/agents.py): identity, role, state, the bead on its hook."""
    found = _text(doc, "identity", required=True, pattern=IDENTITY_RE, longest=MAX_KEY_LENGTH)
    if not found and str(doc["identity"]).replace("/", ".") != key:
        found.append(f"identity {_short(doc['identity'])} does not match the file name {key!r}")
    if doc.get("role") is not None and doc.get("role") not in AGENT_ROLES:
        found.append(f"unknown role {_short(doc.get('role'))}")
    found += _text(doc, "state", pattern=STATE_RE)
    found += _text(doc, "hook", pattern=ID_RE, longest=MAX_ID_LENGTH)
    for name in ("rig", "name", "model", "agent", "merge", "branch", "worktree", "head", "hooked_at", "updated_at"):
        found += _text(doc, name)
    restarts = doc.get("restarts")
    if restarts is not None and (not isinstance(restarts, dict) or not all(
            type(n) is int and n >= 0 for n in restarts.values())):
        found.append("restarts must map beads to whole numbers")
    usage = doc.get("usage")
    if usage is not None and (not isinstance(usage, dict) or len(usage) > MAX_USAGE_BEADS or not all(
            is_id(bead) and usage_ok(sums) for bead, sums in usage.items())):
        found.append("usage must map beads to sums of tokens, cost, turns and sessions (numbers)")
    return found


MAX_USAGE_BEADS = 10_000
MAX_USAGE = 2**53  # a sum beyond this is no count of tokens or dollars (and loses precision as a float)
USAGE_FIELDS = ("tokens_in", "tokens_out", "cache_read_tokens", "cache_write_tokens", "cost_usd", "turns",
                "duration_ms", "sessions", "sessions_without_cost")


def usage_ok(sums: Any) -> bool:
    """One bead's usage sums (gt/dispatch/usage.py): known fields, each a number of 0 or more."""
    return isinstance(sums, dict) and all(name in USAGE_FIELDS and _amount_ok(value) for name, value in sums.items())


def _amount_ok(value: Any) -> bool:
    """A count or an amount from 0 to MAX_USAGE (an int of any size is compared, never converted)."""
    if type(value) is int:
        return 0 <= value <= MAX_USAGE
    return type(value) is float and math.isfinite(value) and 0 <= value <= MAX_USAGE


INFRA_KEY = "types.infra"  # ledger.yaml: the types `bd list` and `bd count` leave out unless asked


def config_problems(doc: dict[str, Any]) -> list[str]:
    """`ledger.yaml`: the ledger's own settings."""
    found = generic_problems(doc)
    if type(doc.get("format")) is not int or doc["format"] < 1:
        found.append("format must be a whole number (1 or more)")
    prefix = doc.get("prefix")
    if not isinstance(prefix, str) or not PREFIX_RE.fullmatch(prefix):
        found.append("needs a valid prefix")
    for key in ("types", INFRA_KEY):
        types = doc.get(key)
        if types is not None and (not isinstance(types, list) or not all(
                isinstance(t, str) and re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,63}", t) for t in types)):
            found.append(f"{key} must be a list of type names (lowercase letters, digits, '-', '_')")
    return found


def document_problems(collection: str, key: str, doc: Any) -> list[str]:
    """What is wrong with the document `<collection>/<fan>/<key>.yaml` (empty when nothing is)."""
    found = key_problems(collection, key) + generic_problems(doc)
    if not isinstance(doc, dict):
        return found
    if collection == BEADS:
        found += bead_problems(doc, key) + bead_field_problems(doc)
    elif collection == RIGS:
        found += rig_problems(doc, key)
    elif collection == AGENTS:
        found += agent_problems(doc, key)
    return found

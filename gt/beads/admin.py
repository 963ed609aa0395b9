"""The original bd's maintenance commands on a git ledger: `info`, `migrate --inspect`, `doctor
--check=validate|pollution`, `repair-deps`, `epic status|close-eligible`, `defer` and `undefer`.

Pure reads over a View, and writes that build one Edit each (one commit); the commands print them.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from gt.ledger.gitdir import read_ref
from gt.ledger.store import Signature, View
from gt.model import graph
from gt.model.bead import canonical, now_iso, parse_time, set_status
from gt.model.merge import strip_stamps
from gt.beads.doctor import Finding, OtherLedgers, dangling_dependencies
from gt.beads.tracker import BEADS, LEDGER_FORMAT, Edit, Tracker

MODE = "git-ledger"  # where the original says "direct" (its database opened in process)


# -- info and migrate --------------------------------------------------------------------------


def detected_prefix(bead_id: str) -> str:
    """The prefix of an id: up to the last '-' when a number follows it (`beads-vscode-12.3` ->
    `beads-vscode`), else up to the first (`gt-a3f8k` -> `gt`); '' without one."""
    head, dash, tail = bead_id.rpartition("-")
    if not dash or not head:
        return ""
    if re.match(r"[0-9]+", tail.split(".", 1)[0]):
        return head
    first = bead_id.find("-")
    return bead_id[:first] if first > 0 else ""


def ledger_format(view: View) -> int | None:
    found = view.config.get("format", LEDGER_FORMAT) if view.manifest is not None else None
    return found if isinstance(found, int) else None


def schema_version(view: View) -> str:
    """The ledger's format as the original's schema version string ("unknown" when unreadable)."""
    found = ledger_format(view)
    return "unknown" if found is None else str(found)


def info(tracker: Tracker, schema: bool = False) -> dict[str, Any]:
    """Where the ledger is and what it holds, in the original `bd info`'s keys (plus ours)."""
    tracker.require()
    view = tracker.view()
    ledger = tracker.ledger
    beads = Tracker.summaries(view)
    prefix = view.config.get("prefix")
    out: dict[str, Any] = {
        "database_path": f"{tracker.repo.commondir}#{ledger.ref}",  # the ledger: a branch of this git dir
        "mode": MODE,
        "issue_count": len(beads),
        "repository": tracker.repo.worktree or tracker.repo.commondir,
        "git_dir": tracker.repo.commondir,
        "branch": ledger.branch,
        "head": view.commit,
        "prefix": prefix,
        "ledger_format": ledger_format(view),
    }
    if ledger.local_head() is None:  # a fresh clone reads the remote's branch until its first write
        out["read_from"] = next((ref for ref in ledger.fallback_refs if read_ref(tracker.repo.commondir, ref)), None)
    config = {**view.config}
    if config:
        out["config"] = config
    if schema:
        samples = sorted(beads, key=lambda i: graph.sort_key(beads[i]))[:3]
        collections = set(view.manifest.collections) if view.manifest else set()
        out["schema"] = {
            "tables": sorted(collections | {BEADS}),  # the ledger's collections: a folder of YAML files each
            "schema_version": schema_version(view),
            "config": {"issue_prefix": prefix} if prefix else {},
            "sample_issue_ids": samples,
            "detected_prefix": detected_prefix(samples[0]) if samples else "",
        }
    return out


def migration_state(tracker: Tracker) -> dict[str, Any]:
    """`bd migrate --inspect`: a git ledger has no migrations to run; what it would look at."""
    if not tracker.ledger.exists():
        return {
            "registered_migrations": [],
            "current_state": {"schema_version": "missing", "issue_count": 0, "config": {}, "missing_config": [],
                              "db_exists": False},
            "warnings": [f"no ledger: branch '{tracker.ledger.branch}' does not exist (run `bd init`)"],
            "invariants_to_check": [],
        }
    view = tracker.view()
    count = len(Tracker.summaries(view))
    prefix = view.config.get("prefix")
    found = ledger_format(view)
    warnings = []
    if found is not None and found < LEDGER_FORMAT:
        warnings.append(f"the ledger has format {found}: it is read as it is and the next write upgrades it "
                        f"to {LEDGER_FORMAT}")
    elif found is not None and found > LEDGER_FORMAT:
        warnings.append(f"the ledger has format {found}, newer than this bd writes ({LEDGER_FORMAT}): upgrade bd")
    return {
        "registered_migrations": [],
        "current_state": {
            "schema_version": schema_version(view),
            "issue_count": count,
            "config": {"issue_prefix": prefix} if prefix else {},
            "missing_config": ["issue_prefix"] if not prefix else [],
            "db_exists": True,
        },
        "warnings": warnings,
        "invariants_to_check": [],
    }


# -- doctor --check=validate ---------------------------------------------------------------------


@dataclass(frozen=True)
class CheckKind:
    name: str
    category: str
    severity: str  # the status when one of its findings stands: "error" or "warning"
    healthy: str
    counted: str = "problems"  # what "N …" counts when there are several
    fix: str | None = None  # what to run when --fix does not repair it


CHECKS: dict[str, CheckKind] = {
    "no-ledger": CheckKind("Ledger Branch", "Data Integrity", "error", "The ledger branch exists"),
    "bad-config": CheckKind("Ledger Config", "Data Integrity", "error", "ledger.yaml is readable"),
    "unreadable": CheckKind("Readable Files", "Data Integrity", "error", "Every file parses", "unreadable files"),
    "bad-field": CheckKind("Bead Fields", "Data Integrity", "error", "Every bead is well formed",
                           "problems in bead fields"),
    "dangling-dependency": CheckKind("Orphaned Dependencies", "Data Integrity", "warning", "No orphaned dependencies",
                                     "orphaned dependencies",
                                     "Run 'bd doctor --check=validate --fix' (or 'bd repair-deps --fix') to remove them"),
    "cycle": CheckKind("Dependency Cycles", "Data Integrity", "error", "No dependency cycles", "dependency cycles",
                       "Remove one dependency of each cycle with 'bd dep remove'"),
    "stale-lock": CheckKind("Locks", "Storage", "warning", "No stale or long-held locks", "lock problems"),
    "lock-held": CheckKind("Locks", "Storage", "warning", "No stale or long-held locks", "lock problems"),
    "stale-lock-holder": CheckKind("Locks", "Storage", "warning", "No stale or long-held locks", "lock problems"),
    "cache": CheckKind("Read Index", "Storage", "warning", "The read index agrees with git"),
    "loose-objects": CheckKind("Loose Objects", "Storage", "warning", "Few loose objects"),
    "hooks": CheckKind("Git Hooks", "Git Integration", "warning", "No outdated git hooks"),
}
ORDER = list(dict.fromkeys(kind.name for kind in CHECKS.values()))
DETAIL_LIMIT = 200  # characters of the problems a check lists in its detail


def validate_checks(findings: Iterable[Finding]) -> list[dict[str, Any]]:
    """Doctor findings as the original's `doctor --check=validate` checks: one per kind of problem,
    `{name, status: ok|warning|error, message, detail?, fix?, category}`. A finding --fix repaired,
    or a notice (nothing is broken), leaves its check "ok"."""
    grouped: dict[str, list[Finding]] = {}
    kinds: dict[str, CheckKind] = {}
    for finding in findings:
        kind = CHECKS.get(finding.kind) or CheckKind(finding.kind, "Other", "warning", "")
        kinds.setdefault(kind.name, kind)
        grouped.setdefault(kind.name, []).append(finding)
    checks = []
    for name in ORDER + [n for n in grouped if n not in ORDER]:
        kind = kinds.get(name) or next(k for k in CHECKS.values() if k.name == name)
        found = grouped.get(name, [])
        standing = [f for f in found if not f.fixed and not f.notice]
        check: dict[str, Any] = {"name": name, "status": "ok", "message": kind.healthy}
        shown = standing or found
        if shown:
            check["message"] = shown[0].problem if len(shown) == 1 else f"{len(shown)} {kind.counted}"
            if not standing:
                check["message"] = ("fixed: " if all(f.fixed for f in found) else "") + check["message"]
            detail = "; ".join(f"{f.path}: {f.problem}" for f in shown)
            check["detail"] = detail if len(detail) <= DETAIL_LIMIT else detail[:DETAIL_LIMIT] + "..."
        if standing:
            check["status"] = kind.severity
            repair = next((f.fix for f in standing if f.fix), None)
            fix = f"Run 'bd doctor --check=validate --fix' to {repair}" if repair else kind.fix
            if fix:
                check["fix"] = fix
        check["category"] = kind.category
        checks.append(check)
    return checks


def overall_ok(checks: Iterable[Mapping[str, Any]]) -> bool:
    return all(c["status"] == "ok" for c in checks)


# -- doctor --check=pollution ------------------------------------------------------------------

TEST_PREFIX = re.compile(r"^(test|benchmark|sample|tmp|temp|debug|dummy)[-_\t\n\f\r ]")
SEQUENTIAL_ID = re.compile(r"[a-z]+-[0-9]+")
GENERIC_TITLES = ("issue for testing", "test issue", "sample issue")
RAPID = 10  # beads created in the same minute, at least, for the "rapid creation" signal
REPORTED = 7  # tenths: the least score reported
HIGH = 9  # tenths: high confidence from here


@dataclass
class Polluted:
    """A bead that looks like a test's leftover: its score (in tenths) and the signals that made it."""

    doc: dict[str, Any]
    tenths: int
    reasons: list[str] = field(default_factory=list)

    @property
    def score(self) -> float:
        return self.tenths / 10

    @property
    def high(self) -> bool:
        return self.tenths >= HIGH

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.doc.get("id"), "title": self.doc.get("title"), "score": self.score,
                "reasons": self.reasons, "created_at": self.doc.get("created_at")}


def pollution(docs: Iterable[Mapping[str, Any]]) -> list[Polluted]:
    """The live beads that score 0.7 or more on the original's signals of test pollution: a test-like
    title prefix (0.7), a sequential id with a short description (0.4), no description (0.2) or a
    very short one (0.1), ten or more beads created in the same minute (0.3), a generic test title
    (0.5). Scores add up (here in exact tenths). Oldest first."""
    live = [dict(d) for d in docs if d.get("status") != "tombstone"]

    def minute(doc: Mapping[str, Any]) -> int | None:
        moment = parse_time(doc.get("created_at"))
        return None if moment is None else int(moment // 60)

    per_minute = Counter(minute(d) for d in live)
    found = []
    for doc in live:
        title = str(doc.get("title") or "").lower()
        description = str(doc.get("description") or "")
        size = len(description.encode("utf-8"))
        signals: list[tuple[int, str]] = []
        if TEST_PREFIX.match(title):
            signals.append((7, "Title starts with test prefix"))
        if SEQUENTIAL_ID.fullmatch(str(doc.get("id"))) and size < 20:
            signals.append((4, "Sequential ID with minimal description"))
        if not description.strip():
            signals.append((2, "No description"))
        elif size < 20:
            signals.append((1, "Very short description"))
        together = per_minute[minute(doc)]
        if together >= RAPID:
            signals.append((3, f"Created with {together - 1} other issues in same minute"))
        if any(generic in title for generic in GENERIC_TITLES):
            signals.append((5, "Generic test title"))
        score = sum(tenths for tenths, _ in signals)
        if score >= REPORTED:
            found.append(Polluted(doc, score, [reason for _, reason in signals]))
    return sorted(found, key=lambda p: (parse_time(p.doc.get("created_at")) or 0.0, str(p.doc.get("id"))))


def find_pollution(view: View) -> list[Polluted]:
    return pollution(strip_stamps(doc) for doc in view.docs(BEADS))


# -- repair-deps -------------------------------------------------------------------------------


def remove_dangling(tracker: Tracker, actor: Signature, others: OtherLedgers | None = None) -> Edit:
    """Remove every dependency on a bead that exists nowhere (see doctor.dangling_dependencies), in
    one commit; the Edit's result is the list of Dangling removed."""

    def build(view: View) -> Edit:
        found = dangling_dependencies(view, others)
        if not found:
            return Edit("repair-deps", "no change", result=[])
        doomed: dict[str, set[tuple[str, str]]] = {}
        for dep in found:
            doomed.setdefault(dep.issue_id, set()).add((dep.depends_on_id, dep.type))
        now = now_iso()
        changed: dict[str, dict[str, Any] | None] = {}
        for bead_id, pairs in doomed.items():
            doc = Tracker.get(view, bead_id)
            doc["dependencies"] = [d for d in doc.get("dependencies") or ()
                                   if (str(d.get("target")), str(d.get("type"))) not in pairs]
            doc["updated_at"] = now
            changed[bead_id] = canonical(doc)
        subject = f"repair-deps: remove {len(found)} dependenc{'y' if len(found) == 1 else 'ies'} on missing beads"
        return Edit("repair-deps", subject, changed, result=found)

    return tracker.write(actor, build)


# -- epics -------------------------------------------------------------------------------------

ALL_CHILDREN_CLOSED = "All children completed"


@dataclass(frozen=True)
class EpicStatus:
    epic: str
    total_children: int
    closed_children: int

    @property
    def eligible(self) -> bool:
        return self.total_children > 0 and self.closed_children == self.total_children


def epic_statuses(beads: Mapping[str, Mapping[str, Any]]) -> list[EpicStatus]:
    """Every open epic that has children (beads with a parent-child dependency on it), with how many
    are closed; by priority, then age. An epic without children is left out, as in the original."""
    epics = {i for i, d in beads.items() if d.get("type") == "epic" and d.get("status") not in ("closed", "tombstone")}
    children = {i: set(kids) for i, kids in graph.children_map(beads).items() if i in epics}
    return [EpicStatus(i, len(children[i]), sum(1 for k in children[i] if beads[k].get("status") == "closed"))
            for i in sorted(children, key=lambda i: graph.sort_key(beads[i]))]


def epic_docs(view: View, statuses: list[EpicStatus]) -> dict[str, dict[str, Any]]:
    """The epics' full documents (without merge stamps), by id."""
    return {d["id"]: strip_stamps(d) for d in view.docs(BEADS, [s.epic for s in statuses])}


def close_eligible(tracker: Tracker, actor: Signature) -> Edit:
    """Close, in one commit, every open epic whose children are all closed (judged on the ledger the
    commit is made on); the Edit's result is the closed epics' documents."""

    def build(view: View) -> Edit:
        eligible = [s.epic for s in epic_statuses(Tracker.summaries(view)) if s.eligible]
        if not eligible:
            return Edit("close", "no change", result=[])
        now = now_iso()
        changed: dict[str, dict[str, Any] | None] = {}
        for bead_id in eligible:
            doc = Tracker.get(view, bead_id)
            set_status(doc, "closed", now, ALL_CHILDREN_CLOSED)
            doc["updated_at"] = now
            changed[bead_id] = canonical(doc)
        names = eligible[0]
        if len(eligible) > 1:
            names = f"{len(eligible)} epics ({', '.join(eligible[:5])}{', …' if len(eligible) > 5 else ''})"
        return Edit("close", f"close {names}: {ALL_CHILDREN_CLOSED.lower()}", changed,
                    [("Reason", ALL_CHILDREN_CLOSED)], result=list(changed.values()))

    return tracker.write(actor, build)


# -- defer -------------------------------------------------------------------------------------

def is_deferred(doc: Mapping[str, Any]) -> bool:
    """Deferred: the status `deferred`, or a defer date set (`bd update --defer`)."""
    return doc.get("status") == "deferred" or bool(doc.get("defer_until"))

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from gt.cli.common import Out, command

if TYPE_CHECKING:
    from gt.beads.doctor import Finding
    from gt.beads.tracker import Tracker

CHECKS = ("pollution", "validate")


@command("doctor")
@click.option("--fix", is_flag=True, help="Repair what is safe to repair.")
@click.option("--check", "check", metavar="NAME",
              help="Run one check in the original bd's shape: validate (the checks above, as {path, checks, "
                   "overall_ok}; exit 1 unless all are ok; its --fix also removes orphaned dependencies) or "
                   "pollution (beads that look like tests' leftovers).")
@click.option("--clean", is_flag=True, help="With --check=pollution: delete the beads found (one commit).")
@click.option("-y", "--yes", is_flag=True, help="Do not ask before --clean deletes.")
def doctor(out: Out, fix: bool, check: str | None, clean: bool, yes: bool) -> None:
    """Check the ledger: unreadable files, dangling dependencies, cycles, stale locks, cache, objects,
    and our git hooks where they are installed (outdated ones are rewritten with --fix).

    Example: bd doctor --fix
    """
    from gt.errors import UsageError

    if check is not None and check not in CHECKS:
        raise UsageError(f"unknown check {check!r}: use one of {', '.join(CHECKS)}")
    if clean and check != "pollution":
        raise UsageError("--clean goes with --check=pollution")
    if check == "pollution":
        _pollution(out, clean, yes)
        return
    from gt.beads.tracker import Tracker
    from gt.cli import format

    tracker = Tracker.open()
    if check == "validate":
        _validate(out, tracker, fix)
        return
    findings = _findings(tracker, fix)
    out.emit([f.as_dict() for f in findings], lambda: format.findings(findings, "No problems found"))
    if any(not f.fixed and not f.notice for f in findings):
        raise SystemExit(1)


def _findings(tracker: Tracker, fix: bool) -> list[Finding]:
    from gt.beads.doctor import doctor
    from gt.githooks import install as git_hooks
    from gt.town.context import Town

    town = Town.find(tracker.repo.commondir)  # in a town, a dependency may point into another rig's ledger
    return doctor(tracker, fix, town.other_ledgers if town else None) + git_hooks.check(
        tracker.repo, git_hooks.ALL, required=False, fix=fix)


def _validate(out: Out, tracker: Tracker, fix: bool) -> None:
    """`--check=validate`: the findings as the original's checks; exit 1 unless all are ok (after --fix
    repaired what it could). Its --fix also removes orphaned dependencies (one commit), as the
    original's does: what `bd repair-deps --fix` does."""
    from gt.beads.admin import overall_ok, remove_dangling, validate_checks
    from gt.beads.doctor import Finding
    from gt.beads.tracker import BEADS
    from gt.ledger.store import document_path
    from gt.town.context import Town

    removed: list[Finding] = []
    if fix and tracker.ledger.exists():
        town = Town.find(tracker.repo.commondir)
        edit = remove_dangling(tracker, out.signature(tracker.repo), town.other_ledgers if town else None)
        removed = [Finding("dangling-dependency", f"{tracker.ledger.branch}:{document_path(BEADS, d.issue_id)}",
                           f"{d.issue_id} {d.type} -> {d.depends_on_id}: no such bead", "remove it", fixed=True)
                   for d in edit.result]
    findings = removed + _findings(tracker, fix)
    repo = tracker.repo
    checks = validate_checks(findings)
    result = {"path": repo.worktree or repo.commondir, "checks": checks, "overall_ok": overall_ok(checks)}

    def text() -> str:
        marks = {"ok": "✓", "warning": "⚠", "error": "✗"}
        lines = []
        for c in checks:
            lines.append(f"{marks[c['status']]} {c['name']}: {c['message']}")
            if c.get("detail") and c["status"] != "ok":
                lines.append(f"    {c['detail']}")
            if c.get("fix"):
                lines.append(f"    Fix: {c['fix']}")
        counts = {s: sum(1 for c in checks if c["status"] == s) for s in marks}
        lines.append(f"{counts['ok']} passed, {counts['warning']} warnings, {counts['error']} failed")
        if result["overall_ok"]:
            lines.append("All checks passed" + (" (after --fix)" if any(f.fixed for f in findings) else ""))
        return "\n".join(lines)

    out.emit(result, text)
    if not result["overall_ok"]:
        raise SystemExit(1)


def _pollution(out: Out, clean: bool, yes: bool) -> None:
    """`--check=pollution`: beads scored as tests' leftovers; `--clean` deletes them in one commit."""
    import sys

    from gt.beads import operations
    from gt.beads.admin import find_pollution
    from gt.beads.tracker import Tracker
    from gt.errors import UsageError

    tracker = Tracker.open()
    found = find_pollution(tracker.view())
    if not found:
        out.emit({"polluted_count": 0, "issues": []}, "No test pollution detected")
        return
    high = [p for p in found if p.high]
    medium = [p for p in found if not p.high]
    result = {"polluted_count": len(found), "high_confidence": len(high), "medium_confidence": len(medium),
              "issues": [p.as_dict() for p in found]}
    deleted: list[str] = []
    if clean:
        if not yes:
            if out.json or not sys.stdin.isatty():
                raise UsageError(f"--clean deletes {len(found)} beads: add --yes to confirm")
            if not click.confirm(f"Delete {len(found)} beads that look like test pollution?", default=False):
                raise SystemExit(1)
        ids = [str(p.doc["id"]) for p in found]
        edit = operations.delete(tracker, out.signature(tracker.repo), ids, force=True,  # as the original: whatever uses them
                                 reason="test pollution (bd doctor --check=pollution --clean)")
        deleted = [d["id"] for d in edit.result]
        result["deleted"] = deleted

    def text() -> str:
        lines = [f"Found {len(found)} beads that look like test pollution:"]
        for title, group in (("High confidence (score 0.9 or more)", high), ("Medium confidence (0.7 to 0.9)", medium)):
            if group:
                lines.append(f"{title}:")
                for p in group:
                    lines.append(f"  {p.doc.get('id')}: {p.doc.get('title')!r} (score {p.score:.2f})")
                    lines += [f"    - {reason}" for reason in p.reasons]
        if deleted:
            lines.append(f"Deleted {len(deleted)} beads (tombstones: their content stays in the ledger's history)")
        else:
            lines.append("Run 'bd doctor --check=pollution --clean --yes' to delete them (one commit).")
        return "\n".join(lines)

    out.emit(result, text)

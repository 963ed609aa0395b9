"""What the refinery escalates besides the retry breaker: a push to origin that is refused (the merge
stands), and a merge request that names no source bead (rejected, and the queue goes on)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import SCRIPT, Bd, bead, git, gt, merge_requests, wait_for

pytestmark = pytest.mark.town(files={"gizmo/settings/config.yaml": "merge_queue:\n  push_to_origin: true\n"})


def submitted(town: Path) -> dict:
    [mr] = wait_for(lambda: [m for m in merge_requests(town) if m["status"] == "open"] or None, what="the submission")
    return mr


def escalations(town: Path) -> list[dict]:
    return json.loads(gt(town, "escalate", "list", "--json").stdout)


def refusing_origin(town: Path, tmp_path: Path) -> Path:
    """A bare repository whose pre-receive hook refuses every push, made the rig's origin."""
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", str(origin))
    hook = origin / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'pushes are closed today' >&2\nexit 1\n")
    hook.chmod(0o755)
    git(town / "gizmo" / ".repo.git", "remote", "set-url", "origin", str(origin))
    return origin


def test_a_refused_push_to_origin_is_escalated_and_the_merge_recorded(town, tmp_path):
    origin = refusing_origin(town, tmp_path)
    repo = town / "gizmo" / ".repo.git"
    work = bead(town, "Add hello", script=SCRIPT.format(path="hello.txt", text="hello"))
    gt(town, "sling", work, "gizmo")
    mr = submitted(town)
    [outcome] = json.loads(gt(town, "refinery", "process", "gizmo", "--json").stdout)
    assert outcome["result"] == "merged"
    assert "; not pushed to origin: remote: pushes are closed today" in outcome["detail"]
    assert git(repo, "rev-parse", "main").strip() == outcome["commit"]  # landed here
    assert git(origin, "for-each-ref", "refs/heads").strip() == ""  # not there
    shown = Bd(town).show(mr["id"])
    assert shown["status"] == "closed" and shown["mr"]["outcome"] == "merged"
    assert shown["mr"]["merged_commit"] == outcome["commit"]
    assert "pushes are closed today" in shown["mr"]["attempts"][-1]["push_error"]
    assert Bd(town).show(work)["status"] == "closed"
    [escalation] = escalations(town)
    assert (escalation["title"], escalation["severity"], escalation["related"], escalation["source"]) == (
        "gizmo refinery cannot push main to origin", "high", None, "gizmo/refinery")  # one while origin is down
    assert f"merging {work} as {outcome['commit'][:7]}" in escalation["reason"]
    assert "pushes are closed today" in escalation["reason"] and "pre-receive hook declined" in escalation["reason"]
    assert json.loads(gt(town, "refinery", "process", "gizmo", "--json").stdout) == []  # nothing loops on


def test_a_merge_request_that_names_no_source_is_rejected_and_the_queue_goes_on(town):
    stray = Bd(town)("create", "A merge request from nowhere", "-t", "merge-request", "--rig", "gizmo").stdout.strip()
    work = bead(town, "Add hello", script=SCRIPT.format(path="hello.txt", text="hello"))
    git(town / "gizmo" / ".repo.git", "config", "remote.origin.url", str(town / "nowhere"))  # no repository: pushes fail
    gt(town, "sling", work, "gizmo")
    wait_for(lambda: len([m for m in merge_requests(town) if m["status"] == "open"]) == 2 or None,
             what="the submission")
    outcomes = json.loads(gt(town, "refinery", "process", "gizmo", "--json").stdout)
    assert [(o["mr"], o["result"]) for o in outcomes][0] == (stray, "failed")
    assert outcomes[0]["detail"] == "it names no source bead"
    assert outcomes[1]["result"] == "merged"  # the queue went on past it
    shown = Bd(town).show(stray)
    assert shown["status"] == "closed" and shown["mr"]["outcome"] == "rejected"
    assert shown["mr"]["attempts"][-1]["result"] == "rejected"
    assert Bd(town).show(work)["status"] == "closed"
    found = {e["title"]: e for e in escalations(town)}
    stray_escalation = found[f"gizmo refinery rejected {stray}: it names no source bead"]
    assert (stray_escalation["severity"], stray_escalation["related"]) == ("medium", stray)
    assert "names no source bead" in stray_escalation["reason"]
    assert work in found["gizmo refinery cannot push main to origin"]["reason"]  # a remote that is no repository
    assert json.loads(gt(town, "refinery", "process", "gizmo", "--json").stdout) == []
    assert len(escalations(town)) == 2  # rejected once, escalated once

"""Escalations in real towns: raise, list, show, ack, close, folding of repeats, stale notices,
routing by severity (mail, and a configured command), and `gt done --status ESCALATED`."""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest

from conftest import Bd, bead, git, gt, make_town

pytestmark = pytest.mark.town({"gizmo": "gz"})


def inbox(town: Path, reader: str) -> list[dict]:
    return json.loads(gt(town, "mail", "inbox", "--identity", reader, "--json").stdout)


def raise_(town: Path, *args: str) -> dict:
    return json.loads(gt(town, "escalate", *args, "--actor", "gizmo/witness", "--json").stdout)


def ledger_commits(town: Path) -> int:
    return int(git(town, "rev-list", "--count", "beads").strip())


def test_escalate_list_show_ack_close(town):
    before = ledger_commits(town)
    made = raise_(town, "Need API credentials", "--severity", "medium", "--reason", "the sandbox key expired")
    assert ledger_commits(town) == before + 1  # the escalation and its mail: one commit
    body = git(town, "log", "-1", "--format=%an|%B", "beads")
    assert body.startswith("gizmo/witness|") and f"Bead-Id: {made['id']}" in body and "Op: escalation" in body
    assert made["mail"] and f"Bead-Id: {made['mail']}" in body
    assert (made["status"], made["severity"], made["count"], made["notified"]) == ("open", "medium", 1, ["mayor"])
    assert made["source"] == made["raised_by"] == "gizmo/witness"

    [listed] = json.loads(gt(town, "escalate", "list", "--json").stdout)
    assert listed["id"] == made["id"] and listed["status"] == "open"
    assert f"{made['id']}  medium   open   Need API credentials" in gt(town, "escalate", "list").stdout
    shown = json.loads(gt(town, "escalate", "show", made["id"], "--json").stdout)
    assert (shown["status"], shown["acked_by"], shown["acked_at"], shown["count"]) == ("open", None, None, 1)
    assert shown["reason"] == "the sandbox key expired"
    [mail] = inbox(town, "mayor")
    assert mail["title"] == f"ESCALATED {made['id']}: Need API credentials"
    assert "the sandbox key expired" in mail["description"] and f"gt escalate ack {made['id']}" in mail["description"]
    assert inbox(town, "overseer") == []  # medium: the mayor only

    assert gt(town, "escalate", "ack", made["id"], "--actor", "mayor").stdout.strip() == f"Acknowledged {made['id']}"
    assert "already acknowledged by mayor" in gt(town, "escalate", "ack", made["id"], "--actor", "mayor").stdout
    shown = json.loads(gt(town, "escalate", "show", made["id"], "--json").stdout)
    assert (shown["status"], shown["acked_by"]) == ("acked", "mayor") and shown["acked_at"]
    assert "acknowledged by mayor" in gt(town, "escalate", "show", made["id"]).stdout

    closed = gt(town, "escalate", "close", made["id"], "--reason", "new key installed", "--actor", "mayor").stdout
    assert closed.strip() == f"Closed {made['id']}: new key installed"
    assert gt(town, "escalate", "list").stdout.strip() == "No open escalations"
    [everything] = json.loads(gt(town, "escalate", "list", "--all", "--json").stdout)
    assert (everything["status"], everything["closed_by"], everything["close_reason"]) == (
        "closed", "mayor", "new key installed")
    refused = gt(town, "escalate", "ack", made["id"], ok=False)
    assert refused.returncode == 1 and "closed" in refused.stderr

    # the stored document passes the ledger guard's schema; ready work and the prime never show it
    from gt.ledger.store import document_path
    from gt.ledger.yamlio import load_mapping
    from gt.model.schema import document_problems

    path = document_path("beads", made["id"])
    doc = load_mapping(git(town, "show", f"beads:{path}"), path)
    assert doc["type"] == "escalation" and document_problems("beads", made["id"], doc) == []
    assert made["id"] not in Bd(town)("ready").stdout


def test_the_ledger_guard_checks_escalation_fields():
    from gt.model.schema import document_problems

    base = {"id": "hq-abc12", "title": "x", "type": "escalation", "status": "open", "priority": 2}
    good = {**base, "escalation": {"severity": "high", "related": "gz-a3f8k", "count": 2, "reason": "a\nb"}}
    assert document_problems("beads", "hq-abc12", good) == []
    bad = {**base, "escalation": {"severity": "urgent", "related": "not an id", "count": 0, "acked_by": "a\nb"}}
    found = " ".join(document_problems("beads", "hq-abc12", bad))
    for field in ("escalation.severity", "escalation.related", "escalation.count", "escalation.acked_by"):
        assert field in found
    assert document_problems("beads", "hq-abc12", {**base, "escalation": "high"}) == ["escalation must be a mapping"]


def test_repeats_about_one_bead_fold_into_one(town):
    from gt.dispatch import escalations
    from gt.ledger.store import Signature

    work = bead(town, "flaky work")
    first = raise_(town, "gizmo/polecats/toast is stuck", "-s", "high", "-r", "first try died", "--related", work)
    again = raise_(town, "gizmo/polecats/toast is stuck", "-s", "medium", "-r", "second try died", "--related", work)
    assert again["id"] == first["id"] and again["folded"] and again["notified"] == [] and again["mail"] is None
    shown = json.loads(gt(town, "escalate", "show", first["id"], "--json").stdout)
    assert (shown["count"], shown["reason"], shown["severity"]) == (2, "second try died", "high")  # the worse one stays
    assert len(json.loads(gt(town, "escalate", "list", "--json").stdout)) == 1
    [mail] = inbox(town, "mayor")
    assert mail["title"] == f"ESCALATED {work}: gizmo/polecats/toast is stuck"
    text = gt(town, "escalate", "desc", "--related", work, "--actor", "steve").stdout
    assert text.startswith(f"Folded into {first['id']} [high] (raised 3 times)")

    # a repeat after the severity's stale_after (high: an hour) tells them once more
    later = time.time() + 3601
    third = escalations.escalate(town, Signature("gizmo/witness"), "still stuck", "critical", "third try died",
                                 related=work, now=later)
    assert third["id"] == first["id"] and third["count"] == 4 and third["severity"] == "critical"
    assert third["notified"] == ["mayor", "overseer"] and len(inbox(town, "mayor")) == 2
    assert "Raised 4 times" in inbox(town, "mayor")[-1]["description"]
    # ... and not again within the period
    fourth = escalations.escalate(town, Signature("gizmo/witness"), "still stuck", "critical", related=work,
                                  now=later + 60)
    assert fourth["notified"] == [] and len(inbox(town, "mayor")) == 2
    # once acknowledged, a repeat is news: a new escalation, told at once
    gt(town, "escalate", "ack", first["id"], "--actor", "mayor")
    after_ack = raise_(town, "stuck after all", "-s", "low", "--related", work)
    assert after_ack["id"] != first["id"] and not after_ack["folded"] and after_ack["notified"] == ["mayor"]
    # a repeat more urgent than the one it folds into is told at once, within the period
    urgent = raise_(town, "now it is urgent", "-s", "high", "--related", work)
    assert urgent["id"] == after_ack["id"] and urgent["severity"] == "high" and urgent["notified"] == ["mayor", "overseer"]
    gt(town, "escalate", "close", after_ack["id"], "--actor", "mayor")
    # the town root's `bd list` is work, not the mail and escalations the town writes
    listed = Bd(town).json("list")
    assert {d["issue_type"] for d in listed}.isdisjoint({"message", "escalation", "agent", "convoy"})
    assert {"message", "escalation"} <= {d["issue_type"] for d in Bd(town).json("list", "--include-infra")}
    # once closed, a new escalation about the bead starts afresh
    gt(town, "escalate", "close", first["id"], "--actor", "mayor")
    fresh = raise_(town, "stuck again", "--related", work)
    assert fresh["id"] != first["id"] and fresh["count"] == 1 and not fresh["folded"]


def test_stale_notifies_again_until_acknowledged(town):
    from gt.dispatch import escalations
    from gt.ledger.store import Signature

    deacon = Signature("deacon")
    made = raise_(town, "Disk almost full", "-s", "low")
    start = time.time()
    assert escalations.stale(town, deacon, now=start + 60) == []  # low: a day
    [again] = escalations.stale(town, deacon, now=start + 86401)
    assert again["id"] == made["id"] and again["notified"] == ["mayor"] and again["notifications"] == 2
    mails = inbox(town, "mayor")
    assert len(mails) == 2 and "Still open and unacknowledged after 1d" in mails[-1]["description"]
    assert escalations.stale(town, deacon, now=start + 86401 + 60) == []  # told: the period starts again
    gt(town, "escalate", "ack", made["id"], "--actor", "mayor")
    assert escalations.stale(town, deacon, now=start + 10 * 86400) == []  # acknowledged: never stale


@pytest.mark.town({"gizmo": "gz"}, settings="escalation:\n  stale_after:\n    medium: 2\n")
def test_stale_with_a_shortened_age(town):
    made = raise_(town, "Review requested")
    time.sleep(2.2)
    out = gt(town, "escalate", "stale", "--actor", "deacon")
    # unacknowledged past its age: raised a severity (medium -> high), so the overseer hears of it too
    assert out.stdout.strip() == (f"Re-notified {made['id']} [high, was medium] to mayor, overseer: "
                                  "Review requested")
    assert len(inbox(town, "mayor")) == 2 and len(inbox(town, "overseer")) == 1
    assert "Raised from medium to high (1 time)." in inbox(town, "overseer")[0]["description"]
    assert json.loads(gt(town, "escalate", "stale", "--json").stdout) == []  # just told (high: an hour)
    gt(town, "escalate", "ack", made["id"], "--actor", "mayor")
    time.sleep(2.2)
    assert gt(town, "escalate", "stale").stdout.strip() == "No stale escalations"


def test_stale_raises_the_severity_at_most_max_reescalations_times(town):
    from gt.dispatch import escalations
    from gt.ledger.store import Signature

    deacon = Signature("deacon")
    made = raise_(town, "Docs are out of date", "-s", "low")
    start, day = time.time(), 86400
    steps = [escalations.stale(town, deacon, now=start + n * day) for n in (1, 2, 3, 4)]
    assert [(s["severity"], s["raised_from"], s["reescalations"]) for [s] in steps] == [
        ("medium", "low", 1), ("high", "medium", 2), ("high", None, 2), ("high", None, 2)]  # max_reescalations: 2
    shown = json.loads(gt(town, "escalate", "show", made["id"], "--json").stdout)
    assert (shown["severity"], shown["original_severity"], shown["reescalations"]) == ("high", "low", 2)
    assert "severity: high (was low)" in gt(town, "escalate", "show", made["id"]).stdout
    assert Bd(town).json("show", made["id"])[0]["priority"] == 1  # the bead's priority follows its severity
    assert len(inbox(town, "overseer")) == 3  # from the raise to high on


@pytest.mark.town({"gizmo": "gz"}, settings="escalation:\n  max_reescalations: 0\n")
def test_max_reescalations_zero_keeps_the_severity(town):
    from gt.dispatch import escalations
    from gt.ledger.store import Signature

    made = raise_(town, "Flaky CI", "-s", "medium")
    [again] = escalations.stale(town, Signature("deacon"), now=time.time() + 14401)
    assert (again["id"], again["severity"], again["raised_from"]) == (made["id"], "medium", None)


def test_repeats_about_no_bead_fold_by_description_and_source(town):
    first = raise_(town, "Disk almost full", "-s", "medium", "--source", "patrol:deacon")
    again = raise_(town, "Disk almost full", "-s", "medium", "-r", "97%", "--source", "patrol:deacon")
    assert again["id"] == first["id"] and again["folded"] and again["count"] == 2 and again["reason"] == "97%"
    other_source = raise_(town, "Disk almost full", "--source", "gizmo/witness")
    other_text = raise_(town, "Disk full", "--source", "patrol:deacon")
    assert len({first["id"], other_source["id"], other_text["id"]}) == 3


def _town_with_command(tmp_path: Path, name: str, extra: str = "", settings: str = "") -> tuple[Path, Path]:
    """A town whose escalation command is a script writing its stdin to a file (after `extra`, a line
    of Python), with `settings` as more `escalation:` keys; the town and that file."""
    out = tmp_path / f"{name}.json"
    script = tmp_path / f"{name}.py"
    script.write_text(f"import sys, time\n{extra}\nopen(sys.argv[1], 'w').write(sys.stdin.read())\n")
    command = f"  command: [{json.dumps(sys.executable)}, {json.dumps(str(script))}, {json.dumps(str(out))}]\n"
    return make_town(tmp_path, {}, settings="escalation:\n" + settings + command), out


def test_routing_by_severity_and_the_configured_command(tmp_path):
    town, out = _town_with_command(tmp_path, "notify", settings="  notify:\n    medium: [mayor, deacon]\n")
    medium = raise_(town, "Just so you know")
    assert medium["notified"] == ["mayor", "deacon"] and not out.exists()  # the command is for high and critical
    assert inbox(town, "overseer") == [] and len(inbox(town, "deacon")) == 1
    high = raise_(town, "Production is down", "-s", "high", "-r", "500s everywhere", "--source", "patrol:deacon")
    assert high["notified"] == ["mayor", "overseer"]
    [mail] = inbox(town, "overseer")
    assert mail["title"] == f"ESCALATED {high['id']}: Production is down"
    told = json.loads(out.read_text())
    assert (told["id"], told["severity"], told["event"], told["reason"], told["source"]) == (
        high["id"], "high", "new", "500s everywhere", "patrol:deacon")
    assert told["town"] == str(town)


def test_a_failing_or_slow_command_is_logged_not_raised(tmp_path):
    town, out = _town_with_command(tmp_path, "slow", "time.sleep(30)", settings="  command_timeout: 1\n")
    started = time.monotonic()
    result = gt(town, "escalate", "Fire", "-s", "critical", "--json")
    assert time.monotonic() - started < 20 and "did not finish within 1 s" in result.stderr
    assert json.loads(result.stdout)["id"] and not out.exists()
    config = town / "settings" / "config.yaml"
    config.write_text(config.read_text().replace(json.dumps(sys.executable), "/nonexistent/notifier"))
    result = gt(town, "escalate", "Fire again", "-s", "high")
    assert result.stdout.startswith("Escalated ") and "cannot run '/nonexistent/notifier'" in result.stderr
    log = (town / ".runtime" / "logs" / "escalations.log").read_text()
    assert "did not finish" in log and "cannot run" in log


def test_a_patrol_does_not_wait_for_the_command(tmp_path):
    from gt.dispatch import escalations
    from gt.ledger.store import Signature

    town, out = _town_with_command(tmp_path, "later", "time.sleep(3)")
    started = time.monotonic()
    made = escalations.escalate(town, Signature("gizmo/witness"), "Polecat stuck", "high", "no output for 20 min")
    assert time.monotonic() - started < 2.5 and not out.exists()  # the notifier runs on its own
    deadline = time.monotonic() + 30
    while not out.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.2)  # written whole
    told = json.loads(out.read_text())
    assert (told["id"], told["event"], told["reason"], told["town"]) == (made["id"], "new", "no output for 20 min",
                                                                         str(town))


def test_bad_input(town):
    unknown = gt(town, "escalate", "Broken", "--severity", "urgent", ok=False)
    assert unknown.returncode == 2 and unknown.stderr.strip().count("\n") == 0
    assert "invalid severity 'urgent'" in unknown.stderr
    assert gt(town, "escalate", "Broken", "--related", "not an id", ok=False).returncode == 2
    assert gt(town, "escalate", "--severity", "high", ok=False).returncode == 2  # no description
    for sub in (("show", "hq-nosuch"), ("ack", "hq-nosuch"), ("close", "hq-nosuch")):
        missing = gt(town, "escalate", *sub, ok=False)
        assert missing.returncode == 1 and missing.stderr.strip() == "Error: no escalation hq-nosuch"
    message = json.loads(gt(town, "mail", "send", "mayor", "-s", "hi", "--json").stdout)["id"]
    assert gt(town, "escalate", "show", message, ok=False).returncode == 1  # mail is no escalation
    assert json.loads(gt(town, "escalate", "list", "--json").stdout) == []
    config = town / "settings" / "config.yaml"
    config.write_text(config.read_text() + "escalation:\n  stale_after:\n    high: soon\n")
    bad = gt(town, "escalate", "Broken", ok=False)
    assert bad.returncode == 2 and "escalation.stale_after.high" in bad.stderr


def test_done_escalated_creates_an_escalation(town):
    stuck = bead(town, "hard one")
    gt(town, "sling", stuck, "gizmo", "--no-start")
    home = town / "gizmo" / "polecats" / "toast"
    result = json.loads(gt(home, "done", "--status", "ESCALATED", "-m", "the API is missing", "--json").stdout)
    [made] = json.loads(gt(town, "escalate", "list", "--json").stdout)
    assert result["escalation"] == made["id"]
    assert (made["related"], made["severity"], made["source"], made["reason"]) == (
        stuck, "high", "gizmo/polecats/toast", "the API is missing")
    for reader in ("gizmo/witness", "mayor", "overseer"):
        [msg] = inbox(town, reader)
        assert msg["id"] == result["mail"] and msg["title"] == f"ESCALATED {stuck}: hard one"
    # the witness escalating the same bead later folds into it
    from gt.dispatch import escalations
    from gt.ledger.store import Signature

    folded = escalations.escalate(town, Signature("gizmo/witness"), "gizmo/polecats/toast is stuck", "high",
                                  "its session died", related=stuck, source="gizmo/witness")
    assert folded["id"] == made["id"] and folded["count"] == 2 and len(inbox(town, "mayor")) == 1

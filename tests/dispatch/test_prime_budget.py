"""`gt prime` stays short and exact: within its token budget whatever the bead holds (long fields cut,
saying so, the `gt-script` block kept), no stale mail, `--json` without the text, and `--hook` for a
runtime's session-start hook."""
from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from conftest import BIN, SCRIPT, TIMEOUT, Bd, bead, gt

from gt.model.bead import SCRIPT_BLOCK as BLOCK
from gt.dispatch.prime import BUDGET, cut, estimate_tokens, render
from gt.town.identity import parse

pytestmark = pytest.mark.town({"gizmo": "gz"})

PROSE = ("The parser accepts trailing commas in arrays but not in objects; make both consistent. Today "
         "`parse('{\"a\": 1,}')` raises ValueError while `parse('[1,]')` returns [1]. Users of the config loader "
         "hit this when they comment out the last key of a mapping.\n\n")
DESCRIPTION = (PROSE + "The fix belongs in the object branch of the recursive descent parser (parser.py, `_object`), "
               "mirroring what `_array` does. Keep the error messages for malformed input as they are: "
               "tests/test_errors.py pins them.\n\n" + SCRIPT.format(path="hello.txt", text="hello"))
DESIGN = "Mirror _array: after a value, a comma followed by the closing brace ends the object."
ACCEPTANCE = "parse('{\"a\": 1,}') == {'a': 1}; error messages unchanged; new tests pass."
COMMENTS = ("Seen in the config loader too.", "Please keep the change small.", "The array branch is at parser.py:120.")


def polecat_prime(town: Path, *fields: str, comments: tuple[str, ...] = COMMENTS,
                  notes: str | None = None) -> tuple[str, str, Path]:
    """A bead with `fields` (create options) slung to a polecat (not started): its id, its prime, the home."""
    work = bead(town, "Accept trailing commas in objects", "gizmo", None, *fields)
    if notes:
        Bd(town)("update", work, "--notes", notes)
    for text in comments:
        Bd(town)("comment", work, text)
    gt(town, "sling", work, "gizmo", "--no-start")
    home = town / "gizmo" / "polecats" / "toast"
    return work, gt(home, "prime").stdout, home


def test_the_estimate_is_conservative():
    assert estimate_tokens("") == 0
    assert estimate_tokens("x" * 35) == 10  # one token per 3.5 characters at least
    assert estimate_tokens("a, b; c.") == 6  # and one per word or punctuation mark
    assert estimate_tokens("hello world " * 100) >= len("hello world " * 100) / 3.5


def test_a_typical_polecat_prime_is_whole_and_within_budget(town):
    work, text, _ = polecat_prime(town, "-d", DESCRIPTION, "--design", DESIGN, "--acceptance", ACCEPTANCE)
    assert estimate_tokens(text) <= BUDGET
    assert estimate_tokens(text) <= 700  # the preamble is short: a typical bead leaves most of the budget
    for part in (DESCRIPTION.rstrip(), DESIGN, ACCEPTANCE, *COMMENTS, f"On your hook: {work}", "`gt done`",
                 "--status ESCALATED", "`bd show ID`", "`gt handoff"):
        assert part in text, part
    assert "truncated" not in text
    assert text.rstrip().endswith("start now, without asking.")


def test_huge_fields_are_cut_to_the_budget_keeping_the_script(town):
    script = SCRIPT.format(path="hello.txt", text="hello")
    description = PROSE * 150 + script + PROSE * 150  # ~60,000 characters
    work, text, _ = polecat_prime(town, "-d", description, "--design", "design words " * 3000,
                                  "--acceptance", ACCEPTANCE, notes="notes words " * 3000,
                                  comments=tuple(f"comment {i}: " + "long remark " * 300 for i in range(7)))
    assert estimate_tokens(text) <= BUDGET
    assert f"(truncated: run `bd show {work}` for all of it)" in text
    assert f"(truncated: run `bd comments {work}` for all of it)" in text
    found = BLOCK.search(text)
    assert found is not None and found.group(0) == script.rstrip("\n")  # whole, as the stand-in reads it
    assert PROSE.split(";")[0] in text  # the description's start is kept
    assert ACCEPTANCE in text  # a short field is whole, whatever the others hold
    assert "### Design" in text and "### Notes" in text and "comment 6: long remark" in text  # the newest comment
    assert text.index("### Description") < text.index("### Design")
    description_part = text[text.index("### Description"):text.index("### Design")]
    assert estimate_tokens(description_part) > estimate_tokens(text[text.index("### Design"):]) / 2  # it comes first
    assert text.rstrip().endswith("start now, without asking.")


def test_render_keeps_any_bead_within_budget():
    who = parse("gizmo/polecats/toast")
    script = "```gt-script\nrun: ./tests.sh\n```"
    for description in ("word " * 50000, "x" * 200000, "short " + script, "a;" * 40000 + script + "b " * 100,
                        "```gt-script\n" + "run: ./tests.sh\n" * 5000 + "```"):
        hook = {"id": "gz-abc", "title": "T" * 500, "type": "task", "priority": 2, "status": "hooked",
                "description": description, "design": "d " * 20000, "acceptance_criteria": "works",
                "notes": "n\n" * 20000, "comments": [{"author": "a", "text": "c " * 5000}] * 9}
        data = {"hook": hook, "agent": {"branch": "polecat/toast/gz-abc"}, "convoy": None, "nudges": [],
                "handoff": [{"id": "hq-1", "title": "Halfway", "description": "h " * 50000}]}
        text = render(data, who, [("hq-2", "mayor", "S" * 500)] * 9)
        assert estimate_tokens(text) <= BUDGET, description[:20]
        assert "works" in text and "start now, without asking." in text
        if len(description) < 1000:
            assert description in text and "truncated" not in text.split("### Description")[1].split("###")[0]
    assert cut("one two three", 100, "…") == "one two three"
    kept = cut("prose " * 1000 + script + " more" * 1000, 200, "(cut)")
    assert script in kept and kept.endswith("(cut)") and estimate_tokens(kept) <= 200


def test_ten_long_handoffs_and_a_long_bead_stay_within_budget(town):
    """Every `gt handoff` adds unread mail until it is read: the prime shows the newest two notes (cut to
    their share) and names the older ones by id, within the budget, the bead keeping its share."""
    title = "W " * 249 + "x"  # a 500-character title of short words: 250 tokens by the estimate
    work, _, home = polecat_prime(town, "-d", PROSE * 100, "--design", "design words " * 2000,
                                  "--acceptance", ACCEPTANCE, notes="notes words " * 2000)
    Bd(town)("update", work, "--title", title[:-1] + "y")
    ids = [json.loads(gt(home, "handoff", "-s", title, "-m", f"note {i}: " + "halfway there " * 500,
                         "--json").stdout)["id"] for i in range(10)]
    text = gt(home, "prime").stdout
    assert estimate_tokens(text) <= BUDGET
    assert text.count("## Handoff from your previous session") == 2
    assert f"({ids[-1]})" in text and f"({ids[-2]})" in text and "note 9: halfway" in text
    assert f"Older handoffs (8; `gt mail read ID`): {', '.join(ids[3:8])} and 3 more" in text
    assert f"(truncated: run `gt mail read {ids[-1]}` for all of it)" in text
    assert ACCEPTANCE in text and PROSE.split(";")[0] in text and f"On your hook: {work}: W W" in text
    description = text[text.index("### Description"):text.index("### Design")]
    assert estimate_tokens(description) > 200  # the bead keeps its share
    assert json.loads(gt(home, "prime", "--json").stdout)["handoff"][0]["id"] == ids[0]  # the JSON has them all


def test_render_keeps_everything_at_once_within_budget():
    """Long handoffs, many long nudges, mail and titles, and a long bead at once: within the budget,
    the bead's fields keeping a share (the handoffs, nudges and subjects give way)."""
    who = parse("gizmo/polecats/toast")
    title = "W " * 249 + "x"
    for count in (1, 2, 3, 10, 100):
        hook = {"id": "gz-abc12", "title": title, "type": "task", "priority": 2, "status": "hooked",
                "description": PROSE * 100, "design": "d " * 3000, "acceptance_criteria": "works",
                "notes": "n " * 3000, "comments": [{"author": "a" * 300, "text": title}] * 9}
        data = {"hook": hook, "agent": {"branch": "b" * 300}, "attempt": 3,
                "convoy": {"id": "hq-cv-1", "title": title, "progress": "0/1"},
                "nudges": [{"from": "x" * 200, "message": title}] * 30,
                "handoff": [{"id": f"hq-h{i:03d}", "title": title, "description": "note " * 1000}
                            for i in range(count)]}
        text = render(data, who, [("hq-m1", "m" * 200, title)] * 9)
        assert estimate_tokens(text) <= BUDGET, count
        assert "works" in text and PROSE.split(";")[0] in text and "start now, without asking." in text
        assert text.count("## Handoff from") == min(count, 2) and "earlier nudges wait: `gt mail check` shows them" in text
        description = text[text.index("### Description"):text.index("### Design")]
        assert estimate_tokens(description) > 150, count


def test_mail_about_a_landed_bead_is_stale(town):
    from gt.dispatch import mail
    from gt.ledger.store import Signature

    refinery = Signature("gizmo/refinery")
    old = bead(town, "Earlier work")
    gt(town, "sling", old, "gizmo", "--no-start")
    toast = "gizmo/polecats/toast"
    mail.send(town, refinery, [toast], f"FIX_NEEDED {old}", "gates failed", labels=("fix-needed",), check=False)
    Bd(town)("close", old, "--reason", "merged after the fix")
    gt(town, "unsling", toast)
    work = bead(town, "New work")
    gt(town, "sling", work, toast, "--no-start")
    home = town / "gizmo" / "polecats" / "toast"
    data = json.loads(gt(home, "prime", "--json").stdout)
    assert data["hook"]["id"] == work and data["unread_mail"] == 0
    text = gt(home, "prime").stdout
    assert "FIX_NEEDED" not in text and "unread" not in text.lower()
    # Mail about the bead on the hook, about an open bead, or about no bead at all is shown.
    other = bead(town, "Still open")
    mail.send(town, refinery, [toast], f"FIX_NEEDED {work}", "gates failed", labels=("fix-needed",), check=False)
    mail.send(town, refinery, [toast], f"MERGED {other}", "not yet, but open", check=False)
    gt(town, "mail", "send", toast, "-s", "Status?", "-m", "How is it going?", "--actor", "mayor")
    data = json.loads(gt(home, "prime", "--json").stdout)
    assert data["unread_mail"] == 3
    text = gt(home, "prime").stdout
    assert f"FIX_NEEDED {work}" in text and f"MERGED {other}" in text and "from mayor: Status?" in text
    assert f"FIX_NEEDED {old}" not in text
    # `gt mail inbox` still lists everything: the prime only leaves the stale mail out.
    assert len(json.loads(gt(home, "mail", "inbox", "--json").stdout)) == 4


def test_a_persons_mail_about_a_landed_bead_is_never_hidden(town):
    """Only the town's own mail (a keyword of the refinery, witness or `gt done`, from one of those
    roles) is read for the bead it concerns: a person's subject, even in capitals or with a town
    keyword, is always shown."""
    from gt.dispatch import mail
    from gt.ledger.store import Signature

    old = bead(town, "Earlier work")
    Bd(town)("close", old, "--reason", "merged")
    work = bead(town, "New work")
    toast = "gizmo/polecats/toast"
    gt(town, "sling", work, toast, "--no-start")
    home = town / "gizmo" / "polecats" / "toast"
    shown = [("mayor", f"URGENT {old}: reopen, the fix regressed"), ("overseer", f"FYI {old} landed but broke prod"),
             ("overseer", f"FIX_NEEDED {old}"), ("mayor", f"ESCALATED {old}: look again"),
             ("gizmo/crew/joe", f"MERGED {old}"), ("gizmo/refinery", f"PR {old} review"),
             ("gizmo/witness", f"URGENT {old}")]
    for sender, subject in shown:
        mail.send(town, Signature(sender), [toast], subject, "read me", check=False)
    mail.send(town, Signature("gizmo/refinery"), [toast], f"FIX_NEEDED {old}", "stale", check=False)
    mail.send(town, Signature("gizmo/witness"), [toast], f"RECOVERED_BEAD {old}", "stale", check=False)
    data = json.loads(gt(home, "prime", "--json").stdout)
    assert data["unread_mail"] == len(shown)
    text = gt(home, "prime").stdout
    for _, subject in shown[-5:]:  # the prime lists the newest five subjects
        assert subject in text, subject
    assert f"{len(shown) - 5} earlier" in text and "stale" not in text


def test_json_has_the_fields_but_not_the_text(town):
    work, _, home = polecat_prime(town, "-d", DESCRIPTION)
    data = json.loads(gt(home, "prime", "--json").stdout)
    assert "text" not in data
    assert {"identity", "role", "rig", "hook", "agent", "convoy", "handoff", "nudges", "unread_mail"} <= set(data)
    assert data["hook"]["id"] == work and data["hook"]["description"].rstrip() == DESCRIPTION.rstrip()


def run_hook(cwd: Path, stdin: str | None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "gt"), "prime", "--hook"], cwd=cwd, input=stdin, capture_output=True,
                          text=True, timeout=TIMEOUT, env=dict(os.environ), check=False)


def test_hook_prints_the_prime_for_a_session_start(town, tmp_path):
    _, text, home = polecat_prime(town, "-d", DESCRIPTION)
    for source in ("startup", "resume", "compact", "clear"):
        event = {"session_id": "abc123", "transcript_path": "/tmp/t.jsonl", "cwd": str(home),
                 "hook_event_name": "SessionStart", "source": source}
        result = run_hook(home, json.dumps(event))
        assert result.returncode == 0 and result.stdout == text, (source, result.stderr)
    for junk in ("not json", "[1, 2]", "", "\xff" * 10):
        result = run_hook(home, junk)
        assert result.returncode == 0 and result.stdout == text
    gt(town, "nudge", "gizmo/polecats/toast", "rebase first")
    assert "Nudge from overseer: rebase first" in run_hook(home, "{}").stdout
    # Stdin left open with nothing on it: the hook does not wait for it.
    started = time.monotonic()
    with subprocess.Popen([str(BIN / "gt"), "prime", "--hook"], cwd=home, stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
        try:
            proc.wait(timeout=TIMEOUT)
        finally:
            assert proc.stdin is not None
            proc.stdin.close()
        assert proc.returncode == 0 and proc.stdout is not None and proc.stdout.read() == text
    assert time.monotonic() - started < 30
    # Outside any town the hook still succeeds: one line on stderr, nothing on stdout.
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    result = run_hook(outside, '{"source": "startup"}')
    assert result.returncode == 0 and result.stdout == "" and len(result.stderr.strip().splitlines()) == 1
    assert gt(outside, "prime", ok=False).returncode == 1  # without --hook, it is an error

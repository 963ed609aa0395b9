"""The original bd's maintenance commands on a git ledger: info, migrate, doctor --check, repair-deps,
epic, prime, defer and undefer (what beads-mcp's admin tools and agents' hooks call)."""
from __future__ import annotations

import json
import re
import shlex
import time
from pathlib import Path

from conftest import Bd, commit_count, git, last_message, make_repo, trailers

from gt.cli.cobra import IGNORED_FLAGS


def imported(bd: Bd, tmp_path: Path, *records: dict) -> None:
    """Import beads written as the original's JSON Lines (what a partial import leaves, among others)."""
    path = tmp_path / "import.jsonl"
    base = {"status": "open", "priority": 2, "issue_type": "task", "created_at": "2025-01-01T00:00:00Z",
            "updated_at": "2025-01-01T00:00:00Z", "description": "A description long enough to count."}
    path.write_text("".join(json.dumps({**base, **r}) + "\n" for r in records))
    bd("import", str(path))


def orphaned(bd: Bd, tmp_path: Path) -> None:
    """gt-aaa depends on gt-gone (blocks) and gt-bbb (related); gt-bbb is a child of gt-nope: two
    dependencies on beads that exist nowhere."""
    imported(bd, tmp_path,
             {"id": "gt-aaa", "title": "Real work",
              "dependencies": [{"issue_id": "gt-aaa", "depends_on_id": "gt-gone", "type": "blocks"},
                               {"issue_id": "gt-aaa", "depends_on_id": "gt-bbb", "type": "related"}]},
             {"id": "gt-bbb", "title": "Other work",
              "dependencies": [{"issue_id": "gt-bbb", "depends_on_id": "gt-nope", "type": "parent-child"}]})


ORPHANS = [{"issue_id": "gt-aaa", "depends_on_id": "gt-gone", "type": "blocks"},
           {"issue_id": "gt-bbb", "depends_on_id": "gt-nope", "type": "parent-child"}]


# -- info --------------------------------------------------------------------------------------


def test_info_names_the_ledger_and_the_ignored_flags(bd, repo):
    a = bd("create", "A").stdout.strip()
    bd("create", "B")
    found = bd.json("info")
    git_dir = str(repo / ".git")
    assert found["database_path"] == f"{git_dir}#refs/heads/beads"
    assert found["mode"] == "git-ledger" and found["issue_count"] == 2
    assert (found["branch"], found["git_dir"], found["prefix"]) == ("beads", git_dir, "gt")
    assert found["head"] == git(repo, "rev-parse", "beads").strip()
    assert found["config"] == {"format": 2, "prefix": "gt"}
    assert found["ignored_flags"] == list(IGNORED_FLAGS)
    assert "schema" not in found
    bd("delete", a)
    assert bd.json("info")["issue_count"] == 1  # tombstones are not beads

    text = bd("info").stdout.splitlines()
    assert text[0] == f"Ledger: branch beads of {git_dir} (at {git(repo, 'rev-parse', 'beads').strip()[:12]})"
    assert text[1].startswith("Mode: git-ledger") and "Issue count: 1" in text and "Prefix: gt" in text
    ignored = [line for line in text if line.startswith("Accepted and ignored")]
    assert ignored == ["Accepted and ignored (no daemon or database server here): " + ", ".join(IGNORED_FLAGS)]


def test_info_schema(bd, repo):
    empty = bd.json("info", "--schema")["schema"]
    assert empty == {"tables": ["beads"], "schema_version": "2", "config": {"issue_prefix": "gt"},
                     "sample_issue_ids": [], "detected_prefix": ""}
    ids = [bd("create", f"Bead {n}").stdout.strip() for n in range(4)]
    schema = bd.json("info", "--schema")["schema"]
    assert schema["sample_issue_ids"] == ids[:3]  # by priority, then age
    assert schema["detected_prefix"] == "gt"
    text = bd("info", "--schema").stdout
    assert "  Collections: beads\n" in text and "  Ledger format: 2\n" in text and "  Detected prefix: gt\n" in text
    assert f"  Sample ids: {', '.join(ids[:3])}\n" in text


def test_info_prefix_detection(tmp_path):
    from gt.beads.admin import detected_prefix

    assert detected_prefix("gt-a3f8k") == "gt"
    assert detected_prefix("beads-vscode-12") == "beads-vscode"
    assert detected_prefix("bd-12.3") == "bd"
    assert detected_prefix("gt-a3f8k.1") == "gt"
    assert detected_prefix("nodash") == ""


def test_info_without_a_ledger_fails(repo):
    result = Bd(repo)("info", ok=False)
    assert result.exit_code == 1 and "run `bd init`" in result.stderr


# -- migrate -----------------------------------------------------------------------------------


def test_migrate_inspect(bd):
    bd("create", "A")
    state = bd.json("migrate", "--inspect")
    assert state == {
        "registered_migrations": [],
        "current_state": {"schema_version": "2", "issue_count": 1, "config": {"issue_prefix": "gt"},
                          "missing_config": [], "db_exists": True},
        "warnings": [], "invariants_to_check": [],
    }
    text = bd("migrate", "--inspect").stdout
    assert "Ledger format: 2\n" in text and "Issue count: 1\n" in text and "Registered migrations: 0" in text


def test_migrate_has_nothing_to_do(bd, repo):
    before = commit_count(repo)
    assert bd("migrate").stdout == "Nothing to migrate: the ledger is format 2\n"
    assert bd.json("migrate", "--yes") == {"status": "current", "message": "Nothing to migrate: the ledger is format 2"}
    assert commit_count(repo) == before


def test_migrate_without_a_ledger(repo):
    bd = Bd(repo)
    state = bd.json("migrate", "--inspect")
    assert state["current_state"] == {"schema_version": "missing", "issue_count": 0, "config": {},
                                      "missing_config": [], "db_exists": False}
    assert state["registered_migrations"] == [] and "bd init" in state["warnings"][0]
    assert bd.json("migrate")["status"] == "no_ledger"


# -- doctor --check ----------------------------------------------------------------------------


def test_doctor_check_refusals(bd):
    bad = bd("doctor", "--check=bogus", ok=False)
    assert bad.exit_code == 2 and bad.stdout == ""
    assert bad.stderr == "Error: unknown check 'bogus': use one of pollution, validate\n"
    as_json = bd("doctor", "--check", "bogus", "--json", ok=False)
    assert as_json.exit_code == 2 and json.loads(as_json.stderr)["code"] == "usage"
    clean = bd("doctor", "--clean", ok=False)
    assert clean.exit_code == 2 and len(clean.stderr.splitlines()) == 1


def test_doctor_validate_healthy(bd, repo):
    result = bd.json("doctor", "--check=validate")
    assert result["path"] == str(repo) and result["overall_ok"] is True
    names = [c["name"] for c in result["checks"]]
    assert "Orphaned Dependencies" in names and "Dependency Cycles" in names and len(names) == len(set(names))
    for check in result["checks"]:
        assert check["status"] == "ok" and check["message"] and check["category"]
        assert set(check) <= {"name", "status", "message", "detail", "fix", "category"}
    text = bd("doctor", "--check=validate").stdout
    assert "✓ Orphaned Dependencies: No orphaned dependencies\n" in text and text.endswith("All checks passed\n")


def test_doctor_validate_fails_then_fix_removes_orphans_in_one_commit(bd, repo, tmp_path):
    orphaned(bd, tmp_path)
    failing = bd("doctor", "--check=validate", "--json", ok=False)
    assert failing.exit_code == 1
    result = failing.json()
    assert result["overall_ok"] is False
    [check] = [c for c in result["checks"] if c["name"] == "Orphaned Dependencies"]
    assert check["status"] == "warning" and check["message"] == "2 orphaned dependencies"
    assert "gt-gone" in check["detail"] and "--fix" in check["fix"]
    assert "⚠ Orphaned Dependencies: 2 orphaned dependencies" in bd("doctor", "--check=validate", ok=False).stdout

    assert bd("doctor", ok=False).exit_code == 1  # the plain doctor reports, never removes them
    before = commit_count(repo)
    fixed = bd.json("doctor", "--check=validate", "--fix", "--yes")
    assert fixed["overall_ok"] is True
    [check] = [c for c in fixed["checks"] if c["name"] == "Orphaned Dependencies"]
    assert check["status"] == "ok" and check["message"] == "fixed: 2 orphaned dependencies"
    assert commit_count(repo) == before + 1
    message = last_message(repo)
    assert trailers(message, "Op") == ["repair-deps"] and sorted(trailers(message, "Bead-Id")) == ["gt-aaa", "gt-bbb"]
    assert bd.json("show", "gt-aaa")  # the related link to gt-bbb stays
    assert bd.json("repair-deps")["orphans_found"] == 0
    assert bd("doctor").exit_code == 0


def test_doctor_without_check_is_unchanged(bd):
    assert bd("doctor").stdout == "No problems found\n"
    assert bd.json("doctor") == []


def pollution_fixture(bd: Bd, tmp_path: Path) -> None:
    imported(bd, tmp_path,
             {"id": "gt-t1", "title": "test-login", "description": "", "created_at": "2025-01-01T00:00:00Z"},
             {"id": "gt-t2", "title": "Debug thing", "description": "tiny", "created_at": "2025-01-02T00:00:00Z"},
             {"id": "gt-t3", "title": "A test issue for the parser", "description": "",
              "created_at": "2025-01-03T00:00:00Z"},
             {"id": "gt-ok", "title": "Fix the login timeout", "created_at": "2025-01-04T00:00:00Z"},
             {"id": "gt-12", "title": "sample-data", "description": "", "created_at": "2025-01-05T00:00:00Z"},
             {"id": "gt-13", "title": "Sequential with nothing", "description": "", "created_at": "2025-01-06T00:00:00Z"})


def test_doctor_pollution_none(bd):
    bd("create", "Fix the login timeout", "-d", "It times out after 30 s on slow networks.")
    assert bd.json("doctor", "--check=pollution") == {"polluted_count": 0, "issues": []}
    assert bd("doctor", "--check=pollution").stdout == "No test pollution detected\n"


def test_doctor_pollution_scores(bd, repo, tmp_path):
    pollution_fixture(bd, tmp_path)
    before = commit_count(repo)
    result = bd.json("doctor", "--check=pollution")
    assert commit_count(repo) == before  # without --clean, nothing is written
    assert (result["polluted_count"], result["high_confidence"], result["medium_confidence"]) == (4, 2, 2)
    by_id = {i["id"]: i for i in result["issues"]}
    assert [i["id"] for i in result["issues"]] == ["gt-t1", "gt-t2", "gt-t3", "gt-12"]  # oldest first
    assert by_id["gt-t1"] == {"id": "gt-t1", "title": "test-login", "score": 0.9,
                              "reasons": ["Title starts with test prefix", "No description"],
                              "created_at": "2025-01-01T00:00:00Z"}
    assert by_id["gt-t2"]["score"] == 0.8  # a prefix and a very short description: medium
    assert by_id["gt-t3"]["score"] == 0.7 and by_id["gt-t3"]["reasons"] == ["No description", "Generic test title"]
    assert by_id["gt-12"]["score"] == 1.3 and "Sequential ID with minimal description" in by_id["gt-12"]["reasons"]
    # gt-13: a sequential id and no description make 0.6, under the threshold
    text = bd("doctor", "--check=pollution").stdout
    assert text.startswith("Found 4 beads that look like test pollution:\nHigh confidence (score 0.9 or more):\n")
    assert "  gt-t1: 'test-login' (score 0.90)\n    - Title starts with test prefix\n" in text
    assert "Medium confidence (0.7 to 0.9):\n  gt-t2: 'Debug thing' (score 0.80)" in text
    assert text.endswith("Run 'bd doctor --check=pollution --clean --yes' to delete them (one commit).\n")


def test_pollution_rapid_creation():
    from gt.beads.admin import pollution

    docs = [{"id": f"gt-x{n}", "title": f"Real title {n}", "description": "",
             "created_at": f"2025-01-01T00:00:{n:02d}Z"} for n in range(10)]
    assert pollution(docs) == []  # no description and rapid creation: 0.2 + 0.3 is under the threshold
    docs[0]["title"] = "tmp thing"
    [hit] = pollution(docs)
    assert hit.tenths == 12 and "Created with 9 other issues in same minute" in hit.reasons


def test_doctor_pollution_clean_deletes_in_one_commit(bd, repo, tmp_path):
    pollution_fixture(bd, tmp_path)
    refused = bd("doctor", "--check=pollution", "--clean", ok=False)  # stdin is not a terminal: no prompt
    assert refused.exit_code == 2 and "--yes" in refused.stderr
    before = commit_count(repo)
    result = bd.json("doctor", "--check=pollution", "--clean", "--yes")
    assert result["deleted"] == ["gt-t1", "gt-t2", "gt-t3", "gt-12"]
    assert commit_count(repo) == before + 1
    message = last_message(repo)
    assert trailers(message, "Op") == ["delete"] and trailers(message, "Bead-Id") == result["deleted"]
    assert bd("show", "gt-t1", ok=False).exit_code == 1
    assert {d["id"] for d in bd.json("list", "--all")} == {"gt-ok", "gt-13"}
    assert bd.json("doctor", "--check=pollution") == {"polluted_count": 0, "issues": []}


# -- repair-deps -------------------------------------------------------------------------------


def test_repair_deps_reports_and_fixes_in_one_commit(bd, repo, tmp_path):
    assert bd.json("repair-deps") == {"orphans_found": 0, "orphans": []}
    assert bd("repair-deps").stdout == "No orphaned dependencies found\n"
    orphaned(bd, tmp_path)
    assert bd.json("repair-deps") == {"orphans_found": 2, "orphans": ORPHANS}
    text = bd("repair-deps").stdout
    assert text == ("Found 2 orphaned dependencies:\n"
                    "  gt-aaa -> gt-gone (blocks): gt-gone does not exist\n"
                    "  gt-bbb -> gt-nope (parent-child): gt-nope does not exist\n"
                    "Run with --fix to remove them\n")
    before = commit_count(repo)
    assert bd.json("repair-deps", "--fix") == {"orphans_found": 2, "orphans": ORPHANS, "fixed": 2}
    assert commit_count(repo) == before + 1 and trailers(last_message(repo), "Op") == ["repair-deps"]
    assert bd.json("repair-deps", "--fix") == {"orphans_found": 0, "orphans": [], "fixed": 0}
    assert commit_count(repo) == before + 1  # nothing left: no commit


def test_repair_deps_keeps_dependencies_on_deleted_beads(bd):
    a = bd("create", "A").stdout.strip()
    b = bd("create", "B").stdout.strip()
    bd("dep", "add", a, b)
    bd("delete", b, "--force")
    assert bd.json("repair-deps")["orphans_found"] == 0  # the tombstone is there: nothing dangles


# -- epic --------------------------------------------------------------------------------------


def test_epic_status_and_close_eligible(bd, repo):
    done = bd("create", "Done epic", "-t", "epic").stdout.strip()
    busy = bd("create", "Busy epic", "-t", "epic", "-p", "1").stdout.strip()
    bd("create", "Lonely epic", "-t", "epic")  # no children: not listed, as in the original
    kids = [bd("create", f"part {n}", "--parent", done).stdout.strip() for n in range(2)]
    busy_kids = [bd("create", f"step {n}", "--parent", busy).stdout.strip() for n in range(3)]
    bd("close", *kids, busy_kids[0])

    statuses = bd.json("epic", "status")
    assert [(s["epic"]["id"], s["total_children"], s["closed_children"], s["eligible_for_close"]) for s in statuses] == \
        [(busy, 3, 1, False), (done, 2, 2, True)]
    assert statuses[1]["epic"]["issue_type"] == "epic" and statuses[1]["epic"]["title"] == "Done epic"
    assert [s["epic"]["id"] for s in bd.json("epic", "status", "--eligible-only")] == [done]
    text = bd("epic", "status").stdout
    assert f"○ {busy} Busy epic\n   Progress: 1/3 children closed (33%)\n" in text
    assert f"✓ {done} Done epic\n   Progress: 2/2 children closed (100%)\n   Eligible for closure\n" in text

    before = commit_count(repo)
    dry = bd.json("epic", "close-eligible", "--dry-run")
    assert [s["epic"]["id"] for s in dry] == [done] and commit_count(repo) == before
    assert bd("epic", "close-eligible", "--dry-run").stdout == f"Would close 1 epics:\n  - {done}: Done epic\n"
    assert bd.json("epic", "close-eligible") == {"closed": [done], "count": 1}
    assert commit_count(repo) == before + 1
    message = last_message(repo)
    assert trailers(message, "Op") == ["close"] and trailers(message, "Bead-Id") == [done]
    assert trailers(message, "Reason") == ["All children completed"]
    shown = bd.json("show", done)
    shown = shown[0] if isinstance(shown, list) else shown
    assert shown["status"] == "closed" and shown["close_reason"] == "All children completed"
    assert bd.json("epic", "close-eligible") == []
    assert bd("epic", "close-eligible").stdout == "No epics eligible for closure\n"
    assert commit_count(repo) == before + 1


def test_epic_status_empty(bd):
    assert bd.json("epic", "status") == []
    assert bd("epic", "status").stdout == "No open epics found\n"


# -- defer and undefer -------------------------------------------------------------------------


def test_defer_and_undefer_in_one_commit_each(bd, repo):
    a = bd("create", "A").stdout.strip()
    b = bd("create", "B").stdout.strip()
    before = commit_count(repo)
    docs = bd.json("defer", a, b, "--until", "2999-01-01")
    assert isinstance(docs, list) and [d["id"] for d in docs] == [a, b]
    assert all(d["status"] == "deferred" and d["defer_until"] == "2999-01-01" and d["issue_type"] == "task"
               for d in docs)
    assert commit_count(repo) == before + 1 and trailers(last_message(repo), "Op") == ["defer"]
    assert bd.json("ready") == []
    assert {d["id"] for d in bd.json("list")} == {a, b}  # still listed

    docs = bd.json("undefer", a, b)
    assert [(d["id"], d["status"], "defer_until" in d) for d in docs] == [(a, "open", False), (b, "open", False)]
    assert commit_count(repo) == before + 2 and trailers(last_message(repo), "Op") == ["undefer"]
    assert {d["id"] for d in bd.json("ready")} == {a, b}


def test_defer_text_relative_dates_and_refusals(bd, repo):
    a = bd("create", "A").stdout.strip()
    out = bd("defer", a, "--until", "+2d").stdout
    until = re.fullmatch(rf"Deferred {a} until (\S+)\n", out).group(1)  # type: ignore[union-attr]
    from gt.model.bead import parse_time

    assert abs(parse_time(until) - (time.time() + 2 * 86400)) < 120  # type: ignore[operator]
    bad = bd("defer", a, "--until", "someday", ok=False)
    assert bad.exit_code == 2 and "--until" in bad.stderr
    assert bd("defer", ok=False).exit_code == 2
    assert bd("defer", "gt-nosuch", ok=False).exit_code == 1
    past = bd("defer", a, "--until", "2000-01-01")
    assert "in the past" in past.stderr and past.stdout == f"Deferred {a} until 2000-01-01\n"
    assert bd("undefer", a).stdout == f"Undeferred {a} (now open)\n"


def test_undefer_skips_beads_that_are_not_deferred(bd, repo):
    a = bd("create", "A").stdout.strip()
    b = bd("create", "B").stdout.strip()
    bd("update", b, "--defer", "2999-01-01")  # open with a defer date: deferred too
    before = commit_count(repo)
    result = bd("undefer", a, "--json")
    assert json.loads(result.stdout) == [] and result.stderr == f"{a} is not deferred (status: open)\n"
    assert commit_count(repo) == before
    [doc] = bd.json("undefer", a, b)
    assert doc["id"] == b and "defer_until" not in doc and commit_count(repo) == before + 1


# -- prime -------------------------------------------------------------------------------------


def test_prime_is_silent_without_a_ledger(tmp_path):
    plain = tmp_path / "plain"
    plain.mkdir()
    for where in (plain, make_repo(tmp_path / "proj")):
        result = Bd(where).proc("prime", timeout=60)
        assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")


def test_prime_full_brief_and_json(bd, repo, tmp_path):
    full = bd("prime").stdout
    assert full.startswith("# Beads workflow context\n")
    assert "ledger branch\n`beads` of this git repository (ids like gt-a3f8k" in full
    assert "No git remote: the ledger stays in this repository." in full
    assert "bd sync" in full and "[ ] bd close ID" in full and "git push" not in full
    assert bd("prime", "--stealth").stdout.count("No git remote") == 0
    brief = bd("prime", "--mcp").stdout
    assert brief.startswith("# Beads issue tracker active\n") and "bd close the finished beads" in brief
    assert bd.json("prime") == {"mode": "full", "text": full}

    hub = tmp_path / "hub.git"
    git(tmp_path, "init", "-q", "--bare", str(hub))
    git(repo, "remote", "add", "origin", str(hub))
    shared = bd("prime").stdout
    assert "[ ] 3. bd sync" in shared and "[ ] 4. git push" in shared and "No git remote" not in shared
    assert "git commit → bd sync → git push" in bd("prime", "--mcp").stdout


def test_prime_follows_an_mcp_setup_and_an_override(bd, repo):
    home = Path.home()  # the test's own HOME (conftest)
    (home / ".claude").mkdir()
    (home / ".claude" / "settings.json").write_text(json.dumps({"mcpServers": {"beads": {"command": "beads-mcp"}}}))
    assert bd.json("prime")["mode"] == "brief"
    assert bd.json("prime", "--full")["mode"] == "full"
    (repo / ".beads").mkdir(exist_ok=True)
    (repo / ".beads" / "PRIME.md").write_text("Our own rules.\n")
    assert bd("prime").stdout == "Our own rules.\n"
    assert bd.json("prime", "--export")["mode"] == "brief"


def prime_commands(text: str) -> list[str]:
    """The command lines prime shows: `bd …` at the start of a line (indented or in a code block),
    up to the two spaces before its note."""
    found = []
    for line in text.splitlines():
        match = re.match(r"\s*(bd \S.*?)(?:\s{2,}\S.*)?$", line)
        if match:
            found.append(match.group(1))
    return found


def test_every_command_in_prime_runs(tmp_path):
    hub = tmp_path / "hub.git"
    git(tmp_path, "init", "-q", "--bare", str(hub))
    repo = make_repo(tmp_path / "proj")
    git(repo, "remote", "add", "origin", str(hub))
    bd = Bd(repo)
    bd("init", "--prefix", "gt")
    commands = prime_commands(bd("prime", "--full").stdout)
    assert len(commands) >= 20
    for line in commands:
        args = shlex.split(line)[1:]
        ids = {"ID": bd("create", "the bead").stdout.strip(), "OTHER": bd("create", "the other").stdout.strip()}
        args = [re.sub(r"\b(ID|OTHER)\b", lambda m, ids=ids: ids[m.group(1)], a) for a in args]
        bd(*args)  # must succeed
    pushed = git(hub, "rev-parse", "beads").strip()  # bd sync pushed (later commands wrote more)
    git(repo, "merge-base", "--is-ancestor", pushed, "beads")

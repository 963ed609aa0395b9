"""Failures: exit codes, JSON errors, refused commands change nothing, limits on input, unreadable
ledger files written by plain git, and who is recorded as the actor."""
from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from conftest import Bd, bead_path, git, hand_commit, head, ledger_files, make_repo, new


def snapshot(repo: Path) -> tuple[str, list[str], str]:
    """Everything a refused command must leave alone: the ledger head, its files, every ref."""
    return head(repo), ledger_files(repo), git(repo, "for-each-ref")


# -- exit codes --------------------------------------------------------------------------------


def test_success_exits_zero(bd):
    bead_id = new(bd, "A")
    for args in (("show", bead_id), ("list",), ("ready",), ("update", bead_id, "-p", "1"), ("close", bead_id)):
        assert bd(*args).exit_code == 0


@pytest.mark.parametrize("args", [
    ("show", "gt-unknown"),
    ("update", "gt-unknown", "-p", "1"),
    ("close", "gt-unknown"),
    ("reopen", "gt-unknown"),
    ("delete", "gt-unknown"),
    ("dep", "add", "gt-unknown", "gt-other"),
    ("comment", "gt-unknown", "text"),
    ("label", "add", "gt-unknown", "x"),
    ("history", "gt-unknown"),
])
def test_unknown_id_exits_one(bd, repo, args):
    new(bd, "Existing")
    before = snapshot(repo)
    result = bd(*args, ok=False)
    assert result.exit_code == 1
    assert "gt-unknown" in result.stderr
    assert result.stderr.startswith("Error: ")
    assert snapshot(repo) == before


@pytest.mark.parametrize("args", [
    ("create", "X", "-p", "7"),
    ("create", "X", "-p", "P5"),
    ("create", "X", "-p", "-1"),
    ("create", "X", "-p", "high"),
    ("create", "X", "-t", "nonsense"),
    ("create", ""),
    ("create", "two\nlines"),
    ("create", "X", "--estimate", "-5"),
    ("create",),
    ("list", "-s", "nonsense"),
    ("list", "-p", "9"),
    ("count", "-s", "nonsense"),
    ("no-such-command",),
])
def test_usage_errors_exit_two(bd, repo, args):
    before = snapshot(repo)
    result = bd(*args, ok=False)
    assert result.exit_code == 2
    assert snapshot(repo) == before


@pytest.mark.parametrize("args", [
    ("-s", "nonsense"),
    ("-p", "7"),
    ("-t", "nonsense"),
    ("--title", ""),
    ("--due", "someday"),
])
def test_update_usage_errors_exit_two(bd, repo, args):
    bead_id = new(bd, "A")
    before = snapshot(repo)
    result = bd("update", bead_id, *args, ok=False)
    assert result.exit_code == 2
    assert snapshot(repo) == before
    assert bd.show(bead_id)["status"] == "open"


def test_refused_operations_exit_one_and_change_nothing(bd, repo):
    a = new(bd, "A")
    b = new(bd, "B", "--deps", a)
    epic = new(bd, "Epic", "-t", "epic")
    new(bd, "Child", "--parent", epic)
    claimed = new(bd, "Claimed")
    bd("update", claimed, "--claim", "--actor", "alice")
    before = snapshot(repo)
    refused = [
        ("dep", "add", a, b),  # cycle
        ("dep", "add", a, a),  # self
        ("close", b),  # open blocker
        ("close", epic),  # open child
        ("delete", a),  # b depends on it
        ("update", claimed, "--claim", "--actor", "bob"),
        ("create", "Dup", "--id", a),
        ("dep", "remove", a, b),  # no such dependency
        ("init", "--prefix", "other"),
    ]
    for args in refused:
        result = bd(*args, ok=False)
        assert result.exit_code == 1, args
        assert result.stderr.startswith("Error: "), args
        assert snapshot(repo) == before, args


@pytest.mark.parametrize("args, code, exit_code", [
    (("show", "gt-unknown"), "not_found", 1),
    (("create", "X", "-p", "7"), "usage", 2),
    (("list", "-s", "nonsense"), "usage", 2),
])
def test_json_errors_on_stderr(bd, args, code, exit_code):
    result = bd(*args, "--json", ok=False)
    assert result.exit_code == exit_code
    assert result.stdout == ""
    err = json.loads(result.stderr)
    assert set(err) == {"error", "code"}
    assert err["code"] == code
    assert isinstance(err["error"], str) and err["error"]


def test_json_error_for_cycle_and_refusal(bd):
    a = new(bd, "A")
    b = new(bd, "B", "--deps", a)
    result = bd("dep", "add", a, b, "--json", ok=False)
    assert result.exit_code == 1 and result.stdout == ""
    err = json.loads(result.stderr)
    assert err["code"] == "cycle" and a in err["error"] and b in err["error"]
    result = bd("close", b, "--json", ok=False)
    err = json.loads(result.stderr)
    assert result.exit_code == 1 and err["code"] == "refused"


def test_json_error_real_process(bd):
    result = bd.proc("show", "gt-unknown", "--json", ok=False)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert json.loads(result.stderr) == {"error": "no bead gt-unknown", "code": "not_found"}
    result = bd.proc("create", "X", "-p", "7", "--json", ok=False)
    assert result.exit_code == 2
    assert json.loads(result.stderr)["code"] == "usage"


# -- limits on input ---------------------------------------------------------------------------


def _megabyte_of_text(seed: int = 7) -> str:
    rng = random.Random(seed)
    alphabet = "abcdefghijklmnopqrstuvwxyz ABCDEFGHIJ 0123456789 :#-'\"\\{}[]|>&*!%@`\té€😀"
    lines, size = ["   leading spaces on the first line"], 0
    while size < 1 << 20:
        line = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 150)))
        lines.append(line)
        size += len(line.encode("utf-8")) + 1
    return "\n".join(lines) + "\n\n"


def test_megabyte_description_file_round_trips(bd, repo, tmp_path):
    text = _megabyte_of_text()
    assert len(text.encode("utf-8")) >= 1 << 20
    path = tmp_path / "big.md"
    path.write_bytes(text.encode("utf-8"))
    bead_id = new(bd, "Big", "--description-file", str(path))
    assert bd.show(bead_id)["description"] == text
    record = json.loads(bd("export").stdout)
    assert record["description"] == text
    assert len(git(repo, "show", f"beads:{bead_path(bead_id)}").encode()) > 1 << 20
    # an update of another field keeps it intact
    bd("update", bead_id, "-p", "1")
    assert bd.show(bead_id)["description"] == text


def test_megabyte_description_update_from_file(bd, tmp_path):
    text = _megabyte_of_text(seed=11)
    path = tmp_path / "big.md"
    path.write_bytes(text.encode("utf-8"))
    bead_id = new(bd, "Small")
    bd("update", bead_id, "--description-file", str(path))
    assert bd.show(bead_id)["description"] == text


def test_description_file_keeps_carriage_returns(bd, tmp_path):
    text = "windows line\r\nold mac\rline\n"
    path = tmp_path / "crlf.txt"
    path.write_bytes(text.encode("utf-8"))
    bead_id = new(bd, "CRLF", "--description-file", str(path))
    assert bd.show(bead_id)["description"] == text


def test_description_option_keeps_carriage_returns(bd):
    text = "windows line\r\nold mac\rline\n"
    bead_id = new(bd, "CRLF", "-d", text)
    assert bd.show(bead_id)["description"] == text


def test_long_description_as_argument_is_refused(bd, repo):
    before = snapshot(repo)
    result = bd("create", "Too long", "-d", "x" * (128 * 1024 + 1), ok=False)
    assert result.exit_code == 2
    assert "file" in result.stderr
    assert snapshot(repo) == before


def test_title_length_limit(bd, repo):
    new(bd, "t" * 500)
    before = snapshot(repo)
    result = bd("create", "t" * 501, ok=False)
    assert result.exit_code == 2
    assert "title" in result.stderr and "501" in result.stderr
    assert snapshot(repo) == before
    bead_id = new(bd, "short")
    result = bd("update", bead_id, "--title", "u" * 501, ok=False)
    assert result.exit_code == 2
    assert bd.show(bead_id)["title"] == "short"


@pytest.mark.parametrize("bad_id", ["../evil", "/abs", "gt-a\x00b", "gt-../../x", "gt-a/b", "gt-", "nodash"])
def test_bad_explicit_ids_are_refused(bd, repo, bad_id):
    before = snapshot(repo)
    result = bd("create", "Evil", "--id", bad_id, ok=False)
    assert result.exit_code in (1, 2)
    assert snapshot(repo) == before
    assert not any(".." in f or "evil" in f for f in ledger_files(repo))


def test_bad_id_refused_as_usage_error(bd, repo):
    for bad_id in ("../evil", "/abs", "gt-a\x00b"):
        result = bd("create", "Evil", "--id", bad_id, ok=False)
        assert result.exit_code == 2
        assert "invalid bead id" in result.stderr


def test_nul_in_description_is_refused(bd, repo):
    before = snapshot(repo)
    assert bd("create", "X", "-d", "a\x00b", ok=False).exit_code == 2
    assert snapshot(repo) == before


def test_nul_in_title_is_refused(bd, repo):
    before = snapshot(repo)
    result = bd("create", "a\x00b", ok=None)
    assert snapshot(repo) == before
    assert result.exit_code == 2


def test_nul_in_close_reason_is_refused(bd, repo):
    bead_id = new(bd, "A")
    before = snapshot(repo)
    result = bd("close", bead_id, "-r", "x\x00y", ok=None)
    assert snapshot(repo) == before
    assert result.exit_code == 2


@pytest.mark.parametrize("args", [("create", "X", "--estimate", "-5"), ("list", "--sort", "bogus"),
                                  ("ready", "-n", "many")])
def test_json_usage_errors_from_option_parsing(bd, args):
    result = bd(*args, "--json", ok=False)
    assert result.exit_code == 2
    err = json.loads(result.stderr)
    assert err["code"] == "usage"


def test_every_commit_git_sees_has_its_trailers(bd, repo):
    """What git itself reads back from each commit message (not only what dulwich wrote)."""
    a = new(bd, "A")
    bd("update", a, "-p", "1")
    bd("close", a, "-r", "done")
    for sha in git(repo, "rev-list", "beads").split()[:-1]:  # all but the init commit
        body = git(repo, "log", "-1", "--format=%B", sha)
        assert f"Bead-Id: {a}" in body and "Op: " in body and "Actor: Test User" in body


# -- no ledger, no repository ------------------------------------------------------------------


@pytest.mark.parametrize("args", [("list",), ("create", "X"), ("show", "gt-x"), ("ready",), ("export",),
                                  ("stats",), ("update", "gt-x", "-p", "1"), ("import", "-")])
def test_no_ledger_says_run_bd_init(repo, args):
    result = Bd(repo)(*args, ok=False)
    assert result.exit_code == 1
    assert "bd init" in result.stderr
    assert git(repo, "for-each-ref") == ""


def test_doctor_without_ledger_says_run_bd_init(repo):
    result = Bd(repo)("doctor", ok=False)
    assert result.exit_code == 1
    assert "does not exist" in result.stdout
    assert "bd init" in result.stdout + result.stderr


def test_no_ledger_real_process(repo):
    result = Bd(repo).proc("list", ok=False)
    assert result.exit_code == 1
    assert "bd init" in result.stderr


def test_not_a_git_repository(tmp_path):
    plain = tmp_path / "plain"
    plain.mkdir()
    result = Bd(plain)("list", ok=False)
    assert result.exit_code == 1
    assert "git" in result.stderr


# -- a malformed file committed by plain git ---------------------------------------------------


def commit_raw_file(repo: Path, path: str, content: bytes, monkeypatch: pytest.MonkeyPatch) -> str:
    """Add `path` with `content` to the ledger branch with plain git plumbing, in a temporary index."""
    blob_file = repo.parent / "raw-blob"
    blob_file.write_bytes(content)
    blob = git(repo, "hash-object", "-w", str(blob_file)).strip()
    parent = head(repo)
    monkeypatch.setenv("GIT_INDEX_FILE", str(repo.parent / "tmp-index"))
    try:
        git(repo, "read-tree", "beads")
        git(repo, "update-index", "--add", "--cacheinfo", f"100644,{blob},{path}")
        tree = git(repo, "write-tree").strip()
    finally:
        monkeypatch.delenv("GIT_INDEX_FILE")
    commit = git(repo, "commit-tree", tree, "-p", parent, "-m", "hand-edited ledger").strip()
    git(repo, "update-ref", "refs/heads/beads", commit, parent)
    return commit


BROKEN = "gt-broken"


@pytest.fixture
def broken(bd, repo, monkeypatch):
    """A ledger with two good beads and one file that is not valid YAML."""
    good = [new(bd, "Good one", "-l", "x"), new(bd, "Good two", "-p", "1")]
    bd("list")  # warm the read index first, so the hand-made commit must be noticed
    commit_raw_file(repo, bead_path(BROKEN), b"id: gt-broken\ntitle: [unclosed\n  status: : open\n", monkeypatch)
    assert bead_path(BROKEN) in ledger_files(repo)
    return good


def test_malformed_file_leaves_others_readable(bd, repo, broken):
    listed = [d["id"] for d in bd.json("list")]
    assert sorted(listed) == sorted(broken)
    text = bd("list").stdout
    assert "Good one" in text and "Good two" in text
    for bead_id in broken:
        assert bd.show(bead_id)["id"] == bead_id
    assert sorted(d["id"] for d in bd.json("ready")) == sorted(broken)
    assert bd.json("count") == {"count": 2}
    assert len(bd("export").stdout.splitlines()) == 2


def test_show_malformed_file_names_it(bd, repo, broken):
    result = bd("show", BROKEN, ok=False)
    assert result.exit_code == 1
    assert bead_path(BROKEN) in result.stderr
    result = bd("show", BROKEN, "--json", ok=False)
    assert bead_path(BROKEN) in json.loads(result.stderr)["error"]


def test_doctor_reports_malformed_file(bd, repo, broken):
    result = bd("doctor", ok=False)
    assert result.exit_code == 1
    assert bead_path(BROKEN) in result.stdout
    findings = json.loads(bd("doctor", "--json", ok=False).stdout)
    unreadable = [f for f in findings if f["kind"] == "unreadable"]
    assert len(unreadable) == 1 and bead_path(BROKEN) in unreadable[0]["path"]


def test_doctor_on_healthy_ledger_exits_zero(bd):
    new(bd, "Fine")
    assert "No problems" in bd("doctor").stdout


def test_malformed_file_does_not_stop_writes(bd, repo, broken):
    bead_id = new(bd, "After the breakage")
    bd("update", broken[0], "-p", "0")
    assert bd.show(bead_id)["title"] == "After the breakage"
    assert bead_path(BROKEN) in ledger_files(repo)
    assert git(repo, "show", f"beads:{bead_path(BROKEN)}").startswith("id: gt-broken\ntitle: [unclosed")


def test_non_mapping_file_is_reported(bd, repo, monkeypatch):
    good = new(bd, "Good")
    commit_raw_file(repo, bead_path("gt-listy"), b"- just\n- a list\n", monkeypatch)
    assert [d["id"] for d in bd.json("list")] == [good]
    result = bd("show", "gt-listy", ok=False)
    assert result.exit_code == 1 and bead_path("gt-listy") in result.stderr
    assert bead_path("gt-listy") in bd("doctor", ok=False).stdout


def test_a_hand_edit_that_breaks_the_schema_skips_only_that_bead(bd, repo):
    good = bd("create", "good").stdout.strip()
    bad = bd("create", "bad").stdout.strip()
    hand_commit(repo, bead_path(bad), f"id: {bad}\ntitle: bad\nstatus: open\npriority: high\n")
    assert [b["id"] for b in bd.json("ready")] == [good]
    assert "priority 'high' is not 0-4" in bd("show", bad, ok=False).stderr
    assert bead_path(bad) in bd("doctor", ok=False).stdout


def test_doctor_fix_settles_a_fan_out_folder_with_other_files(bd, repo):
    bead = bd("create", "x").stdout.strip()
    folder = bead_path(bead).rsplit("/", 1)[0]
    hand_commit(repo, f"{folder}/README", "not a bead\n")
    bd("doctor")  # nothing to report: the index ignores files that are not YAML documents


# -- actor detection ---------------------------------------------------------------------------


def authors(repo: Path) -> list[str]:
    return git(repo, "log", "--format=%an", "beads").splitlines()


def test_actor_option_wins_over_env_and_git_config(bd, repo):
    bead_id = new(bd, "A", "--actor", "option-actor")
    assert authors(repo)[0] == "option-actor"
    bd("update", bead_id, "-p", "1", "--actor", "option-actor", env={"BD_ACTOR": "env-actor"})
    assert authors(repo)[0] == "option-actor"
    assert "Actor: option-actor" in git(repo, "log", "-1", "--format=%B", "beads")


def test_bd_actor_env_wins_over_git_config(bd, repo):
    bead_id = new(bd, "A")
    assert authors(repo)[0] == "Test User"
    bd("update", bead_id, "-p", "1", env={"BD_ACTOR": "env-actor"})
    assert authors(repo)[0] == "env-actor"
    assert bd.show(bead_id)["created_by"] == "Test User"
    assert "Actor: env-actor" in git(repo, "log", "-1", "--format=%B", "beads")


def test_bd_actor_env_real_process(bd, repo):
    bead_id = bd.proc("create", "From a process", env={"BD_ACTOR": "proc-actor"}).stdout.strip()
    assert authors(repo)[0] == "proc-actor"
    assert bd.show(bead_id)["created_by"] == "proc-actor"


def test_git_user_name_is_the_default_actor(tmp_path):
    repo = make_repo(tmp_path / "named", user="Repo Person")
    bd = Bd(repo)
    bd("init", "--prefix", "gt")
    bead_id = new(bd, "A")
    assert authors(repo) == ["Repo Person", "Repo Person"]
    assert git(repo, "log", "-1", "--format=%ae", "beads").strip() == "repo@example.com"
    assert bd.show(bead_id)["created_by"] == "Repo Person"


def test_global_git_user_name_when_repo_has_none(tmp_path):
    repo = tmp_path / "anon"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "--global", "user.name", "Global Person")
    git(repo, "config", "--global", "user.email", "global@example.com")
    bd = Bd(repo)
    bd("init", "--prefix", "gt")
    new(bd, "A")
    assert authors(repo) == ["Global Person", "Global Person"]


def test_blank_actor_falls_back(bd, repo):
    bd("create", "A", "--actor", "  ", env={"BD_ACTOR": "env-actor"})
    assert authors(repo)[0] == "env-actor"


def test_invalid_actor_is_refused(bd, repo):
    before = snapshot(repo)
    result = bd("create", "A", "--actor", "evil <x@y>", ok=False)
    assert result.exit_code == 2
    assert snapshot(repo) == before

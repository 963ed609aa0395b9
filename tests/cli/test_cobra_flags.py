"""The original bd's flag forms (Cobra): root flags anywhere, `--flag=false`, the ignored daemon and
database flags, --readonly, --actor as who acts, $BEADS_DIR and $BEADS_ACTOR."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from conftest import Bd, commit_count, git, head, last_message, make_repo, trailers


def author(repo: Path) -> str:
    return trailers(last_message(repo), "Actor")[0]


@pytest.mark.parametrize("line", [
    ("--json", "list"), ("list", "--json"), ("list", "--json=true"), ("--json=1", "list"),
    ("--format", "json", "list"), ("list", "--format=json"),
])
def test_json_anywhere(bd, line):
    bead = bd("create", "A").stdout.strip()
    assert [row["id"] for row in bd(*line).json()] == [bead]


def test_false_forms_turn_flags_off(bd):
    bead = bd("create", "A").stdout.strip()
    assert bd("list", "--json=false").stdout.startswith(bead)  # text, not JSON
    bd("close", bead)
    assert bd.json("list", "--all=false") == []
    assert [r["id"] for r in bd.json("list", "--all=true")] == [bead]
    bad = bd("list", "--json=maybe", ok=False)
    assert bad.exit_code == 2 and "--json takes true or false" in bad.stderr


def test_an_option_value_that_looks_like_a_root_flag_stays_a_value(bd):
    bead = bd.json("create", "A", "--notes", "--json", "-d", "--actor")
    assert bead["notes"] == "--json" and bead["description"] == "--actor"
    assert bd.show(bead["id"]).get("notes") == "--json"


def test_everything_after_a_double_dash_is_an_argument(bd):
    result = bd("comment", "--json", "--", "nosuch", "--json", ok=False)
    assert result.exit_code == 1 and "nosuch" in result.stderr


@pytest.mark.parametrize("flag", [
    ("--db", "/tmp/x.db"), ("--no-daemon",), ("--no-auto-flush",), ("--no-auto-import",), ("--sandbox",),
    ("--dolt-auto-commit", "on"), ("--lock-timeout=5s",), ("--global",), ("--profile",), ("-q",), ("--verbose",),
    ("--allow-stale",),
])
def test_daemon_and_database_flags_are_accepted_and_change_nothing(bd, repo, flag):
    bead = bd("create", "A", *flag).stdout.strip()
    assert bd.show(bead)["title"] == "A"
    assert [r["id"] for r in bd.json(*flag, "ready")] == [bead]


def test_actor_is_who_acts_everywhere(bd, repo):
    bead = bd("create", "A", "--actor", "ann").stdout.strip()
    assert author(repo) == "ann"
    bd("--actor", "bob", "update", bead, "-p", "1")
    assert author(repo) == "bob"
    bd("close", bead, "--json", "--actor=cyd")
    assert author(repo) == "cyd"
    stats = bd.json("stats", "--actor", "dee")  # what beads-mcp sends when BEADS_ACTOR is set
    assert stats["summary"]["total_issues"] == 1
    refused = bd("stats", "--actor", "gizmo/polecats/*", ok=False)
    assert refused.exit_code == 2 and "--actors" in refused.stderr
    assert os.environ.get("BD_ACTOR") is None  # an in-process run leaves the environment as it was


def test_beads_actor_names_who_acts(bd, repo):
    bd("create", "A", env={"BEADS_ACTOR": "from-beads"})
    assert author(repo) == "from-beads"
    bd("create", "B", env={"BEADS_ACTOR": "from-beads", "BD_ACTOR": "from-bd"})
    assert author(repo) == "from-bd"


def test_readonly_refuses_every_write_and_changes_nothing(bd, repo):
    bead = bd("create", "A").stdout.strip()
    before, count = head(repo), commit_count(repo)
    for args in (("create", "B"), ("update", bead, "-p", "1"), ("close", bead), ("comment", bead, "hi"),
                 ("dep", "add", bead, bead), ("label", "add", bead, "x"), ("delete", bead), ("note", bead, "n")):
        result = bd("--readonly", *args, ok=False)
        assert result.exit_code == 1 and "read-only" in result.stderr, args
    assert bd("update", bead, "-p", "1", env={"BD_READONLY": "1"}, ok=False).exit_code == 1
    assert (head(repo), commit_count(repo)) == (before, count)
    hooks = sorted(p.name for p in (repo / ".git" / "hooks").iterdir())
    for args in (("sync",), ("hooks", "install"), ("doctor", "--fix"), ("import", "/dev/null")):
        result = bd("--readonly", *args, ok=False)
        assert result.exit_code == 1 and "read-only" in result.stderr, args
    assert sorted(p.name for p in (repo / ".git" / "hooks").iterdir()) == hooks
    assert (head(repo), commit_count(repo)) == (before, count)
    assert bd.show(bead)["title"] == "A"  # reads work
    assert bd("--readonly", "list").exit_code == 0
    assert os.environ.get("BD_READONLY") is None


def test_readonly_init_creates_nothing(tmp_path: Path):
    result = Bd(tmp_path).proc("--readonly", "init", "--prefix", "x", ok=False)
    assert result.exit_code == 1 and "read-only" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_beads_dir_and_directory(tmp_path: Path):
    repo = make_repo(tmp_path / "proj")
    Bd(repo)("init", "--prefix", "bd")
    bead = Bd(repo)("create", "A").stdout.strip()
    elsewhere = Bd(tmp_path)  # not a repository
    assert elsewhere.proc("show", bead, "--json", env={"BEADS_DIR": str(repo / ".beads")}).json()[0]["id"] == bead
    assert elsewhere.proc("--directory", str(repo), "show", bead).exit_code == 0
    missing = elsewhere.proc("list", env={"BEADS_DIR": str(tmp_path / "nope" / ".beads")}, ok=False)
    assert missing.exit_code == 2 and "BEADS_DIR" in missing.stderr
    assert git(repo, "status", "--porcelain") == ""  # .beads/last-change is ignored

"""`bd init`, `bd create`, `bd show` and `bd update`: options, output, and what lands in the ledger."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import Bd, bead_path, commit_count, git, head, last_message, ledger_files, make_repo, trailers, links


def ledger_yaml(repo: Path, bead_id: str, branch: str = "beads") -> str:
    return git(repo, "show", f"{branch}:{bead_path(bead_id)}")


# -- init --------------------------------------------------------------------------------------


def test_init_default_prefix_comes_from_directory_name(tmp_path):
    repo = make_repo(tmp_path / "Web-App")
    bd = Bd(repo)
    out = bd("init").stdout
    assert "prefix 'webapp'" in out
    assert "prefix: webapp" in git(repo, "show", "beads:ledger.yaml")
    bead_id = bd("create", "First").stdout.strip()
    assert bead_id.startswith("webapp-")


def test_init_with_prefix_writes_one_commit_with_ledger_config(repo):
    bd = Bd(repo)
    out = bd("init", "--prefix", "ABC").stdout
    assert "prefix 'abc'" in out
    assert ledger_files(repo) == ["ledger.yaml"]
    assert "prefix: abc" in git(repo, "show", "beads:ledger.yaml")
    assert commit_count(repo) == 1
    assert git(repo, "log", "-1", "--format=%an", "beads").strip() == "Test User"
    assert bd("create", "x").stdout.strip().startswith("abc-")


def test_init_json_reports_prefix_branch_and_created(repo):
    result = Bd(repo).json("init", "--prefix", "gt")
    assert result["prefix"] == "gt" and result["branch"] == "beads" and result["created"] is True
    again = Bd(repo).json("init")
    assert again["created"] is False and again["prefix"] == "gt"


def test_init_creates_local_settings_and_gitignore(repo):
    Bd(repo)("init", "--prefix", "gt")
    config = (repo / ".beads" / "config.yaml").read_text()
    assert "branch: beads" in config
    ignore = (repo / ".beads" / ".gitignore").read_text()
    assert "*" in ignore.splitlines()
    # the settings folder is ignored, so the work tree stays clean
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""


def test_init_commits_nothing_to_the_code_branch(repo):
    (repo / "README").write_text("hello\n")
    git(repo, "add", "README")
    git(repo, "commit", "-q", "-m", "initial")
    main_before = head(repo, "main")
    index_before = git(repo, "ls-files", "--stage")
    bd = Bd(repo)
    bd("init", "--prefix", "gt")
    bd("create", "Something", "-d", "text")
    assert head(repo, "main") == main_before
    assert git(repo, "symbolic-ref", "HEAD").strip() == "refs/heads/main"
    assert git(repo, "ls-files", "--stage") == index_before
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""
    assert commit_count(repo, "main") == 1


def test_init_in_repo_without_commits_leaves_main_unborn(repo):
    bd = Bd(repo)
    bd("init", "--prefix", "gt")
    bd("create", "Something")
    assert git(repo, "rev-parse", "--verify", "-q", "main", check=False).strip() == ""
    assert git(repo, "for-each-ref", "--format=%(refname)").split() == ["refs/heads/beads"]


def test_init_with_branch_uses_that_branch(repo):
    bd = Bd(repo)
    out = bd("init", "--prefix", "gt", "--branch", "work-items").stdout
    assert "work-items" in out
    assert "branch: work-items" in (repo / ".beads" / "config.yaml").read_text()
    bead_id = bd("create", "On the other branch").stdout.strip()
    assert bead_path(bead_id) in ledger_files(repo, "work-items")
    assert git(repo, "rev-parse", "--verify", "-q", "beads", check=False).strip() == ""
    assert bd.show(bead_id)["title"] == "On the other branch"


def test_reinit_is_a_no_op_with_a_message(repo):
    bd = Bd(repo)
    bd("init", "--prefix", "gt")
    before = head(repo)
    out = bd("init").stdout
    assert "Already initialised" in out
    out = bd("init", "--prefix", "gt").stdout
    assert "Already initialised" in out
    assert head(repo) == before


def test_reinit_with_another_prefix_is_refused(repo):
    bd = Bd(repo)
    bd("init", "--prefix", "gt")
    before = head(repo)
    result = bd("init", "--prefix", "zz", ok=False)
    assert result.exit_code == 1
    assert "prefix" in result.stderr
    assert head(repo) == before
    assert "prefix: gt" in git(repo, "show", "beads:ledger.yaml")


# -- create ------------------------------------------------------------------------------------


def test_create_prints_only_the_id_and_writes_the_file(bd, repo):
    out = bd("create", "Plain").stdout
    bead_id = out.strip()
    assert out == bead_id + "\n"
    assert bead_id.startswith("gt-") and len(bead_id) >= len("gt-") + 6
    assert bead_path(bead_id) in ledger_files(repo)
    doc = bd.show(bead_id)
    assert doc["title"] == "Plain" and doc["status"] == "open" and doc["issue_type"] == "task"
    assert doc["priority"] == 2
    assert doc["created_by"] == "Test User"
    assert doc["created_at"] == doc["updated_at"]


def test_create_ids_are_distinct(bd):
    ids = {bd("create", f"Bead {i}").stdout.strip() for i in range(8)}
    assert len(ids) == 8


def test_create_with_every_text_option(bd, repo, tmp_path):
    desc_file = tmp_path / "desc.md"
    desc_file.write_text("Line one\nLine two: with colon\n")
    result = bd.json(
        "create", "Full bead", "-t", "bug", "-p", "1", "--description-file", str(desc_file),
        "--design", "Design text", "--acceptance", "It works", "-l", "backend", "-l", "urgent",
        "-a", "alice", "--external-ref", "gh-123", "--estimate", "90",
    )
    bead_id = result["id"]
    doc = bd.show(bead_id)
    assert doc == {**result, "attempts": 0}  # show adds the retry breaker's count
    assert doc["issue_type"] == "bug"
    assert doc["priority"] == 1
    assert doc["description"] == "Line one\nLine two: with colon\n"
    assert doc["design"] == "Design text"
    assert doc["acceptance_criteria"] == "It works"
    assert doc["labels"] == ["backend", "urgent"]
    assert doc["assignee"] == "alice"
    assert doc["external_ref"] == "gh-123"
    assert doc["estimated_minutes"] == 90
    text = ledger_yaml(repo, bead_id)
    assert "type: bug" in text and "assignee: alice" in text and "estimated_minutes: 90" in text


def test_create_short_description_option(bd):
    bead_id = bd("create", "With -d", "-d", "short text").stdout.strip()
    assert bd.show(bead_id)["description"] == "short text"


def test_create_description_from_stdin(bd):
    bead_id = bd("create", "From stdin", "--description-file", "-", input="piped\ntext\n").stdout.strip()
    assert bd.show(bead_id)["description"] == "piped\ntext\n"


def test_create_description_from_stdin_real_process(bd):
    bead_id = bd.proc("create", "From stdin", "--description-file", "-", input="über\nstdin\n").stdout.strip()
    assert bd.show(bead_id)["description"] == "über\nstdin\n"


def test_create_description_and_description_file_together_is_a_usage_error(bd, repo, tmp_path):
    path = tmp_path / "d.txt"
    path.write_text("x")
    before = head(repo)
    result = bd("create", "Both", "-d", "a", "--description-file", str(path), ok=False)
    assert result.exit_code == 2
    assert head(repo) == before


def test_create_missing_description_file_is_an_error(bd, repo, tmp_path):
    before = head(repo)
    result = bd("create", "Missing", "--description-file", str(tmp_path / "nope.txt"), ok=False)
    assert result.exit_code != 0
    assert "nope.txt" in result.stderr
    assert head(repo) == before


def test_create_repeated_label_is_kept_once(bd):
    bead_id = bd("create", "Labels", "-l", "a", "-l", "b", "-l", "a").stdout.strip()
    assert bd.show(bead_id)["labels"] == ["a", "b"]


def test_create_with_parent_makes_child_id_and_parent_child_dependency(bd, repo):
    parent = bd("create", "Epic", "-t", "epic").stdout.strip()
    child = bd("create", "Child", "--parent", parent).stdout.strip()
    assert child.startswith(parent + ".")
    suffix = child[len(parent) + 1:]
    assert suffix and "." not in suffix
    doc = bd.show(child)
    assert {"type": "parent-child", "target": parent} in links(doc)
    assert doc["parent"] == parent
    assert bead_path(child) in ledger_files(repo)
    other = bd("create", "Child 2", "--parent", parent).stdout.strip()
    assert other.startswith(parent + ".") and other != child
    grandchild = bd("create", "Grandchild", "--parent", child).stdout.strip()
    assert grandchild.startswith(child + ".")


def test_create_with_parent_by_prefix(bd):
    parent = bd("create", "Epic", "-t", "epic", "--id", "gt-epic01").stdout.strip()
    child = bd("create", "Child", "--parent", "epic0").stdout.strip()
    assert child.startswith(parent + ".")


def test_create_with_unknown_parent_fails(bd, repo):
    before = head(repo)
    result = bd("create", "Orphan", "--parent", "gt-nothere", ok=False)
    assert result.exit_code == 1
    assert "gt-nothere" in result.stderr
    assert head(repo) == before


def test_create_with_deps(bd, repo):
    a = bd("create", "A").stdout.strip()
    b = bd("create", "B").stdout.strip()
    c = bd("create", "C", "--deps", f"depends-on:{a},discovered-from:{b}").stdout.strip()
    deps = links(bd.show(c))
    assert {"type": "blocks", "target": a} in deps
    assert {"type": "discovered-from", "target": b} in deps
    assert len(deps) == 2
    # a plain id (or blocked-by:) means the new bead waits for it, as in the original
    d = bd("create", "D", "--deps", b, "--deps", f"blocked-by:{a}").stdout.strip()
    assert links(bd.show(d)) == [{"type": "blocks", "target": b}, {"type": "blocks", "target": a}]
    # blocks:ID: the new bead blocks ID (ID gets the edge), in the same commit
    before = commit_count(repo)
    e = bd("create", "E", "--deps", f"blocks:{a}").stdout.strip()
    assert commit_count(repo) == before + 1
    assert "dependencies" not in bd.show(e)
    assert {"type": "blocks", "target": e} in links(bd.show(a))
    assert a in [x["id"] for x in bd.json("blocked")]
    assert bd("create", "F", "--deps", f"{b},blocks:{b}", ok=False).exit_code == 1  # both ways: a cycle


def test_create_with_deps_on_unknown_bead_fails(bd, repo):
    before = head(repo)
    result = bd("create", "C", "--deps", "blocks:gt-missing", ok=False)
    assert result.exit_code == 1
    assert head(repo) == before


def test_create_with_invalid_dep_type_is_a_usage_error(bd, repo):
    a = bd("create", "A").stdout.strip()
    before = head(repo)
    result = bd("create", "C", "--deps", f"bogus:{a}", ok=False)
    assert result.exit_code == 2
    assert head(repo) == before


def test_create_with_explicit_id(bd, repo):
    out = bd("create", "Chosen", "--id", "gt-chosen1").stdout.strip()
    assert out == "gt-chosen1"
    assert bead_path("gt-chosen1") in ledger_files(repo)
    assert bd.show("gt-chosen1")["title"] == "Chosen"


def test_create_with_existing_id_is_refused(bd, repo):
    bd("create", "Chosen", "--id", "gt-chosen1")
    before = head(repo)
    result = bd("create", "Again", "--id", "gt-chosen1", ok=False)
    assert result.exit_code == 1
    assert "exists" in result.stderr
    assert head(repo) == before
    assert bd.show("gt-chosen1")["title"] == "Chosen"


def test_create_json_prints_the_bead(bd, repo):
    doc = bd.json("create", "As JSON", "-t", "feature", "-p", "3", "-l", "x")
    assert doc["title"] == "As JSON" and doc["issue_type"] == "feature" and doc["priority"] == 3
    assert doc["labels"] == ["x"] and doc["status"] == "open"
    assert bead_path(doc["id"]) in ledger_files(repo)
    assert bd.show(doc["id"]) == {**doc, "attempts": 0}


def test_create_commit_has_trailers_and_author(bd, repo):
    bead_id = bd("create", "Trailers", "--actor", "carol").stdout.strip()
    message = last_message(repo)
    assert message.splitlines()[0] == f"create {bead_id}: Trailers"
    assert trailers(message, "Bead-Id") == [bead_id]
    assert trailers(message, "Op") == ["create"]
    assert trailers(message, "Actor") == ["carol"]
    assert git(repo, "log", "-1", "--format=%an", "beads").strip() == "carol"
    assert bd.show(bead_id)["created_by"] == "carol"


def test_create_writes_one_commit_with_trailers(bd, repo):
    bead_id = bd("create", "Fix login", "-t", "bug", "-p", "0").stdout.strip()
    log = git(repo, "log", "--format=%an|%s", "beads").splitlines()
    assert log[0] == f"Test User|create {bead_id}: Fix login"
    body = git(repo, "log", "-1", "--format=%B", "beads")
    assert f"Bead-Id: {bead_id}" in body and "Op: create" in body and "Actor: Test User" in body
    shown = git(repo, "show", f"beads:{bead_path(bead_id)}")
    assert "priority: 0" in shown and "title: Fix login" in shown


def test_each_create_is_exactly_one_commit(bd, repo):
    start = commit_count(repo)
    bd("create", "One")
    bd("create", "Two", "-l", "a", "-d", "b")
    assert commit_count(repo) == start + 2


# -- priorities --------------------------------------------------------------------------------


@pytest.mark.parametrize("given, expected", [("P0", 0), ("P1", 1), ("p2", 2), ("P3", 3), ("P4", 4), ("4", 4), ("0", 0)])
def test_priority_syntax(bd, given, expected):
    bead_id = bd("create", "Prio", "-p", given).stdout.strip()
    assert bd.show(bead_id)["priority"] == expected


def test_priority_zero_survives_every_round_trip(bd, repo, tmp_path):
    bead_id = bd("create", "Urgent", "-p", "0").stdout.strip()
    assert bd.show(bead_id)["priority"] == 0
    assert "priority: 0" in ledger_yaml(repo, bead_id).splitlines()
    bd("update", bead_id, "--title", "Still urgent")
    bd("update", bead_id, "--add-label", "x", "-a", "bob")
    doc = bd.show(bead_id)
    assert doc["priority"] == 0 and doc["title"] == "Still urgent"
    assert "priority: 0" in ledger_yaml(repo, bead_id).splitlines()
    assert [d["id"] for d in bd.json("list", "-p", "0")] == [bead_id]
    assert "[P0]" in bd("list").stdout
    exported = bd("export").stdout
    record = json.loads(exported.splitlines()[0])
    assert record["id"] == bead_id and record["priority"] == 0
    path = tmp_path / "out.jsonl"
    path.write_text(exported)
    other = Bd(make_repo(tmp_path / "other"))
    other("init", "--prefix", "gt")
    other("import", str(path))
    assert other.show(bead_id)["priority"] == 0
    assert other("export").stdout == exported


def test_update_priority_to_zero(bd):
    bead_id = bd("create", "Later", "-p", "3").stdout.strip()
    bd("update", bead_id, "-p", "P0")
    assert bd.show(bead_id)["priority"] == 0


# -- show --------------------------------------------------------------------------------------


def test_show_one_id_gives_object_several_give_array(bd):
    a = bd("create", "A").stdout.strip()
    b = bd("create", "B").stdout.strip()
    one = bd.show(a)
    assert isinstance(one, dict) and one["id"] == a
    many = bd.json("show", a, b)
    assert isinstance(many, list) and [d["id"] for d in many] == [a, b]
    reversed_ = bd.json("show", b, a)
    assert [d["id"] for d in reversed_] == [b, a]


def test_show_text_has_title_status_and_description(bd):
    a = bd("create", "Readable title", "-d", "Body text", "-l", "lab", "-a", "alice", "-p", "1").stdout.strip()
    out = bd("show", a).stdout
    assert f"{a}: Readable title" in out
    assert "open" in out and "P1" in out
    assert "Body text" in out and "lab" in out and "alice" in out


def test_show_text_lists_dependencies_and_dependents(bd):
    a = bd("create", "Blocker").stdout.strip()
    b = bd("create", "Blocked", "--deps", a).stdout.strip()
    assert a in bd("show", b).stdout
    assert b in bd("show", a).stdout


def test_show_resolves_unique_prefix_with_and_without_prefix(bd):
    bd("create", "First", "--id", "gt-abc111")
    bd("create", "Second", "--id", "gt-abd222")
    bd("create", "Third", "--id", "gt-xyz333")
    assert bd.show("gt-abc")["id"] == "gt-abc111"
    assert bd.show("abc")["id"] == "gt-abc111"
    assert bd.show("xyz")["id"] == "gt-xyz333"
    assert bd.show("GT-ABD")["id"] == "gt-abd222"
    assert bd.show("gt-abc111")["id"] == "gt-abc111"


def test_show_ambiguous_prefix_lists_candidates(bd):
    bd("create", "First", "--id", "gt-abc111")
    bd("create", "Second", "--id", "gt-abd222")
    for query in ("gt-ab", "ab"):
        result = bd("show", query, ok=False)
        assert result.exit_code == 1
        assert "ambiguous" in result.stderr
        assert "gt-abc111" in result.stderr and "gt-abd222" in result.stderr
        assert result.stdout == ""


def test_show_ambiguous_prefix_json_error(bd):
    bd("create", "First", "--id", "gt-abc111")
    bd("create", "Second", "--id", "gt-abd222")
    result = bd("show", "ab", "--json", ok=False)
    err = json.loads(result.stderr)
    assert err["code"] == "ambiguous" and "gt-abc111" in err["error"]


def test_show_unknown_id_fails(bd):
    bd("create", "First")
    result = bd("show", "gt-nothing", ok=False)
    assert result.exit_code == 1
    assert "gt-nothing" in result.stderr


def test_show_exact_id_wins_over_longer_ids(bd):
    parent = bd("create", "Parent", "--id", "gt-par001").stdout.strip()
    bd("create", "Child", "--parent", parent)
    assert bd.show(parent)["id"] == parent


def test_short_ids_resolve_under_a_prefix_with_a_hyphen(repo):
    runner = Bd(repo)
    runner("init", "--prefix", "my-proj")
    bead = runner("create", "first").stdout.strip()
    assert runner.show(bead.split("-")[-1][:4])["id"] == bead


def test_json_shape_follows_the_ids_asked_for(bd):
    x = bd("create", "x").stdout.strip()
    y = bd("create", "y").stdout.strip()
    bd("close", y)
    closed = bd.json("close", x, y)
    assert isinstance(closed, list) and [d["id"] for d in closed] == [x, y]
    updated = bd.json("update", x, y, "--title", "same")
    assert [d["id"] for d in updated] == [x, y]
    assert [d["id"] for d in bd.json("update", x, "--title", "same")] == [x]  # an array, as the original


# -- update ------------------------------------------------------------------------------------


def test_update_every_field_option(bd, repo, tmp_path):
    bead_id = bd("create", "Original", "-l", "old").stdout.strip()
    desc = tmp_path / "d.txt"
    desc.write_text("from file\n")
    bd(
        "update", bead_id, "-s", "in_progress", "-p", "1", "--title", "Renamed", "-t", "feature",
        "-a", "dave", "--notes", "first note", "--description-file", str(desc), "--design", "the design",
        "--acceptance", "accept me", "--external-ref", "jira-9", "--estimate", "15",
        "--due", "2031-02-03", "--defer", "2030-01-01T10:00:00Z", "--add-label", "new", "--remove-label", "old",
    )
    doc = bd.show(bead_id)
    assert doc["status"] == "in_progress"
    assert doc["priority"] == 1
    assert doc["title"] == "Renamed"
    assert doc["issue_type"] == "feature"
    assert doc["assignee"] == "dave"
    assert doc["notes"] == "first note"
    assert doc["description"] == "from file\n"
    assert doc["design"] == "the design"
    assert doc["acceptance_criteria"] == "accept me"
    assert doc["external_ref"] == "jira-9"
    assert doc["estimated_minutes"] == 15
    assert doc["due_at"] == "2031-02-03"
    assert doc["defer_until"] == "2030-01-01T10:00:00Z"
    assert doc["labels"] == ["new"]
    assert doc["updated_at"] > doc["created_at"]
    assert "closed_at" not in doc
    text = ledger_yaml(repo, bead_id)
    assert "title: Renamed" in text and "status: in_progress" in text


def test_update_short_description(bd):
    bead_id = bd("create", "X", "-d", "before").stdout.strip()
    bd("update", bead_id, "-d", "after")
    assert bd.show(bead_id)["description"] == "after"


def test_update_description_from_stdin(bd):
    bead_id = bd("create", "X").stdout.strip()
    bd("update", bead_id, "--description-file", "-", input="stdin body\n")
    assert bd.show(bead_id)["description"] == "stdin body\n"


def test_update_labels_add_and_remove(bd):
    bead_id = bd("create", "X", "-l", "a", "-l", "b").stdout.strip()
    bd("update", bead_id, "--add-label", "c", "--add-label", "d", "--remove-label", "a")
    assert bd.show(bead_id)["labels"] == ["b", "c", "d"]
    bd("update", bead_id, "--remove-label", "b", "--remove-label", "c", "--remove-label", "d")
    assert "labels" not in bd.show(bead_id)


def test_update_append_notes(bd):
    bead_id = bd("create", "X").stdout.strip()
    bd("update", bead_id, "--append-notes", "first")
    assert bd.show(bead_id)["notes"] == "first"
    bd("update", bead_id, "--append-notes", "second")
    assert bd.show(bead_id)["notes"] == "first\nsecond"
    bd("update", bead_id, "--notes", "replaced")
    assert bd.show(bead_id)["notes"] == "replaced"


def test_update_due_and_defer_can_be_cleared(bd):
    bead_id = bd("create", "X").stdout.strip()
    bd("update", bead_id, "--due", "2030-05-06", "--defer", "2030-01-01")
    doc = bd.show(bead_id)
    assert doc["due_at"] == "2030-05-06" and doc["defer_until"] == "2030-01-01"
    bd("update", bead_id, "--due", "", "--defer", "")
    doc = bd.show(bead_id)
    assert "due_at" not in doc and "defer_until" not in doc


def test_update_invalid_date_is_a_usage_error(bd, repo):
    bead_id = bd("create", "X").stdout.strip()
    before = head(repo)
    result = bd("update", bead_id, "--due", "next tuesday", ok=False)
    assert result.exit_code == 2
    result = bd("update", bead_id, "--defer", "2030-13-45", ok=False)
    assert result.exit_code == 2
    assert head(repo) == before


def test_update_assignee_empty_clears_it(bd):
    bead_id = bd("create", "X", "-a", "alice").stdout.strip()
    bd("update", bead_id, "-a", "")
    assert "assignee" not in bd.show(bead_id)


def test_update_parent_sets_and_moves_parent_child_dependency(bd):
    p1 = bd("create", "P1", "-t", "epic").stdout.strip()
    p2 = bd("create", "P2", "-t", "epic").stdout.strip()
    blocker = bd("create", "Blocker").stdout.strip()
    bead_id = bd("create", "X", "--deps", blocker).stdout.strip()
    bd("update", bead_id, "--parent", p1)
    deps = links(bd.show(bead_id))
    assert {"type": "parent-child", "target": p1} in deps
    bd("update", bead_id, "--parent", p2)
    deps = links(bd.show(bead_id))
    parents = [d["target"] for d in deps if d["type"] == "parent-child"]
    assert parents == [p2]
    assert {"type": "blocks", "target": blocker} in deps
    assert [d["id"] for d in bd.json("list", "--parent", p2)] == [bead_id]
    assert bd.json("list", "--parent", p1) == []


def test_update_parent_cycle_is_refused(bd, repo):
    a = bd("create", "A", "-t", "epic").stdout.strip()
    b = bd("create", "B", "--parent", a).stdout.strip()
    before = head(repo)
    result = bd("update", a, "--parent", b, ok=False)
    assert result.exit_code == 1
    assert "cycle" in result.stderr
    result = bd("update", a, "--parent", a, ok=False)
    assert result.exit_code == 1
    assert head(repo) == before


def test_update_several_ids_is_one_commit_with_one_trailer_each(bd, repo):
    ids = [bd("create", f"Bead {i}").stdout.strip() for i in range(3)]
    before = commit_count(repo)
    out = bd.json("update", *ids, "-p", "1", "--add-label", "batch")
    assert isinstance(out, list) and sorted(d["id"] for d in out) == sorted(ids)
    assert commit_count(repo) == before + 1
    message = last_message(repo)
    assert sorted(trailers(message, "Bead-Id")) == sorted(ids)
    assert trailers(message, "Op") == ["update"]
    assert trailers(message, "Actor") == ["Test User"]
    changed = git(repo, "diff", "--name-only", "beads~1", "beads").split()
    assert sorted(changed) == sorted(bead_path(i) for i in ids)
    for bead_id in ids:
        doc = bd.show(bead_id)
        assert doc["priority"] == 1 and doc["labels"] == ["batch"]


def test_update_commit_only_names_changed_beads(bd, repo):
    a = bd("create", "A", "-p", "1").stdout.strip()
    b = bd("create", "B", "-p", "2").stdout.strip()
    bd("update", a, b, "-p", "1")
    assert trailers(last_message(repo), "Bead-Id") == [b]


def test_update_one_unknown_id_changes_none(bd, repo):
    a = bd("create", "A").stdout.strip()
    before = head(repo)
    result = bd("update", a, "gt-unknown", "-p", "0", ok=False)
    assert result.exit_code == 1
    assert head(repo) == before
    assert bd.show(a)["priority"] == 2


def test_noop_update_writes_no_commit(bd, repo):
    bead_id = bd("create", "Same", "-p", "2", "-l", "x", "-a", "alice").stdout.strip()
    before = head(repo)
    result = bd("update", bead_id, "-p", "2", "--title", "Same", "--add-label", "x", "-a", "alice")
    assert "No change" in result.stdout
    bd("update", bead_id, "--remove-label", "absent")
    bd("update", bead_id)
    assert head(repo) == before
    assert bd.show(bead_id)["updated_at"] == bd.show(bead_id)["created_at"]


def test_update_resolves_prefix(bd):
    bd("create", "Target", "--id", "gt-target1")
    bd("update", "targ", "-p", "4")
    assert bd.show("gt-target1")["priority"] == 4


def test_update_commit_subject_names_fields(bd, repo):
    bead_id = bd("create", "X").stdout.strip()
    bd("update", bead_id, "-p", "0", "--title", "Y")
    subject = git(repo, "log", "-1", "--format=%s", "beads").strip()
    assert subject.startswith(f"update {bead_id}")
    assert "priority" in subject and "title" in subject


# -- claim -------------------------------------------------------------------------------------


def test_claim_sets_assignee_and_in_progress(bd, repo):
    bead_id = bd("create", "Work").stdout.strip()
    out = bd("update", bead_id, "--claim", "--actor", "alice").stdout
    assert "Claimed" in out
    doc = bd.show(bead_id)
    assert doc["assignee"] == "alice" and doc["status"] == "in_progress"
    assert git(repo, "log", "-1", "--format=%an", "beads").strip() == "alice"
    message = last_message(repo)
    assert trailers(message, "Op") == ["claim"] and trailers(message, "Bead-Id") == [bead_id]


def test_claim_by_second_actor_is_refused(bd, repo):
    bead_id = bd("create", "Work").stdout.strip()
    bd("update", bead_id, "--claim", "--actor", "alice")
    before = head(repo)
    result = bd("update", bead_id, "--claim", "--actor", "bob", ok=False)
    assert result.exit_code == 1
    assert "already claimed by alice" in result.stderr
    assert head(repo) == before
    doc = bd.show(bead_id)
    assert doc["assignee"] == "alice" and doc["status"] == "in_progress"


def test_claim_refusal_json(bd):
    bead_id = bd("create", "Work").stdout.strip()
    bd("update", bead_id, "--claim", "--actor", "alice")
    result = bd("update", bead_id, "--claim", "--actor", "bob", "--json", ok=False)
    assert result.exit_code == 1
    err = json.loads(result.stderr)
    assert err["code"] == "claimed" and "alice" in err["error"]


def test_claim_again_by_same_actor_is_fine(bd, repo):
    bead_id = bd("create", "Work").stdout.strip()
    bd("update", bead_id, "--claim", "--actor", "alice")
    before = head(repo)
    bd("update", bead_id, "--claim", "--actor", "alice")
    assert head(repo) == before  # nothing to change
    doc = bd.show(bead_id)
    assert doc["assignee"] == "alice" and doc["status"] == "in_progress"


def test_claim_of_preassigned_bead_by_someone_else_is_refused(bd, repo):
    bead_id = bd("create", "Work", "-a", "alice").stdout.strip()
    before = head(repo)
    result = bd("update", bead_id, "--claim", "--actor", "bob", ok=False)
    assert result.exit_code == 1
    assert head(repo) == before


def test_claim_uses_bd_actor_env(bd):
    bead_id = bd("create", "Work").stdout.strip()
    bd("update", bead_id, "--claim", env={"BD_ACTOR": "erin"})
    assert bd.show(bead_id)["assignee"] == "erin"


def test_claim_of_closed_bead_is_refused(bd, repo):
    bead_id = bd("create", "Work").stdout.strip()
    bd("close", bead_id)
    before = head(repo)
    result = bd("update", bead_id, "--claim", "--actor", "alice", ok=False)
    assert result.exit_code == 1
    assert head(repo) == before


# -- regressions: bugs found by these tests, now fixed --------------------------------------


@pytest.mark.parametrize("branch", ["a b", "bad..name", "../../evil"])
def test_init_with_invalid_branch_name_is_a_usage_error(repo, branch):
    result = Bd(repo).proc("init", "--prefix", "gt", "--branch", branch, ok=False)
    assert result.exit_code == 2
    assert "Traceback" not in result.stderr
    assert "branch" in result.stderr
    assert git(repo, "for-each-ref") == ""


def test_init_refuses_the_code_branch_as_ledger(repo):
    (repo / "README").write_text("hello\n")
    git(repo, "add", "README")
    git(repo, "commit", "-q", "-m", "initial")
    main_before = head(repo, "main")
    bd = Bd(repo)
    result = bd("init", "--branch", "main", ok=None)
    bd("create", "Should not land on main", ok=None)
    assert head(repo, "main") == main_before
    assert git(repo, "status", "--porcelain") == ""
    assert result.exit_code != 0


def test_init_refuses_the_checked_out_unborn_branch(repo):
    result = Bd(repo)("init", "--prefix", "gt", "--branch", "main", ok=None)
    assert git(repo, "rev-parse", "--verify", "-q", "main", check=False).strip() == ""
    assert git(repo, "status", "--porcelain") == ""
    assert result.exit_code != 0


def test_create_with_deps_on_deleted_bead_is_refused(bd, repo):
    dead = bd("create", "Dead").stdout.strip()
    bd("delete", dead)
    before = head(repo)
    result = bd("create", "New", "--deps", f"blocks:{dead}", ok=None)
    assert result.exit_code == 1
    assert head(repo) == before


def test_update_parent_to_deleted_bead_is_refused(bd, repo):
    dead = bd("create", "Dead", "-t", "epic").stdout.strip()
    bd("delete", dead)
    bead_id = bd("create", "Child").stdout.strip()
    before = head(repo)
    result = bd("update", bead_id, "--parent", dead, ok=None)
    assert result.exit_code == 1
    assert head(repo) == before
    assert "dependencies" not in bd.show(bead_id)


def test_update_parent_refuses_mixed_cycle(bd, repo):
    x = bd("create", "X").stdout.strip()
    y = bd("create", "Y").stdout.strip()
    bd("dep", "add", x, y)  # y blocks x
    before = head(repo)
    result = bd("update", y, "--parent", x, ok=None)
    assert bd.json("dep", "cycles") == []
    assert head(repo) == before
    assert result.exit_code == 1

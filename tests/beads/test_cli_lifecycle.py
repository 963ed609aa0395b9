"""Bead lifecycle and queries: close/reopen, delete, compact, dep, label, comment, history, and the read
commands (search, count, stats, blocked, ready, list)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import bead_path, commit_count, git, head, last_message, ledger_files, new, trailers, links


def subject(repo: Path) -> str:
    return git(repo, "log", "-1", "--format=%s", "beads").strip()


def ids(docs) -> list[str]:
    return [d["id"] for d in docs]


def import_records(bd, tmp_path: Path, records: list[dict]) -> None:
    path = tmp_path / "records.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    bd("import", str(path))


def record(bead_id: str, title: str, deps: list[tuple[str, str]] = (), **fields) -> dict:
    out = {"id": bead_id, "title": title, "status": "open", "priority": 2, "issue_type": "task",
           "created_at": "2025-01-01T00:00:00Z", "updated_at": "2025-01-01T00:00:00Z", **fields}
    if deps:
        out["dependencies"] = [{"issue_id": bead_id, "depends_on_id": t, "type": k} for k, t in deps]
    return out


# -- close / reopen ----------------------------------------------------------------------------


def test_close_sets_closed_at_and_reason(bd, repo):
    bead_id = new(bd, "Fix it")
    assert "closed_at" not in bd.show(bead_id)
    out = bd("close", bead_id, "-r", "fixed in abc123").stdout
    assert bead_id in out
    doc = bd.show(bead_id)
    assert doc["status"] == "closed"
    assert doc["closed_at"] and doc["closed_at"] == doc["updated_at"]
    assert doc["close_reason"] == "fixed in abc123"
    assert subject(repo) == f"close {bead_id}: fixed in abc123"
    message = last_message(repo)
    assert trailers(message, "Bead-Id") == [bead_id] and trailers(message, "Op") == ["close"]
    assert "closed_at:" in git(repo, "show", f"beads:{bead_path(bead_id)}")


def test_reopen_removes_closed_at_and_reason(bd, repo):
    bead_id = new(bd, "Fix it")
    bd("close", bead_id, "-r", "done")
    out = bd("reopen", bead_id, "-r", "still broken").stdout
    assert bead_id in out
    doc = bd.show(bead_id)
    assert doc["status"] == "open"
    assert "closed_at" not in doc and "close_reason" not in doc
    assert "closed_at" not in git(repo, "show", f"beads:{bead_path(bead_id)}")
    assert subject(repo) == f"reopen {bead_id}: still broken"
    assert trailers(last_message(repo), "Op") == ["reopen"]


def test_status_update_keeps_closed_at_consistent(bd):
    bead_id = new(bd, "Via update")
    bd("update", bead_id, "-s", "closed")
    assert bd.show(bead_id)["closed_at"]
    bd("update", bead_id, "-s", "in_progress")
    assert "closed_at" not in bd.show(bead_id)


def test_reopen_of_open_bead_is_a_note_and_any_other_status_reopens(bd, repo):
    """As the original: an open bead is named on stderr and left alone (exit 0, nothing written);
    a bead in any other status goes back to open."""
    bead_id = new(bd, "Open")
    before = head(repo)
    result = bd("reopen", bead_id)
    assert result.stderr == f"{bead_id} is already open\n" and result.stdout == ""
    assert bd.json("reopen", bead_id) == []
    assert head(repo) == before
    busy = new(bd, "Busy")
    bd("update", busy, "-s", "in_progress", "--defer", "2999-01-01")
    assert [d["id"] for d in bd.json("reopen", busy, bead_id)] == [busy]
    assert bd.show(busy)["status"] == "open" and "defer_until" not in bd.show(busy)


def test_close_already_closed_writes_nothing(bd, repo):
    bead_id = new(bd, "X")
    bd("close", bead_id)
    before = head(repo)
    out = bd("close", bead_id).stdout
    assert "Already closed" in out
    assert head(repo) == before


def test_close_several_ids_in_one_commit(bd, repo):
    beads = [new(bd, f"B{i}") for i in range(3)]
    before = commit_count(repo)
    docs = bd.json("close", *beads, "-r", "batch")
    assert sorted(ids(docs)) == sorted(beads)
    assert commit_count(repo) == before + 1
    assert sorted(trailers(last_message(repo), "Bead-Id")) == sorted(beads)
    assert "batch" in subject(repo)
    for bead_id in beads:
        assert bd.show(bead_id)["status"] == "closed"


def test_close_epic_with_open_children_is_refused_without_force(bd, repo):
    epic = new(bd, "Epic", "-t", "epic")
    child = new(bd, "Child", "--parent", epic)
    before = head(repo)
    result = bd("close", epic, ok=False)
    assert result.exit_code == 1
    assert child in result.stderr and "--force" in result.stderr
    assert head(repo) == before
    assert bd.show(epic)["status"] == "open"
    bd("close", epic, "--force")
    assert bd.show(epic)["status"] == "closed"
    assert bd.show(child)["status"] == "open"


def test_close_epic_after_children_closed_or_together(bd):
    epic = new(bd, "Epic", "-t", "epic")
    c1 = new(bd, "Child 1", "--parent", epic)
    c2 = new(bd, "Child 2", "--parent", epic)
    bd("close", c1)
    bd("close", epic, c2)
    assert bd.show(epic)["status"] == "closed"
    assert bd.show(c2)["status"] == "closed"


def test_close_with_open_blocker_is_refused_without_force(bd, repo):
    blocker = new(bd, "Blocker")
    blocked = new(bd, "Blocked", "--deps", blocker)
    before = head(repo)
    result = bd("close", blocked, ok=False)
    assert result.exit_code == 1
    assert blocker in result.stderr
    assert head(repo) == before
    bd("close", blocked, "--force")
    assert bd.show(blocked)["status"] == "closed"


def test_close_after_blocker_closed_is_allowed(bd):
    blocker = new(bd, "Blocker")
    blocked = new(bd, "Blocked", "--deps", blocker)
    bd("close", blocker)
    bd("close", blocked)
    assert bd.show(blocked)["status"] == "closed"


@pytest.mark.parametrize("order", ["blocked-first", "blocker-first"])
def test_close_blocker_and_blocked_together(bd, repo, order):
    blocker = new(bd, "Blocker")
    blocked = new(bd, "Blocked", "--deps", blocker)
    before = commit_count(repo)
    args = [blocked, blocker] if order == "blocked-first" else [blocker, blocked]
    bd("close", *args)
    assert commit_count(repo) == before + 1
    assert bd.show(blocker)["status"] == "closed"
    assert bd.show(blocked)["status"] == "closed"


def test_close_refusal_of_one_closes_none(bd, repo):
    free = new(bd, "Free")
    blocker = new(bd, "Blocker")
    blocked = new(bd, "Blocked", "--deps", blocker)
    before = head(repo)
    bd("close", free, blocked, ok=False)
    assert head(repo) == before
    assert bd.show(free)["status"] == "open"


def test_close_non_blocking_dependency_does_not_refuse(bd):
    other = new(bd, "Other")
    bead_id = new(bd, "Related", "--deps", f"related:{other},discovered-from:{other}")
    bd("close", bead_id)
    assert bd.show(bead_id)["status"] == "closed"


# -- delete and compact ------------------------------------------------------------------------


def test_delete_leaves_a_tombstone(bd, repo):
    keep = new(bd, "Keep")
    doomed = new(bd, "Doomed", "-l", "x")
    out = bd("delete", doomed, "-r", "duplicate", "--actor", "remover").stdout
    assert doomed in out
    assert trailers(last_message(repo), "Bead-Id") == [doomed]
    assert trailers(last_message(repo), "Op") == ["delete"]
    shown = bd("show", doomed, ok=False)
    assert shown.exit_code == 1 and "deleted" in shown.stderr
    assert ids(bd.json("list")) == [keep]
    assert ids(bd.json("list", "--all")) == [keep]
    assert ids(bd.json("ready")) == [keep]
    assert bead_path(doomed) in ledger_files(repo)
    text = git(repo, "show", f"beads:{bead_path(doomed)}")
    assert "status: tombstone" in text
    assert "deleted_by: remover" in text and "delete_reason: duplicate" in text and "deleted_at:" in text
    assert "1" == bd("count", "--all").stdout.strip()
    assert bd("search", "Doomed").stdout.strip() == "No matches"


def test_delete_refused_while_another_bead_depends_on_it(bd, repo):
    target = new(bd, "Target")
    user = new(bd, "User", "--deps", target)
    before = head(repo)
    result = bd("delete", target, ok=False)
    assert result.exit_code == 1
    assert user in result.stderr
    assert head(repo) == before
    assert bd.show(target)["status"] == "open"
    bd("delete", target, "--force")
    assert "deleted" in bd("show", target, ok=False).stderr
    # a dependency on a deleted bead no longer blocks
    assert user in ids(bd.json("ready"))


def test_delete_refused_for_parent_with_children(bd, repo):
    epic = new(bd, "Epic", "-t", "epic")
    new(bd, "Child", "--parent", epic)
    before = head(repo)
    bd("delete", epic, ok=False)
    assert head(repo) == before


def test_delete_dependent_and_dependency_together(bd, repo):
    target = new(bd, "Target")
    user = new(bd, "User", "--deps", target)
    before = commit_count(repo)
    bd("delete", target, user)
    assert commit_count(repo) == before + 1
    assert sorted(trailers(last_message(repo), "Bead-Id")) == sorted([target, user])


def test_compact_prunes_tombstones_in_one_commit_and_repacks(bd, repo):
    keep = new(bd, "Keep")
    gone = [new(bd, f"Gone {i}") for i in range(2)]
    bd("delete", *gone)
    before = commit_count(repo)
    result = bd.json("compact", "--prune-tombstones-older-than", "0")
    assert result["pruned_tombstones"] == 2
    assert commit_count(repo) == before + 1
    message = last_message(repo)
    assert trailers(message, "Op") == ["compact"]
    files = ledger_files(repo)
    assert bead_path(keep) in files
    assert all(bead_path(g) not in files for g in gone)
    counts = dict(line.split(": ") for line in git(repo, "count-objects", "-v").splitlines())
    assert counts["count"] == "0"
    assert int(counts["in-pack"]) > 0
    git(repo, "fsck", "--no-progress")
    assert ids(bd.json("list")) == [keep]
    assert bd("show", gone[0], ok=False).exit_code == 1


def test_compact_keeps_recent_tombstones_by_default(bd, repo):
    gone = new(bd, "Gone")
    bd("delete", gone)
    before = head(repo)
    result = bd.json("compact")
    assert result["pruned_tombstones"] == 0
    assert head(repo) == before
    assert bead_path(gone) in ledger_files(repo)
    counts = dict(line.split(": ") for line in git(repo, "count-objects", "-v").splitlines())
    assert counts["count"] == "0"


def test_compact_prunes_with_trailers_and_history(bd, repo):
    bead = bd("create", "doomed").stdout.strip()
    bd("delete", bead)
    bd("compact", "--prune-tombstones-older-than", "0")
    body = git(repo, "log", "-1", "--format=%B", "beads")
    assert f"Bead-Id: {bead}" in body and "Op: compact" in body
    assert bead_path(bead) not in git(repo, "ls-tree", "-r", "--name-only", "beads")


# -- dependencies ------------------------------------------------------------------------------


def test_dep_add_default_type_is_blocks_and_direction(bd, repo):
    a = new(bd, "A")
    b = new(bd, "B")
    out = bd("dep", "add", a, b).stdout
    assert a in out and b in out
    assert links(bd.show(a)) == [{"type": "blocks", "target": b}]
    assert "dependencies" not in bd.show(b)
    assert trailers(last_message(repo), "Bead-Id") == [a]
    # b blocks a: a is not ready, b is
    ready = ids(bd.json("ready"))
    assert b in ready and a not in ready
    blocked = bd.json("blocked")
    assert ids(blocked) == [a] and blocked[0]["blocked_by"] == [b]


def test_dep_add_twice_writes_nothing(bd, repo):
    a = new(bd, "A")
    b = new(bd, "B")
    bd("dep", "add", a, b)
    before = head(repo)
    assert "No change" in bd("dep", "add", a, b).stdout
    assert head(repo) == before


def test_dep_cycle_is_refused_and_printed(bd, repo):
    a = new(bd, "A")
    b = new(bd, "B")
    c = new(bd, "C")
    bd("dep", "add", a, b)
    bd("dep", "add", b, c)
    before = head(repo)
    result = bd("dep", "add", c, a, ok=False)
    assert result.exit_code == 1
    assert "cycle" in result.stderr
    for bead_id in (a, b, c):
        assert bead_id in result.stderr
    assert f"{c} -> {a} -> {b} -> {c}" in result.stderr
    assert head(repo) == before
    assert "dependencies" not in bd.show(c)


def test_self_dependency_is_refused(bd, repo):
    a = new(bd, "A")
    before = head(repo)
    for dep_type in ("blocks", "related"):
        result = bd("dep", "add", a, a, "-t", dep_type, ok=False)
        assert result.exit_code == 1
    assert head(repo) == before


def test_dep_on_unknown_bead_is_refused(bd, repo):
    a = new(bd, "A")
    before = head(repo)
    assert bd("dep", "add", a, "gt-nothere", ok=False).exit_code == 1
    assert bd("dep", "add", "gt-nothere", a, ok=False).exit_code == 1
    assert head(repo) == before


def test_dep_invalid_type_is_usage_error(bd):
    a = new(bd, "A")
    b = new(bd, "B")
    assert bd("dep", "add", a, b, "-t", "bogus", ok=False).exit_code == 2


@pytest.mark.parametrize("dep_type", ["related", "discovered-from", "tracks", "replies-to"])
def test_non_blocking_dependency_does_not_affect_readiness(bd, dep_type):
    a = new(bd, "A")
    b = new(bd, "B")
    bd("dep", "add", a, b, "-t", dep_type)
    assert {"type": dep_type, "target": b} in links(bd.show(a))
    assert sorted(ids(bd.json("ready"))) == sorted([a, b])
    assert bd.json("blocked") == []
    # non-blocking types may go both ways
    bd("dep", "add", b, a, "-t", dep_type)


def test_dep_remove(bd, repo):
    a = new(bd, "A")
    b = new(bd, "B")
    bd("dep", "add", a, b)
    bd("dep", "add", a, b, "-t", "related")
    bd("dep", "remove", a, b, "-t", "blocks")
    assert links(bd.show(a)) == [{"type": "related", "target": b}]
    assert trailers(last_message(repo), "Op") == ["dep-remove"]
    assert a in ids(bd.json("ready"))
    bd("dep", "remove", a, b)
    assert "dependencies" not in bd.show(a)
    before = head(repo)
    assert bd("dep", "remove", a, b, ok=False).exit_code == 1
    assert head(repo) == before


def test_dep_tree(bd):
    a = new(bd, "Top")
    b = new(bd, "Middle")
    c = new(bd, "Bottom")
    d = new(bd, "Side")
    bd("dep", "add", a, b)
    bd("dep", "add", b, c)
    bd("dep", "add", a, d, "-t", "related")
    nodes = bd.json("dep", "tree", a)  # the original's flat list, depth first
    assert [(n["id"], n["depth"], n["parent_id"], n.get("edge_from_parent")) for n in nodes] == [
        (a, 0, None, None), (b, 1, a, "blocks"), (c, 2, b, "blocks"), (d, 1, a, "related")]
    assert nodes[0]["title"] == "Top" and nodes[0]["issue_type"] == "task" and not nodes[0]["truncated"]
    # dep list: the linked beads in full (one bead, or --direction up), raw records for several
    assert [(x["id"], x["dependency_type"]) for x in bd.json("dep", "list", a)] == [(b, "blocks"), (d, "related")]
    assert [x["id"] for x in bd.json("dep", "list", c, "--direction", "up")] == [b]
    assert [x["id"] for x in bd.json("dep", "list", a, "-t", "related")] == [d]
    assert bd.json("dep", "list", a, b) == [
        {"issue_id": a, "depends_on_id": b, "type": "blocks"}, {"issue_id": a, "depends_on_id": d, "type": "related"},
        {"issue_id": b, "depends_on_id": c, "type": "blocks"}]
    text = bd("dep", "tree", a).stdout.splitlines()
    assert text[0].startswith(a) and "Top" in text[0]
    assert any(line.startswith("  ") and b in line for line in text)
    assert any(line.startswith("    ") and c in line for line in text)


def test_dep_cycles_reports_imported_cycle(bd, tmp_path):
    assert bd("dep", "cycles").stdout.strip() == "No cycles"
    assert bd.json("dep", "cycles") == []
    import_records(bd, tmp_path, [
        record("gt-cyc1", "One", [("blocks", "gt-cyc2")]),
        record("gt-cyc2", "Two", [("blocks", "gt-cyc1")]),
        record("gt-free", "Free"),
    ])
    assert bd.json("dep", "cycles") == [["gt-cyc1", "gt-cyc2"]]
    out = bd("dep", "cycles").stdout
    assert "gt-cyc1" in out and "gt-cyc2" in out and "->" in out
    tree = bd("dep", "tree", "gt-cyc1").stdout
    assert "cycle" in tree


# -- labels and comments -----------------------------------------------------------------------


def test_label_add_and_remove(bd, repo):
    """As the original: `label add ID... LABEL`, one commit for all the beads."""
    a = new(bd, "A", "-l", "one")
    b = new(bd, "B")
    before = commit_count(repo)
    rows = bd.json("label", "add", a, b, "two")
    assert rows == [{"issue_id": a, "label": "two", "status": "added"}, {"issue_id": b, "label": "two", "status": "added"}]
    assert commit_count(repo) == before + 1
    assert trailers(last_message(repo), "Op") == ["label-add"]
    assert bd.show(a)["labels"] == ["one", "two"] and bd.show(b)["labels"] == ["two"]
    assert bd("label", "add", a, "three").stdout == f"Added label 'three' to {a}\n"
    assert bd.json("label", "list", a) == ["one", "three", "two"]
    assert bd.json("label", "list-all") == [{"label": "one", "count": 1}, {"label": "three", "count": 1},
                                            {"label": "two", "count": 2}]
    assert bd.json("label", "remove", a, "one") == [{"issue_id": a, "label": "one", "status": "removed"}]
    bd("label", "remove", a, "three")
    assert bd.show(a)["labels"] == ["two"]
    assert trailers(last_message(repo), "Op") == ["label-remove"]
    assert sorted(ids(bd.json("list", "-l", "two"))) == sorted([a, b])
    assert bd.json("list", "-l", "one") == []
    assert bd("label", "add", a, ok=False).exit_code == 2  # an id and a label, at least


def test_label_add_existing_writes_nothing(bd, repo):
    a = new(bd, "A", "-l", "one")
    before = head(repo)
    bd("label", "add", a, "one")
    assert head(repo) == before


def test_invalid_label_is_refused(bd, repo):
    a = new(bd, "A")
    before = head(repo)
    assert bd("label", "add", a, "a,b", ok=False).exit_code == 2
    assert head(repo) == before


def test_comments_have_unique_ids_and_actor_as_author(bd, repo):
    a = new(bd, "A")
    assert bd("comments", a).stdout.strip() == "No comments"
    c1 = bd.json("comment", a, "first remark", "--actor", "alice")
    c2 = bd.json("comment", a, "second remark", "--actor", "bob")
    assert c1["id"] != c2["id"]
    assert c1["author"] == "alice" and c2["author"] == "bob"
    assert git(repo, "log", "-1", "--format=%an", "beads").strip() == "bob"
    assert trailers(last_message(repo), "Op") == ["comment"]
    comments = bd.json("comments", a)
    assert [c["text"] for c in comments] == ["first remark", "second remark"]
    assert [c["author"] for c in comments] == ["alice", "bob"]
    assert len({c["id"] for c in comments}) == 2
    text = bd("comments", a).stdout
    assert "alice: first remark" in text and "bob: second remark" in text
    assert len(bd.show(a)["comments"]) == 2


def test_comment_from_file_and_stdin(bd, tmp_path):
    a = new(bd, "A")
    path = tmp_path / "c.txt"
    path.write_text("from a file\nwith two lines")
    bd("comment", a, "-f", str(path))
    bd("comment", a, "-f", "-", input="from stdin")
    assert [c["text"] for c in bd.json("comments", a)] == ["from a file\nwith two lines", "from stdin"]


def test_empty_comment_is_refused(bd, repo):
    a = new(bd, "A")
    before = head(repo)
    assert bd("comment", a, "   ", ok=False).exit_code == 2
    assert bd("comment", a, ok=False).exit_code == 2
    assert head(repo) == before


# -- history -----------------------------------------------------------------------------------


def test_history_lists_changes_with_authors(bd):
    a = new(bd, "Original", "--actor", "alice")
    other = new(bd, "Unrelated")
    bd("update", a, "-p", "0", "--title", "Renamed", "--actor", "bob")
    bd("update", other, "-p", "1")
    bd("close", a, "-r", "done", "--actor", "carol")
    events = bd.json("history", a)
    assert [e["op"] for e in events] == ["create", "update", "close"]
    assert [e["author"] for e in events] == ["alice", "bob", "carol"]
    assert events[0]["changes"]["title"] == [None, "Original"]
    assert events[1]["changes"]["priority"] == [2, 0]
    assert events[1]["changes"]["title"] == ["Original", "Renamed"]
    assert "updated_at" not in events[1]["changes"]
    assert events[2]["changes"]["status"] == ["open", "closed"]
    assert events[2]["changes"]["close_reason"] == [None, "done"]
    assert all(len(e["commit"]) == 40 for e in events)
    text = bd("history", a).stdout
    assert "alice" in text and "bob" in text and "carol" in text
    assert "priority: 2 -> 0" in text
    assert "status: open -> closed" in text


def test_history_commits_match_git_log(bd, repo):
    a = new(bd, "A")
    bd("update", a, "-p", "1")
    bd("label", "add", a, "x")
    commits = [e["commit"] for e in bd.json("history", a)]
    expected = git(repo, "log", "--reverse", "--format=%H", "--grep", f"Bead-Id: {a}", "beads").split()
    assert commits == expected and len(commits) == 3


def test_history_of_deleted_bead(bd):
    a = new(bd, "A")
    bd("delete", a)
    events = bd.json("history", a)
    assert [e["op"] for e in events] == ["create", "delete"]
    assert events[1]["changes"]["status"] == ["open", "tombstone"]


# -- search, count, stats ----------------------------------------------------------------------


def test_search_matches_title_texts_and_comments(bd):
    t = new(bd, "Login TIMEOUT on staging")
    d = new(bd, "Other", "-d", "the timeout happens at night")
    n = new(bd, "Notes")
    bd("update", n, "--notes", "see Timeout logs")
    c = new(bd, "Commented")
    bd("comment", c, "also a timeout here")
    new(bd, "Unrelated", "-d", "nothing")
    found = ids(bd.json("search", "timeout"))
    assert sorted(found) == sorted([t, d, n, c])
    bd("close", d)  # closed beads only with --status all (or closed), as in the original
    assert d not in ids(bd.json("search", "timeout"))
    assert d in ids(bd.json("search", "timeout", "--status", "all"))
    assert ids(bd.json("search", "timeout", "-s", "closed")) == [d]
    assert ids(bd.json("search", "--query", "timeout", "-n", "1")) == ids(bd.json("search", "timeout"))[:1]
    assert t in bd("search", "login").stdout
    assert bd("search", "zzzznothing").stdout.strip() == "No matches"
    assert bd("search", " ", ok=False).exit_code == 2


def test_search_by_id(bd):
    a = bd("create", "A", "--id", "gt-findme").stdout.strip()
    assert ids(bd.json("search", "findme")) == [a]


def test_count(bd):
    a = new(bd, "A")
    new(bd, "B")
    c = new(bd, "C")
    bd("close", a)
    bd("update", c, "-s", "in_progress")
    assert bd("count").stdout.strip() == "3"  # closed ones too, as the original counts
    assert bd.json("count") == {"count": 3}
    assert bd.json("count", "--all") == {"count": 3}
    assert bd.json("count", "--by-status") == {"total": 3, "groups": [
        {"group": "closed", "count": 1}, {"group": "in_progress", "count": 1}, {"group": "open", "count": 1}]}
    assert bd.json("count", "-s", "all") == {"count": 3}
    assert bd.json("count", "-s", "closed") == {"count": 1}
    assert bd.json("count", "-s", "open,in_progress") == {"count": 2}
    assert bd("count", "-s", "bogus", ok=False).exit_code == 2


def test_stats_json_keys_and_counts(bd):
    a = new(bd, "A", "-t", "bug", "-p", "0")
    b = new(bd, "B", "--deps", a)
    c = new(bd, "C")
    new(bd, "Msg", "-t", "message")
    bd("close", c)
    stats = bd.json("stats")
    assert set(stats) >= {"total", "open", "closed", "ready", "blocked", "by_status", "by_type", "by_priority",
                          "bookkeeping"}
    assert stats["total"] == 4
    assert stats["open"] == 3 and stats["closed"] == 1
    assert stats["ready"] == 1
    assert stats["blocked"] == 1
    assert stats["by_status"] == {"closed": 1, "open": 3}
    assert stats["by_type"] == {"bug": 1, "message": 1, "task": 2}
    assert stats["by_priority"] == {"P0": 1, "P2": 3}
    assert stats["bookkeeping"] == 1
    text = bd("stats").stdout
    assert "Total: 4" in text and "Blocked: 1" in text
    assert b not in text


# -- blocked -----------------------------------------------------------------------------------


def test_blocked_reports_blockers_and_parent(bd):
    blocker = new(bd, "Blocker")
    epic = new(bd, "Epic", "-t", "epic", "--deps", blocker)
    child = new(bd, "Child", "--parent", epic)
    free = new(bd, "Free")
    rows = {r["id"]: r for r in bd.json("blocked")}
    assert set(rows) == {epic, child}
    assert rows[epic]["blocked_by"] == [blocker] and rows[epic]["blocked_via_parent"] is None
    assert rows[child]["blocked_by"] == [epic] and rows[child]["blocked_via_parent"] == epic
    assert rows[child]["title"] == "Child"
    text = bd("blocked").stdout
    assert f"blocked by {blocker}" in text
    assert f"parent {epic} is blocked" in text
    assert free not in text
    bd("close", blocker)
    assert bd.json("blocked") == []
    assert bd("blocked").stdout.strip() == "Nothing blocked"


def test_blocked_by_status(bd):
    a = new(bd, "A")
    bd("update", a, "-s", "blocked")
    rows = bd.json("blocked")
    assert ids(rows) == [a] and rows[0]["blocked_status"] is True
    assert "status is blocked" in bd("blocked").stdout


# -- ready -------------------------------------------------------------------------------------


def test_ready_only_open_and_unblocked(bd):
    open_ = new(bd, "Open")
    progress = new(bd, "In progress")
    bd("update", progress, "-s", "in_progress")
    closed = new(bd, "Closed")
    bd("close", closed)
    blocker = new(bd, "Blocker")
    blocked = new(bd, "Blocked", "--deps", blocker)
    for status in ("blocked", "deferred", "hooked", "pinned"):
        bd("update", new(bd, status), "-s", status)
    assert sorted(ids(bd.json("ready"))) == sorted([open_, blocker])
    assert blocked not in bd("ready").stdout
    bd("close", blocker)
    assert blocked in ids(bd.json("ready"))


def test_ready_excludes_children_of_blocked_parent_transitively(bd):
    blocker = new(bd, "Blocker")
    epic = new(bd, "Epic", "-t", "epic", "--deps", blocker)
    child = new(bd, "Child", "--parent", epic)
    grandchild = new(bd, "Grandchild", "--parent", child)
    ready = ids(bd.json("ready"))
    assert ready == [blocker]
    bd("close", blocker)
    assert sorted(ids(bd.json("ready"))) == sorted([epic, child, grandchild])


def test_ready_children_of_unblocked_parent_are_ready(bd):
    epic = new(bd, "Epic", "-t", "epic")
    child = new(bd, "Child", "--parent", epic)
    assert sorted(ids(bd.json("ready"))) == sorted([epic, child])


def test_ready_excludes_deferred_into_future(bd):
    later = new(bd, "Later")
    past = new(bd, "Past")
    now = new(bd, "Now")
    bd("update", later, "--defer", "2999-01-01")
    bd("update", past, "--defer", "2000-01-01T00:00:00Z")
    assert sorted(ids(bd.json("ready"))) == sorted([past, now])
    bd("update", later, "--defer", "")
    assert later in ids(bd.json("ready"))


@pytest.mark.parametrize("bead_type", ["message", "convoy", "merge-request", "agent", "molecule", "gate", "escalation"])
def test_ready_excludes_bookkeeping_types(bd, bead_type):
    work = new(bd, "Work")
    new(bd, "Bookkeeping", "-t", bead_type)
    assert ids(bd.json("ready")) == [work]


def test_dependency_on_nonexistent_bead_does_not_block(bd, tmp_path):
    import_records(bd, tmp_path, [
        record("gt-partial", "Partial import", [("blocks", "gt-notimported")]),
        record("gt-real", "Blocked for real", [("blocks", "gt-partial")]),
    ])
    assert ids(bd.json("ready")) == ["gt-partial"]
    assert ids(bd.json("blocked")) == ["gt-real"]
    bd("close", "gt-partial")  # a missing blocker does not refuse a close either
    assert ids(bd.json("ready")) == ["gt-real"]


def test_ready_sorted_by_priority_then_newest(bd):
    """The original's orders: priority (newest first within one), oldest, and hybrid (the last 48
    hours' beads first by priority, then older ones oldest first)."""
    low_old = new(bd, "low old", "-p", "3")
    high_new = new(bd, "high new", "-p", "1")
    mid_old = new(bd, "mid old", "-p", "2")
    top = new(bd, "top", "-p", "0")
    high_newer = new(bd, "high newer", "-p", "1")
    mid_new = new(bd, "mid new", "-p", "2")
    expected = [top, high_newer, high_new, mid_new, mid_old, low_old]
    assert ids(bd.json("ready")) == expected
    assert ids(bd.json("ready", "--sort", "priority")) == expected
    lines = bd("ready").stdout.splitlines()
    assert [line.split()[0] for line in lines] == expected
    made = [low_old, high_new, mid_old, top, high_newer, mid_new]
    assert ids(bd.json("ready", "-s", "oldest")) == made
    # all made just now: by priority, oldest first within one
    assert ids(bd.json("ready", "--sort=hybrid")) == [top, high_new, high_newer, mid_old, mid_new, low_old]


def test_ready_limit_defaults_to_a_hundred(bd):
    made = [new(bd, f"Bead {i:02d}") for i in range(12)]
    newest_first = list(reversed(made))
    assert ids(bd.json("ready")) == newest_first
    assert len(bd("ready").stdout.splitlines()) == 12
    assert ids(bd.json("ready", "-n", "3")) == newest_first[:3]
    assert ids(bd.json("ready", "-n", "0")) == newest_first
    assert len(ids(bd.json("ready", "--limit=11"))) == 11


def test_ready_filters(bd):
    mine = new(bd, "Mine", "-a", "alice", "-l", "backend", "-t", "bug")
    theirs = new(bd, "Theirs", "-a", "bob", "-l", "backend")
    plain = new(bd, "Plain", "-l", "frontend", "-t", "bug")
    assert ids(bd.json("ready", "-a", "alice")) == [mine]
    assert sorted(ids(bd.json("ready", "-l", "backend"))) == sorted([mine, theirs])
    assert ids(bd.json("ready", "-l", "backend", "-l", "frontend")) == []
    assert sorted(ids(bd.json("ready", "-t", "bug"))) == sorted([mine, plain])
    assert ids(bd.json("ready", "-t", "bug", "-a", "alice")) == [mine]


def test_ready_when_nothing(bd):
    assert bd("ready").stdout.strip() == "Nothing ready"
    assert bd.json("ready") == []


# -- list --------------------------------------------------------------------------------------


def test_list_excludes_closed_unless_asked(bd):
    a = new(bd, "A")
    b = new(bd, "B")
    bd("close", b)
    assert ids(bd.json("list")) == [a]
    assert sorted(ids(bd.json("list", "--all"))) == sorted([a, b])
    assert ids(bd.json("list", "-s", "closed")) == [b]
    assert sorted(ids(bd.json("list", "-s", "open,closed"))) == sorted([a, b])
    out = bd("list").stdout
    assert a in out and b not in out


def test_list_filters(bd):
    epic = new(bd, "Epic", "-t", "epic", "-p", "1")
    bug = new(bd, "Bug", "-t", "bug", "-p", "0", "-a", "alice", "-l", "x", "-l", "y")
    child = new(bd, "Child", "--parent", epic, "-l", "x")
    progress = new(bd, "Progress", "-a", "bob")
    bd("update", progress, "-s", "in_progress")
    assert ids(bd.json("list", "-s", "in_progress")) == [progress]
    assert ids(bd.json("list", "-p", "0")) == [bug]
    assert ids(bd.json("list", "-p", "P1")) == [epic]
    assert ids(bd.json("list", "-t", "bug")) == [bug]
    assert ids(bd.json("list", "-a", "alice")) == [bug]
    assert sorted(ids(bd.json("list", "-l", "x"))) == sorted([bug, child])
    assert ids(bd.json("list", "-l", "x", "-l", "y")) == [bug]
    assert ids(bd.json("list", "--parent", epic)) == [child]
    assert ids(bd.json("list", "-t", "task", "-a", "bob")) == [progress]
    assert bd.json("list", "-t", "chore") == []
    assert bd("list", "-t", "chore").stdout.strip() == "No beads"


def test_list_sort_by_id_compares_numbers_as_numbers(bd):
    for bead_id in ("gt-10", "gt-2", "gt-1b", "gt-1a"):
        bd("create", bead_id, "--id", bead_id)
    assert ids(bd.json("list", "--sort", "id")) == ["gt-1a", "gt-1b", "gt-2", "gt-10"]


def test_list_limit_and_sort(bd):
    made = [new(bd, f"B{i}", "-p", str(p)) for i, p in enumerate([2, 0, 2, 1])]
    assert ids(bd.json("list")) == [made[1], made[3], made[2], made[0]]  # priority, then newest
    assert ids(bd.json("list", "--sort", "priority")) == [made[1], made[3], made[2], made[0]]
    assert ids(bd.json("list", "--sort", "priority", "-r")) == [made[0], made[2], made[3], made[1]]
    assert ids(bd.json("list", "--sort", "title")) == made
    assert ids(bd.json("list", "--sort", "id")) == ids(bd.json("list", "--sort", "id", "--reverse"))[::-1]
    assert ids(bd.json("list", "--sort", "created")) == list(reversed(made))
    bd("update", made[0], "--title", "touched")
    assert ids(bd.json("list", "--sort", "updated"))[0] == made[0]
    assert ids(bd.json("list", "--limit", "2")) == [made[1], made[3]]
    bd("close", made[2])
    bd("close", made[1])
    # the original's "closed today" view: the latest closed first, the never-closed last
    assert ids(bd.json("list", "--all", "--sort", "closed"))[:2] == [made[1], made[2]]
    assert ids(bd.json("list", "-s", "closed", "--closed-after", "2000-01-01")) == [made[1], made[2]]
    assert ids(bd.json("list", "-s", "closed", "--closed-before", "2000-01-01")) == []
    assert ids(bd.json("list", "-n", "1", "--sort", "created")) == [made[3]]
    assert bd("list", "--sort", "bogus", ok=False).exit_code == 2


def test_list_default_limit_is_fifty(bd, tmp_path):
    import_records(bd, tmp_path, [record(f"gt-n{i:03d}", f"N{i}") for i in range(55)])
    assert len(bd.json("list")) == 50
    assert len(bd.json("list", "-n", "0")) == 55


def test_list_text_format(bd):
    a = new(bd, "Shown", "-t", "bug", "-p", "1", "-a", "alice", "-l", "ui")
    line = bd("list").stdout.strip()
    assert line.startswith(a)
    assert "[P1]" in line and "[bug]" in line and "open" in line and "Shown" in line
    assert "@alice" in line and "#ui" in line


# -- regressions: bugs found by these tests, now fixed --------------------------------------


def test_dep_add_refuses_cycle_through_parent_child(bd, repo):
    epic = new(bd, "Epic", "-t", "epic")
    child = new(bd, "Child", "--parent", epic)
    before = head(repo)
    result = bd("dep", "add", epic, child, ok=None)
    assert bd.json("dep", "cycles") == []
    assert head(repo) == before
    assert result.exit_code == 1 and "cycle" in result.stderr


@pytest.mark.parametrize("command", ["list", "ready"])
def test_negative_limit_is_a_usage_error(bd, command):
    for i in range(3):
        new(bd, f"B{i}")
    result = bd(command, "-n", "-1", ok=None)
    assert result.exit_code == 2


def test_config_set_types_lets_create_use_them(bd, repo):
    assert bd("create", "a spike", "-t", "spike", ok=False).exit_code == 2
    bd("config", "set", "types", "spike,event")
    assert git(repo, "log", "-1", "--format=%s", "beads").strip() == "config: types = spike, event"
    assert "types:\n- spike\n- event" in git(repo, "show", "beads:ledger.yaml")
    bead = bd("create", "a spike", "-t", "spike").stdout.strip()
    assert bd.show(bead)["issue_type"] == "spike"
    assert bd.json("config", "show")["types"] == ["spike", "event"]
    before = git(repo, "rev-parse", "beads")
    bd("config", "set", "prefix", "zz", ok=False)
    bd("config", "set", "types", "Bad Type", ok=False)
    assert git(repo, "rev-parse", "beads") == before

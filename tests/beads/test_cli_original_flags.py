"""The original bd's flags our bd took on in bd82dcb (list/ready/blocked/count/search filters, create/update/
close/show/comment flags, aliases), used as a person would; xfail(strict): where ours still differs."""
from __future__ import annotations

import pytest

from conftest import commit_count, head, new

PAST, FUTURE = "2000-01-01", "2999-01-01"


def ids(docs) -> list[str]:
    return [d["id"] for d in docs]


def listed(bd, *args: str) -> list[str]:
    return ids(bd.json("list", *args))


# -- bd list: the filters of gt/cli/filters.py -------------------------------------------------------
def test_list_label_filters(bd):
    a = new(bd, "A", "-l", "tech-debt,ui")
    b = new(bd, "B", "-l", "tech-legacy")
    c = new(bd, "C", "-l", "backend")
    d = new(bd, "D")
    assert listed(bd, "--label-any", "ui", "--label-any", "backend") == [c, a]  # newest first
    assert listed(bd, "--label-any", "ui,tech-legacy") == [b, a]
    assert listed(bd, "--exclude-label", "ui") == [d, c, b]
    assert listed(bd, "--exclude-label", "ui,backend") == [d, b]
    assert listed(bd, "--label-pattern", "tech-*") == [b, a]
    assert listed(bd, "--label-pattern", "tech-*", "--exclude-label", "ui") == [b]
    assert listed(bd, "--no-labels") == [d]


def test_list_text_filters_and_ids(bd):
    a = new(bd, "Login Timeout", "-d", "Happens at NIGHT")
    b = new(bd, "Logout button")
    bd("update", b, "--notes", "See the Staging logs")
    c = new(bd, "Other")
    assert listed(bd, "--title", "LOG") == [b, a]
    assert listed(bd, "--title-contains", "timeout") == [a]
    assert listed(bd, "--desc-contains", "night") == [a]
    assert listed(bd, "--notes-contains", "staging") == [b]
    assert listed(bd, "--empty-description") == [c, b]
    assert listed(bd, "--id", f"{a},{c}") == [c, a]
    assert listed(bd, "--id", a, "--title", "other") == []


def test_list_created_and_updated_ranges(bd):
    a = new(bd, "A")
    b = new(bd, "B")
    assert listed(bd, "--created-after", PAST) == [b, a]
    assert listed(bd, "--created-before", PAST) == []
    assert listed(bd, "--created-before", FUTURE, "--created-after", PAST) == [b, a]
    assert listed(bd, "--created-after", FUTURE) == []
    assert listed(bd, "--created-after", bd.show(a)["created_at"]) == [b]  # strictly after, to the microsecond
    bd("update", a, "--title", "A touched")
    assert listed(bd, "--updated-before", bd.show(a)["updated_at"]) == [b]
    assert listed(bd, "--updated-after", bd.show(b)["updated_at"]) == [a]
    assert listed(bd, "--updated-after", FUTURE) == []
    assert bd("list", "--created-after", "not-a-date", ok=False).exit_code == 2


def test_list_closed_ranges_need_closed_statuses(bd):
    a = new(bd, "A")
    b = new(bd, "B")
    bd("close", a)
    assert listed(bd, "-s", "closed", "--closed-after", PAST) == [a]
    assert listed(bd, "-s", "closed", "--closed-before", FUTURE) == [a]
    assert listed(bd, "-s", "closed", "--closed-after", FUTURE) == []
    assert listed(bd, "--closed-after", PAST) == []  # as the original: the range does not bring closed back
    assert listed(bd, "-s", "all", "--closed-before", FUTURE) == [a]  # never-closed beads have no date
    assert listed(bd, "-s", "all") == [b, a]


def test_list_due_ranges_and_overdue(bd):
    late = new(bd, "Late", "--due", PAST)
    later = new(bd, "Later", "--due", FUTURE)
    new(bd, "Undated")
    done = new(bd, "Done late", "--due", "2001-01-01")
    bd("close", done)
    assert listed(bd, "--due-before", "2500-01-01") == [late]
    assert listed(bd, "--due-after", "2500-01-01") == [later]
    assert listed(bd, "--overdue") == [late]
    assert listed(bd, "--overdue", "-s", "all") == [late]  # closed beads are never overdue
    assert listed(bd, "-s", "all", "--due-before", "2500-01-01") == [done, late]


def test_list_assignee_priority_and_type_filters(bd):
    a = new(bd, "A", "-p", "0", "-a", "alice", "-t", "bug")
    b = new(bd, "B", "-p", "1", "-t", "chore")
    c = new(bd, "C", "-p", "3", "-t", "epic")
    d = new(bd, "D", "-p", "4")
    assert listed(bd, "--no-assignee") == [b, c, d]
    assert listed(bd, "--priority-min", "1") == [b, c, d]
    assert listed(bd, "--priority-max", "P1") == [a, b]
    assert listed(bd, "--priority-min", "1", "--priority-max", "3") == [b, c]
    assert listed(bd, "--exclude-type", "bug", "--exclude-type", "chore") == [c, d]
    assert listed(bd, "--exclude-type", "epic,task") == [a, b]


def test_list_parent_filters(bd):
    epic = new(bd, "Epic", "-t", "epic")
    child = new(bd, "Child", "--parent", epic)
    grandchild = new(bd, "Grandchild", "--parent", child)
    top = new(bd, "Top")
    assert listed(bd, "--no-parent") == [top, epic]
    assert listed(bd, "--filter-parent", epic) == [child]  # direct children only, as --parent
    assert listed(bd, "--parent", child) == [grandchild]


def test_list_statuses_deferred_and_ready(bd):
    a = new(bd, "A")
    progress = new(bd, "Progress")
    bd("update", progress, "-s", "in_progress")
    gone = new(bd, "Gone")
    bd("close", gone)
    assert listed(bd, "--ready") == [a]
    later = new(bd, "Later", "--defer", FUTURE)
    assert listed(bd, "--deferred") == [later]
    assert listed(bd, "-s", "all") == [later, gone, progress, a]
    assert listed(bd, "--state", "in_progress") == [progress]
    assert listed(bd, "--state", "all") == listed(bd, "-s", "all")


def test_list_long_and_layout_flags(bd):
    a = new(bd, "Shown", "-d", "the details", "-l", "ui")
    b = new(bd, "Second")
    long = bd("list", "--long").stdout
    assert long.index(f"{b}: Second") < long.index(f"{a}: Shown")
    assert "the details" in long and "Labels: ui" in long
    plain = bd("list").stdout
    for flag in ("--flat", "--pretty", "--tree", "--no-pager"):
        assert bd("list", flag).stdout == plain
    assert bd("list", "--long", "-t", "chore").stdout.strip() == "No beads"


# -- bd ready and bd blocked ---------------------------------------------------------------------
def test_ready_filters_of_the_original(bd):
    a = new(bd, "A", "-p", "1", "-l", "ui", "-t", "bug")
    b = new(bd, "B", "-p", "1", "-a", "alice", "-l", "backend")
    c = new(bd, "C", "-p", "2", "-l", "ui,backend", "-t", "chore")
    assert ids(bd.json("ready", "-u")) == [a, c]
    assert ids(bd.json("ready", "--unassigned")) == [a, c]
    assert ids(bd.json("ready", "-p", "1")) == [b, a]
    assert ids(bd.json("ready", "--label-any", "ui", "--label-any", "zzz")) == [a, c]
    assert ids(bd.json("ready", "--exclude-label", "backend")) == [a]
    assert ids(bd.json("ready", "--exclude-type", "bug,chore")) == [b]
    assert ids(bd.json("ready", "-u", "-p", "2")) == [c]


def test_ready_parent_takes_every_descendant(bd):
    epic = new(bd, "Epic", "-t", "epic")
    child = new(bd, "Child", "--parent", epic)
    grandchild = new(bd, "Grandchild", "--parent", child)
    new(bd, "Elsewhere")
    assert ids(bd.json("ready", "--parent", epic)) == [grandchild, child]
    assert ids(bd.json("ready", "--parent", child)) == [grandchild]
    assert bd.json("ready", "--parent", grandchild) == []


def test_blocked_parent_and_counts(bd):
    blocker = new(bd, "Blocker")
    epic = new(bd, "Epic", "-t", "epic")
    child = new(bd, "Child", "--parent", epic, "--deps", blocker)
    grandchild = new(bd, "Grandchild", "--parent", child, "--deps", blocker)
    outside = new(bd, "Outside", "--deps", f"{blocker},{child}")
    assert ids(bd.json("blocked")) == [outside, grandchild, child]
    rows = {r["id"]: r for r in bd.json("blocked", "--parent", epic)}
    assert list(rows) == [grandchild, child]
    assert rows[child]["blocked_by"] == [blocker] and rows[child]["blocked_by_count"] == 1
    assert rows[child]["dependency_count"] == 1 and rows[child]["dependent_count"] == 1
    assert rows[grandchild]["dependent_count"] == 0
    out = {r["id"]: r for r in bd.json("blocked")}[outside]
    assert sorted(out["blocked_by"]) == sorted([blocker, child]) and out["blocked_by_count"] == 2
    assert out["dependency_count"] == 2 and out["dependent_count"] == 0
    assert ids(bd.json("blocked", "--parent", child)) == [grandchild]


# -- bd count --------------------------------------------------------------------------------------
def test_count_filters(bd):
    a = new(bd, "Alpha", "-p", "1", "-a", "alice", "-l", "x,y", "-t", "bug", "-d", "has text")
    b = new(bd, "Beta", "-p", "3", "-l", "y")
    new(bd, "Gamma")
    bd("close", b)
    assert bd.json("count", "-a", "alice") == {"count": 1}
    assert bd.json("count", "-l", "y") == {"count": 2}  # closed ones counted, as the original
    assert bd.json("count", "--label-any", "x,zz") == {"count": 1}
    assert bd.json("count", "-t", "bug", "-p", "1") == {"count": 1}
    assert bd.json("count", "--title", "ALPH") == {"count": 1}
    assert bd.json("count", "--id", f"{a},{b}") == {"count": 2}
    assert bd.json("count", "--no-assignee", "--no-labels") == {"count": 1}
    assert bd.json("count", "--empty-description") == {"count": 2}
    assert bd.json("count", "--desc-contains", "TEXT") == {"count": 1}
    assert bd.json("count", "--priority-min", "2") == {"count": 2}
    assert bd.json("count", "--priority-max", "2", "--created-after", PAST) == {"count": 2}
    assert bd.json("count", "--closed-after", PAST) == {"count": 1}
    assert bd("count", "-s", "open").stdout.strip() == "2"


def test_count_by_groups(bd):
    a = new(bd, "A", "-l", "x,y", "-a", "alice", "-t", "bug", "-p", "1")
    new(bd, "B", "-l", "y")
    c = new(bd, "C")
    bd("close", c)
    by_label = bd.json("count", "--by-label")
    assert by_label["total"] == 3
    counts = {g["group"]: g["count"] for g in by_label["groups"]}
    assert counts["x"] == 1 and counts["y"] == 2 and sum(counts.values()) == 4  # a bead once per label
    assert bd.json("count", "--by-label", "-s", "open")["total"] == 2
    assert {g["group"]: g["count"] for g in bd.json("count", "--by-type")["groups"]} == {"bug": 1, "task": 2}
    assert {g["group"]: g["count"] for g in bd.json("count", "--by-status")["groups"]} == {"open": 2, "closed": 1}
    assignees = {g["group"]: g["count"] for g in bd.json("count", "--by-assignee")["groups"]}
    assert assignees["alice"] == 1 and sum(assignees.values()) == 3
    assert sorted(g["count"] for g in bd.json("count", "--by-priority")["groups"]) == [1, 2]
    assert [g["count"] for g in bd.json("count", "--by-priority", "--id", a)["groups"]] == [1]
    assert bd("count", "--by-type").stdout.splitlines()[0] == "Total: 3"


# -- bd search -------------------------------------------------------------------------------------
def test_search_flags(bd):
    a = new(bd, "widgetry alpha", "-p", "1", "-l", "ui")
    b = new(bd, "widgetry beta", "-p", "2", "-l", "backend")
    c = new(bd, "widgetry gamma", "-p", "3", "-l", "ui,backend")
    new(bd, "unrelated", "-l", "ui")
    bd("close", b)
    assert ids(bd.json("search", "--query", "widgetry")) == [a, c]
    assert ids(bd.json("search", "widgetry", "-s", "all")) == [a, b, c]
    assert ids(bd.json("search", "widgetry", "--status", "closed")) == [b]
    assert ids(bd.json("search", "widgetry", "-l", "ui", "-l", "backend")) == [c]
    assert ids(bd.json("search", "widgetry", "--label-any", "backend", "-s", "all")) == [b, c]
    assert ids(bd.json("search", "widgetry", "-n", "1")) == [a]
    assert ids(bd.json("search", "widgetry", "--sort", "title", "-r", "-s", "all")) == [c, b, a]
    assert ids(bd.json("search", "widgetry", "-s", "all", "--sort", "created", "-n", "2")) == [c, b]
    long = bd("search", "widgetry", "--long").stdout
    assert f"{a}: widgetry alpha" in long and "Labels: ui" in long and b not in long
    assert bd("search", "widgetry", "--query", "other", ok=False).exit_code == 2


# -- bd create -------------------------------------------------------------------------------------
def test_create_title_flag(bd):
    assert bd.show(bd("create", "--title", "By flag").stdout.strip())["title"] == "By flag"
    assert bd.show(new(bd, "Same", "--title", "Same"))["title"] == "Same"
    assert bd("create", "One", "--title", "Other", ok=False).exit_code == 2


def test_create_silent_labels_notes_estimate_dates(bd):
    out = bd("create", "Quiet", "--silent", "-l", "a,b", "--labels", "c", "--notes", "some notes", "-e", "45",
             "--due", "2030-05-06", "--defer", FUTURE, "--force").stdout
    bead_id = out.strip()
    assert out == bead_id + "\n"
    doc = bd.show(bead_id)
    assert doc["labels"] == ["a", "b", "c"] and doc["notes"] == "some notes"
    assert doc["estimated_minutes"] == 45
    assert doc["due_at"].startswith("2030-05-06") and doc["defer_until"].startswith(FUTURE)
    assert bd("create", "Elsewhere", "--id", "zz-abc", "--force").stdout == "zz-abc\n"


def test_create_description_sources(bd, tmp_path):
    body, design = tmp_path / "body.md", tmp_path / "design.md"
    body.write_text("from a file\n")
    design.write_text("design text")
    a = new(bd, "File", "--body-file", str(body), "--design-file", str(design))
    assert bd.show(a)["description"] == "from a file\n" and bd.show(a)["design"] == "design text"
    assert bd.show(bd("create", "S", "--stdin", input="piped in").stdout.strip())["description"] == "piped in"
    assert bd.show(bd("create", "D", "-d", "-", input="dash piped").stdout.strip())["description"] == "dash piped"
    assert bd.show(bd("create", "F", "--design-file", "-", input="designed").stdout.strip())["design"] == "designed"
    assert bd("create", "Both", "--stdin", "--body-file", str(body), ok=False).exit_code == 2


def test_create_dry_run_writes_nothing(bd, repo):
    before, count = head(repo), commit_count(repo)
    out = bd("create", "Maybe", "--dry-run", "-l", "x", "-p", "1").stdout
    assert out.startswith("Would create gt-") and out.rstrip().endswith(": Maybe")
    doc = bd.json("create", "Maybe", "--dry-run", "-t", "bug")
    assert (doc["title"], doc["issue_type"], doc["status"], doc["id"][:3]) == ("Maybe", "bug", "open", "gt-")
    assert head(repo) == before and commit_count(repo) == count
    assert bd.json("list", "-s", "all") == []
    assert bd("show", doc["id"], ok=False).exit_code != 0


def test_create_parent_inherits_labels_unless_told(bd):
    epic = new(bd, "Epic", "-t", "epic", "-l", "team,ui")
    child = new(bd, "Child", "--parent", epic, "-l", "extra")
    bare = new(bd, "Bare", "--parent", epic, "--no-inherit-labels")
    assert bd.show(child)["labels"] == ["team", "ui", "extra"]
    assert "labels" not in bd.show(bare)
    assert bd.show(bare)["parent"] == epic


# -- bd update -------------------------------------------------------------------------------------
def test_update_set_labels(bd, repo):
    a = new(bd, "A", "-l", "old,keep")
    assert bd.json("update", a, "--set-labels", "c,d", "--set-labels", "e")[0]["labels"] == ["c", "d", "e"]
    before = head(repo)
    assert bd("update", a, "--set-labels", "c,d,e").stdout.strip() == "No change"
    assert head(repo) == before
    added = bd.json("update", a, "--add-label", "x,y", "--add-label", "z")[0]
    assert added["labels"] == ["c", "d", "e", "x", "y", "z"]


def test_update_text_sources_and_aliases(bd, tmp_path):
    a = new(bd, "A")
    (tmp_path / "body.md").write_text("file body")
    doc = bd.json("update", a, "--body-file", str(tmp_path / "body.md"), "-e", "90", "--acceptance-criteria", "ok")[0]
    assert doc["description"] == "file body" and doc["estimated_minutes"] == 90
    assert doc["acceptance_criteria"] == "ok"
    assert bd.json("update", a, "--stdin", input="from stdin")[0]["description"] == "from stdin"


# -- bd close --------------------------------------------------------------------------------------
def test_close_force_reason_file_and_aliases(bd, tmp_path):
    blocker = new(bd, "Blocker")
    blocked = new(bd, "Blocked", "--deps", blocker)
    assert bd("close", blocked, ok=None).exit_code != 0
    assert bd.json("close", blocked, "-f", "-m", "forced")[0]["close_reason"] == "forced"
    (tmp_path / "why").write_text("from the file")
    assert bd.json("close", blocker, "--reason-file", str(tmp_path / "why"))[0]["close_reason"] == "from the file"
    assert bd.json("close", new(bd, "C"), "--resolution", "resolved")[0]["close_reason"] == "resolved"
    assert bd("close", new(bd, "D"), "--resolution", "x", "-r", "y", ok=False).exit_code == 2


def test_close_suggest_next(bd):
    blocker = new(bd, "Blocker")
    one = new(bd, "One", "--deps", blocker)
    two = new(bd, "Two", "--deps", blocker)
    three = new(bd, "Three", "--deps", f"{blocker},{one}")
    done = bd.json("close", blocker, "--suggest-next")
    assert set(done) == {"closed", "unblocked"}
    assert ids(done["closed"]) == [blocker] and done["closed"][0]["status"] == "closed"
    assert ids(done["unblocked"]) == sorted([one, two])
    assert bd("close", one, "--suggest-next").stdout.splitlines()[-1] == f"Now ready: {three} Three"


# -- bd show and the command aliases ---------------------------------------------------------------
def test_show_flags(bd):
    epic = new(bd, "Epic", "-t", "epic")
    c1 = new(bd, "C1", "--parent", epic)
    c2 = new(bd, "C2", "--parent", epic)
    new(bd, "G", "--parent", c1)
    assert bd("show", epic, "--short").stdout == f"{epic} [P2] [epic] open - Epic\n"
    assert ids(bd.json("show", "--id", epic)) == [epic]
    assert sorted(ids(bd.json("show", epic, "--children"))) == sorted([c1, c2])
    short = bd("show", epic, "--children", "--short").stdout.splitlines()
    assert sorted(line.split()[0] for line in short) == sorted([c1, c2])
    assert bd("show", epic, "--long").stdout == bd("show", epic).stdout


def test_aliases_view_new_status(bd):
    a = bd("new", "Made by new", "-p", "1").stdout.strip()
    assert bd.show(a)["priority"] == 1
    assert bd.json("view", a) == bd.json("show", a)
    assert bd.json("status")["summary"] == bd.json("stats")["summary"]
    assert bd.json("status")["summary"]["open_issues"] == 1


# -- comments and dep rm ----------------------------------------------------------------------------
def test_comment_forms(bd):
    a = new(bd, "A")
    assert bd.json("comment", a, "several", "words", "here")["text"] == "several words here"
    assert bd.json("comment", a, "--stdin", input="piped\n\n")["text"] == "piped"
    added = bd.json("comments", "add", a, "added", "text")
    assert added["text"] == "added text" and added["issue_id"] == a
    assert [c["text"] for c in bd.json("comments", a)] == ["several words here", "piped", "added text"]
    assert bd("comments", a, "extra", ok=False).exit_code == 2


def test_dep_rm_alias(bd, repo):
    a = new(bd, "A")
    b = new(bd, "B")
    bd("dep", "add", a, b)
    assert bd.json("dep", "rm", a, b) == {"status": "removed", "issue_id": a, "depends_on_id": b}
    assert "dependencies" not in bd.show(a)
    assert ids(bd.json("ready")) == [b, a]


# -- where ours still differs from the original (upstream_flags.md, the Go source): xfail(strict) -----
def differs(reason: str) -> pytest.MarkDecorator:
    return pytest.mark.xfail(strict=True, reason=reason)


def test_list_deferred_includes_status_deferred(bd):
    iced = new(bd, "Iced")
    bd("defer", iced)  # status deferred, no date
    assert listed(bd, "--deferred") == [iced]


def test_list_ready_is_bd_ready(bd):
    blocker = new(bd, "Blocker")
    new(bd, "Blocked", "--deps", blocker)
    new(bd, "Later", "--defer", FUTURE)
    assert listed(bd, "--ready") == ids(bd.json("ready")) == [blocker]


def test_blocked_child_of_blocked_parent_names_the_parent(bd):
    epic = new(bd, "Epic", "-t", "epic", "--deps", new(bd, "Blocker"))
    child = new(bd, "Child", "--parent", epic)
    row = {r["id"]: r for r in bd.json("blocked")}[child]
    assert row["blocked_by"] == [epic] and row["blocked_by_count"] == 1


def test_count_groups_as_the_original_names_them(bd):
    new(bd, "A", "-l", "y", "-a", "alice", "-p", "1")
    new(bd, "B", "-l", "y")
    new(bd, "C")
    assert bd.json("count", "--by-label")["groups"] == [{"group": "(no labels)", "count": 1},
                                                        {"group": "y", "count": 2}]
    assert bd.json("count", "--by-priority")["groups"] == [{"group": "P1", "count": 1}, {"group": "P2", "count": 2}]
    assert bd.json("count", "--by-assignee")["groups"] == [{"group": "(unassigned)", "count": 2},
                                                           {"group": "alice", "count": 1}]
    assert bd("count", "--by-type", "--by-status", ok=False).exit_code == 2  # one --by-* at a time


def test_create_relative_dates(bd):
    doc = bd.show(new(bd, "Soon", "--due", "+1d", "--defer", "tomorrow"))
    assert doc["due_at"] > doc["created_at"] and doc["defer_until"] > doc["created_at"]


def test_close_suggest_next_with_nothing_unblocked_is_the_plain_array(bd):
    lone = new(bd, "Lone")
    assert ids(bd.json("close", lone, "--suggest-next")) == [lone]


@differs("close without a reason stores none; the original's default close_reason is \"Closed\"")
def test_close_default_reason(bd):
    assert bd.json("close", new(bd, "A"))[0]["close_reason"] == "Closed"


def test_show_short_wins_over_json(bd):
    a = new(bd, "A")
    assert bd("show", a, "--short", "--json").stdout == f"{a} [P2] [task] open - A\n"


@differs("bd done, the original's alias of close (last argument the reason), is an unknown command")
def test_done_alias_of_close(bd):
    a = new(bd, "A")
    bd("done", a, "finished")
    assert bd.show(a)["close_reason"] == "finished"


def test_infrastructure_beads_are_left_out_unless_asked(bd):
    """As the original: agents, mail, merge requests, convoys… stay out of list and count, even with
    --all; --include-infra (or --all-types) or --type shows them; `types.infra` names the set."""
    work = new(bd, "Work")
    mail = new(bd, "A message", "-t", "message")
    convoy = new(bd, "A convoy", "-t", "convoy")
    bd("close", new(bd, "Old mail", "-t", "message"))
    assert listed(bd) == listed(bd, "--all") == [work]
    assert bd.json("count") == {"count": 1}
    assert sorted(listed(bd, "--include-infra")) == sorted([work, mail, convoy])
    assert sorted(listed(bd, "--all-types")) == sorted([work, mail, convoy])
    assert bd.json("count", "--include-infra") == {"count": 4}
    assert listed(bd, "-t", "message") == [mail]
    bd("config", "set", "types.infra", "convoy")
    assert sorted(listed(bd)) == sorted([work, mail])
    assert bd("config", "set", "types.infra", "Not A Type", ok=False).exit_code == 2

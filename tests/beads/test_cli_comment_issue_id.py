"""Every comment printed as JSON names its bead (`issue_id`, as the original bd prints it); the
ledger does not store it."""
from __future__ import annotations

from conftest import bead_path, git


def check(comment: dict, bead: str, text: str) -> None:
    assert list(comment)[:2] == ["id", "issue_id"]
    assert comment["issue_id"] == bead and comment["text"] == text
    assert isinstance(comment["id"], str) and comment["author"] == "Test User" and comment["created_at"]


def test_comment_and_comments(bd):
    bead = bd("create", "A").stdout.strip()
    made = bd.json("comment", bead[:6], "first")
    check(made, bead, "first")
    assert bd("comment", bead, "second").stdout == f"Commented on {bead}\n"  # text unchanged
    listed = bd.json("comments", bead)
    assert [c["text"] for c in listed] == ["first", "second"]
    for c in listed:
        check(c, bead, c["text"])
    assert listed[0]["id"] == made["id"]


def test_comments_are_printed_as_the_original_prints_them(bd, repo):
    """`show` carries the comments (each naming its bead); list rows carry `comment_count`; the bare
    beads that writes print carry neither, as in the original."""
    bead = bd("create", "A").stdout.strip()
    other = bd("create", "B").stdout.strip()
    bd("comment", bead, "hello")
    for where, doc in {"show": bd.show(bead), "show two": bd.json("show", bead, other)[0]}.items():
        assert doc["id"] == bead, where
        [comment] = doc["comments"]
        check(comment, bead, "hello")
    rows = {
        "list": next(d for d in bd.json("list") if d["id"] == bead),
        "ready": next(d for d in bd.json("ready") if d["id"] == bead),
        "search": bd.json("search", "hello")[0],
    }
    bd("dep", "add", bead, other)
    rows["blocked"] = bd.json("blocked")[0]
    for where, doc in rows.items():
        assert doc["id"] == bead and doc["comment_count"] == 1 and "comments" not in doc, where
    written = {
        "update": bd.json("update", bead, "-p", "1")[0],
        "note": bd.json("note", bead, "x"),
        "close": bd.json("close", bead, "--force")[0],
        "reopen": bd.json("reopen", bead)[0],
    }
    for where, doc in written.items():
        assert doc["id"] == bead and "comments" not in doc, where
    assert "issue_id" not in git(repo, "show", f"beads:{bead_path(bead)}")


def test_a_bead_without_comments_is_printed_as_before(bd):
    bead = bd("create", "A").stdout.strip()
    assert "comments" not in bd.show(bead)
    assert bd.json("comments", bead) == []

"""`bd import` and `bd export`: the real beads corpus, round trips, and refused input."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from gt.model.bead import INFRA_TYPES
from conftest import Bd, bead_path, commit_count, git, head, ledger_files, make_repo, require_corpus, links

CORPUS_SIZE = 1955


def corpus_records(corpus: Path) -> dict[str, dict]:
    return {r["id"]: r for r in (json.loads(line) for line in corpus.read_text(encoding="utf-8").splitlines())}


def fresh(tmp_path: Path, name: str = "fresh", prefix: str = "bd") -> tuple[Path, Bd]:
    repo = make_repo(tmp_path / name)
    runner = Bd(repo)
    runner("init", "--prefix", prefix)
    return repo, runner


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory):
    """One repository with the whole corpus imported (shared: tests must not write to it)."""
    corpus = require_corpus()
    home = tmp_path_factory.mktemp("corpus-home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HOME", str(home))
        mp.setenv("GIT_CONFIG_NOSYSTEM", "1")
        mp.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
        mp.delenv("BD_ACTOR", raising=False)
        repo = make_repo(tmp_path_factory.mktemp("corpus") / "proj", user="Importer")
        runner = Bd(repo)
        runner("init", "--prefix", "bd")
        result = runner.json("import", str(corpus))
        exported = runner("export").stdout
    return repo, runner, result, exported


@pytest.fixture
def records(corpus) -> dict[str, dict]:
    return corpus_records(corpus)


# -- the real corpus ---------------------------------------------------------------------------


def test_corpus_import_is_one_commit_with_every_record(imported):
    repo, bd, result, _ = imported
    assert result["created"] == CORPUS_SIZE and result["updated"] == 0 and result["unchanged"] == 0
    assert commit_count(repo) == 2  # init + import
    log = git(repo, "log", "-1", "--format=%an%n%B", "beads").splitlines()
    assert log[0] == "Importer"
    assert log[1].startswith(f"import {CORPUS_SIZE} new")
    bead_ids = [line.split(": ", 1)[1] for line in log if line.startswith("Bead-Id: ")]
    assert len(bead_ids) == CORPUS_SIZE == len(set(bead_ids))
    assert "Op: import" in log and "Actor: Importer" in log
    files = ledger_files(repo)
    assert len(files) == CORPUS_SIZE + 1
    assert set(files) == {bead_path(i) for i in bead_ids} | {"ledger.yaml"}


def test_corpus_tombstones_are_deleted_beads(imported, records):
    repo, bd, _, exported = imported
    tombstones = sorted(i for i, r in records.items() if r["status"] == "tombstone")
    assert len(tombstones) == 338
    listed = {d["id"] for d in bd.json("list", "--all", "--include-infra", "-n", "0")}
    assert len(listed) == CORPUS_SIZE - len(tombstones)
    assert not listed & set(tombstones)
    assert bd.json("count", "--include-infra") == {"count": CORPUS_SIZE - len(tombstones)}
    infra = sum(1 for r in records.values() if r["status"] != "tombstone" and r.get("issue_type") in INFRA_TYPES)
    assert infra and bd.json("count") == {"count": CORPUS_SIZE - len(tombstones) - infra}
    for bead_id in ("bd-06px", "bd-mol-pjc", tombstones[0], tombstones[-1]):
        result = bd("show", bead_id, ok=False)
        assert result.exit_code == 1 and "deleted" in result.stderr
        assert "status: tombstone" in git(repo, "show", f"beads:{bead_path(bead_id)}")
    ready = {d["id"] for d in bd.json("ready", "-n", "0")}
    assert not ready & set(tombstones)
    exported_status = {json.loads(line)["id"]: json.loads(line)["status"] for line in exported.splitlines()}
    assert all(exported_status[i] == "tombstone" for i in tombstones)


def test_corpus_hooked_status_is_kept(imported, records):
    _, bd, _, _ = imported
    hooked = sorted(i for i, r in records.items() if r["status"] == "hooked")
    assert len(hooked) == 17
    assert sorted(d["id"] for d in bd.json("list", "-s", "hooked", "-n", "0")) == hooked
    assert bd.show("bd-077e")["status"] == "hooked"


def test_corpus_unknown_fields_go_to_metadata(imported, records):
    _, bd, _, exported = imported
    by_id = {json.loads(line)["id"]: json.loads(line) for line in exported.splitlines()}
    gate = by_id["bd-mol-pjc"]
    assert gate["metadata"]["await_type"] == "gh:run"
    assert gate["metadata"]["await_id"] == "release.yml"
    assert gate["metadata"]["timeout"] == 1800000000000
    assert gate["metadata"]["original_type"] == "gate"
    with_original = [i for i, r in records.items() if "original_type" in r]
    assert len(with_original) == 339
    for bead_id in with_original:
        assert by_id[bead_id]["metadata"]["original_type"] == records[bead_id]["original_type"]
    # types the tracker does not know are kept as they are
    assert bd.show("bd-rig-beads")["issue_type"] == "rig"
    assert bd.show("bd-8fqd")["issue_type"] == "role"


def test_corpus_dependency_types_are_kept(imported, records):
    repo, bd, _, exported = imported
    wanted = {"blocks", "parent-child", "discovered-from", "related", "relates-to", "supersedes", "replies-to",
              "duplicates"}
    by_id = {json.loads(line)["id"]: json.loads(line) for line in exported.splitlines()}
    seen = {d["type"] for r in by_id.values() for d in r.get("dependencies") or ()}
    assert seen == wanted
    original_count = sum(len(r.get("dependencies") or ()) for r in records.values())
    assert sum(len(r.get("dependencies") or ()) for r in by_id.values()) == original_count
    assert {"type": "relates-to", "target": "bd-4d9d"} in links(bd.show("bd-h502"))
    [row] = bd.json("list", "--all", "--id", "bd-h502")  # list rows carry the original's raw records
    assert {"issue_id": "bd-h502", "depends_on_id": "bd-4d9d", "type": "relates-to",
            "created_at": "2025-12-28T21:59:45.598237-08:00", "created_by": "beads/crew/dave"} in row["dependencies"]
    assert "type: supersedes" in git(repo, "show", f"beads:{bead_path('bd-7bs4')}")
    assert "type: duplicates" in git(repo, "show", f"beads:{bead_path('bd-gjla')}")
    assert "target: bd-f5cc" in git(repo, "show", f"beads:{bead_path('bd-gjla')}")


def test_corpus_comments_are_kept_with_their_ids(imported, records):
    _, bd, _, exported = imported
    originals = {i: r["comments"] for i, r in records.items() if r.get("comments")}
    assert sum(len(c) for c in originals.values()) == 12
    by_id = {json.loads(line)["id"]: json.loads(line) for line in exported.splitlines()}
    all_ids = []
    for bead_id, comments in originals.items():
        kept = by_id[bead_id]["comments"]
        if records[bead_id]["status"] != "tombstone":
            assert bd.json("comments", bead_id) == [{**c, "id": str(c["id"]), "issue_id": bead_id} for c in kept]
        assert [c["text"] for c in kept] == [c["text"] for c in comments]
        assert [c["author"] for c in kept] == [c["author"] for c in comments]
        assert [c["created_at"] for c in kept] == [c["created_at"] for c in comments]
        # the original format's comment ids are int64: kept as they were, exported as integers
        assert [c["id"] for c in kept] == [c["id"] for c in comments]
        assert all(isinstance(c["id"], int) for c in kept)
        all_ids += [(bead_id, c["id"]) for c in kept]
    assert len(set(all_ids)) == len(all_ids) == 12


def test_corpus_import_twice_changes_nothing(imported, corpus):
    repo, bd, _, exported = imported
    before = head(repo)
    result = bd.json("import", str(corpus))
    assert result["created"] == 0 and result["updated"] == 0 and result["unchanged"] == CORPUS_SIZE
    assert head(repo) == before
    assert len(ledger_files(repo)) == CORPUS_SIZE + 1
    assert bd("export").stdout == exported


def test_corpus_export_keeps_every_original_field(imported, records):
    _, _, _, exported = imported
    lines = exported.splitlines()
    assert len(lines) == CORPUS_SIZE
    by_id = {json.loads(line)["id"]: json.loads(line) for line in lines}
    assert set(by_id) == set(records)
    assert list(by_id) == sorted(by_id)
    missing = []
    for bead_id, original in records.items():
        out = by_id[bead_id]
        meta = out.get("metadata") or {}
        for key, value in original.items():
            if key == "comments":
                kept = [{k: v for k, v in c.items() if k != "id"} for c in out[key]]
                if kept != [{k: v for k, v in c.items() if k != "id"} for c in value]:
                    missing.append((bead_id, key))
            elif out.get(key, meta.get(key)) != value:
                missing.append((bead_id, key))
    assert missing == []


@pytest.mark.parametrize("bead_id", ["bd-mol-pjc", "bd-6df0", "bd-zw72", "bd-077e", "bd-h502", "bd-rig-beads",
                                     "bd-06px", "bd-6s61"])
def test_corpus_export_field_by_field(imported, records, bead_id):
    _, _, _, exported = imported
    out = next(json.loads(line) for line in exported.splitlines() if json.loads(line)["id"] == bead_id)
    original = records[bead_id]
    top_level = {k for k in original if k in out}
    assert {"id", "title", "status", "priority", "issue_type", "created_at", "updated_at"} <= top_level
    for key, value in original.items():
        if key == "comments":
            assert len(out["comments"]) == len(value)
            for kept, orig in zip(out["comments"], value):
                assert kept["issue_id"] == orig["issue_id"]
                assert kept["author"] == orig["author"]
                assert kept["text"] == orig["text"]
                assert kept["created_at"] == orig["created_at"]
        elif key in out:
            assert out[key] == value, key
        else:
            assert out["metadata"][key] == value, key


def test_corpus_priority_zero_records_survive(imported, records):
    _, bd, _, _ = imported
    zero = sorted(i for i, r in records.items() if r["priority"] == 0 and r["status"] != "tombstone")
    assert zero
    listed = sorted(d["id"] for d in bd.json("list", "--all", "-p", "0", "-n", "0"))
    assert listed == zero


def test_corpus_export_import_into_fresh_repo_is_identical(imported, tmp_path):
    _, _, _, exported = imported
    path = tmp_path / "export.jsonl"
    path.write_text(exported, encoding="utf-8")
    repo, other = fresh(tmp_path)
    result = other.json("import", str(path))
    assert result["created"] == CORPUS_SIZE
    assert other("export").stdout == exported
    out = tmp_path / "again.jsonl"
    other("export", "-o", str(out))
    assert out.read_text(encoding="utf-8") == exported


def test_corpus_bad_line_refuses_the_whole_file_with_strict(corpus, tmp_path):
    lines = corpus.read_text(encoding="utf-8").splitlines(keepends=True)[:200]
    lines.insert(150, '{"id": "bd-bad", "title": "cut off\n')
    path = tmp_path / "broken.jsonl"
    path.write_text("".join(lines), encoding="utf-8")
    repo, bd = fresh(tmp_path)
    before = head(repo)
    result = bd("import", "--strict", str(path), ok=False)
    assert result.exit_code == 1
    assert f"{path}:151" in result.stderr
    assert head(repo) == before
    assert ledger_files(repo) == ["ledger.yaml"]
    # without --strict the line is refused and reported, and the 200 others are imported in one commit
    result = bd("import", str(path))
    assert result.stderr.splitlines()[0].startswith(f"{path}:151: invalid JSON")
    assert "Imported 200, refused 1 (see above)" in result.stderr
    assert commit_count(repo) == 2 and len(ledger_files(repo)) == 201


# -- small files (no corpus needed) ------------------------------------------------------------


def rec(bead_id: str, title: str, **fields) -> dict:
    return {"id": bead_id, "title": title, "status": "open", "priority": 2, "issue_type": "task",
            "created_at": "2025-01-01T00:00:00Z", "updated_at": "2025-01-01T00:00:00Z", **fields}


def write_jsonl(path: Path, records: list) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records))
    return path


@pytest.mark.parametrize("bad, line_no", [
    ("{not json", 2),
    ("[1, 2, 3]", 2),
    (json.dumps({"title": "no id"}), 2),
    (json.dumps({"id": "bd-notitle"}), 2),
    (json.dumps({"id": "../escape", "title": "x"}), 2),
    (json.dumps({"id": "/abs", "title": "x"}), 2),
])
def test_bad_record_names_file_and_line_and_writes_nothing(bd, repo, tmp_path, bad, line_no):
    """With --strict, all or nothing; without, the bad line is refused and named, and the others go in."""
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps(rec("gt-good1", "Good")) + "\n" + bad + "\n" + json.dumps(rec("gt-good2", "G")) + "\n")
    before = head(repo)
    result = bd("import", "--strict", str(path), ok=False)
    assert result.exit_code == 1
    assert f"{path}:{line_no}" in result.stderr
    assert head(repo) == before
    assert ledger_files(repo) == ["ledger.yaml"]
    result = bd("import", str(path))
    assert result.stderr.splitlines()[0].startswith(f"{path}:{line_no}: ")
    assert sorted(ledger_files(repo)) == sorted(["ledger.yaml", bead_path("gt-good1"), bead_path("gt-good2")])
    assert commit_count(repo) == 2


def test_bad_record_json_error(bd, tmp_path):
    path = write_jsonl(tmp_path / "in.jsonl", ["{oops"])
    result = bd("import", str(path), "--json", ok=False)
    err = json.loads(result.stderr)
    assert result.exit_code == 1 and err["code"] == "bad_input" and f"{path}:1" in err["error"]


def test_import_missing_file(bd, repo, tmp_path):
    before = head(repo)
    result = bd("import", str(tmp_path / "absent.jsonl"), ok=False)
    assert result.exit_code != 0
    assert "absent.jsonl" in result.stderr
    assert head(repo) == before


def test_import_updates_by_id_and_counts(bd, repo, tmp_path):
    path = write_jsonl(tmp_path / "a.jsonl", [rec("gt-one", "One"), rec("gt-two", "Two")])
    assert bd.json("import", str(path))["created"] == 2
    path = write_jsonl(tmp_path / "b.jsonl", [rec("gt-one", "One"), rec("gt-two", "Two renamed", priority=0),
                                              rec("gt-three", "Three")])
    before = commit_count(repo)
    result = bd.json("import", str(path))
    assert (result["created"], result["updated"], result["unchanged"]) == (1, 1, 1)
    assert commit_count(repo) == before + 1
    body = git(repo, "log", "-1", "--format=%B", "beads")
    assert sorted(line[len("Bead-Id: "):] for line in body.splitlines() if line.startswith("Bead-Id: ")) == \
        ["gt-three", "gt-two"]
    doc = bd.show("gt-two")
    assert doc["title"] == "Two renamed" and doc["priority"] == 0


def test_import_later_line_wins(bd, tmp_path):
    path = write_jsonl(tmp_path / "a.jsonl", [rec("gt-one", "First"), "", rec("gt-one", "Second")])
    assert bd.json("import", str(path))["created"] == 1
    assert bd.show("gt-one")["title"] == "Second"


def test_import_from_stdin(bd, tmp_path):
    data = json.dumps(rec("gt-piped", "Piped", labels=["a"])) + "\n"
    result = bd.json("import", "-", input=data)
    assert result["created"] == 1
    assert bd.show("gt-piped")["labels"] == ["a"]


def test_import_converts_issue_type_dependencies_and_comments(bd, repo, tmp_path):
    path = write_jsonl(tmp_path / "a.jsonl", [
        rec("gt-target", "Target"),
        rec("gt-src", "Source", issue_type="bug",
            dependencies=[{"issue_id": "gt-src", "depends_on_id": "gt-target", "type": "blocks",
                           "created_at": "2025-01-02T00:00:00Z"}],
            comments=[{"id": 1, "issue_id": "gt-src", "author": "a", "text": "hi", "created_at": "2025-01-03T00:00:00Z"},
                      {"id": "keep-me", "issue_id": "gt-src", "author": "b", "text": "yo",
                       "created_at": "2025-01-04T00:00:00Z"}],
            custom_field={"nested": [1, 2]}),
    ])
    bd("import", str(path))
    doc = bd.show("gt-src")
    assert doc["issue_type"] == "bug" and "type" not in doc
    assert links(doc) == [{"type": "blocks", "target": "gt-target"}]
    [row] = bd.json("list", "--id", "gt-src")
    assert row["dependencies"] == [{"issue_id": "gt-src", "depends_on_id": "gt-target", "type": "blocks",
                                    "created_at": "2025-01-02T00:00:00Z"}]
    assert doc["metadata"] == {"custom_field": {"nested": [1, 2]}}
    ids = [c["id"] for c in doc["comments"]]
    assert ids[0] == "1" and ids[1].isdigit() and len(set(ids)) == 2  # a non-integer id gets a stable number
    assert [d["id"] for d in bd.json("ready")] == ["gt-target"]
    record = json.loads([line for line in bd("export").stdout.splitlines() if '"gt-src"' in line][0])
    assert record["issue_type"] == "bug"
    assert record["dependencies"][0]["issue_id"] == "gt-src"
    assert record["dependencies"][0]["depends_on_id"] == "gt-target"
    assert record["comments"][0]["issue_id"] == "gt-src"
    assert [c["id"] for c in record["comments"]] == [1, int(ids[1])]


def test_reimport_of_export_is_a_no_op(bd, repo, tmp_path):
    bd("create", "Alpha", "-p", "0", "-l", "x", "-d", "multi\nline\n")
    b = bd("create", "Beta").stdout.strip()
    bd("comment", b, "a comment")
    path = tmp_path / "out.jsonl"
    bd("export", "-o", str(path))
    before = head(repo)
    result = bd.json("import", str(path))
    assert result["created"] == 0 and result["updated"] == 0 and result["unchanged"] == 2
    assert head(repo) == before


def test_export_json_summary_and_sorted_ids(bd, tmp_path):
    for bead_id in ("gt-zzz", "gt-aaa", "gt-mmm"):
        bd("create", bead_id, "--id", bead_id)
    path = tmp_path / "o.jsonl"
    summary = bd.json("export", "-o", str(path))
    assert summary == {"exported": 3, "file": str(path)}
    assert [json.loads(line)["id"] for line in path.read_text().splitlines()] == ["gt-aaa", "gt-mmm", "gt-zzz"]


def test_import_refuses_values_that_would_break_reads(bd, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"id": "gt-bad1", "title": "T", "priority": "high"}) + "\n")
    err = bd("import", str(bad), ok=False).stderr
    assert "bad.jsonl:1" in err and "priority" in err
    assert bd.json("list") == []


def test_export_to_a_missing_directory_fails_and_creates_nothing(bd, tmp_path):
    target = tmp_path / "missing" / "dir" / "out.jsonl"
    bd("export", "-o", str(target), ok=False)
    assert not (tmp_path / "missing").exists()

"""`bd import` never drops a record silently: each refused line is reported with its number and why,
every other line is imported in one commit, and the exit code says whether anything was imported.
`--strict` keeps the all-or-nothing import (tests/cli/test_bad_input.py holds its cases)."""
from __future__ import annotations

import json
from pathlib import Path

from conftest import Bd, bead_path, commit_count, head, last_message, ledger_files, make_repo, trailers

CORPUS_SIZE = 1955


def rec(bead_id: str, title: str, **fields) -> dict:
    return {"id": bead_id, "title": title, "status": "open", "priority": 2, "issue_type": "task",
            "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z", **fields}


def write(path: Path, lines: list) -> Path:
    """A JSON Lines file: dicts as JSON, bytes and text as they are."""
    def raw(line: object) -> bytes:
        if isinstance(line, bytes):
            return line
        return (line if isinstance(line, str) else json.dumps(line)).encode("utf-8")
    path.write_bytes(b"".join(raw(line) + b"\n" for line in lines))
    return path


MIXED = [
    rec("gt-good1", "Good one"),
    "{not json",                                            # 2
    rec("gt-good2", "Good two"),
    rec("gt-notitle", ""),                                  # 4
    rec("gt-good3", "Good three", priority="high"),         # 5
    rec("../escape", "path"),                               # 6
    "",
    rec("gt-gastown-polecat-Toast", "Toast"),
]


def test_refused_lines_are_reported_and_the_rest_imported_in_one_commit(bd, repo, tmp_path):
    path = write(tmp_path / "issues.jsonl", MIXED)
    before = commit_count(repo)
    result = bd("import", str(path))
    errors = result.stderr.splitlines()
    assert len(errors) == 5, result.stderr
    assert errors[0].startswith(f"{path}:2: invalid JSON")
    assert errors[1].startswith(f"{path}:4: gt-notitle: ") and "title" in errors[1]
    assert errors[2].startswith(f"{path}:5: gt-good3: priority 'high'")
    assert errors[3].startswith(f"{path}:6: invalid bead id '../escape'")
    assert errors[4] == "Imported 3, refused 4 (see above)"
    assert result.stdout.strip() == f"Imported {path}: 3 created, 0 updated, 0 unchanged"
    assert commit_count(repo) == before + 1
    assert set(ledger_files(repo)) == {"ledger.yaml", bead_path("gt-good1"), bead_path("gt-good2"),
                                       bead_path("gt-gastown-polecat-Toast")}
    assert trailers(last_message(repo), "Refused-Lines") == ["4"]


def test_refused_lines_in_json(bd, repo, tmp_path):
    path = write(tmp_path / "issues.jsonl", MIXED)
    result = bd("import", str(path), "--json")
    assert result.stderr == ""
    report = result.json()
    assert (report["created"], report["updated"], report["unchanged"]) == (3, 0, 0)
    refused = report["refused"]
    assert [r["line"] for r in refused] == [2, 4, 5, 6]
    assert [r.get("id") for r in refused] == [None, "gt-notitle", "gt-good3", None]  # only a valid id is named
    assert all(set(r) <= {"line", "id", "reason"} and r["reason"] for r in refused)
    assert "invalid bead id" in refused[3]["reason"]
    again = bd.json("import", str(path))  # the good lines are unchanged now; the bad ones refused again
    assert (again["created"], again["unchanged"], len(again["refused"])) == (0, 3, 4)
    clean = bd.json("import", str(write(tmp_path / "clean.jsonl", [rec("gt-good1", "Good one")])))
    assert clean["refused"] == []


def test_every_line_refused_is_an_error_and_writes_nothing(bd, repo, tmp_path):
    path = write(tmp_path / "bad.jsonl", ["{oops", rec("gt-x1", "t", status="bogus"), b"\xff\xfe", "[1]"])
    before = head(repo)
    result = bd("import", str(path), ok=False)
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert [line.split(":")[1] for line in lines[:4]] == ["1", "2", "3", "4"]
    assert lines[4].startswith(f"Error: nothing imported from {path}: all 4 lines were refused (the first: {path}:1:")
    assert head(repo) == before and ledger_files(repo) == ["ledger.yaml"]
    result = bd("import", str(path), "--json", ok=False)
    assert result.exit_code == 1
    error = json.loads(result.stderr)
    assert error["code"] == "bad_input" and "all 4 lines were refused" in error["error"]
    assert [r["line"] for r in result.json()["refused"]] == [1, 2, 3, 4]
    assert head(repo) == before


def test_one_bad_line_alone_is_one_error_line(bd, repo, tmp_path):
    path = write(tmp_path / "one.jsonl", [rec("gt-x1", "")])
    result = bd("import", str(path), ok=False)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [f"Error: {path}:1: gt-x1: title must be non-empty text of at most 500 characters"]


def test_strict_keeps_all_or_nothing(bd, repo, tmp_path):
    path = write(tmp_path / "issues.jsonl", MIXED)
    before = head(repo)
    result = bd("import", "--strict", str(path), ok=False)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [f"Error: {path}:2: invalid JSON: Expecting property name enclosed in "
                                          f"double quotes (column 2)"]
    assert head(repo) == before and ledger_files(repo) == ["ledger.yaml"]
    good = write(tmp_path / "good.jsonl", [rec("gt-good1", "Good one")])
    assert bd.json("import", "--strict", str(good))["created"] == 1


def test_a_later_bad_line_for_an_id_leaves_the_earlier_good_one(bd, tmp_path):
    path = write(tmp_path / "issues.jsonl", [rec("gt-one", "First"), rec("gt-one", "Second", priority=9)])
    result = bd("import", str(path))
    assert f"{path}:2: gt-one: priority 9 is not 0-4" in result.stderr
    assert "gt-one" in bd("export").stdout and '"title":"First"' in bd("export").stdout


def test_stdin_refusals_name_stdin(bd, tmp_path):
    data = json.dumps(rec("gt-piped", "Piped")) + "\n" + '{"title": "no id"}\n'
    result = bd("import", "-", input=data)
    assert result.stderr.splitlines() == ["<stdin>:2: record has no id", "Imported 1, refused 1 (see above)"]


HOSTILE = [
    b"[" * 100_000 + b"]" * 100_000,
    b'{"a": ' * 50_000 + b"1" + b"}" * 50_000,
    b"\xef\xbb\xbf" + json.dumps(rec("gt-bom", "t")).encode(),
    json.dumps(rec("gt-a1", "t", metadata={"x": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]})).encode(),
    json.dumps(rec("gt-a2", "t", labels=["x"] * 60_000)).encode(),
    json.dumps(rec("gt-a\u0000b", "nul in the id")).encode(),
    json.dumps(rec("gt-a3", "t" * 501)).encode(),
    json.dumps(rec("gt-" + "a" * 300, "long id")).encode(),
    b'{"id": "gt-a4", "title": "t", "n": ' + b"9" * 5000 + b"}",
]


def test_an_entirely_hostile_file_changes_nothing(bd, repo, tmp_path):
    path = write(tmp_path / "hostile.jsonl", HOSTILE)
    before = head(repo)
    result = bd("import", str(path), ok=False)
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == len(HOSTILE) + 1 and all(len(line) < 1000 for line in lines)
    assert head(repo) == before and ledger_files(repo) == ["ledger.yaml"]


def test_a_huge_line_is_refused_without_reading_it_all_and_the_rest_imported(bd, repo, tmp_path):
    from gt.model.jsonl import MAX_LINE

    path = tmp_path / "huge.jsonl"
    with open(path, "wb") as f:
        f.write(json.dumps(rec("gt-before", "before")).encode() + b"\n")
        f.write(b'{"id": "gt-big1", "title": "t", "description": "' + b"x" * (MAX_LINE + 1024) + b'"}\n')
        f.write(json.dumps(rec("gt-after", "after")).encode() + b"\n")
    result = bd("import", str(path))
    assert result.stderr.splitlines()[0] == f"{path}:2: the line is longer than 16 MiB"
    # the rest of the long line is not read as further lines: the next record is line 3
    assert set(ledger_files(repo)) == {"ledger.yaml", bead_path("gt-before"), bead_path("gt-after")}


def test_the_whole_corpus_imports_and_injected_bad_lines_are_each_refused(corpus, tmp_path):
    lines = corpus.read_text(encoding="utf-8").splitlines()
    assert len(lines) == CORPUS_SIZE
    lines.insert(100, '{"id": "bd-cut", "title": "cut off')
    lines.insert(1000, json.dumps({"id": "bd-noprio", "title": "t", "priority": "P9"}))
    lines.append("not json at all")
    path = tmp_path / "issues.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    repo = make_repo(tmp_path / "proj")
    bd = Bd(repo)
    bd("init", "--prefix", "bd")
    report = bd.json("import", str(path))
    assert report["created"] == CORPUS_SIZE
    assert [(r["line"], r.get("id")) for r in report["refused"]] == [(101, None), (1001, "bd-noprio"), (1958, None)]
    assert commit_count(repo) == 2
    assert len(ledger_files(repo)) == CORPUS_SIZE + 1
    assert trailers(last_message(repo), "Refused-Lines") == ["3"]


# Records shaped like gastown's own `bd export` (.beads/backup/issues.jsonl of the original gastown):
# every column of the original's table, nulls and zeroes included, metadata as a JSON string, ids of
# agents with capitals and several hyphens, and a dependency on an external project.
GASTOWN_SHAPE = {
    "acceptance_criteria": "", "actor": "", "agent_state": "", "assignee": None, "await_id": "", "await_type": "",
    "close_reason": "", "closed_at": None, "closed_by_session": "", "compacted_at": None,
    "compacted_at_commit": None, "compaction_level": 0, "content_hash": "0" * 64,
    "created_at": "2026-02-28T03:58:06Z", "created_by": "gastown/polecats/dementus", "crystallizes": 0,
    "defer_until": None, "description": "", "design": "", "due_at": None, "ephemeral": 0,
    "estimated_minutes": None, "event_kind": "", "external_ref": None, "hook_bead": "", "is_template": 0,
    "issue_type": "task", "last_activity": None, "metadata": "{}", "mol_type": "", "notes": "",
    "original_size": None, "owner": "mayor@example.com", "payload": "", "pinned": 0, "priority": 2,
    "quality_score": None, "rig": "", "role_bead": "", "role_type": "", "sender": "", "source_repo": "",
    "source_system": "", "spec_id": "", "status": "open", "target": "", "timeout_ns": 0,
    "updated_at": "2026-02-28T05:33:08Z", "waiters": "", "wisp_type": "", "work_type": "",
}


def gastown(bead_id: str, title: str, **fields) -> dict:
    return {**GASTOWN_SHAPE, "id": bead_id, "title": title, **fields}


def test_gastown_shaped_export_imports_without_refusals(bd, repo, tmp_path):
    records = [
        gastown("gt-gastown-polecat-Toast", "Polecat Toast", issue_type="agent", role_type="polecat",
                rig="gastown", agent_state="idle", metadata='{"hooked": null}'),
        gastown("GT-gastown-polecat-nux", "Polecat nux", issue_type="agent"),
        gastown("gt-gastown-crew-nightly_20260301", "Nightly crew", status="closed",
                closed_at="2026-03-01T00:00:00Z", close_reason="Closed"),
        gastown("gtd-rig-GasTownDaytona", "Daytona rig", issue_type="rig"),
        gastown("gt-00us", "--help", status="closed", closed_at="2026-02-28T05:33:08Z",
                dependencies=[{"issue_id": "gt-00us", "depends_on_id": "gt-gastown-polecat-Toast", "type": "blocks",
                               "created_at": "2026-02-27T16:47:59Z", "created_by": "mayor", "metadata": "{}"},
                              {"issue_id": "gt-00us", "depends_on_id": "external:lilypad_chat:lc-0jc",
                               "type": "related", "created_at": "2026-02-27T16:47:59Z", "metadata": "{}"}],
                dependency_count=2, dependent_count=0, comment_count=0),
        gastown("gt-csl.3.5", "Staged convoy creation", priority=0, issue_type="epic"),
    ]
    path = write(tmp_path / "issues.jsonl", records)
    report = bd.json("import", str(path))
    assert report["refused"] == [] and report["created"] == len(records)
    assert {json.loads(line)["id"] for line in bd("export").stdout.splitlines()} == {r["id"] for r in records}
    assert bd.json("import", str(path))["unchanged"] == len(records)

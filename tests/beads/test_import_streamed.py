"""A large `bd import` is written one fan-out directory at a time (gt.ledger.store.Bulk): still one
commit, its objects in one pack that appears whole or not at all, unchanged beads not rewritten, and
the read index left warm and equal to what a cold rebuild makes; memory follows one directory, not
the whole file."""
from __future__ import annotations

import gc
import json
import os
import shutil
import tracemalloc
from pathlib import Path

import pytest

from conftest import Bd, commit_count, git, head, last_message, make_repo, trailers
from gt.beads import operations
from gt.beads.exchange import import_docs, read_records
from gt.beads.tracker import BEADS, Tracker
from gt.ledger.gitdir import discover
from gt.ledger.store import Signature

ME = Signature("tester", "tester@example.com")
COUNT = 700  # beads: past PACK_FROM objects, so the import is written as a pack; every fan-out directory used


def record(i: int, title: str | None = None) -> dict:
    return {"id": f"im-{i:04d}", "title": title or f"imported bead {i}", "status": ("open", "closed")[i % 2],
            "priority": i % 5, "issue_type": "task", "labels": [f"l{i % 7}"],
            "description": f"bead {i}\nwith a second line\n" + "some words " * (i % 40),
            "created_at": "2026-01-02T03:04:05Z", "updated_at": "2026-01-02T03:04:05Z",
            **({"dependencies": [{"issue_id": f"im-{i:04d}", "depends_on_id": f"im-{i - 1:04d}", "type": "blocks"}]}
               if i % 3 == 0 and i else {})}


def write(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def packs(repo: Path) -> set[str]:
    return set(os.listdir(repo / ".git" / "objects" / "pack"))


def index_snapshot(repo: Path) -> tuple[tuple, dict]:
    """The manifest of the ledger's head and every shard it names (entries and full documents)."""
    ledger = Tracker(discover(str(repo))).ledger
    view = ledger.view()
    manifest = view.manifest
    assert manifest is not None
    shards = {}
    for fan, tree in manifest.collections[BEADS].items():
        shard = ledger.index.load_shard(tree)
        assert shard is not None, f"no shard for {fan}"
        shards[fan] = (tree, shard.entries(), shard.full)
    return (manifest.commit, manifest.tree, manifest.collections, manifest.sizes, manifest.config), shards


@pytest.fixture
def bd(tmp_path: Path) -> Bd:
    runner = Bd(make_repo(tmp_path / "proj"))
    runner("init", "--prefix", "im")
    return runner


def test_a_large_import_is_one_commit_in_one_pack_with_the_index_warm(bd: Bd, tmp_path: Path):
    repo = bd.cwd
    before_packs, before_commits = packs(repo), commit_count(repo)
    records = [record(i) for i in range(COUNT)]
    result = bd.json("import", str(write(tmp_path / "in.jsonl", records)))
    assert (result["created"], result["updated"], result["unchanged"]) == (COUNT, 0, 0)
    assert commit_count(repo) == before_commits + 1
    new = packs(repo) - before_packs
    assert len(new) == 2 and {Path(n).suffix for n in new} == {".pack", ".idx"}, new  # one pack, nothing half
    assert not [n for n in packs(repo) if n.startswith("tmp_")]
    git(repo, "verify-pack", str(repo / ".git" / "objects" / "pack" / next(n for n in new if n.endswith(".idx"))))
    git(repo, "fsck", "--strict", "--no-dangling")
    assert trailers(last_message(repo), "Bead-Id") == [r["id"] for r in records]  # in the file's order

    # the index is warm for the new commit, and the same as a cold rebuild of it
    warm = index_snapshot(repo)
    assert warm[0][0] == head(repo) and warm[0][3] == {BEADS: COUNT}
    index = repo / ".git" / "gt" / "index"
    shutil.move(index, tmp_path / "warm-index")
    assert index_snapshot(repo) == warm
    listed = bd.json("list", "--all", "-n", "0")
    assert sorted(b["id"] for b in listed) == [r["id"] for r in records]


def test_a_reimport_rewrites_only_what_changed(bd: Bd, tmp_path: Path):
    repo = bd.cwd
    records = [record(i) for i in range(COUNT)]
    bd("import", str(write(tmp_path / "first.jsonl", records)))
    files_before = dict(line.split("\t")[::-1] for line in git(repo, "ls-tree", "-r", "beads").splitlines())

    changed = {5, 77, 300, 512}
    second = [record(i, f"retitled {i}" if i in changed else None) for i in range(COUNT + 3)][::-1]
    result = bd.json("import", str(write(tmp_path / "second.jsonl", second)))
    assert (result["created"], result["updated"], result["unchanged"]) == (3, len(changed), COUNT - len(changed))
    message = last_message(repo)
    assert trailers(message, "Bead-Id") == [r["id"] for r in second if r["id"] in
                                           {f"im-{i:04d}" for i in changed | {COUNT, COUNT + 1, COUNT + 2}}]
    files_after = dict(line.split("\t")[::-1] for line in git(repo, "ls-tree", "-r", "beads").splitlines())
    differ = {path for path in files_after if files_before.get(path) != files_after[path]}
    assert {path.rsplit("/", 1)[1] for path in differ} == {f"im-{i:04d}.yaml" for i in changed | {COUNT, COUNT + 1, COUNT + 2}}
    assert bd.show("im-0077")["title"] == "retitled 77"
    assert index_snapshot(repo)[0][0] == head(repo)

    commits = commit_count(repo)
    again = bd.json("import", str(tmp_path / "second.jsonl"))
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, COUNT + 3)
    assert commit_count(repo) == commits  # nothing changed: no commit


def test_a_failed_import_leaves_no_pack_and_clears_a_killed_ones_leftover(bd: Bd, tmp_path: Path, monkeypatch):
    """An import that fails after writing part of its pack leaves nothing behind (no pack, no
    temporary file, the ref and the index's head as they were); a temporary pack left by a killed
    import (kill -9: no clean-up) is removed by the next pack written."""
    from gt.ledger import store

    repo = bd.cwd
    path = write(tmp_path / "in.jsonl", [record(i) for i in range(COUNT)])
    pack_dir = repo / ".git" / "objects" / "pack"
    pack_dir.mkdir(parents=True, exist_ok=True)
    (pack_dir / "tmp_pack_gt-killed").write_bytes(b"PACK\0\0\0\2\0\0\0\0half")  # as a killed import leaves it
    before, before_packs = head(repo), packs(repo)
    written = 0
    index_blob = store.Ledger._index_blob

    def failing(self, *args):
        nonlocal written
        written += 1
        if written > COUNT // 2:
            raise OSError("disk full")
        return index_blob(self, *args)

    monkeypatch.setattr(store.Ledger, "_index_blob", failing)
    bd("import", str(path), ok=False)
    assert head(repo) == before and packs(repo) == before_packs - {"tmp_pack_gt-killed"}
    git(repo, "fsck", "--strict", "--no-dangling")
    monkeypatch.undo()
    assert bd.json("import", str(path))["created"] == COUNT
    assert not [n for n in packs(repo) if n.startswith("tmp_")]
    assert len(bd.json("list", "--all", "-n", "0")) == COUNT


def test_import_docs_takes_documents_too_and_a_later_one_wins(tmp_path: Path):
    tracker = Tracker(discover(str(make_repo(tmp_path / "r"))))
    operations.init(tracker, ME, "im")
    lines = [json.dumps(record(i)).encode() + b"\n" for i in range(5)] + [json.dumps(record(2, "later")).encode()]
    docs = read_records(lines, "test").docs
    edit = import_docs(tracker, ME, docs, "test")
    assert edit.result == {"created": 5, "updated": 0, "unchanged": 0, "source": "test"} and edit.commit
    assert Tracker.get(tracker.view(), "im-0002")["title"] == "later"
    assert import_docs(tracker, ME, docs, "test").commit is None  # all unchanged: no commit


def test_an_import_holds_one_directory_at_a_time_not_the_whole_file(tmp_path: Path):
    """What an import allocates beyond its input (kept compact: Records.beads) is one fan-out
    directory's worth and a few hundred bytes a bead (the ids it names in the commit, the pack's
    index); the whole file's documents, YAML texts, blobs and index records at once took 4 KB a bead."""
    count = 4000
    tracker = Tracker(discover(str(make_repo(tmp_path / "r"))))
    operations.init(tracker, ME, "im")
    warm_up = [{**record(i), "id": f"im-w{i}"} for i in range(300)]  # every module the import uses, loaded
    import_docs(tracker, ME, warm_up, "warm-up")
    lines = [json.dumps({**record(i), "id": f"im-{i:05d}"}).encode() for i in range(count)]
    records = read_records(lines, "test")
    del lines
    gc.collect()
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        edit = import_docs(tracker, ME, records.beads, "test")
        peak = tracemalloc.get_traced_memory()[1] - start
    finally:
        tracemalloc.stop()
    assert edit.result["created"] == count
    assert peak < 2_000_000 + 600 * count, f"the import allocated {peak // count} bytes a bead at its peak"

"""A hostile ledger file (committed with plain git, or pushed by another machine) harms nothing.

Deep nesting, YAML aliases and oversized files are refused by the one reader (gt.ledger.yamlio) and
named by path: every other bead keeps working, no command crashes. The guard on a hub refuses them,
and bad documents of every collection (rigs, agents, mail, convoys, ledger.yaml, a collection this
version does not know), with the commit, the file and the reason. See docs/security.md.
"""
from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest

from conftest import TIMEOUT, Bd, bead_path, git, hand_commit, head, clone_of, guarded_hub

from gt.ledger.store import document_path, fan_of
from gt.ledger.yamlio import MAX_BYTES, YamlError, load_mapping

DEEP = 50_000  # the nesting that crashed every bd command with SIGSEGV


def bead_text(bead_id: str, extra: str = "", title: str = "hostile") -> str:
    return f"id: {bead_id}\ntitle: {title}\ntype: task\nstatus: open\npriority: 2\n{extra}"


def laughs(levels: int = 6) -> str:
    """A billion laughs, capped: 10**levels strings from a file of a few hundred bytes."""
    lines = ['l0: &l0 "lol"']
    for level in range(1, levels + 1):
        lines.append(f"l{level}: &l{level} [{', '.join([f'*l{level - 1}'] * 10)}]")
    return "\n".join(lines) + "\n"


def run_ok(bd: Bd, *args: str, ok: bool | None = True):  # type: ignore[no-untyped-def]
    """`bd` as a real process: it may fail, but never die of a signal (a segfault is -11)."""
    result = bd.proc(*args, ok=None, timeout=60)
    assert result.exit_code >= 0, f"bd {' '.join(args)} died of signal {-result.exit_code}: {result.stderr}"
    assert "Traceback" not in result.stderr, result.stderr
    if ok is True:
        assert result.exit_code == 0, f"bd {' '.join(args)}: {result.stderr}"
    if ok is False:
        assert result.exit_code != 0, f"bd {' '.join(args)} unexpectedly succeeded"
    return result


# -- reading: one bad file never takes the ledger down ---------------------------------------------------


def test_a_deeply_nested_bead_is_reported_and_every_other_bead_keeps_working(bd, repo):
    good = bd("create", "good one").stdout.strip()
    bad = bd("create", "to be replaced").stdout.strip()
    hand_commit(repo, bead_path(bad), bead_text(bad, "metadata: " + "[" * DEEP + "\n"))
    listed = run_ok(bd, "list", "--json")
    assert [b["id"] for b in json.loads(listed.stdout)] == [good]
    assert good in run_ok(bd, "ready").stdout
    assert json.loads(run_ok(bd, "show", good, "--json").stdout)[0]["title"] == "good one"
    shown = run_ok(bd, "show", bad, ok=False)
    assert shown.exit_code == 1 and bead_path(bad) in shown.stderr and "nested more than" in shown.stderr
    doctor = run_ok(bd, "doctor", "--json", ok=False)
    found = [f for f in json.loads(doctor.stdout) if f["kind"] == "unreadable"]
    assert [f["path"] for f in found] == [f"beads:{bead_path(bad)}"] and "nested more than" in found[0]["problem"]
    run_ok(bd, "update", good, "--title", "still writable")
    assert json.loads(run_ok(bd, "show", good, "--json").stdout)[0]["title"] == "still writable"
    exported = run_ok(bd, "export")
    assert [json.loads(line)["id"] for line in exported.stdout.splitlines()] == [good]


def test_a_deeply_nested_document_of_another_collection_is_named_by_doctor(bd, repo):
    path = document_path("agents", "gizmo.polecats.nux")
    hand_commit(repo, path, "identity: gizmo/polecats/nux\nhook: " + "{a: " * DEEP + "\n")
    good = bd("create", "fine").stdout.strip()
    found = json.loads(run_ok(bd, "doctor", "--json", ok=False).stdout)
    assert [(f["kind"], f["path"]) for f in found] == [("unreadable", f"beads:{path}")]
    assert good in run_ok(bd, "list").stdout


def test_a_billion_laughs_is_refused_and_export_stays_fast(bd, repo):
    good = bd("create", "good one").stdout.strip()
    bad = bd("create", "to be replaced").stdout.strip()
    text = bead_text(bad, "metadata:\n" + "".join("  " + line + "\n" for line in laughs().splitlines()))
    with pytest.raises(YamlError, match="anchors and aliases are not allowed"):
        load_mapping(text, "laughs.yaml")
    hand_commit(repo, bead_path(bad), text)
    started = time.monotonic()
    exported = run_ok(bd, "export")
    assert time.monotonic() - started < 30
    assert [json.loads(line)["id"] for line in exported.stdout.splitlines()] == [good]
    assert len(exported.stdout) < 10_000
    shown = run_ok(bd, "show", bad, ok=False)
    assert bead_path(bad) in shown.stderr and "anchors and aliases" in shown.stderr


def test_anchors_and_aliases_are_refused_however_they_are_written():
    for text in ("a: &x 1\n", "a: [1, *x]\n", "? &k a\n: b\n", "a: {b: &c d}\n",
                 "\ufeffa: &x 1\n", laughs(2)):
        with pytest.raises(YamlError, match="anchors and aliases"):
            load_mapping(text, "f.yaml")
    with pytest.raises(YamlError, match="anchors and aliases"):
        load_mapping("a: &x [1]\nb: *x\n".encode("utf-16"), "f.yaml")
    # the same characters as text are no anchors: quoted, in a literal block, inside a word
    doc = load_mapping("a: '&x *y'\nb: |\n  * item & more\n  &x *x\nc: R&D*2\nd: \"*z\"\n", "f.yaml")
    assert doc == {"a": "&x *y", "b": "* item & more\n&x *x\n", "c": "R&D*2", "d": "*z"}


def test_nesting_and_value_limits_are_exact_and_refused_before_parsing():
    from gt.ledger.yamlio import MAX_DEPTH, MAX_NODES, dump

    at_limit = "a: " + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1) + "\n"
    assert load_mapping(at_limit, "f.yaml")["a"]
    with pytest.raises(YamlError, match=f"line 1: nested more than {MAX_DEPTH} levels deep"):
        load_mapping("a: " + "[" * MAX_DEPTH + "]" * MAX_DEPTH + "\n", "f.yaml")
    block = "a:\n" + "".join(" " * i + "- \n" for i in range(MAX_DEPTH))
    with pytest.raises(YamlError, match="nested more than"):
        load_mapping(block, "f.yaml")
    for text in ("a: " + "[" * DEEP + "\n", "a: " + "{a: " * DEEP + "\n", "a:\n" + "- " * DEEP + "x\n"):
        with pytest.raises(YamlError, match="nested more than"):
            load_mapping(text, "f.yaml")
    with pytest.raises(YamlError, match=f"more than {MAX_NODES:,} values"):
        load_mapping("a: [" + "0," * MAX_NODES + "0]\n", "f.yaml")
    # writes are held to the same limits: nothing written can be unreadable
    deep: dict = {}
    inner = deep
    for _ in range(MAX_DEPTH):
        inner["a"] = {}
        inner = inner["a"]
    with pytest.raises(YamlError, match="nested more than"):
        dump(deep)
    with pytest.raises(YamlError, match="values"):
        dump({"a": list(range(MAX_NODES))})


def test_an_oversized_file_is_refused_by_path_and_the_rest_still_reads(bd, repo):
    good = bd("create", "good one").stdout.strip()
    bad = bd("create", "to be replaced").stdout.strip()
    hand_commit(repo, bead_path(bad), bead_text(bad, "description: " + "x" * (MAX_BYTES + 1) + "\n"))
    assert [b["id"] for b in bd.json("list")] == [good]
    shown = bd("show", bad, ok=False)
    assert bead_path(bad) in shown.stderr and "may hold at most 32 MiB" in shown.stderr
    found = [f for f in bd.json("doctor", ok=False) if f["kind"] == "unreadable"]
    assert [f["path"] for f in found] == [f"beads:{bead_path(bad)}"]


def test_a_description_too_large_for_a_file_is_refused_and_nothing_is_written(bd, repo, tmp_path):
    before = head(repo)
    big = tmp_path / "big.txt"
    big.write_text("x" * (MAX_BYTES + 1))
    result = bd("create", "too big", "--description-file", str(big), ok=False)
    assert "at most 32 MiB" in result.stderr and "Traceback" not in result.stderr
    assert head(repo) == before


def test_a_10_mb_description_round_trips(bd, repo, tmp_path):
    """Short lines are the worst case: a literal block indents each by two spaces."""
    text = "".join(f"line {n} of a long log\n" if n % 7 else "\n" for n in range(480_000))
    assert len(text.encode()) > 10_000_000
    source = tmp_path / "description.txt"
    source.write_text(text)
    bead = bd("create", "a long log", "--description-file", str(source)).stdout.strip()
    assert bd.show(bead)["description"] == text
    assert bd.json("list") and not [f for f in bd.json("doctor", ok=None) if f["kind"] == "unreadable"]


# -- the guard on a hub: every collection ----------------------------------------------------------------


@pytest.fixture
def clone(tmp_path: Path) -> Bd:
    """A clone of a bare hub guarded by `bd hooks install --bare`, its ledger synced."""
    ann = clone_of(guarded_hub(tmp_path), tmp_path / "ann")
    ann("init", "--prefix", "sy")
    ann("sync")
    return ann


def push(repo: Path, files: dict[str, str]) -> tuple[str, subprocess.CompletedProcess]:
    """Commit `files` on top of the ledger with plain git and push that commit to the hub."""
    commit = None
    for path, text in files.items():
        commit = hand_commit(repo, path, text, move_ref=True)
    assert commit is not None
    result = subprocess.run(["git", "push", "origin", f"{commit}:refs/heads/beads"], cwd=repo, capture_output=True,
                            text=True, timeout=TIMEOUT)
    return commit, result


def assert_refused(repo: Path, files: dict[str, str], reason: str) -> None:
    """The push of `files` is refused, the message naming the commit, the file (or its collection
    folder) and the reason."""
    before = git(repo, "rev-parse", "beads").strip()
    commit, result = push(repo, files)
    assert result.returncode != 0, f"pushed: {list(files)}"
    assert "ledger guard: push refused" in result.stderr, result.stderr
    assert commit[:9] in result.stderr and reason in result.stderr, result.stderr
    assert any(path in result.stderr or path.split("/")[0] + "/:" in result.stderr for path in files), result.stderr
    assert "Traceback" not in result.stderr and "Segmentation" not in result.stderr
    git(repo, "update-ref", "refs/heads/beads", before)  # back to what the hub has


GOOD_RIG = ("type: rig\nname: gizmo\ngit_url: /srv/git/gizmo\ndefault_branch: main\nprefix: gz\n"
            "added_at: '2026-11-30T19:38:53.297437+00:00'\nadded_by: Seed maintainers\n")
AGENT = document_path("agents", "gizmo.polecats.nux")
GOOD_AGENT = ("identity: gizmo/polecats/nux\nrole: polecat\nrig: gizmo\nname: nux\nstate: working\nhook: gz-khwhkm\n"
              "hooked_at: '2026-11-30T19:38:55.870481Z'\nmodel: model-b\nagent: script\nbranch: polecat/nux/gz-khwhkm\n"
              "restarts:\n  gz-khwhkm: 1\nupdated_at: '2026-11-30T19:39:02.795063Z'\n")
MAIL = bead_text("sy-mail01", "mail:\n  from: gizmo/refinery\n  to:\n  - gizmo/polecats/nux\n",
                 title="FIX_NEEDED gz-khwhkm").replace("type: task", "type: message")
CONVOY = bead_text("sy-cv-abc123", "dependencies:\n- type: tracks\n  target: gz-khwhkm\n"
                   "convoy:\n  notify:\n  - overseer\n  owned: false\n").replace("type: task", "type: convoy")
WIDGET = document_path("widgets", "w1")


def test_the_guard_accepts_good_documents_of_every_collection(clone):
    commit, result = push(clone.cwd, {
        document_path("rigs", "gizmo"): GOOD_RIG, AGENT: GOOD_AGENT, bead_path("sy-mail01"): MAIL,
        bead_path("sy-cv-abc123"): CONVOY, WIDGET: "name: w1\nsizes: [1, 2.5, true, null]\nnested: {a: {b: c}}\n",
        "ledger.yaml": "format: 2\nprefix: sy\ntypes:\n- spike\n",
    })
    assert result.returncode == 0, result.stderr
    assert git(clone.cwd.parent / "hub.git", "rev-parse", "beads").strip() == commit


@pytest.mark.parametrize("path, text, reason", [
    # rigs: a URL another machine may be asked to clone
    (document_path("rigs", "evil"), GOOD_RIG.replace("gizmo", "evil").replace("/srv/git/evil", "'ext::sh -c touch% x'"),
     "git_url names a remote helper"),
    (document_path("rigs", "evil"), GOOD_RIG.replace("gizmo", "evil").replace("/srv/git/evil", "--upload-pack=touch x"),
     "git_url starts with '-'"),
    (document_path("rigs", "evil"), GOOD_RIG.replace("name: gizmo", "name: other"), "does not match the file name"),
    (document_path("rigs", "gizmo"), GOOD_RIG.replace("prefix: gz", "prefix: [gz]"), "is not a bead id prefix"),
    # agents
    (AGENT, GOOD_AGENT.replace("identity: gizmo/polecats/nux", "identity: gizmo/polecats/evil"),
     "does not match the file name"),
    (AGENT, GOOD_AGENT.replace("hook: gz-khwhkm", "hook: {run: rm -rf /}"), "hook must be text"),
    (AGENT, GOOD_AGENT.replace("role: polecat", "role: emperor"), "unknown role 'emperor'"),
    (AGENT, GOOD_AGENT.replace("gz-khwhkm: 1", "gz-khwhkm: many"), "restarts must map beads to whole numbers"),
    # mail and convoys: beads with fields of their own
    (bead_path("sy-mail01"), MAIL.replace("mail:\n  from: gizmo/refinery\n  to:\n  - gizmo/polecats/nux\n",
                                          "mail: everyone\n"), "mail must be a mapping"),
    (bead_path("sy-mail01"), MAIL.replace("  to:\n  - gizmo/polecats/nux\n", "  to: {all: true}\n"),
     "mail.to must be a list of text"),
    (bead_path("sy-cv-abc123"), CONVOY.replace("owned: false", "owned: maybe"), "convoy.owned must be true or false"),
    # a collection this version does not know: the generic rules
    (WIDGET, "name: w1\nbad key!: 1\n", "is not a field name"),
    (WIDGET, "name: w1\nblob: !!binary aGVsbG8=\n", "a value of type bytes"),
    (WIDGET, "name: w1\nsize: .nan\n", "not finite"),
    (WIDGET, "name: w1\nsize: 99999999999999999999999\n", "integer outside 64 bits"),
    (WIDGET, "name: w1\nx: {1: one}\n", "x: key 1 is not text"),
    (f"widgets/{fan_of('Bad Name')}/Bad Name.yaml", "name: w1\n", "not a ledger key"),
    (document_path("Widgets", "w1"), "name: w1\n", "Widgets/: not a collection name"),
    # the ledger's own settings
    ("ledger.yaml", "format: 2\nprefix: sy\ntypes: spike\n", "types must be a list of type names"),
    ("ledger.yaml", "format: '2'\nprefix: sy\n", "format must be a whole number"),
])
def test_the_guard_refuses_a_bad_document_in_any_collection(clone, path, text, reason):
    assert_refused(clone.cwd, {path: text}, reason)


@pytest.mark.parametrize("make, reason", [
    (lambda bead: bead_text(bead, "metadata: " + "[" * DEEP + "\n"), "nested more than 100 levels deep"),
    (lambda bead: bead_text(bead, "metadata:\n" + "".join("  " + x + "\n" for x in laughs().splitlines())),
     "anchors and aliases are not allowed"),
    (lambda bead: bead_text(bead, "description: " + "x" * (MAX_BYTES + 1) + "\n"), "at most 32 MiB"),
])
def test_the_guard_refuses_deep_aliased_and_oversized_files_with_a_reason(clone, make, reason):
    bead = clone("create", "x").stdout.strip()
    clone("sync")
    assert_refused(clone.cwd, {bead_path(bead): make(bead)}, reason)
    for collection, key in (("agents", "gizmo.witness"), ("widgets", "w1")):  # in any collection
        assert_refused(clone.cwd, {document_path(collection, key): make(key).replace(f"id: {key}\n", "")}, reason)
    assert clone.json("sync")["action"] == "up to date"

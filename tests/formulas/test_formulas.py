"""Formulas and molecules in a plain repository: the search path, pouring, readiness of steps, the
refusals of bad formulas and values (nothing written), and wisps that never reach the remote."""
from __future__ import annotations

import graphlib
import json
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from conftest import BIN, TIMEOUT, Bd, clone_of, commit_count, git, head, links, make_repo

EXAMPLE = '''formula = "quick-check"
description = "Fast lint-test-build sanity check of {{target}}."
version = 1
type = "workflow"
[vars.target]
description = "what to check"
required = true
[[steps]]
id = "lint"
title = "Lint {{target}}"
description = "Run the linter."
[[steps]]
id = "test"
title = "Test {{target}}"
description = "Run the tests."
[[steps]]
id = "report"
title = "Report on {{target}}"
needs = ["lint", "test"]
'''


def write_formula(repo: Path, name: str, text: str) -> Path:
    folder = repo / ".beads" / "formulas"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.formula.toml"
    path.write_text(text)
    return path


def ready_ids(bd: Bd) -> set[str]:
    return {b["id"] for b in bd.json("ready")}


def test_the_example_pours_three_step_molecules_with_vars_filled(repo, bd):
    write_formula(repo, "quick-check", EXAMPLE)
    listed = bd.json("formula", "list")
    mine = {f["name"]: f for f in listed["formulas"]}
    assert mine["quick-check"]["origin"] == "repo" and mine["quick-check"]["steps"] == 3
    assert "feature-workflow" in mine and mine["feature-workflow"]["origin"] == "built-in"
    assert [s["name"] for s in listed["shadowed"]] == ["quick-check"]  # the built-in of that name
    before = commit_count(repo)
    roots = {}
    for target in ("api", "web"):
        poured = bd.json("mol", "pour", "quick-check", "--var", f"target={target}")
        roots[target] = root = poured["root"]
        assert poured["steps"] == [f"{root}.lint", f"{root}.test", f"{root}.report"]
    assert commit_count(repo) == before + 2  # one commit per molecule
    assert "Formula: quick-check" in git(repo, "log", "-1", "--format=%B", "beads")
    root = roots["api"]
    assert bd.show(root)["title"] == "Fast lint-test-build sanity check of api."
    assert [bd.show(f"{root}.{s}")["title"] for s in ("lint", "test", "report")] == [
        "Lint api", "Test api", "Report on api"]
    assert bd.show(f"{roots['web']}.lint")["title"] == "Lint web"
    report = bd.show(f"{root}.report")
    assert sorted((d["type"], d["target"]) for d in links(report)) == [
        ("blocks", f"{root}.lint"), ("blocks", f"{root}.test"), ("parent-child", root)]
    assert {f"{root}.lint", f"{root}.test"} <= ready_ids(bd) and f"{root}.report" not in ready_ids(bd)
    assert bd.json("mol", "current", root)["step"]["id"] == f"{root}.lint"
    bd("close", f"{root}.lint")
    assert f"{root}.report" not in ready_ids(bd)
    assert bd.json("mol", "current", root)["step"]["id"] == f"{root}.test"
    bd("update", f"{root}.test", "--status", "in_progress")
    assert bd.json("mol", "current", root)["step"]["id"] == f"{root}.test"  # the one under way comes first
    bd("close", f"{root}.test")
    assert f"{root}.report" in ready_ids(bd)
    progress = bd.json("mol", "progress", root)
    assert (progress["done"], progress["total"], progress["complete"]) == (2, 3, False)
    assert [(s["step"], s["status"], s["ready"]) for s in progress["steps"]] == [
        ("lint", "closed", False), ("test", "closed", False), ("report", "open", True)]
    shown = bd.json("mol", "show", f"{root}.test")  # a step finds its molecule
    assert shown["id"] == root and shown["vars"] == {"target": "api"} and shown["formula"] == "quick-check"
    bd("close", f"{root}.report")
    done = bd.json("mol", "current", root)
    assert done["step"] is None and done["complete"] is True
    assert "every step is closed" in bd("mol", "current", root).stdout


def test_builtins_and_the_search_path(repo, bd):
    shown = bd.json("formula", "show", "feature-workflow")
    assert [s["id"] for s in shown["steps"]] == ["design", "implement", "review", "test", "submit"]
    assert shown["vars"]["feature"]["required"] is True
    root = bd("mol", "pour", "feature-workflow", "--var", "feature=dark mode").stdout.strip()
    assert [s["ready"] for s in bd.json("mol", "show", root)["steps"]] == [True, False, False, False, False]
    root = bd("mol", "pour", "quick-check").stdout.strip()  # the built-in: its variable has a default
    assert bd.show(f"{root}.lint")["title"] == "Lint the project"
    write_formula(repo, "quick-check", EXAMPLE)
    assert bd.json("formula", "show", "quick-check")["origin"] == "repo"  # first match wins


def refused(bd: Bd, repo: Path, *args: str) -> str:
    """Run bd as a real process: it must fail with one line on stderr and write nothing."""
    before = head(repo)
    result = subprocess.run([str(BIN / "bd"), *args], cwd=repo, capture_output=True, text=True, timeout=TIMEOUT)
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert head(repo) == before
    return result.stderr


BAD = {
    "unknown-need": (EXAMPLE.replace('["lint", "test"]', '["lint", "tset"]'), "step report: needs unknown step 'tset'"),
    "cycle": (EXAMPLE.replace('description = "Run the linter."', 'needs = ["report"]'),
              "its needs make a cycle: lint -> report -> lint"),
    "duplicate": (EXAMPLE.replace('id = "test"', 'id = "lint"'), "step lint: duplicate step id"),
    "bad-toml": (EXAMPLE.replace("[[steps]]", "[[steps]", 1), "invalid TOML"),
    "bad-id": (EXAMPLE.replace('id = "lint"', 'id = "../x"'), "step 1: `id` must be"),
    "unsupported": (EXAMPLE + '[[steps]]\nid = "loop"\ntitle = "x"\nloop = {count = 3}\n', "`loop` is a feature"),
    "no-steps": ('formula = "quick-check"\n', "at least one [[steps]]"),
    "many-steps": ('formula = "quick-check"\n' + "".join(f'[[steps]]\nid = "s{i}"\ntitle = "t"\n' for i in range(201)),
                   "more than 200 steps"),
    "huge": (EXAMPLE + "# " + "x" * 300_000 + "\n", "larger than 256 KB"),
    "named-otherwise": (EXAMPLE.replace('formula = "quick-check"', 'formula = "other"'), "declares formula 'other'"),
    "multiline-title": (EXAMPLE.replace('title = "Lint {{target}}"', 'title = """Lint\n{{target}}"""'),
                        "`title` must be one line"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_formula_is_refused_naming_the_file_and_step(repo, bd, case):
    text, expected = BAD[case]
    path = write_formula(repo, "quick-check", text)
    message = refused(bd, repo, "mol", "pour", "quick-check", "--var", "target=api")
    assert expected in message and str(path) in message
    assert "Unreadable" in bd("formula", "list").stdout or case == "named-otherwise"


@pytest.mark.parametrize(("args", "expected"), [
    ((), "missing required variable target (give --var target=VALUE)"),
    (("--var", "target=api", "--var", "color=red"), "has no variable 'color'"),
    (("--var", "target"), "write it as NAME=VALUE"),
    (("--var", "target=a", "--var", "target=b"), "given twice"),
    (("--var", "target=" + "x" * 5000), "longer than 4096 bytes"),
    (("--var", "target=a\nb"), "step lint: a title is one line"),
    (("--var", "bad name=x"), "invalid variable name"),
])
def test_bad_values_are_refused(repo, bd, args, expected):
    write_formula(repo, "quick-check", EXAMPLE)
    assert expected in refused(bd, repo, "mol", "pour", "quick-check", *args)


def test_unknown_formulas_and_molecules(repo, bd):
    assert "no formula named 'nope'" in refused(bd, repo, "mol", "pour", "nope")
    assert "invalid formula name" in refused(bd, repo, "formula", "show", "../../etc/passwd")
    plain = bd("create", "plain").stdout.strip()
    assert "is not a molecule" in refused(bd, repo, "mol", "show", plain)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sets(st.integers(0, 7), max_size=3), min_size=1, max_size=8))
def test_needs_parse_exactly_when_they_have_no_cycle(needs):
    from gt.beads.formulas import FormulaError, parse

    edges = {f"s{i}": {f"s{j}" for j in deps if j < len(needs)} for i, deps in enumerate(needs)}
    text = "".join(f'[[steps]]\nid = "{s}"\ntitle = "{s}"\nneeds = {json.dumps(sorted(d))}\n' for s, d in edges.items())
    try:
        list(graphlib.TopologicalSorter(edges).static_order())
        acyclic = True
    except graphlib.CycleError:
        acyclic = False
    try:
        formula = parse(text.encode(), "x.formula.toml", expected="x")
    except FormulaError as exc:
        assert not acyclic and ("cycle" in str(exc) or "needs itself" in str(exc))
    else:
        assert acyclic and [s.id for s in formula.steps] == list(edges)


def test_burn_a_poured_molecule(repo, bd):
    write_formula(repo, "quick-check", EXAMPLE)
    root = bd("mol", "pour", "quick-check", "--var", "target=api").stdout.strip()
    burned = bd.json("mol", "burn", root)
    assert burned["deleted_count"] == 4 and burned["wisp"] is False
    assert not [b for b in bd.json("list", "--all") if b["id"].startswith(root)]
    squashed = bd.json("mol", "squash", bd("mol", "pour", "quick-check", "--var", "target=x").stdout.strip())
    assert squashed["squashed_count"] == 0 and squashed["digest_id"] is None  # nothing to squash: not a wisp


def test_a_wisp_never_reaches_the_remote(tmp_path):
    hub = tmp_path / "hub.git"
    git(tmp_path, "init", "-q", "--bare", str(hub))
    seed = make_repo(tmp_path / "seed")
    git(seed, "commit", "-q", "--allow-empty", "-m", "start")
    git(seed, "remote", "add", "origin", str(hub))
    git(seed, "push", "-q", "origin", "main")
    ann = clone_of(hub, tmp_path / "ann")
    repo = ann.cwd
    ann("init", "--prefix", "ann")
    write_formula(repo, "quick-check", EXAMPLE)
    shared = ann("mol", "pour", "quick-check", "--var", "target=shared").stdout.strip()
    signal = (repo / ".beads" / "last-change").read_text()
    ledger_head = head(repo)
    wisp = ann.json("mol", "wisp", "quick-check", "--var", "target=patrol")
    root = wisp["root"]
    assert wisp["wisp"] is True and root.startswith("ann-wisp-")
    assert head(repo) == ledger_head and (repo / ".beads" / "last-change").read_text() == signal
    assert root not in {b["id"] for b in ann.json("list", "--all")}
    assert not any(b["id"].startswith("ann-wisp-") for b in ann.json("ready"))
    shown = ann.json("mol", "show", root)
    assert shown["wisp"] is True and shown["current"]["id"] == f"{root}.lint"
    ann("close", f"{root}.lint")  # a wisp's step closes like any bead, on the wisp ledger
    assert ann.json("mol", "show", root)["current"]["id"] == f"{root}.test"
    assert head(repo) == ledger_head
    ann.proc("sync")
    git(repo, "push", "-q", "--all", "origin")  # even pushing every branch leaves the wisps behind
    remote_refs = git(hub, "for-each-ref", "--format=%(refname)")
    assert "refs/gt/wisps" not in remote_refs and "refs/heads/beads" in remote_refs
    remote_files = git(hub, "ls-tree", "-r", "--name-only", "beads")
    assert shared in remote_files and "wisp" not in remote_files
    all_objects = git(hub, "rev-list", "--all", "--objects")
    assert "ann-wisp-" not in all_objects
    squashed = ann.json("mol", "squash", root, "--summary", "patrol clean")
    digest = squashed["digest_id"]
    assert squashed["squashed_count"] == 3 and squashed["deleted_count"] == 4
    assert ann.show(digest)["status"] == "closed" and ann.show(digest)["description"] == "patrol clean"
    assert "not a molecule" in ann("mol", "show", root, ok=False).stderr or "no bead" in ann("mol", "show", root, ok=False).stderr
    other = ann("mol", "wisp", "quick-check", "--var", "target=again").stdout.strip()
    assert ann.json("mol", "burn", other)["deleted_count"] == 4
    ann.proc("sync")
    remote_files = git(hub, "ls-tree", "-r", "--name-only", "beads")
    assert digest in remote_files and "wisp" not in remote_files
    assert "refs/gt/wisps" not in git(hub, "for-each-ref", "--format=%(refname)")

"""The town: gt install, identity detection from flags, environment, git config and directory."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from conftest import BIN, Bd, git
from gt.town.identity import detect, from_directory, from_role_env, parse


def gt(cwd: Path, *args: str, env: dict | None = None, ok: bool = True) -> subprocess.CompletedProcess:
    import os

    result = subprocess.run([str(BIN / "gt"), *args], cwd=cwd, capture_output=True, text=True,
                            env={**os.environ, **(env or {})})
    if ok:
        assert result.returncode == 0, result.stderr
    return result


@pytest.fixture
def town(tmp_path: Path) -> Path:
    root = tmp_path / "gt"
    gt(tmp_path, "install", str(root), "--actor", "steve")
    (root / "gastown").mkdir()
    (root / "gastown" / "config.json").write_text("{}")
    return root


def test_install_creates_the_layout_and_an_hq_ledger(town):
    for path in ("mayor/town.json", "mayor/rigs.json", ".beads/routes.yaml", "settings/config.yaml",
                 "deacon/dogs/boot"):
        assert (town / path).exists(), path
    info = json.loads((town / "mayor" / "town.json").read_text())
    assert info["name"] == "gt" and info["owner"] == "steve"
    assert "prefix: hq" in git(town, "show", "beads:ledger.yaml")
    assert git(town, "log", "--format=%an|%s", "beads").strip() == "steve|init ledger (prefix hq)"
    assert Bd(town)("create", "town work", "--actor", "mayor").stdout.startswith("hq-")


def test_install_again_is_a_no_op_and_force_repairs_without_touching_data(town):
    before = git(town, "rev-parse", "beads")
    (town / "settings" / "config.yaml").write_text("default_agent: codex\n")
    assert "already exists" in gt(town, "install", str(town)).stdout
    (town / "mayor" / "rigs.json").unlink()
    out = gt(town, "install", str(town), "--force").stdout
    assert "mayor/rigs.json" in out and "settings" not in out
    assert (town / "settings" / "config.yaml").read_text() == "default_agent: codex\n"
    assert git(town, "rev-parse", "beads") == before


@pytest.mark.parametrize("where,expected", [
    ("mayor", "mayor"), ("mayor/rig/src", "mayor"), ("deacon", "deacon"), ("deacon/dogs/boot", "deacon/dogs/boot"),
    ("gastown/polecats/nux/src/deep", "gastown/polecats/nux"), ("gastown/crew/joe", "gastown/crew/joe"),
    ("gastown/witness", "gastown/witness"), ("gastown/refinery/rig", "gastown/refinery"),
    ("gastown/mayor/rig", "mayor"), ("settings", None), ("", None), ("nosuchrig/polecats/x", None),
])
def test_identity_from_directory(town, where, expected):
    path = town / where
    path.mkdir(parents=True, exist_ok=True)
    assert from_directory(town, path) == expected


def test_detection_order(town, repo):
    env = {"BD_ACTOR": "from-env", "GT_ROLE": "polecat", "GT_RIG": "gastown", "GT_POLECAT": "nux"}
    from gt.ledger.gitdir import discover

    paths = discover(str(repo))
    assert detect("explicit", paths, env=env).source == "--actor"
    assert detect(None, paths, env=env).name == "from-env"
    env.pop("BD_ACTOR")
    assert detect(None, paths, env=env).name == "gastown/polecats/nux"
    git(repo, "config", "gt.identity", "gastown/crew/joe")
    assert detect(None, paths, env={}).name == "gastown/crew/joe"  # a cross-rig worktree keeps its owner
    git(repo, "config", "--unset", "gt.identity")
    assert detect(None, paths, cwd=town / "mayor", env={}).name == "mayor"
    assert detect(None, paths, cwd=repo, env={}).source == "git config user.name"


def test_role_env_and_parse():
    assert from_role_env({"GT_ROLE": "dog", "GT_DOG": "boot"}) == "deacon/dogs/boot"
    assert from_role_env({"GT_ROLE": "witness", "GT_RIG": "gp"}) == "gp/witness"
    assert from_role_env({"GT_ROLE": "polecat"}) is None
    assert parse("gp/polecats/toast").role == "polecat" and parse("alice").role == "human"


def test_bd_writes_in_an_agent_home_are_attributed_to_the_agent(town):
    home = town / "mayor"
    Bd(home)("create", "filed by the mayor")
    assert git(town, "log", "-1", "--format=%an", "beads").strip() == "mayor"


def test_whoami_and_role_env(town):
    home = town / "gastown" / "polecats" / "nux"
    home.mkdir(parents=True)
    who = json.loads(gt(home, "whoami", "--json").stdout)
    assert who == {"identity": "gastown/polecats/nux", "role": "polecat", "rig": "gastown", "agent": "nux",
                   "source": "directory"}
    exports = gt(home, "role", "env").stdout
    assert "export GT_POLECAT=nux" in exports and "export BD_ACTOR=gastown/polecats/nux" in exports
    assert f"export GT_ROOT={town}" in exports
    outside = gt(town, "role", "env", ok=False)
    assert outside.returncode == 1 and "not an agent identity" in outside.stderr and "polecats" in outside.stderr

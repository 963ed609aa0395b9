"""Shared fixtures: real git repositories in temporary directories, and ways to run `bd` in them."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

BIN = Path(sys.executable).parent
CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "beads-issues-v0.47.0.jsonl"


@pytest.fixture(autouse=True)
def hermetic_git(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees the developer's git config or identity variables."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
    for name in ("BD_ACTOR", "GIT_DIR", "GIT_WORK_TREE", "GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL",
                 "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "NO_COLOR", "GT_ROOT", "GT_ROLE", "GT_RIG",
                 "GT_POLECAT", "GT_CREW", "GT_DOG"):
        monkeypatch.delenv(name, raising=False)


def git(cwd: Path | str, *args: str, check: bool = True) -> str:
    """Run the real git binary and return its stdout."""
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {result.stderr}")
    return result.stdout


def make_repo(path: Path, user: str = "Test User") -> Path:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.name", user)
    git(path, "config", "user.email", f"{user.split()[0].lower()}@example.com")
    return path


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str

    def json(self):
        return json.loads(self.stdout)


class Bd:
    """Runs `bd` in a directory: in-process (fast) by default, or as a real process."""

    def __init__(self, cwd: Path) -> None:
        self.cwd = cwd

    def __call__(self, *args: str, input: str | None = None, ok: bool | None = True,
                 env: dict[str, str] | None = None) -> Result:
        from gt.cli.bd import bd

        runner = CliRunner()
        before = os.getcwd()
        try:
            res = runner.invoke(bd, ["-C", str(self.cwd), *args], input=input, env=env, catch_exceptions=False)
        finally:
            os.chdir(before)
        result = Result(res.exit_code, res.stdout, res.stderr)
        _check(result, args, ok)
        return result

    def json(self, *args: str, **kwargs) -> object:
        return self(*args, "--json", **kwargs).json()

    def proc(self, *args: str, input: str | None = None, ok: bool | None = True,
             env: dict[str, str] | None = None, timeout: float = 60) -> Result:
        full_env = {**os.environ, **(env or {})}
        res = subprocess.run([str(BIN / "bd"), *args], cwd=self.cwd, input=input, capture_output=True,
                             text=True, env=full_env, timeout=timeout)
        result = Result(res.returncode, res.stdout, res.stderr)
        _check(result, args, ok)
        return result


def _check(result: Result, args: tuple[str, ...], ok: bool | None) -> None:
    if ok is True and result.exit_code != 0:
        raise AssertionError(f"bd {' '.join(args)} exited {result.exit_code}: {result.stderr}{result.stdout}")
    if ok is False and result.exit_code == 0:
        raise AssertionError(f"bd {' '.join(args)} unexpectedly succeeded: {result.stdout}")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A fresh git repository (no ledger yet)."""
    return make_repo(tmp_path / "proj")


@pytest.fixture
def bd(repo: Path) -> Bd:
    """`bd` in a repository whose ledger is initialised with prefix `gt`."""
    runner = Bd(repo)
    runner("init", "--prefix", "gt")
    return runner


@pytest.fixture
def corpus() -> Path:
    if not CORPUS.exists():
        pytest.skip(f"the shared corpus is absent ({CORPUS})")
    return CORPUS


def hand_commit(repo: Path, path: str, text: str, message: str = "hand edit", move_ref: bool = True) -> str:
    """Commit one file onto the ledger with plain git plumbing, as a person editing by hand would.

    Returns the commit; with move_ref the ledger branch is moved to it.
    """
    env = {**os.environ, "GIT_INDEX_FILE": str(repo / ".git" / "hand-index")}
    blob = subprocess.run(["git", "hash-object", "-w", "--stdin"], cwd=repo, input=text, text=True,
                          capture_output=True, check=True).stdout.strip()
    subprocess.run(["git", "read-tree", "beads"], cwd=repo, env=env, check=True)
    subprocess.run(["git", "update-index", "--add", "--cacheinfo", f"100644,{blob},{path}"], cwd=repo, env=env,
                   check=True)
    tree = subprocess.run(["git", "write-tree"], cwd=repo, env=env, capture_output=True, text=True,
                          check=True).stdout.strip()
    commit = subprocess.run(["git", "commit-tree", tree, "-p", "beads", "-m", message], cwd=repo,
                            capture_output=True, text=True, check=True).stdout.strip()
    if move_ref:
        git(repo, "update-ref", "refs/heads/beads", commit)
    return commit


def ledger_files(repo: Path, branch: str = "beads") -> list[str]:
    return git(repo, "ls-tree", "-r", "--name-only", branch).split()


def bead_path(bead_id: str) -> str:
    import hashlib

    return f"beads/{hashlib.sha1(bead_id.encode()).hexdigest()[:2]}/{bead_id}.yaml"


FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def gt(cwd: Path, *args: str, env: dict | None = None, ok: bool = True,
       timeout: float = 120) -> subprocess.CompletedProcess:
    """Run the real `gt` command; with `ok` (default) it must succeed."""
    result = subprocess.run([str(BIN / "gt"), *args], cwd=cwd, capture_output=True, text=True,
                            env={**os.environ, **(env or {})}, timeout=timeout)
    if ok:
        assert result.returncode == 0, f"gt {' '.join(args)}: {result.stderr}{result.stdout}"
    return result


def make_sample(path: Path, name: str, *extra: str) -> Path:
    """A small real project (see fixtures/make_sample.py) with a few commits and ./tests.sh."""
    subprocess.run([sys.executable, str(FIXTURES / "make_sample.py"), str(path), "--name", name, *extra],
                   check=True, capture_output=True)
    return path

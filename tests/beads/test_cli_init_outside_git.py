"""`bd init` outside a git repository runs `git init` first; the original bd's init flags are accepted;
`.beads/metadata.json` says where the ledger is (for tools of the original beads, e.g. its MCP server)."""
from __future__ import annotations

import json
from pathlib import Path

from conftest import Bd, git, ledger_files

SUCCESS = "bd initialized successfully!"


def plain(tmp_path: Path) -> Path:
    path = tmp_path / "plain"
    path.mkdir()
    return path


def test_init_in_a_plain_directory_makes_the_repository_then_the_ledger(tmp_path):
    here = plain(tmp_path)
    out = Bd(here)("init", "--prefix", "test", "--non-interactive", "--skip-agents", "--skip-hooks").stdout
    lines = out.splitlines()
    assert lines == [f"Created a git repository in {here}", f"{SUCCESS} Ledger 'beads' with prefix 'test'"]
    assert (here / ".git").is_dir()
    assert git(here, "rev-parse", "--show-toplevel").strip() == str(here)
    assert ledger_files(here) == ["ledger.yaml"]
    assert "prefix: test" in git(here, "show", "beads:ledger.yaml")
    assert Bd(here)("create", "First").stdout.strip().startswith("test-")
    # no hooks of ours, and nothing outside .beads/ (which ignores itself)
    assert [p.name for p in (here / ".git" / "hooks").iterdir() if not p.name.endswith(".sample")] == []
    assert git(here, "status", "--porcelain", "--untracked-files=all") == ""


def test_metadata_json_names_the_backend_and_branch(tmp_path):
    here = plain(tmp_path)
    Bd(here)("init", "--prefix", "test", "--branch", "work-items")
    meta = json.loads((here / ".beads" / "metadata.json").read_text())
    assert meta == {"backend": "git", "branch": "work-items"}
    assert (here / ".beads" / "config.yaml").is_file()


def test_metadata_json_is_written_in_a_git_repository_too(repo):
    Bd(repo)("init", "--prefix", "gt")
    assert json.loads((repo / ".beads" / "metadata.json").read_text()) == {"backend": "git", "branch": "beads"}
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""


def test_as_a_process_without_any_git_identity(tmp_path):
    """How the beads MCP server's tests run it: a fresh directory, no git user configured (HOME is empty)."""
    here = plain(tmp_path)
    result = Bd(here).proc("init", "--prefix", "test", "--non-interactive", "--skip-agents", "--skip-hooks",
                           env={"BD_NON_INTERACTIVE": "1"})
    assert SUCCESS in result.stdout and "test" in result.stdout
    assert Bd(here).proc("create", "works").stdout.strip().startswith("test-")


def test_json_names_the_repository_only_when_it_was_made(tmp_path, repo):
    here = plain(tmp_path)
    made = Bd(here).json("init", "--prefix", "test")
    assert made["created_git_repository"] == str(here)
    assert made["created"] is True and made["prefix"] == "test" and made["branch"] == "beads"
    existing = Bd(repo).json("init", "--prefix", "gt")
    assert set(existing) == {"prefix", "created", "branch", "settings"}  # unchanged in a repository
    assert set(Bd(here).json("init")) == {"prefix", "created", "branch", "settings"}  # the repository exists now


def test_in_a_git_repository_it_makes_no_repository(repo):
    out = Bd(repo)("init", "--prefix", "gt").stdout
    assert out == f"{SUCCESS} Ledger 'beads' with prefix 'gt'\n"
    assert Bd(repo)("init").stdout == "Already initialised: ledger 'beads' with prefix 'gt'\n"


def test_a_bad_prefix_or_branch_creates_nothing(tmp_path):
    here = plain(tmp_path)
    for args in (("--prefix", "a b"), ("--branch", "a..b")):
        result = Bd(here)("init", *args, ok=False)
        assert result.exit_code == 2
        assert list(here.iterdir()) == []


def test_help_lists_the_original_init_flags(tmp_path):
    text = Bd(tmp_path).proc("init", "--help").stdout
    for flag in ("--non-interactive", "--skip-agents", "--skip-hooks"):
        assert flag in text
    assert "never prompts" in text and "installs no git hooks" in text

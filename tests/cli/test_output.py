"""What the command line looks like: marks, help, progress on a terminal, and docs/cli.md."""
from __future__ import annotations

from conftest import BIN, ROOT, TIMEOUT


def test_marks_are_symbols_on_a_terminal_and_plain_otherwise(monkeypatch):
    import sys

    from gt.cli import format

    monkeypatch.setattr(sys.stdout, "isatty", lambda: False, raising=False)
    assert format.mark("done") == "ok" and format.mark("open") == ".."
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert format.mark("done") == "\033[32m✓\033[0m"
    monkeypatch.setenv("NO_COLOR", "1")
    assert format.mark("done") == "✓" and format.mark("convoy") == "🚚"


def test_help_groups_commands():  # the examples in every command's help: tests/cli/test_help_examples.py
    import click

    from gt.cli.gt import gt

    text = click.testing.CliRunner().invoke(gt, ["--help"]).output
    assert [s for s in ("Work:", "Agents:", "Communication:", "Services:", "Workspace:", "Diagnostics:") if s in text] \
        == ["Work:", "Agents:", "Communication:", "Services:", "Workspace:", "Diagnostics:"]


def test_progress_shows_on_a_terminal_only(bd, repo):
    import os
    import pty
    import select
    import shutil
    import subprocess
    import time

    for n in range(3):
        bd("create", f"bead {n}")

    def stderr_on_a_terminal(*args: str) -> str:
        shutil.rmtree(repo / ".git" / "gt" / "index", ignore_errors=True)  # the next read rebuilds it
        main, secondary = pty.openpty()
        subprocess.run([str(BIN / "bd"), *args], cwd=repo, stdout=subprocess.PIPE, stderr=secondary, check=True,
                       timeout=TIMEOUT)
        os.close(secondary)
        chunks = []
        deadline = time.monotonic() + TIMEOUT
        while True:
            ready, _, _ = select.select([main], [], [], max(0.0, deadline - time.monotonic()))
            assert ready, "the terminal bd wrote to was never closed"
            try:
                data = os.read(main, 4096)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
        os.close(main)
        return b"".join(chunks).decode(errors="replace")

    assert "indexing the ledger" in stderr_on_a_terminal("list")
    assert stderr_on_a_terminal("list", "--json") == ""
    shutil.rmtree(repo / ".git" / "gt" / "index", ignore_errors=True)
    piped = subprocess.run([str(BIN / "bd"), "list"], cwd=repo, capture_output=True, text=True, timeout=TIMEOUT)
    assert piped.stderr == ""


def test_docs_cli_md_is_generated_from_the_commands():
    from gt.cli.reference import render

    committed = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert committed == render(), "docs/cli.md is stale: run `python -m gt.cli.reference > docs/cli.md`"

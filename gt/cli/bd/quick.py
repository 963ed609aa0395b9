"""`bd sync` with nothing to exchange, answered before Click and the ledger store are imported.

Most `bd sync` runs find that the remote already has our ledger. Such a process spends most of its
time starting: Click alone takes ~20 ms to import, the ledger store and dulwich more. This module
imports neither (nor lets gt.cli.bd's `main` import them first): for a command line of the plain
shape `bd sync [--json] [--no-push] [--remote NAME] [--actor NAME]` it asks
gt.beads.sync.up_to_date, and prints the very report, text and errors the command would. Anything
else (another shape, a sync with something to exchange, $BEADS_DIR, an argument or variable that is
not UTF-8, a repository it cannot read) returns to `main`, which runs the command through Click
from the start, as if this had not been tried.
"""
from __future__ import annotations

import os
import sys

from gt.cli.text import is_utf8

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (mypy reads it as True)
if TYPE_CHECKING:
    from typing import NoReturn

    from gt.beads.sync import SyncReport
    from gt.errors import GtError

FLAGS = ("--json", "--no-push")
VALUE_OPTIONS = ("--remote", "--actor", "--identity")  # the actor is not needed when nothing is written


def describe(report: SyncReport) -> str:
    """`bd sync`'s text output for a report."""
    lines = [f"{report.remote}: {report.action}" + (f" ({len(report.merged_beads)} beads merged)" if report.merged_beads else "")
             + ("; pushed" if report.pushed else "")
             + (f" (the remote moved meanwhile: {report.rounds} rounds)" if report.retries else "")]
    lines += [f"id collision: {old} renamed to {new}" for old, new in report.renamed.items()]
    return "\n".join(lines)


def parse(args: list[str]) -> tuple[bool, str | None] | None:
    """(--json given, --remote's value) of `bd sync ARGS` in the plain shape; None for anything else."""
    as_json, remote, seen = False, None, set()
    index = 0
    while index < len(args):
        token = args[index]
        index += 1
        name, eq, value = token.partition("=") if token.startswith("--") else (token, "", "")
        if name in seen:
            return None
        seen.add(name)
        if name in FLAGS and not eq:
            as_json = as_json or name == "--json"
            continue
        if name not in VALUE_OPTIONS:
            return None
        if not eq:
            if index >= len(args):
                return None
            value, index = args[index], index + 1
        if not value or value.startswith("-"):
            return None
        if name == "--remote":
            remote = value
    return as_json, remote


def sync_if_up_to_date(args: list[str]) -> None:
    """Answer `bd sync ARGS` and end the process when there is nothing to exchange; else return."""
    parsed = parse(args)
    if parsed is None or os.environ.get("BEADS_DIR"):
        return
    if not all(is_utf8(text) for text in (*args, *os.environ.values())):
        return  # the command names the culprit
    as_json, remote = parsed
    import gc

    gc.disable()  # as gt.cli.common.main_entry does
    os.umask(os.umask(0) | 0o002)
    try:
        from gt.beads import clone_settings
        from gt.ledger.gitdir import check_branch_name, discover

        repo = discover()
        settings = clone_settings.load(repo)
        check_branch_name(settings.branch)
    except Exception:  # no repository, unreadable settings, …: the command says what is wrong
        return
    remote = remote or settings.remote
    if remote.startswith("-") or not (remote.isascii() and remote.isprintable()):
        return  # printed as the command prints it (Click strips escape codes)
    from gt import progress
    from gt.beads.sync import up_to_date
    from gt.errors import GtError

    progress.enable(sys.stderr.isatty() and not as_json)
    progress.report(f"fetching the ledger from {remote} …", every=0)
    try:
        report = up_to_date(repo, settings.branch, remote)
    except GtError as exc:  # unreachable, read-only mode: reported as the command reports it
        _fail(as_json, exc)
    except KeyboardInterrupt:  # as Click reports it
        if as_json:
            _fail(as_json, GtError("aborted"))
        sys.stderr.write("\nAborted!\n")
        _exit(1)
    except Exception:  # whatever it is, the command meets it again and reports it
        return
    if report is None:
        return  # something to exchange
    if as_json:
        import json

        text = json.dumps(report.as_dict(), ensure_ascii=False, indent=2 if sys.stdout.isatty() else None)
    else:
        text = describe(report)
    code = 0
    try:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
    except BrokenPipeError:
        code = 1  # as Click exits when the reader went away
    _exit(code)


def _fail(as_json: bool, error: GtError) -> NoReturn:
    """Report an error as the command does (gt.cli.common.fail, which imports Click), and exit."""
    from gt.cli.common import fail

    code = 1
    try:
        fail(as_json, error)
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else 1
    _exit(code)


def _exit(code: int) -> NoReturn:
    """End the process as gt.cli.common.main_entry does: progress cleared, output flushed, no teardown."""
    from gt import progress

    progress.clear()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (BrokenPipeError, ValueError):
            pass
    os._exit(code)

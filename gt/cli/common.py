"""What every command shares: lazy subcommand loading, --json/--actor, errors, and reading long texts."""
from __future__ import annotations

import functools
import importlib
import json
import sys
from typing import TYPE_CHECKING, Any, Callable

import click

from gt.cli.text import is_utf8, shown_bytes
from gt.errors import GtError, UsageError

if TYPE_CHECKING:
    from pathlib import Path

    from gt.ledger.gitdir import RepoPaths
    from gt.ledger.store import Signature
    from gt.town.identity import Identity

MAX_ARGUMENT = 128 * 1024  # one command-line argument; longer texts come from a file or stdin


class LazyGroup(click.Group):
    """A group whose subcommands are imported only when invoked (start-up time is what agents pay)."""

    def __init__(self, *args: Any, lazy: dict[str, str] | None = None,
                 sections: dict[str, tuple[str, ...]] | None = None, aliases: dict[str, str] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = lazy or {}
        self.sections = sections or {}
        self.aliases = aliases or {}  # other names of a command, accepted but not listed

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """`--help` lists the commands in sections (Work, Agents, …), the way a user looks for them."""
        if not self.sections:
            return super().format_commands(ctx, formatter)
        names = self.list_commands(ctx)
        placed = {name for members in self.sections.values() for name in members}
        sections = {**self.sections, "Other": tuple(n for n in names if n not in placed)}
        width = formatter.width - 6 - max(len(n) for n in names)
        for title, members in sections.items():
            rows = []
            for name in members:
                cmd = self.get_command(ctx, name)
                if cmd is not None and not cmd.hidden:
                    rows.append((name, cmd.get_short_help_str(width)))
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        name = self.aliases.get(name, name)
        if name in self.lazy:  # "package.module:attr"; without ":attr", the module's own name
            module_name, _, attr = self.lazy[name].partition(":")
            found = getattr(importlib.import_module(module_name), attr or module_name.rpartition(".")[2])
            if not isinstance(found, click.Command):
                raise TypeError(f"{self.lazy[name]} is not a click command")
            return found
        return super().get_command(ctx, name)

    def main(self, args: Any = None, *rest: Any, **kwargs: Any) -> Any:
        """Like Click's main, but usage errors honour --json: `{"error", "code": "usage"}`, exit 2."""
        argv = list(sys.argv[1:] if args is None else args)
        if "--json" not in argv or not kwargs.get("standalone_mode", True):
            return super().main(argv, *rest, **kwargs)
        kwargs["standalone_mode"] = False
        try:
            code = super().main(argv, *rest, **kwargs)
        except click.ClickException as exc:
            fail(True, UsageError(exc.format_message()) if exc.exit_code == 2 else GtError(exc.format_message()))
        except click.Abort:
            fail(True, GtError("aborted"))
        sys.exit(code if isinstance(code, int) else 0)


class Out:  # a plain class, as cobra.RootFlags
    """How the command was asked to report: as JSON or as text, and who is acting."""

    def __init__(self, json: bool, actor: str | None) -> None:
        self.json = json
        self.actor = actor

    def emit(self, data: Any, text: Callable[[], str | None] | str | None = None) -> None:
        if self.json:  # indented for people; compact (and much faster to encode) for programs
            indent = 2 if sys.stdout.isatty() else None
            click.echo(json.dumps(data, ensure_ascii=False, indent=indent))
        else:
            line = text() if callable(text) else text
            if line is not None:
                click.echo(line)

    def emit_json_rows(self, rows: list[str]) -> None:
        """A JSON list whose items are already encoded compactly (a large listing made from stored
        parts): written as they are for programs, indented for people."""
        if sys.stdout.isatty():
            click.echo(json.dumps(json.loads(f"[{', '.join(rows)}]"), ensure_ascii=False, indent=2))
            return
        write = sys.stdout.write  # no escape codes to strip: JSON text escapes control characters
        write("[")
        write(", ".join(rows))
        write("]\n")

    def identity(self) -> Identity:
        """Who is calling (see `gt whoami`)."""
        from gt.town.identity import detect

        return detect(self.actor, None)

    def town_and_rig(self, rig: str | None, option: str = "the rig's name") -> tuple[Path, str]:
        """The town, and the rig: given, or the caller's (its directory, or --actor/--identity)."""
        from gt.town.layout import RIG_REPO, require_town, rig_dir

        town = require_town()
        rig = rig or self.identity().rig
        if not rig:
            raise UsageError(f"which rig? give {option} (or run this inside the rig)")
        if "/" in rig or "\\" in rig or rig.startswith(".") or not (rig_dir(town, rig) / RIG_REPO).is_dir():
            raise GtError(f"no rig named {rig!r} in {town}", code="not_found")
        return town, rig

    def signature(self, repo: RepoPaths | None) -> Signature:
        from gt.town.identity import detect_actor

        return detect_actor(self.actor, repo)


def fail(out_json: bool, error: GtError) -> None:
    exit_code = 2 if isinstance(error, UsageError) else 1
    message = str(error).replace("\r", "\\r").replace("\n", "\\n")  # one line, whatever the input held
    if out_json:
        click.echo(json.dumps({"error": message, "code": error.code}), err=True)
    else:
        click.echo(f"Error: {message}", err=True)
    sys.exit(exit_code)


def command(name: str | None = None, acting: tuple[str, ...] = ("--actor", "--identity"),
            **kwargs: Any) -> Callable[[Callable[..., Any]], click.Command]:
    """A Click command with --json and --actor whose function receives `out` first; GtError becomes exit 1.

    Commands whose --actor filters by identity (stats, audit, feed) take `acting=("--identity",)`.
    """

    def decorate(func: Callable[..., Any]) -> click.Command:
        @functools.wraps(func)
        def run(as_json: bool, acting_as: str | None, **params: Any) -> None:
            out = Out(as_json, acting_as)
            try:
                check_utf8({"acting_as": acting_as, **params})
                func(out, **params)
            except GtError as exc:
                fail(as_json, exc)
            except BrokenPipeError:
                raise  # the reader went away (`| head`): Click exits quietly
            except OSError as exc:
                fail(as_json, GtError(f"{exc.strerror or exc}: {exc.filename}" if exc.filename else str(exc)))

        run = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")(run)
        run = click.option(*acting, "acting_as", metavar="NAME",
                           help="Act as NAME for this command (default: detected; see `gt whoami`).")(run)
        return click.command(name, cls=click.Command, **kwargs)(run)

    return decorate


# Variables whose values are written into the ledger (who acts, which branch): text, like arguments.
TEXT_VARIABLES = ("BD_ACTOR", "BEADS_ACTOR", "BD_LEDGER_BRANCH", "GT_ROLE", "GT_RIG", "GT_POLECAT", "GT_CREW", "GT_DOG")


def check_utf8(params: dict[str, Any]) -> None:
    """Refuse a text argument that is not UTF-8 (bytes that cannot be decoded arrive as surrogate
    escapes, and would fail when written): a usage error naming the argument. File paths are exempt."""
    import os

    for variable in TEXT_VARIABLES:
        value = os.environ.get(variable)
        if value is not None and not is_utf8(value):
            raise UsageError(f"the environment variable {variable} is not valid UTF-8 text: {shown_bytes(value)}")
    for name, value in params.items():
        values = value if isinstance(value, (tuple, list)) else (value,)
        bad = next((v for v in values if isinstance(v, str) and not is_utf8(v)), None)
        if bad is None:
            continue
        param = next((p for p in click.get_current_context().command.params if p.name == name), None)
        if param is not None and (isinstance(param.type, click.Path) or param.metavar == "FILE"):
            continue  # a file name is bytes on disk: opening it works, and it is never stored
        if isinstance(param, click.Option):
            label = next((o for o in param.opts if o.startswith("--")), param.opts[0])
        else:
            label = param.human_readable_name if param is not None else name
        raise UsageError(f"{label} is not valid UTF-8 text: {shown_bytes(bad)} (check the encoding of your terminal or script)")


def read_text(value: str | None, path: str | None, what: str) -> str | None:
    """A long text from an option, or from a file (`-` for stdin); an option is limited to 128 KiB."""
    if value is not None and path is not None:
        raise UsageError(f"give the {what} as text or as a file, not both")
    if path is not None:  # read as bytes: the text is kept exactly, line endings included
        try:
            if path == "-":
                data = sys.stdin.buffer.read()
            else:
                with open(path, "rb") as f:
                    data = f.read()
        except OSError as exc:
            raise UsageError(f"cannot read {what} file {path}: {exc.strerror}") from None
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise UsageError(f"{what} file {path} is not UTF-8 text") from None
    if value is not None and len(value.encode("utf-8")) > MAX_ARGUMENT:
        raise UsageError(f"{what} is longer than 128 KiB: pass it with a file or stdin (-)")
    return value


MAX_HOOK_INPUT = 1 << 20  # bytes of a runtime's hook event read from stdin, at most
HOOK_INPUT_WAIT = 1.0  # seconds to wait for it: a runtime that leaves stdin open never blocks its hook


def hook_input() -> dict[str, Any]:
    """The JSON object an agent runtime gives its hook command on stdin (`session_id`, `source`,
    `transcript_path`, …): at most MAX_HOOK_INPUT bytes, waited for at most HOOK_INPUT_WAIT seconds;
    {} for a terminal, no stdin, nothing, too much, bad UTF-8 or JSON, or JSON that is not an object."""
    import os
    import select
    import time

    try:
        fd = sys.stdin.fileno()
        if os.isatty(fd):
            return {}
        chunks: list[bytes] = []
        size, deadline = 0, time.monotonic() + HOOK_INPUT_WAIT
        while size < MAX_HOOK_INPUT:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                break
            chunk = os.read(fd, min(65536, MAX_HOOK_INPUT - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        found = json.loads(b"".join(chunks).decode("utf-8")) if size < MAX_HOOK_INPUT else None
    except (OSError, ValueError, RecursionError, AttributeError):  # no stdin, not a file, bad UTF-8 or JSON
        return {}
    return found if isinstance(found, dict) else {}


def main_entry(group: click.Group) -> Callable[[], None]:
    """The console-script entry point of a group, tuned for a process that lives for milliseconds."""

    def main() -> None:
        import gc
        import os

        gc.disable()  # a short-lived process: the cyclic collector only costs time (tens of ms at 10k beads)
        os.umask(os.umask(0) | 0o002)  # nothing gt or bd writes (nor git, nor the agents it starts) is world-writable
        from gt import progress

        progress.enable(sys.stderr.isatty() and "--json" not in sys.argv[1:])
        try:
            group(prog_name=group.name)
            code: Any = 0
        except SystemExit as exc:
            code = exc.code
        except Exception as exc:  # a bug, not the user's mistake: one line, the traceback in a log
            progress.clear()
            code = internal_error(exc)
        progress.clear()
        if isinstance(code, str):
            click.echo(code, err=True)
            code = 1
        # Skip the interpreter's teardown (freeing every object one by one: ~30 ms after reading
        # 10,000 beads). Every file we wrote is closed by now and the kernel drops our locks.
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (BrokenPipeError, ValueError):
                pass
        os._exit(code if isinstance(code, int) else 0)

    return main


CRASH_LOG = "errors.log"
CRASH_LOG_LIMIT = 1024 * 1024  # past this, the log moves to errors.log.1 (one old log is kept)


def internal_error(exc: BaseException) -> int:
    """Report an unexpected exception: one line on stderr (JSON with --json), exit code 1; the
    traceback goes to a log file (the town's .runtime/logs/, else the repository's .git/gt/) and,
    with GT_DEBUG=1, to stderr as well."""
    import os
    import traceback

    text = "".join(traceback.format_exception(exc))
    if os.environ.get("GT_DEBUG", "") not in ("", "0"):
        sys.stderr.write(text)
    log = _log_crash(text)
    detail = " ".join(str(exc).split())[:300]
    message = f"internal error: {type(exc).__name__}" + (f": {detail}" if detail else "")
    message += f" (traceback in {log})" if log else " (run again with GT_DEBUG=1 to see the traceback)"
    try:
        if "--json" in sys.argv[1:]:
            sys.stderr.write(json.dumps({"error": message, "code": "internal"}) + "\n")
        else:
            sys.stderr.write(f"Error: {message}\n")
    except (OSError, ValueError):
        pass
    return 1


def _log_crash(text: str) -> str | None:
    """Append a traceback to the crash log; its path, or None when there is nowhere to write it."""
    import os
    import time

    try:
        from gt.town.layout import find_town
        from gt.town.rundir import RUNTIME

        town = find_town()
        if town is not None:
            folder = os.path.join(town, RUNTIME, "logs")
        else:
            from gt.ledger.gitdir import discover

            folder = discover().private
        os.makedirs(folder, mode=0o700, exist_ok=True)
        path = os.path.join(folder, CRASH_LOG)
        if os.path.exists(path) and os.path.getsize(path) > CRASH_LOG_LIMIT:
            os.replace(path, path + ".1")
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        argv = " ".join(sys.argv)
        entry = f"--- {stamp} pid {os.getpid()}: {argv}\n{text}\n"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_NOFOLLOW", 0), 0o600)
        with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace") as f:
            f.write(entry)
        return path
    except Exception:  # the report must not fail: without a log, GT_DEBUG=1 still shows it
        return None

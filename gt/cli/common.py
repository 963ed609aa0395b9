"""What every command shares: lazy subcommand loading, --json/--actor, errors, and reading long texts."""
from __future__ import annotations

import functools
import importlib
import json
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

import click

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
                 sections: dict[str, tuple[str, ...]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = lazy or {}
        self.sections = sections or {}

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


@dataclass
class Out:
    """How the command was asked to report: as JSON or as text, and who is acting."""

    json: bool
    actor: str | None

    def emit(self, data: Any, text: Callable[[], str | None] | str | None = None) -> None:
        if self.json:  # indented for people; compact (and much faster to encode) for programs
            indent = 2 if sys.stdout.isatty() else None
            click.echo(json.dumps(data, ensure_ascii=False, indent=indent))
        else:
            line = text() if callable(text) else text
            if line is not None:
                click.echo(line)

    def identity(self) -> Identity:
        """Who is calling (see `gt whoami`)."""
        from gt.town.identity import detect

        return detect(self.actor, None)

    def town_and_rig(self, rig: str | None, option: str = "the rig's name") -> tuple[Path, str]:
        """The town, and the rig: given, or the caller's (its directory, or --actor/--identity)."""
        from gt.town.layout import require_town

        town = require_town()
        rig = rig or self.identity().rig
        if not rig:
            raise UsageError(f"which rig? give {option} (or run this inside the rig)")
        return town, rig

    def signature(self, repo: RepoPaths | None) -> Signature:
        from gt.town.identity import detect_actor

        return detect_actor(self.actor, repo)


def fail(out_json: bool, error: GtError) -> None:
    exit_code = 2 if isinstance(error, UsageError) else 1
    message = str(error)
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
                func(out, **params)
            except GtError as exc:
                fail(as_json, exc)
            except OSError as exc:
                fail(as_json, GtError(f"{exc.strerror or exc}: {exc.filename}" if exc.filename else str(exc)))

        run = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")(run)
        run = click.option(*acting, "acting_as", metavar="NAME",
                           help="Act as NAME for this command (default: detected; see `gt whoami`).")(run)
        return click.command(name, cls=click.Command, **kwargs)(run)

    return decorate


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


def main_entry(group: click.Group) -> Callable[[], None]:
    """The console-script entry point of a group, tuned for a process that lives for milliseconds."""

    def main() -> None:
        import gc
        import os

        gc.disable()  # a short-lived process: the cyclic collector only costs time (tens of ms at 10k beads)
        from gt import progress

        progress.enable(sys.stderr.isatty() and "--json" not in sys.argv[1:])
        try:
            group(prog_name=group.name)
            code: Any = 0
        except SystemExit as exc:
            code = exc.code
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

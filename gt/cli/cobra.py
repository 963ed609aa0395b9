"""The original bd's command-line forms (Cobra and pflag), turned into what Click parses.

- Root flags may come anywhere: before the subcommand, after it, after its arguments
  (`bd list --json`, `bd --json list`, `bd show X --actor me --json`).
- A boolean flag takes `=true`/`=false` (`--all=false`, `--json=true`).
- The original's root flags that configure its database server or daemon are accepted and ignored
  (`bd info` lists them); `--readonly` refuses writes; `--actor` is who acts, for every command.
"""
from __future__ import annotations

import os
import sys
from typing import Any

import click

from gt.cli.common import LazyGroup, fail
from gt.errors import UsageError

# Root flags that take a value, and those that do not (the original's persistent flags, old and new).
VALUE_FLAGS = ("-C", "--directory", "--actor", "--db", "--format", "--dolt-auto-commit", "--lock-timeout")
BOOL_FLAGS = ("--json", "--readonly", "--sandbox", "--global", "--profile", "-v", "--verbose", "-q", "--quiet",
              "--no-daemon", "--no-auto-flush", "--no-auto-import", "--allow-stale")
# Accepted for the tools that send them, without effect: there is no database server, daemon or
# auto-flush here (every write is one commit), and output is already quiet.
IGNORED_FLAGS = ("--db", "--dolt-auto-commit", "--lock-timeout", "--sandbox", "--global", "--profile", "-v",
                 "--verbose", "-q", "--quiet", "--no-daemon", "--no-auto-flush", "--no-auto-import", "--allow-stale")
ENVIRONMENT = ("BD_ACTOR", "BD_READONLY")  # what `apply` sets
TRUE, FALSE = ("true", "1", "t", "yes"), ("false", "0", "f", "no")


class RootFlags:  # a plain class: defining a dataclass costs every bd process a third of a millisecond
    """The root flags found on a command line."""

    def __init__(self) -> None:
        self.json = False
        self.actor: str | None = None
        self.directory: str | None = None
        self.readonly = False
        self.end_of_options: int | None = None  # where `--` stands in the normalised line, if it does


def _options(command: click.Command) -> dict[str, click.Option]:
    return {opt: p for p in command.params if isinstance(p, click.Option) for opt in (*p.opts, *p.secondary_opts)}


def _takes_value(option: click.Option) -> bool:
    return not option.is_flag and not option.count and option.nargs != 0


def _boolean(value: str) -> bool | None:
    """`--flag=true` → True, `--flag=false` → False; anything else is not a boolean form (None)."""
    low = value.lower()
    return True if low in TRUE else False if low in FALSE else None


def normalise(group: click.Group, argv: list[str]) -> tuple[list[str], RootFlags]:
    """`argv` with the root flags taken out (anywhere before `--`) and boolean `=value` forms made plain."""
    flags = RootFlags()
    out: list[str] = []
    ctx = click.Context(group, info_name=group.name, resilient_parsing=True)
    command: click.Command | None = group
    options = _options(group)
    index = 0
    while index < len(argv):
        token = argv[index]
        index += 1
        if token == "--":
            flags.end_of_options = len(out)
            out += argv[index - 1:]
            break
        name, eq, value = token.partition("=") if token.startswith("--") else (token, "", "")
        if token.startswith("-C") and len(token) > 2:  # pflag's `-C=PATH` and `-CPATH`
            name, eq, value = "-C", "=", token[2:].removeprefix("=")
        own = options.get(name)
        if own is not None and command is not group:  # the command's own option wins over a root flag
            if eq and own.is_flag and not own.secondary_opts:
                on = _boolean(value)
                if on is None:
                    raise click.UsageError(f"{name} takes true or false, not {value!r}")
                if on:
                    out.append(name)
                continue
            out.append(token)
            if not eq and _takes_value(own) and index < len(argv):
                out.append(argv[index])
                index += 1
            continue
        if name in VALUE_FLAGS and not (name == "--format" and not _is_json_format(eq, value, argv, index)):
            if not eq:
                if index >= len(argv):
                    raise click.UsageError(f"{name} needs a value")
                value, index = argv[index], index + 1
            _take(flags, name, value)
            continue
        if name in BOOL_FLAGS:
            on = True if not eq else _boolean(value)
            if on is None:
                raise click.UsageError(f"{name} takes true or false, not {value!r}")
            if on:
                _take(flags, name, None)
            continue
        out.append(token)
        if not token.startswith("-") and isinstance(command, click.Group):  # a subcommand's name
            found = command.get_command(ctx, token)
            if found is not None:
                command, options = found, _options(found)
    return out, flags


def _is_json_format(eq: str, value: str, argv: list[str], index: int) -> bool:
    """`--format json` is the original's hidden alias of --json; other formats belong to the command."""
    given = value if eq else (argv[index] if index < len(argv) else "")
    return given.lower() == "json"


def _take(flags: RootFlags, name: str, value: str | None) -> None:
    if name in ("--json", "--format"):
        flags.json = True
    elif name == "--actor":
        from gt.cli.text import is_utf8, shown_bytes

        if value is not None and not is_utf8(value):
            raise click.UsageError(f"--actor is not valid UTF-8 text: {shown_bytes(value)}")
        flags.actor = value
    elif name in ("-C", "--directory"):
        flags.directory = value
    elif name == "--readonly":
        flags.readonly = True
    # the others (IGNORED_FLAGS) are accepted and have no effect


def apply(flags: RootFlags, argv: list[str]) -> list[str]:
    """Carry out the root flags: the actor and read-only mode through the environment (so every
    command and the git hooks it runs see them), --json at the end of the command line, -C first."""
    from gt.ledger.store import READONLY

    if flags.actor is not None:
        os.environ["BD_ACTOR"] = flags.actor
    if flags.readonly:
        os.environ[READONLY] = "1"
    argv = list(argv)
    if flags.json:  # before the `--` that ends the options (a `--` given as an option's value is a value)
        argv.insert(len(argv) if flags.end_of_options is None else flags.end_of_options, "--json")
    if flags.directory is not None:
        argv = ["-C", flags.directory, *argv]
    return argv


class CobraGroup(LazyGroup):
    """bd's root: the original's flag forms (see `normalise`) before Click parses the line."""

    def main(self, args: Any = None, *rest: Any, **kwargs: Any) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        try:
            argv, flags = normalise(self, argv)
        except click.UsageError as exc:
            fail("--json" in argv, UsageError(exc.format_message()))
        saved = {key: os.environ.get(key) for key in ENVIRONMENT}
        try:
            return super().main(apply(flags, argv), *rest, **kwargs)
        finally:  # a command run in-process (tests, a Python caller) leaves the environment as it was
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value

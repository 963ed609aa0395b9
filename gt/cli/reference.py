"""docs/cli.md, generated from the click definitions so it cannot drift: `python -m gt.cli.reference`.

A test fails when the committed file differs from what this prints (the one generated file in git).
"""
from __future__ import annotations

from collections.abc import Iterator

import click

HEADER = """# Command reference

Generated from the click definitions by `python -m gt.cli.reference > docs/cli.md`; a test fails
when this file is stale. Every command also takes `--json` (JSON on stdout, errors as
`{"error", "code"}` on stderr) and `--actor NAME` / `--identity NAME` to act as someone else for one
command (`bd stats`, `bd audit` and `gt feed` use `--actor` as a filter, so only `--identity` there).
"""


def walk(cmd: click.Command, path: str) -> Iterator[tuple[str, click.Command]]:
    """CMD at PATH ("gt rig"), then every command under it, nested groups included, in `--help` order."""
    yield path, cmd
    if isinstance(cmd, click.Group):
        ctx = click.Context(cmd)
        for name in cmd.list_commands(ctx):
            sub = cmd.get_command(ctx, name)
            if sub is not None:
                yield from walk(sub, f"{path} {name}")


def commands() -> Iterator[tuple[str, click.Command]]:
    """Every command of `gt` and `bd` (not the two groups themselves), by its full path ("bd dep remove")."""
    from gt.cli.bd import bd
    from gt.cli.gt import gt

    for group, name in ((gt, "gt"), (bd, "bd")):
        for path, cmd in walk(group, name):
            if cmd is not group:
                yield path, cmd


def examples(cmd: click.Command) -> list[str]:
    """The commands shown on the `Example:` lines of CMD's help (a note after three spaces, `   (…)`, kept)."""
    return [line.strip()[len("Example:"):].strip() for line in (cmd.help or "").splitlines()
            if line.strip().startswith("Example:")]


def _usage(cmd: click.Command, path: str) -> str:
    ctx = click.Context(cmd, info_name=path)
    return " ".join(cmd.collect_usage_pieces(ctx))


def _options(cmd: click.Command) -> list[str]:
    rows = []
    for param in cmd.params:
        if isinstance(param, click.Option) and param.name not in ("as_json", "acting_as", "help"):
            names = ", ".join(f"`{o}`" for o in param.opts + param.secondary_opts)
            rows.append(f"- {names}: {param.help or ''}".rstrip())
    return rows


def _section(cmd: click.Command, path: str, level: int) -> list[str]:
    out = [f"{'#' * level} `{path}`", "", f"`{path} {_usage(cmd, path)}`", ""]
    help_text = (cmd.help or "").strip()
    if help_text:
        out += [click.unstyle(line.strip()) if not line.strip().startswith("Example:") else
                f"Example: `{line.strip()[len('Example:'):].strip()}`" for line in help_text.splitlines()]
        out.append("")
    options = _options(cmd)
    if options:
        out += options + [""]
    return out


def render() -> str:
    from gt.cli.bd import bd
    from gt.cli.gt import gt

    lines = [HEADER]
    for group, name in ((gt, "gt"), (bd, "bd")):
        ctx = click.Context(group)
        lines += [f"## `{name}`", "", (group.help or "").strip(), ""]
        sections = getattr(group, "sections", {}) or {"Commands": tuple(group.list_commands(ctx))}
        placed = {n for members in sections.values() for n in members}
        others = tuple(n for n in group.list_commands(ctx)
                       if n not in placed and (found := group.get_command(ctx, n)) is not None and not found.hidden)
        for title, members in {**sections, **({"Other": others} if others else {})}.items():
            lines += [f"### {title}", ""]
            for member in members:
                cmd = group.get_command(ctx, member)
                if cmd is not None and not cmd.hidden:  # hidden: internal (gt hook-impl)
                    for path, sub in walk(cmd, f"{name} {member}"):
                        lines += _section(sub, path, 4)
    return "\n".join(line.rstrip() for line in lines).rstrip() + "\n"


if __name__ == "__main__":
    print(render(), end="")

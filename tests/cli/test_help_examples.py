"""Every command's help shows an example of that very command, not one pasted from a neighbour.

The commands come from the walker that generates docs/cli.md (gt.cli.reference). That every
example also parses as a valid command line is checked in tests/cli/test_readme.py
(test_every_command_shown_in_the_docs_parses).
"""
from __future__ import annotations

import re

import click

from gt.cli.reference import commands, examples


def invoked(example: str) -> list[str]:
    """The words of the gt/bd command an example runs: its note (`   (…)`) dropped, and taken out of
    a `$(…)` when the example wraps it (`eval "$(gt role env)"`)."""
    text = example.split("   (")[0].strip()
    wrapped = re.search(r"\$\(((?:gt|bd) [^)]*)\)", text)
    if wrapped and not re.match(r"(gt|bd) ", text):
        text = wrapped.group(1)
    return text.split()


def wrong_examples(path: str, cmd: click.Command) -> list[str]:
    """CMD's examples that do not invoke PATH (for a group: that do not start with the group's path)."""
    words = path.split()
    return [e for e in examples(cmd) if invoked(e)[:len(words)] != words]


def test_the_walk_reaches_nested_commands():
    paths = [path for path, _ in commands()]
    assert len(paths) > 100 and len(paths) == len(set(paths))
    assert {"gt rig", "gt rig list", "gt convoy stranded", "bd dep", "bd dep remove", "bd create"} <= set(paths)
    assert "gt" not in paths and "bd" not in paths


def test_every_command_has_an_example():
    assert [path for path, cmd in commands() if not examples(cmd)] == []


def test_every_example_invokes_its_own_command():
    wrong = {path: bad for path, cmd in commands() if (bad := wrong_examples(path, cmd))}
    assert wrong == {}


def test_no_command_repeats_an_example():
    repeated = {path: found for path, cmd in commands() if len(found := examples(cmd)) != len(set(found))}
    assert repeated == {}


def test_the_check_catches_an_example_of_a_neighbour():
    @click.group()
    def rig() -> None:
        """Rigs.

        Example: gt rig add gizmo ~/src/gizmo
        """

    @rig.command("list")
    def list_() -> None:
        """The town's rigs.

        Example: gt rig remove gizmo
        """

    assert wrong_examples("gt rig", rig) == []
    assert wrong_examples("gt rig list", list_) == ["gt rig remove gizmo"]
    assert wrong_examples("gt ri", rig) == ["gt rig add gizmo ~/src/gizmo"]  # whole words, not a prefix
    assert invoked('eval "$(gt role env)"') == ["gt", "role", "env"]
    assert invoked("gt worktree add beads   (same as: gt worktree beads)") == ["gt", "worktree", "add", "beads"]

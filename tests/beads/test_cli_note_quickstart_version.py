"""`bd version`, `bd note` and `bd quickstart`: commands of the original bd's contract."""
from __future__ import annotations

import re
import shlex
from importlib.metadata import version as installed

from conftest import Bd, git, last_message, make_repo, trailers


# -- version -----------------------------------------------------------------------------------


def test_version_text_and_json(tmp_path):
    number = installed("gastown-git")
    bd = Bd(tmp_path)  # not a git repository: no ledger is opened
    # the original's release whose contract this bd speaks first (tools check it), then our own
    assert bd("version").stdout == f"bd version 1.0.3 (gastown-git {number})\n"
    assert bd.json("version") == {"version": "1.0.3", "build": f"gastown-git {number}", "name": "gastown-git",
                                  "package_version": number}
    assert bd("--version").stdout == bd("version").stdout
    assert bd("--json", "version").stdout == bd("version", "--json").stdout  # a root flag before the command


def test_version_as_a_process_gives_the_number_first(tmp_path):
    out = Bd(tmp_path).proc("version").stdout
    first = re.search(r"\d+\.\d+\.\d+", out).group(0)  # type: ignore[union-attr]
    assert tuple(int(n) for n in first.split(".")) >= (0, 9, 0)  # what beads-mcp requires
    assert installed("gastown-git") in out


# -- note --------------------------------------------------------------------------------------


def test_note_is_update_append_notes(bd, repo):
    a = bd("create", "A").stdout.strip()
    b = bd("create", "B").stdout.strip()
    for text in ("First finding", "Second finding"):
        bd("note", a, text)
        bd("update", b, "--append-notes", text)
    shown_a, shown_b = bd.show(a), bd.show(b)
    assert shown_a["notes"] == shown_b["notes"] == "First finding\nSecond finding"
    bd("note", a, "Third")
    by_note = last_message(repo)
    bd("update", b, "--append-notes", "Third")
    by_update = last_message(repo)
    assert trailers(by_note, "Bead-Id") == [a] and trailers(by_note, "Op") == ["update"]
    assert by_note.replace(a, b) == by_update  # the same commit, subject and trailers


def test_note_words_file_stdin_and_json(bd, tmp_path):
    bead = bd("create", "A").stdout.strip()
    assert bd("note", bead, "several", "words").stdout == f"Note added to {bead}\n"
    path = tmp_path / "note.txt"
    path.write_text("from a file")
    bd("note", bead, "-f", str(path))
    doc = bd.json("note", bead[:6], "--file", "-", input="from stdin")
    assert doc["id"] == bead
    assert doc["notes"] == "several words\nfrom a file\nfrom stdin"


def test_note_refusals(bd):
    bead = bd("create", "A").stdout.strip()
    assert bd("note", bead, ok=False).exit_code == 2
    assert bd("note", bead, "", ok=False).exit_code == 2
    assert bd("note", bead, "text", "-f", "-", ok=False, input="x").exit_code == 2  # both
    missing = bd("note", "gt-nosuch", "text", ok=False)
    assert missing.exit_code == 1 and "no bead" in missing.stderr


# -- quickstart --------------------------------------------------------------------------------


def guide_commands(text: str) -> list[str]:
    """The command lines the guide shows: indented `bd …`, up to the two spaces before its note."""
    found = []
    for line in text.splitlines():
        match = re.match(r"  (bd \S.*?)(?:\s{2,}\S.*)?$", line)
        if match:
            found.append(match.group(1))
    return found


def test_quickstart_needs_no_repository(tmp_path):
    bd = Bd(tmp_path)
    text = bd("quickstart").stdout
    assert "bd ready" in text and "bd create" in text and "bd note" in text
    assert bd.json("quickstart") == {"guide": text}


def test_every_command_in_the_quickstart_runs(tmp_path):
    hub = tmp_path / "hub.git"
    git(tmp_path, "init", "-q", "--bare", str(hub))
    repo = make_repo(tmp_path / "proj")
    git(repo, "remote", "add", "origin", str(hub))
    bd = Bd(repo)
    commands = guide_commands(bd("quickstart").stdout)
    assert len(commands) >= 15 and commands[0].startswith("bd init")
    listed = bd("--help").stdout
    for line in commands:
        args = shlex.split(line)[1:]
        assert re.search(rf"^  {re.escape(args[0])}\s", listed, re.M), f"{args[0]} is not in bd --help"
        if args[0] != "init":  # fresh beads for each command: ID and OTHER in the guide
            ids = {"ID": bd("create", "the bead").stdout.strip(), "OTHER": bd("create", "the other").stdout.strip()}
            args = [re.sub(r"\b(ID|OTHER)\b", lambda m, ids=ids: ids[m.group(1)], a) for a in args]
        bd(*args)  # must succeed
    assert git(hub, "rev-parse", "beads").strip() == git(repo, "rev-parse", "beads").strip()  # bd sync pushed


def test_guide_commands_are_found():
    text = "  bd show ID                  what it is\n  bd note ID \"a  b\"\nnot bd x\n     bd indented more\n"
    assert guide_commands(text) == ["bd show ID", 'bd note ID "a']  # two spaces end a command: keep them out of quotes

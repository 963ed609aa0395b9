"""Bad input: every user mistake ends in a clear one-line error and exit code 1 or 2, never a traceback.

The bytes cases run `bd` and `gt` as real processes (argv as the kernel passes it: the traceback and
the exit code a user sees); the others run in-process through Click's runner, which is equivalent
here (an exception escapes into the test) and much faster; set GT_BAD_INPUT_PROCESSES=1 to run
them all as processes. Arguments over 128 KiB run in-process only: Linux refuses to exec one that
long. Cases share one repository (or town) per module: every refused write must leave the
ledger heads where they were. The cases: ids and prefixes, names of rigs,
crew and polecats, bytes that are not UTF-8 in every text argument, sizes, wrong types and
malformed lines in `bd import`, bead files of the wrong shape committed by hand, option values.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import BIN, FIXTURES, TIMEOUT, Bd, bead_path

X = b"\xff\xfe"  # bytes that are not UTF-8 (what a Latin-1 terminal or a binary file gives)
C = b"\xc3("  # a truncated UTF-8 sequence
KIB = 1024
LONG = "a" * 100 * KIB  # long, yet under the kernel's 128 KiB limit on one argument


# -- places: built once per module, shared by every case that leaves them unchanged ------------------


def hermetic_env(home: Path) -> dict[str, str]:
    """The environment of every process here: no developer config, no identity variables."""
    drop = {"BD_ACTOR", "GIT_DIR", "GIT_WORK_TREE", "GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME",
            "GIT_COMMITTER_EMAIL", "GT_ROOT", "GT_ROLE", "GT_RIG", "GT_POLECAT", "GT_CREW", "GT_DOG", "GT_DEBUG"}
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(HOME=str(home), GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=str(home / ".gitconfig"))
    return env


PROCESSES = os.environ.get("GT_BAD_INPUT_PROCESSES", "") not in ("", "0")


def run(cwd: Path, env: dict[str, str], args: tuple[str | bytes, ...],
        stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    """`bd …` or `gt …` as a real process."""
    tool, *rest = args
    return subprocess.run([str(BIN / str(tool)), *rest], cwd=cwd, env=env, input=stdin, capture_output=True,
                          timeout=TIMEOUT)


def invoke(cwd: Path, env: dict[str, str], args: tuple[str | bytes, ...], stdin: bytes | None = None,
           process: bool = False) -> subprocess.CompletedProcess[bytes]:
    """The same in-process (an unexpected exception fails the test with its traceback)."""
    if process or PROCESSES or any(isinstance(a, bytes) for a in args):
        return run(cwd, env, args, stdin)
    from click.testing import CliRunner

    from gt.cli.bd import bd
    from gt.cli.gt import gt

    tool, *rest = args
    group = bd if tool == "bd" else gt
    before = os.getcwd()
    os.chdir(cwd)
    try:
        result = CliRunner().invoke(group, [str(a) for a in rest], input=stdin, catch_exceptions=False,
                                    env={k: env[k] for k in ("HOME", "GIT_CONFIG_GLOBAL", "GIT_CONFIG_NOSYSTEM")})
    finally:
        os.chdir(before)
    return subprocess.CompletedProcess(list(args), result.exit_code, result.stdout_bytes, result.stderr_bytes)


def ok(cwd: Path, env: dict[str, str], *args: str | bytes) -> str:
    result = run(cwd, env, args)
    assert result.returncode == 0, f"{args}: {result.stderr.decode()}"
    return result.stdout.decode().strip()


@dataclass
class Place:
    path: Path  # where commands run
    env: dict[str, str]
    gitdirs: tuple[Path, ...]  # whose ledger must not move when a write is refused
    names: dict[str, str]  # {bead}, {other}… in a case's arguments

    def refs(self) -> list[str | None]:
        from gt.ledger.gitdir import read_ref

        return [read_ref(str(d), "refs/heads/beads") for d in self.gitdirs]


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    folder = tmp_path_factory.mktemp("bad-input")
    (folder / "home").mkdir()
    env = hermetic_env(folder / "home")
    subprocess.run(["git", "config", "--global", "user.name", "Tess Ter"], env=env, check=True, timeout=TIMEOUT)
    subprocess.run(["git", "config", "--global", "user.email", "tess@example.com"], env=env, check=True,
                   timeout=TIMEOUT)
    return folder, env


def git_init(path: Path, env: dict[str, str]) -> Path:
    path.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], env=env, check=True, timeout=TIMEOUT)
    return path


@pytest.fixture(scope="module")
def shared(home: tuple[Path, dict[str, str]]) -> Place:
    """A repository whose ledger (prefix gt) holds two beads, one depending on the other."""
    folder, env = home
    path = git_init(folder / "repo", env)
    ok(path, env, "bd", "init", "--prefix", "gt")
    bead = ok(path, env, "bd", "create", "A bead", "-d", "text")
    other = ok(path, env, "bd", "create", "Another")
    ok(path, env, "bd", "dep", "add", bead, other)
    return Place(path, env, (path / ".git",), {"bead": bead, "other": other})


@pytest.fixture(scope="module")
def plain(home: tuple[Path, dict[str, str]]) -> Place:
    """A git repository without a ledger (for `bd init` cases)."""
    folder, env = home
    path = git_init(folder / "plain", env)
    return Place(path, env, (path / ".git",), {})


@pytest.fixture(scope="module")
def shared_town(home: tuple[Path, dict[str, str]]) -> Place:
    """A town with rig gizmo (gz) and a bead in it."""
    folder, env = home
    root = folder / "gt"
    ok(folder, env, "gt", "install", str(root), "--actor", "steve")
    subprocess.run([sys.executable, str(FIXTURES / "make_sample.py"), str(folder / "src"), "--name", "gizmo"],
                   env=env, check=True, capture_output=True, timeout=TIMEOUT)
    ok(root, env, "gt", "rig", "add", "gizmo", str(folder / "src"), "--prefix", "gz")
    bead = ok(root, env, "bd", "create", "Rig work", "--rig", "gizmo")
    return Place(root, env, (root / ".git", root / "gizmo" / ".repo.git"), {"bead": bead, "src": str(folder / "src")})


BAD_FILES = {  # bead files of the wrong shape, as plain git can commit them: id -> YAML text
    "gt-list1": "- a\n- b\n",
    "gt-scalar1": "just a string\n",
    "gt-empty1": "",
    "gt-unclosed1": "id: gt-unclosed1\ntitle: [unclosed\n",
    "gt-titlemap1": "id: gt-titlemap1\ntitle: {a: 1}\nstatus: open\npriority: 2\n",
    "gt-prilist1": "id: gt-prilist1\ntitle: t\nstatus: open\npriority: [1]\n",
    "gt-statnum1": "id: gt-statnum1\ntitle: t\nstatus: 5\npriority: 2\n",
    "gt-depmap1": "id: gt-depmap1\ntitle: t\nstatus: open\npriority: 2\ndependencies: {a: b}\n",
    "gt-labstr1": "id: gt-labstr1\ntitle: t\nstatus: open\npriority: 2\nlabels: abc\n",
    "gt-comint1": "id: gt-comint1\ntitle: t\nstatus: open\npriority: 2\ncomments: [1, 2]\n",
    "gt-idother1": "id: gt-other\ntitle: t\nstatus: open\npriority: 2\n",
    "gt-dupkey1": "id: gt-dupkey1\ntitle: t\ntitle: u\nstatus: open\npriority: 2\n",
    "gt-tab1": "id: gt-tab1\n\ttitle: t\n",
    "gt-pytag1": "id: gt-pytag1\ntitle: !!python/object:os.system t\nstatus: open\npriority: 2\n",
    "gt-stamps1": "id: gt-stamps1\ntitle: t\nstatus: open\npriority: 2\nstamps: [1]\n",
    "gt-deptgt1": "id: gt-deptgt1\ntitle: t\nstatus: open\npriority: 2\ndependencies: [{type: blocks}]\n",
    "gt-typelist1": "id: gt-typelist1\ntitle: t\nstatus: open\npriority: 2\ntype: [1]\n",
    "gt-labnest1": "id: gt-labnest1\ntitle: t\nstatus: open\npriority: 2\nlabels: [[a]]\n",
    "gt-bool1": "id: gt-bool1\ntitle: true\nstatus: open\npriority: true\n",
    "gt-nulid1": "id:\ntitle: t\nstatus: open\npriority: 2\n",
    "gt-notutf1": "id: gt-notutf1\ntitle: \udcff\udcfe\nstatus: open\npriority: 2\n",
}


@pytest.fixture(scope="module")
def hand(home: tuple[Path, dict[str, str]]) -> Place:
    """A ledger with a good bead and, committed with plain git, one bead file of each bad shape."""
    folder, env = home
    path = git_init(folder / "hand", env)
    ok(path, env, "bd", "init", "--prefix", "gt")
    good = ok(path, env, "bd", "create", "Good")
    index = {**env, "GIT_INDEX_FILE": str(path / ".git" / "hand-index")}

    def git(*args: str, stdin: bytes | None = None) -> str:
        return subprocess.run(["git", *args], cwd=path, env=index, input=stdin, capture_output=True, check=True,
                              timeout=TIMEOUT).stdout.decode().strip()

    git("read-tree", "beads")
    for bead_id, text in BAD_FILES.items():
        blob = git("hash-object", "-w", "--stdin", stdin=text.encode("utf-8", "surrogateescape"))
        git("update-index", "--add", "--cacheinfo", f"100644,{blob},{bead_path(bead_id)}")
    commit = git("commit-tree", git("write-tree"), "-p", "beads", "-m", "hand edits")
    git("update-ref", "refs/heads/beads", commit)
    return Place(path, env, (path / ".git",), {"good": good})


# -- what a clean failure looks like ----------------------------------------------------------------


def assert_clean(result: subprocess.CompletedProcess[bytes], code: int, says: str = "",
                 as_json: bool = False) -> str:
    """Exit `code`; stderr one `Error: …` line (after Click's usage lines for a usage error) or one
    JSON object; no traceback, no internal error. Returns the message."""
    out, err = result.stdout.decode("utf-8", "replace"), result.stderr.decode("utf-8", "replace")
    shown = f"exit {result.returncode}\nstdout: {out[:2000]}\nstderr: {err[:2000]}"
    assert "Traceback" not in out + err, shown
    assert "internal error" not in err, shown
    assert result.returncode == code, shown
    lines = [line for line in err.splitlines() if line.strip()]
    if as_json:
        assert len(lines) == 1, shown
        error = json.loads(lines[0])
        assert set(error) == {"error", "code"} and error["error"], shown
        assert error["code"] == "usage" if code == 2 else error["code"] != "usage", shown
        message = error["error"]
    else:
        assert lines and lines[-1].startswith("Error: "), shown
        assert all(line.startswith(("Usage: ", "Try '")) for line in lines[:-1]), shown
        message = lines[-1]
    assert says.lower() in message.lower(), shown
    slips = ("No such option", "Missing option", "Missing argument", "unexpected extra argument")
    assert not any(slip in message and slip.lower() not in says.lower() for slip in slips), \
        f"the case itself is malformed: {shown}"
    return message


def check(place: Place, args: tuple[str | bytes, ...], code: int, says: str = "",
          stdin: bytes | None = None, process: bool = False) -> str:
    """Run a case in `place` (bytes in the arguments: as a real process): a clean failure, and every
    ledger where it was. Returns the message."""
    args = tuple(a.format(**place.names) if isinstance(a, str) else a for a in args)
    before = place.refs()
    message = assert_clean(invoke(place.path, place.env, args, stdin, process), code, says, as_json="--json" in args)
    assert place.refs() == before, f"{args} changed a ledger"
    return message


def cases(*rows: tuple[object, ...]) -> list[object]:
    """pytest params from (args, code[, says[, stdin]]) rows, named by their arguments."""
    out = []
    for row in rows:
        args = row[0]
        assert isinstance(args, tuple)
        name = " ".join(a if isinstance(a, str) else repr(a) for a in args)
        out.append(pytest.param(*row, id=name[:80].replace("\n", "\\n")))
    return out


# -- bytes that are not UTF-8, in every text argument ------------------------------------------------

BYTES_IN_REPO = cases(
    (("bd", "create", X + b" title"), 2, "TITLE is not valid UTF-8"),
    (("bd", "create", C), 2, "TITLE"),
    (("bd", "create", "t", "-d", X), 2, "--description"),
    (("bd", "create", "t", "--design", X), 2, "--design"),
    (("bd", "create", "t", "--acceptance", X), 2, "--acceptance"),
    (("bd", "create", "t", "-l", X), 2, "--label"),
    (("bd", "create", "t", "-a", X), 2, "--assignee"),
    (("bd", "create", "t", "--parent", X), 2, "--parent"),
    (("bd", "create", "t", "--deps", b"blocks:" + X), 2, "--deps"),
    (("bd", "create", "t", "--id", b"gt-" + X), 2, "--id"),
    (("bd", "create", "t", "--external-ref", X), 2, "--external-ref"),
    (("bd", "create", "t", "-t", X), 2, "--type"),
    (("bd", "create", "t", "-p", X), 2, "--priority"),
    (("bd", "create", "t", "--prefix", X), 2, "--prefix"),
    (("bd", "create", "t", "--rig", X), 2, "--rig"),
    (("bd", "create", "t", "--actor", X), 2, "--actor"),
    (("bd", "update", "{bead}", "--title", C), 2, "--title"),
    (("bd", "update", X, "--title", "t"), 2, "IDS"),
    (("bd", "update", "{bead}", "-s", X), 2, "--status"),
    (("bd", "update", "{bead}", "-p", X), 2, "--priority"),
    (("bd", "update", "{bead}", "-t", X), 2, "--type"),
    (("bd", "update", "{bead}", "-a", X), 2, "--assignee"),
    (("bd", "update", "{bead}", "--add-label", X), 2, "--add-label"),
    (("bd", "update", "{bead}", "--remove-label", X), 2, "--remove-label"),
    (("bd", "update", "{bead}", "--notes", X), 2, "--notes"),
    (("bd", "update", "{bead}", "--append-notes", X), 2, "--append-notes"),
    (("bd", "update", "{bead}", "-d", X), 2, "--description"),
    (("bd", "update", "{bead}", "--design", X), 2, "--design"),
    (("bd", "update", "{bead}", "--acceptance", X), 2, "--acceptance"),
    (("bd", "update", "{bead}", "--external-ref", X), 2, "--external-ref"),
    (("bd", "update", "{bead}", "--due", X), 2, "--due"),
    (("bd", "update", "{bead}", "--defer", X), 2, "--defer"),
    (("bd", "update", "{bead}", "--parent", X), 2, "--parent"),
    (("bd", "close", X), 2, "IDS"),
    (("bd", "close", "{bead}", "-r", X), 2, "--reason"),
    (("bd", "reopen", "{bead}", "-r", X), 2, "--reason"),
    (("bd", "delete", "{bead}", "-r", X), 2, "--reason"),
    (("bd", "comment", "{bead}", b"\xff\xff"), 2, "TEXT"),
    (("bd", "comment", X, "text"), 2, "BEAD"),
    (("bd", "comments", X), 2, "BEAD"),
    (("bd", "show", X), 2, "IDS"),
    (("bd", "history", X), 2, "BEAD"),
    (("bd", "dep", "add", "{bead}", X), 2, "DEPENDS_ON"),
    (("bd", "dep", "add", "{bead}", "{other}", "-t", X), 2, "--type"),
    (("bd", "dep", "remove", X, "{other}"), 2, "BEAD"),
    (("bd", "dep", "tree", X), 2, "BEAD"),
    (("bd", "label", "add", "{bead}", X), 2, "LABEL"),
    (("bd", "label", "remove", "{bead}", X), 2, "LABEL"),
    (("bd", "list", "-s", X), 2, "--status"),
    (("bd", "list", "-p", X), 2, "--priority"),
    (("bd", "list", "-t", X), 2, "--type"),
    (("bd", "list", "-a", X), 2, "--assignee"),
    (("bd", "list", "-l", X), 2, "--label"),
    (("bd", "list", "--parent", X), 2, "--parent"),
    (("bd", "ready", "-a", X), 2, "--assignee"),
    (("bd", "ready", "-l", X), 2, "--label"),
    (("bd", "ready", "-t", X), 2, "--type"),
    (("bd", "search", X), 2, "TEXT"),
    (("bd", "count", "-s", X), 2, "--status"),
    (("bd", "stats", "--actor", X), 2, "--actor"),
    (("bd", "stats", "--since", X), 2, "--since"),
    (("bd", "stats", "--until", X), 2, "--until"),
    (("bd", "audit", "--actor", X), 2, "--actor"),
    (("bd", "audit", "--actor", "a", "--since", X), 2, "--since"),
    (("bd", "config", "set", X, "v"), 2, "KEY"),
    (("bd", "config", "set", "types", X), 2, "VALUE"),
    (("bd", "sync", "--remote", X), 2, "--remote"),
    (("bd", "hooks", "install", "--bare", X), 2, "--bare"),
    (("bd", "create", "t", "--json", "-d", X), 2, "--description"),
    (("bd", "comment", "{bead}", "-f", "-"), 2, "not UTF-8", X),
    (("bd", "create", "t", "--description-file", "-"), 2, "not UTF-8", b"ok\n" + C),
    (("bd", "import", "--strict", "-"), 1, "<stdin>:2: not UTF-8", b'{"id": "gt-ok1", "title": "t"}\n{"title": "' + X + b'"}\n'),
)


@pytest.mark.parametrize("args, code, says, stdin", [
    pytest.param(*p.values, *([None] * (4 - len(p.values))), id=p.id) for p in BYTES_IN_REPO  # type: ignore[attr-defined]
])
def test_bytes_in_arguments(shared: Place, args, code, says, stdin):
    check(shared, args, code, says, stdin, process=True)


def test_bytes_in_the_actor_variable(shared: Place):
    place = Place(shared.path, {**shared.env, "BD_ACTOR": "caf\udce9"}, shared.gitdirs, shared.names)
    before = place.refs()
    assert_clean(run(place.path, place.env, ("bd", "create", "t")), 2, "BD_ACTOR is not valid UTF-8")
    assert place.refs() == before


def test_bytes_in_init(plain: Place):
    check(plain, ("bd", "init", "--prefix", X), 2, "--prefix", process=True)
    check(plain, ("bd", "init", "--branch", X), 2, "--branch", process=True)


BYTES_IN_TOWN = cases(
    (("gt", "rig", "add", X, "{src}"), 2, "NAME"),
    (("gt", "rig", "add", "newrig", "{src}", "--prefix", X), 2, "--prefix"),
    (("gt", "rig", "add", "newrig", b"/tmp/" + X), 2, "GIT_URL_OR_PATH"),
    (("gt", "rig", "remove", X), 2, "NAME"),
    (("gt", "crew", "add", X, "--rig", "gizmo"), 2, "NAME"),
    (("gt", "crew", "add", "max", "--rig", X), 2, "--rig"),
    (("gt", "crew", "show", X, "--rig", "gizmo"), 2, "NAME"),
    (("gt", "mail", "send", X, "-s", "s", "-m", "m"), 2, "TO"),
    (("gt", "mail", "send", "mayor", "-s", X, "-m", "m"), 2, "--subject"),
    (("gt", "mail", "send", "mayor", "-s", "s", "-m", C), 2, "--message"),
    (("gt", "mail", "send", "mayor", "-s", "s", "--body-file", "-"), 2, "not UTF-8", X),
    (("gt", "mail", "read", X), 2, "MESSAGE_ID"),
    (("gt", "convoy", "create", X), 2, "NAME"),
    (("gt", "convoy", "create", "c", X), 2, "BEADS"),
    (("gt", "convoy", "status", X), 2, "CONVOY"),
    (("gt", "nudge", X, "m"), 2, "AGENT"),
    (("gt", "nudge", "mayor", X), 2, "MESSAGE"),
    (("gt", "hook", X), 2, "BEAD"),
    (("gt", "hook", "{bead}", X), 2, "AGENT"),
    (("gt", "sling", X, "gizmo"), 2, "BEAD"),
    (("gt", "sling", "{bead}", "gizmo", "--model", X), 2, "--model"),
    (("gt", "polecat", "identity", "show", X), 2, "RIG/NAME"),
    (("gt", "feed", "--since", X), 2, "--since"),
    (("gt", "remote", "set", X), 2, "URL"),
    (("gt", "handoff", "-m", X), 2, "--message"),
    (("gt", "whoami", "--actor", X), 2, "--actor"),
    (("gt", "dog", "call", X), 2, "NAME"),
    (("gt", "mq", "reject", X, "--rig", "gizmo", "-r", "no"), 2, "MR"),
    (("gt", "mq", "reject", "gz-x", "--rig", "gizmo", "-r", X), 2, "--reason"),
    (("gt", "witness", "patrol", X), 2, "RIG"),
    (("gt", "worktree", "add", X), 2, "RIG"),
    (("gt", "session", "attach", X), 2, "AGENT"),
    (("gt", "unsling", X), 2, "AGENT"),
    (("gt", "convoy", "create", X, "--json"), 2, "NAME"),
)


@pytest.mark.parametrize("args, code, says, stdin", [
    pytest.param(*p.values, *([None] * (4 - len(p.values))), id=p.id) for p in BYTES_IN_TOWN  # type: ignore[attr-defined]
])
def test_bytes_in_town_arguments(shared_town: Place, args, code, says, stdin):
    check(shared_town, args, code, says, stdin, process=True)


# -- ids, prefixes and names ------------------------------------------------------------------------

IDS = cases(
    (("bd", "show", ""), 2, "empty bead id"),
    (("bd", "show", "   "), 2, "empty bead id"),
    (("bd", "show", "../../etc/passwd"), 1, "no bead"),
    (("bd", "show", "gt-a/b"), 1, "no bead"),
    (("bd", "show", "gt-zzzzzz9"), 1, "no bead"),
    (("bd", "show", "gt-a\nb"), 1, "no bead gt-a\\nb"),
    (("bd", "show", "gt-é"), 1, "no bead"),
    (("bd", "show", "*"), 1, "no bead"),
    (("bd", "show", "gt-" + LONG), 1, "no bead"),
    (("bd", "show", "gt"), 1, "ambiguous"),
    (("bd", "update", "../x", "-p", "1"), 1, "no bead"),
    (("bd", "close", "gt-nope"), 1, "no bead"),
    (("bd", "delete", "gt-nope"), 1, "no bead"),
    (("bd", "comment", "gt-nope", "hi"), 1, "no bead"),
    (("bd", "label", "add", "gt-nope", "x"), 1, "no bead"),
    (("bd", "history", "$(whoami)"), 1, "no bead"),
    (("bd", "dep", "add", "{bead}", "../x"), 1, "no bead"),
    (("bd", "dep", "add", "../x", "{bead}"), 1, "no bead"),
    (("bd", "dep", "add", "{bead}", "{bead}"), 1, "cycle"),
    (("bd", "dep", "add", "{other}", "{bead}"), 1, "cycle"),
    (("bd", "dep", "remove", "{other}", "{bead}"), 1, "has no dependency on"),
    (("bd", "dep", "tree", "gt-nope"), 1, "no bead"),
    (("bd", "create", "t", "--id", "../x"), 2, "invalid bead id"),
    (("bd", "create", "t", "--id", "gt-a b"), 2, "invalid bead id"),
    (("bd", "create", "t", "--id", "gt-" + "a" * 250), 2, "invalid bead id"),
    (("bd", "create", "t", "--id", "gt-" + LONG), 2, "invalid bead id"),
    (("bd", "create", "t", "--id", "gt-a..b"), 2, "invalid bead id"),
    (("bd", "create", "t", "--id", "{bead}"), 1, "exists"),
    (("bd", "create", "t", "--parent", "../x"), 1, "no bead"),
    (("bd", "create", "t", "--deps", "blocks"), 1, "no bead blocks"),
    (("bd", "create", "t", "--deps", "bogus:{bead}"), 2, "dependency type"),
    (("bd", "create", "t", "--deps", ":"), 2, "invalid dependency type"),
    (("bd", "create", "t", "--deps", "blocks:gt-nope"), 1, "no bead"),
    (("bd", "create", "t", "--prefix", "zz"), 1, "not in a town"),
    (("bd", "create", "t", "--rig", "../x"), 1, "not in a town"),
    (("bd", "label", "add", "{bead}", ""), 2, "label"),
    (("bd", "comments", "../x"), 1, "no bead"),
    (("bd", "show", "../x", "--json"), 1, "no bead"),
)


@pytest.mark.parametrize("args, code, says", IDS)
def test_ids(shared: Place, args, code, says):
    check(shared, args, code, says)


PREFIXES = cases(
    (("bd", "init", "--prefix", "../x"), 2, "invalid prefix"),
    (("bd", "init", "--prefix", "A!"), 2, "invalid prefix"),
    (("bd", "init", "--prefix", "x-"), 2, "invalid prefix"),
    (("bd", "init", "--prefix", "-x"), 2, "invalid prefix"),
    (("bd", "init", "--prefix", "a" * 33), 2, "invalid prefix"),
    (("bd", "init", "--prefix", LONG), 2, "invalid prefix"),
    (("bd", "init", "--prefix", "a b"), 2, "invalid prefix"),
    (("bd", "init", "--prefix", "é"), 2, "invalid prefix"),
    (("bd", "init", "--prefix", "a/b"), 2, "invalid prefix"),
    (("bd", "init", "--branch", "a..b"), 2, "invalid branch name"),
    (("bd", "init", "--branch", "a b"), 2, "invalid branch name"),
    (("bd", "init", "--branch", "x.lock"), 2, "invalid branch name"),
    (("bd", "init", "--branch", "@"), 2, "invalid branch name"),
    (("bd", "init", "--branch", "a~1"), 2, "invalid branch name"),
    (("bd", "init", "--branch", "/abs"), 2, "invalid branch name"),
)


@pytest.mark.parametrize("args, code, says, stdin", [
    pytest.param(*p.values, *([None] * (4 - len(p.values))), id=p.id) for p in PREFIXES  # type: ignore[attr-defined]
])
def test_prefixes_and_branches(plain: Place, args, code, says, stdin):
    check(plain, args, code, says, stdin)


NAMES = cases(
    (("gt", "rig", "add", "../x", "{src}"), 2, "rig name"),
    (("gt", "rig", "add", "a/b", "{src}"), 2, "rig name"),
    (("gt", "rig", "add", "", "{src}"), 2, "rig name"),
    (("gt", "rig", "add", ".hidden", "{src}"), 2, "rig name"),
    (("gt", "rig", "add", "a b", "{src}"), 2, "rig name"),
    (("gt", "rig", "add", "x" * 300, "{src}"), 2, "rig name"),
    (("gt", "rig", "add", LONG, "{src}"), 2, "rig name"),
    (("gt", "rig", "add", "mayor", "{src}"), 2, "reserved"),
    (("gt", "rig", "add", "settings", "{src}"), 2, "reserved"),
    (("gt", "rig", "add", "gizmo", "{src}"), 1, "exists"),
    (("gt", "rig", "add", "newrig", "{src}", "--prefix", "hq"), 1, "prefix"),
    (("gt", "rig", "add", "newrig", "{src}", "--prefix", "gz"), 1, "prefix"),
    (("gt", "rig", "add", "newrig", "{src}", "--prefix", "../x"), 2, "invalid prefix"),
    (("gt", "rig", "add", "newrig", "/no/such/path"), 1, "does not exist"),
    (("gt", "rig", "add", "newrig", "ext::sh -c touch% /tmp/pwned"), 2, "refused URL"),
    (("gt", "rig", "add", "newrig", "--", "-uhack"), 2, "read it as an option"),
    (("gt", "rig", "remove", "nosuch"), 1, "nosuch"),
    (("gt", "rig", "remove", "../x"), 1, "no rig named ../x"),
    (("gt", "crew", "add", "../x", "--rig", "gizmo"), 2, "name"),
    (("gt", "crew", "add", "a/b", "--rig", "gizmo"), 2, "name"),
    (("gt", "crew", "add", "", "--rig", "gizmo"), 2, "name"),
    (("gt", "crew", "add", "x" * 300, "--rig", "gizmo"), 2, "name"),
    (("gt", "crew", "add", "max", "--rig", "nosuch"), 1, "nosuch"),
    (("gt", "crew", "add", "max", "--rig", "../x"), 1, "no rig named '../x'"),
    (("gt", "crew", "show", "../x", "--rig", "gizmo"), 2, "invalid crew name"),
    (("gt", "crew", "stop", "../x", "--rig", "gizmo"), 2, "invalid crew name"),
    (("gt", "polecat", "identity", "show", "nosuch/x"), 1, "no rig named 'nosuch'"),
    (("gt", "polecat", "identity", "show", "gizmo/../x"), 2, "RIG/NAME"),
    (("gt", "polecat", "identity", "show", "gizmo"), 2, "RIG/NAME"),
    (("gt", "polecat", "identity", "show", "gizmo/polecats/a/b"), 2, "RIG/NAME"),
    (("gt", "hook", "{bead}", "nosuch/polecats/x"), 1, "nosuch"),
    (("gt", "hook", "{bead}", "../../x"), 2, "invalid agent"),
    (("gt", "hook", "gz-nope", "mayor"), 1, "no bead"),
    (("gt", "mail", "send", "../x", "-s", "s", "-m", "m"), 2, "unknown address"),
    (("gt", "mail", "send", "nobody/at/all", "-s", "s", "-m", "m"), 2, "unknown address"),
    (("gt", "mail", "read", "hq-nope"), 1, "hq-nope"),
    (("gt", "nudge", "nosuch/polecats/x", "m"), 2, "unknown address"),
    (("gt", "dog", "call", "nosuch"), 1, "nosuch"),
    (("gt", "dog", "call", "../x"), 1, "no dog named"),
    (("gt", "witness", "patrol", "nosuch"), 1, "nosuch"),
    (("gt", "refinery", "process", "../x"), 1, "no rig named"),
    (("gt", "witness", "patrol", "../../etc"), 1, "no rig named"),
    (("gt", "mq", "list", "/tmp"), 1, "no rig named"),
    (("gt", "worktree", "add", "nosuch"), 1, "nosuch"),
    (("gt", "sling", "{bead}", "nosuch/polecats/x"), 1, "nosuch"),
    (("gt", "convoy", "status", "hq-nope"), 1, "hq-nope"),
    (("gt", "convoy", "create", ""), 2, "needs a name"),
    (("gt", "mq", "reject", "gz-nope", "--rig", "gizmo", "-r", "no"), 1, "gz-nope"),
    (("gt", "session", "attach", "nosuch/polecats/x"), 1, "nosuch"),
    (("gt", "remote", "set", "ext::sh -c touch% /tmp/pwned"), 2, "refused URL"),
    (("gt", "remote", "set", "--", "-uhack"), 2, "read it as an option"),
    (("bd", "create", "t", "--rig", "nosuch"), 1, "nosuch"),
    (("bd", "create", "t", "--rig", "../x"), 1, "no rig named ../x"),
    (("bd", "create", "t", "--prefix", "zz"), 1, "prefix"),
    (("bd", "show", "zz-abc"), 1, "no bead"),
    (("gt", "rig", "add", "../x", "{src}", "--json"), 2, "rig name"),
)


@pytest.mark.parametrize("args, code, says", NAMES)
def test_names_in_a_town(shared_town: Place, args, code, says):
    check(shared_town, args, code, says)


# -- option values ----------------------------------------------------------------------------------

VALUES = cases(
    (("bd", "create", "t", "-p", "7"), 2, "invalid priority"),
    (("bd", "create", "t", "-p", "P5"), 2, "invalid priority"),
    (("bd", "create", "t", "-p", "-1"), 2, "invalid priority"),
    (("bd", "create", "t", "-p", "high"), 2, "invalid priority"),
    (("bd", "create", "t", "-p", ""), 2, "invalid priority"),
    (("bd", "create", "t", "-p", "1.5"), 2, "invalid priority"),
    (("bd", "create", "t", "-t", "bogus"), 2, "invalid type"),
    (("bd", "create", "t", "-t", ""), 2, "invalid type"),
    (("bd", "create", "t", "--estimate", "-5"), 2, "--estimate"),
    (("bd", "create", "t", "--estimate", "abc"), 2, "--estimate"),
    (("bd", "create", ""), 2, "title"),
    (("bd", "create", "two\nlines"), 2, "one line"),
    (("bd", "create", "tab\tin title"), 2, "control characters"),
    (("bd", "create", "t" * 501), 2, "title too long"),
    (("bd", "create", LONG), 2, "title too long"),
    (("bd", "update", "{bead}", "-s", "bogus"), 2, "invalid status"),
    (("bd", "update", "{bead}", "-s", ""), 2, "invalid status"),
    (("bd", "update", "{bead}", "-s", "tombstone"), 2, "invalid status"),
    (("bd", "update", "{bead}", "-p", "9"), 2, "invalid priority"),
    (("bd", "update", "{bead}", "-t", "bogus"), 2, "invalid type"),
    (("bd", "update", "{bead}", "--title", ""), 2, "title"),
    (("bd", "update", "{bead}", "--due", "someday"), 2, "invalid"),
    (("bd", "update", "{bead}", "--due", "2024-13-45"), 2, "invalid"),
    (("bd", "update", "{bead}", "--defer", "2024-02-30"), 2, "invalid"),
    (("bd", "update", "{bead}", "--estimate", "x"), 2, "--estimate"),
    (("bd", "list", "-s", "bogus"), 2, "invalid status"),
    (("bd", "list", "-p", "x"), 2, "invalid priority"),
    (("bd", "list", "-n", "-1"), 2, "--limit"),
    (("bd", "list", "-n", "abc"), 2, "--limit"),
    (("bd", "list", "--sort", "bogus"), 2, "--sort"),
    (("bd", "ready", "-n", "-5"), 2, "--limit"),
    (("bd", "count", "-s", "bogus"), 2, "invalid status"),
    (("bd", "dep", "add", "{bead}", "{other}", "-t", "bogus"), 2, "dependency type"),
    (("bd", "dep", "tree", "{bead}", "--max-depth", "0"), 2, "--max-depth"),
    (("bd", "dep", "tree", "{bead}", "--max-depth", "301"), 2, "--max-depth"),
    (("bd", "dep", "tree", "{bead}", "--max-depth", "abc"), 2, "--max-depth"),
    (("bd", "stats", "--since", "yesterday"), 2, "date"),
    (("bd", "stats", "--since", "2024-02-30"), 2, "date"),
    (("bd", "stats", "--until", "soon"), 2, "date"),
    (("bd", "stats", "--group-by", "bogus"), 2, "--group-by"),
    (("bd", "audit", "--actor", "a", "--since", "last week"), 2, "date"),
    (("bd", "compact", "--prune-tombstones-older-than", "-1"), 2, "--prune-tombstones-older-than"),
    (("bd", "compact", "--prune-tombstones-older-than", "abc"), 2, "--prune-tombstones-older-than"),
    (("bd", "compact", "--prune-tombstones-older-than", "nan"), 2, "--prune-tombstones-older-than"),
    (("bd", "config", "set", "bogus", "v"), 2, "types"),
    (("bd", "config", "set", "types", "Bad Type!"), 2, "type"),
    (("bd", "create", "t", "--description-file", "/no/such/file"), 2, "cannot read"),
    (("bd", "create", "t", "--description-file", "/"), 2, "cannot read"),
    (("bd", "create", "t", "-d", "x", "--description-file", "/no/such/file"), 2, "not both"),
    (("bd", "comment", "{bead}"), 2, "give the comment text"),
    (("bd", "import", "/no/such/file.jsonl"), 2, "cannot read"),
    (("bd", "import", "/"), 2, "cannot read"),
    (("bd", "export", "-o", "/no/such/dir/out.jsonl"), 1, "cannot write /no/such/dir/out.jsonl"),
    (("bd", "export", "-o", "/"), 1, "cannot write /"),
    (("bd", "sync", "--remote", "nosuch"), 1, "nosuch"),
    (("bd", "no-such-command",), 2, "no-such-command"),
    (("bd", "create", "t", "-p", "9", "--json"), 2, "invalid priority"),
    (("bd", "list", "-s", "bogus", "--json"), 2, "invalid status"),
)


@pytest.mark.parametrize("args, code, says", VALUES)
def test_option_values(shared: Place, args, code, says):
    check(shared, args, code, says)


TOWN_VALUES = cases(
    (("gt", "feed", "--since", "yesterday"), 2, "date"),
    (("gt", "feed", "-n", "-1"), 2, "--limit"),
    (("gt", "feed", "--follow", "--interval", "nan"), 2, "--interval"),
    (("gt", "feed", "--follow", "--interval", "-1"), 2, "--interval"),
    (("gt", "feed", "--rig", "nosuch"), 1, "no ledger named 'nosuch'"),
    (("gt", "feed", "--rig", "../x"), 1, "no ledger named"),
    (("gt", "convoy", "list", "--status", "bogus"), 2, "--status"),
    (("gt", "done", "--status", "bogus"), 2, "--status"),
    (("gt", "sling", "{bead}", "gizmo", "--merge", "bogus"), 2, "--merge"),
    (("gt", "sling", "{bead}", "gizmo", "--agent", "nosuch"), 2, "no agent runtime named 'nosuch'"),
    (("gt", "mail", "send", "mayor", "-m", "no subject"), 2, "Missing option '-s'"),
    (("gt", "mail", "send", "mayor", "-s", "s", "--body-file", "/no/such/file"), 2, "cannot read"),
    (("gt", "no-such-command",), 2, "no-such-command"),
)


@pytest.mark.parametrize("args, code, says", TOWN_VALUES)
def test_option_values_in_a_town(shared_town: Place, args, code, says):
    check(shared_town, args, code, says)


# -- sizes: arguments over 128 KiB (in-process: the kernel refuses to exec them) --------------------

HUGE = "x" * (128 * KIB + 1)


@pytest.mark.parametrize("args", [
    ("create", "t", "-d", HUGE),
    ("update", "{bead}", "-d", HUGE),
    ("comment", "{bead}", HUGE),
    ("create", HUGE),
    ("create", "t", "--id", "gt-" + HUGE),
    ("show", HUGE),
], ids=["create -d", "update -d", "comment", "title", "--id", "show"])
def test_huge_arguments(shared: Place, monkeypatch: pytest.MonkeyPatch, args):
    for name, value in shared.env.items():
        monkeypatch.setenv(name, value)
    before = shared.refs()
    result = Bd(shared.path)(*(a.format(**shared.names) for a in args), ok=False)
    assert result.exit_code in (1, 2) and "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and len(lines[0]) < 1000, result.stderr[:500]
    assert shared.refs() == before


# -- bd import: wrong types and malformed lines -----------------------------------------------------

GOOD = b'{"id": "gt-good1", "title": "Fine"}'


def nested(depth: int) -> object:
    value: object = 1
    for _ in range(depth):
        value = [value]
    return value


def record(**fields: object) -> bytes:
    return json.dumps({"id": "gt-rec1", "title": "A title", **fields}).encode()


JSONL = cases(
    ((record(title=5),), 1, "title must be a string"),
    ((record(title=None),), 1, "no title"),
    ((record(title=["a"]),), 1, "title must be a string"),
    ((record(title={"a": {"b": 1}}),), 1, "title must be a string"),
    ((record(title=""),), 1, "title"),
    ((record(title="   "),), 1, "title"),
    ((record(title="t" * 501),), 1, "title"),
    ((record(title="nul\u0000"),), 1, "title"),
    ((record(id=5),), 1, "id must be a string"),
    ((record(id=["gt-a"]),), 1, "id must be a string"),
    ((record(id=None),), 1, "no id"),
    ((b'{"title": "no id"}',), 1, "no id"),
    ((record(id="gt-caf\u00e9"),), 1, "invalid bead id"),
    ((record(id="../../etc/passwd"),), 1, "invalid bead id"),
    ((record(id="gt-a/b"),), 1, "invalid bead id"),
    ((record(id="gt-" + "a" * 300),), 1, "invalid bead id"),
    ((record(id="gt-a\nb"),), 1, "invalid bead id"),
    ((record(priority="high"),), 1, "priority"),
    ((record(priority=[1]),), 1, "priority"),
    ((record(priority=7),), 1, "priority"),
    ((record(priority=-1),), 1, "priority"),
    ((record(priority=1.5),), 1, "priority"),
    ((record(priority=True),), 1, "priority"),
    ((record(priority={"p": 1}),), 1, "priority"),
    ((record(status="bogus"),), 1, "unknown status"),
    ((record(status=5),), 1, "status must be a string"),
    ((record(issue_type=5),), 1, "issue_type must be a string"),
    ((record(labels="a,b"),), 1, "labels must be an array"),
    ((record(labels=[1, 2]),), 1, "labels must be strings"),
    ((record(labels=[["nested"]]),), 1, "labels must be strings"),
    ((record(dependencies="gt-x"),), 1, "dependencies must be an array"),
    ((record(dependencies=5),), 1, "dependencies must be an array"),
    ((record(dependencies={"depends_on_id": "gt-x"}),), 1, "dependencies must be an array"),
    ((record(dependencies=[{"depends_on_id": 5}]),), 1, "dependency"),
    ((record(dependencies=[{"depends_on_id": "gt-x", "type": 5}]),), 1, "dependency"),
    ((record(comments="hi"),), 1, "comments must be an array"),
    ((record(comments=[{"id": 1, "text": 5}]),), 1, "comment text must be a string"),
    ((record(comments=[{"id": 1, "text": "t", "author": ["a"]}]),), 1, "comment author must be a string"),
    ((record(assignee=5),), 1, "assignee must be a string"),
    ((record(assignee={"name": "x"}),), 1, "assignee must be a string"),
    ((record(description=["a"]),), 1, "description must be a string"),
    ((record(created_at=12345),), 1, "created_at must be a string"),
    ((record(estimated_minutes="5"),), 1, "estimated_minutes"),
    ((record(estimated_minutes=-3),), 1, "estimated_minutes"),
    ((record(metadata={"a": nested(40)}),), 1, "nested more than"),
    ((record(labels=["x"] * 60_000),), 1, "more than 50,000 values"),
    ((record(metadata={str(i): i for i in range(60_000)}),), 1, "more than 50,000 values"),
    ((b"[" * 100_000 + b"]" * 100_000,), 1, "nested"),
    ((b'{"a": ' * 50_000 + b"1" + b"}" * 50_000,), 1, "nested"),
    ((b'{"id": "gt-a1", "title": "t",}',), 1, "invalid JSON"),
    ((b"{'id': 'gt-a1', 'title': 't'}",), 1, "invalid JSON"),
    ((b'{"id": "gt-a1", "title": "unterminated',), 1, "invalid JSON"),
    ((b'{"id": "gt-a1", "title": "t"} trailing',), 1, "invalid JSON"),
    ((b'{"id": "gt-a1", "title": "t", "priority": NaN}',), 1, "priority"),
    ((b'{"id": "gt-a1", "title": "t", "n": ' + b"9" * 5000 + b"}",), 1, "invalid JSON"),
    ((b'["gt-a1", "t"]',), 1, "not an array"),
    ((b'"just a string"',), 1, "not a string"),
    ((b"42",), 1, "not a number"),
    ((b"null",), 1, "not null"),
    ((b"\xef\xbb\xbf" + GOOD,), 1, "byte order mark"),
    ((GOOD, b"\xef\xbb\xbf" + record()), 1, ":2: the line starts with a byte order mark"),
    ((b"\xff\xfe" + "{}".encode("utf-16-le"),), 1, "not UTF-8"),
    ((b'{"id": "gt-a1", "title": "caf\xe9"}',), 1, "not UTF-8"),
    ((GOOD, GOOD.replace(b"good1", b"good2"), record(priority="x")), 1, ":3:"),
    ((GOOD, b"", b"   ", b"{"), 1, ":4: invalid JSON"),
    ((b"key: value",), 1, "invalid JSON"),
    ((b"id: gt-a1\ntitle: yaml, not json",), 1, "invalid JSON"),
)


@pytest.mark.parametrize("lines, code, says", JSONL)
def test_import_refuses_bad_lines(shared: Place, tmp_path: Path, lines, code, says):
    """With --strict, the first bad line refuses the whole file, naming the file and the line; nothing
    is imported (without it, tests/beads/test_import_refused_lines.py)."""
    path = tmp_path / "issues.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    message = check(shared, ("bd", "import", "--strict", str(path)), code, says)
    assert f"{path}:" in message, message


def test_import_refuses_a_huge_line_without_reading_it_all(shared: Place, tmp_path: Path):
    from gt.model.jsonl import MAX_LINE

    path = tmp_path / "huge.jsonl"
    with open(path, "wb") as f:
        f.write(GOOD + b"\n" + b'{"id": "gt-big1", "title": "t", "description": "')
        f.truncate(MAX_LINE + 1024)
    check(shared, ("bd", "import", "--strict", str(path)), 1, "huge.jsonl:2: the line is longer than 16 MiB")


def test_import_of_a_bad_line_with_json_errors_in_json(shared: Place, tmp_path: Path):
    path = tmp_path / "bad.jsonl"
    path.write_bytes(b"[" * 10_000 + b"\n")
    before = shared.refs()
    result = invoke(shared.path, shared.env, ("bd", "import", str(path), "--json"))
    message = assert_clean(result, 1, "bad.jsonl:1: nested more than", as_json=True)
    assert json.loads(result.stderr)["code"] == "bad_input", message
    assert shared.refs() == before


# -- bead files of the wrong shape, committed with plain git ----------------------------------------


@pytest.mark.parametrize("bead_id", sorted(BAD_FILES))
def test_hand_written_bad_shapes_are_named_not_crashed_on(hand: Place, bead_id: str):
    """`show` and `update` of a malformed file say which file and what is wrong; nothing is written."""
    check(hand, ("bd", "show", bead_id), 1, bead_path(bead_id))
    check(hand, ("bd", "update", bead_id, "-p", "1"), 1, bead_path(bead_id))


@pytest.mark.parametrize("args", [
    ("list",), ("list", "--all"), ("ready",), ("blocked",), ("search", "t"), ("count",), ("stats",),
    ("export",), ("dep", "cycles"), ("show", "{good}"), ("dep", "tree", "{good}"),
], ids=lambda a: " ".join(a))
def test_other_beads_still_work_beside_bad_files(hand: Place, args):
    args = tuple(a.format(**hand.names) for a in args)
    result = invoke(hand.path, hand.env, ("bd", *args))
    err = result.stderr.decode()
    assert result.returncode == 0 and "Traceback" not in err, err


def test_doctor_names_every_bad_file(hand: Place):
    result = invoke(hand.path, hand.env, ("bd", "doctor"))
    out = result.stdout.decode()
    assert result.returncode == 1 and "Traceback" not in out + result.stderr.decode()
    missing = [b for b in BAD_FILES if bead_path(b) not in out]
    assert missing == []


# -- a bug: one line (JSON with --json), the traceback in a log, GT_DEBUG=1 shows it ----------------


@pytest.fixture
def crashing(shared: Place, tmp_path: Path) -> tuple[Place, Path]:
    """`bd` whose `list` raises an unexpected exception (a sitecustomize on PYTHONPATH plants it)."""
    (tmp_path / "sitecustomize.py").write_text(
        "import gt.beads.queries as q\n"
        "def broken(*args, **kwargs):\n"
        "    raise KeyError('planted bug')\n"
        "q.list_beads = broken\n")
    env = {**shared.env, "PYTHONPATH": str(tmp_path)}
    return Place(shared.path, env, shared.gitdirs, shared.names), shared.path / ".git" / "gt" / "errors.log"


def test_an_unexpected_exception_is_one_line_and_logged(crashing: tuple[Place, Path]):
    place, log = crashing
    result = run(place.path, place.env, ("bd", "list"))
    err = result.stderr.decode()
    assert result.returncode == 1 and "Traceback" not in err
    assert err.count("\n") == 1 and err.startswith("Error: internal error: KeyError: 'planted bug'"), err
    assert str(log) in err
    assert "Traceback" in log.read_text() and "planted bug" in log.read_text()
    assert oct(log.stat().st_mode & 0o777) == "0o600"

    result = run(place.path, place.env, ("bd", "list", "--json"))
    error = json.loads(result.stderr)
    assert result.returncode == 1 and error["code"] == "internal" and "planted bug" in error["error"]

    result = run(place.path, {**place.env, "GT_DEBUG": "1"}, ("bd", "list"))
    err = result.stderr.decode()
    assert result.returncode == 1 and "Traceback" in err and err.rstrip().splitlines()[-1].startswith("Error: ")


# -- ledger.yaml of the wrong shape, committed with plain git ---------------------------------------

LEDGER_CONFIGS = {  # ledger.yaml text -> what `bd create` says (None: it still works, the value ignored)
    "- a\n- b\n": "expected a YAML mapping",
    "format: 2\nprefix: gt\nprefix: zz\n": "invalid YAML",
    "format: 2\nprefix: [unclosed\n": "invalid YAML",
    "prefix: gt\n": "its ledger.yaml has no `format`",
    "format: 2\nprefix: gt\ntypes: 5\n": None,
    "format: 2\nprefix: gt\ntypes: {a: 1}\n": None,
}


@pytest.mark.parametrize("text", sorted(LEDGER_CONFIGS), ids=lambda t: t.replace("\n", "; ")[:60])
def test_a_hand_written_ledger_config(bd, repo, text):
    from conftest import hand_commit, head

    hand_commit(repo, "ledger.yaml", text)
    says = LEDGER_CONFIGS[text]
    before = head(repo)
    result = bd("create", "t", "-t", "incident", ok=False)
    assert result.exit_code in (1, 2) and "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and (says or "invalid type") in lines[0], result.stderr
    assert head(repo) == before
    if says is None:  # the bad value adds no types, and everything else works
        bd("create", "t")
        bd("list")


def test_a_file_name_need_not_be_utf8(shared: Place, tmp_path: Path):
    """File names are bytes on disk: `-o`, `import FILE` and `-f FILE` take them as they are."""
    name = bytes(tmp_path) + b"/\xff\xfe.jsonl"
    result = run(shared.path, shared.env, ("bd", "export", "-o", name))
    assert result.returncode == 0 and b"Exported" in result.stdout, result.stderr
    before = shared.refs()
    result = run(shared.path, shared.env, ("bd", "import", name))
    assert result.returncode == 0 and b"0 created, 0 updated" in result.stdout, result.stderr
    assert shared.refs() == before
    assert_clean(run(shared.path, shared.env, ("bd", "comment", "{bead}".format(**shared.names), "-f", name + b".nope")),
                 2, "cannot read comment file")

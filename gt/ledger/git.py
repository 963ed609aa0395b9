"""Every git subprocess: transport (fetch, push, clone) and work trees, and the one bulk read of a
cold index (`cat_blobs`); other ledger reads and all writes go through dulwich."""
from __future__ import annotations

import os

from gt.errors import GtError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (~3 ms of a no-op `bd sync`); mypy reads it as True
if TYPE_CHECKING:
    import subprocess
    from typing import Iterable, Iterator, Mapping

# Variables a git hook (or a caller inside git) hands down that would make our own git calls act on
# the caller's repository, index or work tree instead of the one they name. The object-directory
# variables stay: inside a pre-receive hook they make the pushed objects (still in quarantine)
# visible, to git as to our own reads (gt.ledger.objects).
INHERITED = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_PREFIX", "GIT_COMMON_DIR")


def clean_env(base: Mapping[str, str] | None = None, **extra: str) -> dict[str, str]:
    """`base` (default: this process's environment) without git's inherited repository variables."""
    env = {k: v for k, v in (os.environ if base is None else base).items() if k not in INHERITED}
    env.update(extra)
    return env


def scrub_environ() -> None:
    """Drop the inherited repository variables from this process (a git hook's first step)."""
    for name in INHERITED:
        os.environ.pop(name, None)


def run(*args: str, cwd: str | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    """`git ARGS`, never prompting; with `check`, a failure raises GtError with git's last line."""
    import subprocess  # here, not at the top: git hooks import this module for `scrub_environ` alone
    env = clean_env(GIT_TERMINAL_PROMPT="0")
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, env=env)
    if check and result.returncode != 0:
        command = next((a for i, a in enumerate(args) if not a.startswith("-") and (i == 0 or args[i - 1] != "-C")), "")
        raise GtError(f"git {command} failed: {last_line(result.stderr)}")
    return result


def capture(*args: str) -> tuple[int, str, str]:
    """`git ARGS` as `run(..., check=False)` runs it: (exit code, stdout, stderr), never prompting,
    standard input inherited; but started with posix_spawn, without the subprocess module, whose
    import (~3 ms) would be a tenth of a no-op `bd sync` (gt.beads.sync.up_to_date). For commands
    that print little: both outputs are held in memory."""
    import select
    import signal

    env = clean_env(GIT_TERMINAL_PROMPT="0")
    # the signals Python ignores, back to their defaults in git (as subprocess's restore_signals does)
    restore = tuple(getattr(signal, name) for name in ("SIGPIPE", "SIGXFZ", "SIGXFSZ") if hasattr(signal, name))
    out_r, out_w = os.pipe()  # not inherited: only the dup2'd copies reach git
    err_r, err_w = os.pipe()
    try:
        pid = os.posix_spawnp("git", ["git", *args], env, setsigdef=restore,
                              file_actions=[(os.POSIX_SPAWN_DUP2, out_w, 1), (os.POSIX_SPAWN_DUP2, err_w, 2)])
    except BaseException:
        for fd in (out_r, err_r):
            os.close(fd)
        raise
    finally:
        os.close(out_w)
        os.close(err_w)
    chunks: dict[int, list[bytes]] = {out_r: [], err_r: []}
    poller = select.poll()
    for fd in chunks:
        poller.register(fd, select.POLLIN)
    try:
        open_fds = len(chunks)
        while open_fds:
            for fd, _event in poller.poll():
                data = os.read(fd, 65536)
                if data:
                    chunks[fd].append(data)
                else:  # end of file (or the pipe hung up): git closed its end
                    poller.unregister(fd)
                    open_fds -= 1
    finally:
        for fd in chunks:
            os.close(fd)
        _, status = os.waitpid(pid, 0)
    return (os.waitstatus_to_exitcode(status), b"".join(chunks[out_r]).decode("utf-8", "replace"),
            b"".join(chunks[err_r]).decode("utf-8", "replace"))


def output(*args: str) -> str:
    """git's standard output; a failure raises GtError."""
    return run(*args).stdout


def init_repository(path: str | os.PathLike[str]) -> None:
    """`git init` at `path`: a new repository with a work tree (git's own default branch)."""
    run("init", "-q", str(path))


def last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no output"


def is_dirty(checkout: str | os.PathLike[str]) -> bool:
    """Whether the checkout has uncommitted changes (untracked files count); GtError when git cannot
    tell, so that nothing is removed or reused on a guess."""
    result = run("-C", str(checkout), "status", "--porcelain", check=False)
    if result.returncode != 0:
        raise GtError(f"cannot read the status of {checkout}: {last_line(result.stderr)}")
    return bool(result.stdout.strip())


def unlanded(gitdir: str | os.PathLike[str], branch: str, default: str) -> int | None:
    """How many commits of `branch` are not on `default`; None when git cannot tell (a ref is missing):
    a caller about to delete something must then keep it."""
    found = run(f"--git-dir={gitdir}", "rev-list", "--count", branch, "--not", default, check=False).stdout.strip()
    return int(found) if found.isdigit() else None


def unpushed(checkout: str | os.PathLike[str]) -> int:
    """How many commits on the checkout's branches no remote has; GtError when git cannot tell."""
    found = run("-C", str(checkout), "rev-list", "--count", "--branches", "--not", "--remotes").stdout.strip()
    if not found.isdigit():
        raise GtError(f"cannot count the unpushed commits of {checkout}")
    return int(found)


def cat_blobs(gitdir: str | os.PathLike[str], ids: Iterable[str]) -> Iterator[tuple[str, bytes]]:
    """(id, content) of each blob, in the order given, from one `git cat-file --batch`: thousands of
    blobs unpacked by git on another core while the caller parses them. Stops (GtError) at an object
    that is missing or not a blob."""
    import subprocess
    import threading

    wanted = list(ids)
    proc = subprocess.Popen(["git", f"--git-dir={os.fspath(gitdir)}", "cat-file", "--batch"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=clean_env(GIT_TERMINAL_PROMPT="0"))
    assert proc.stdin is not None and proc.stdout is not None
    stdin, stdout = proc.stdin, proc.stdout

    def feed() -> None:
        try:
            for start in range(0, len(wanted), 1000):
                stdin.write("".join(f"{i}\n" for i in wanted[start:start + 1000]).encode("ascii"))
            stdin.close()
        except (BrokenPipeError, OSError, ValueError):
            pass  # the reader stopped early

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    try:
        for blob_id in wanted:
            header = stdout.readline().split()
            if len(header) != 3 or header[1] != b"blob":
                raise GtError(f"git cat-file: {blob_id} is not a blob here")
            size = int(header[2])
            data = stdout.read(size)
            stdout.read(1)
            if len(data) != size:
                raise GtError(f"git cat-file: {blob_id} was cut short")
            yield header[0].decode("ascii"), data
    finally:
        proc.kill()
        stdout.close()
        proc.wait()
        writer.join(timeout=5)

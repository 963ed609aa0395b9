"""beads-mcp 1.3.2 for the compatibility tests: a virtualenv with it installed, and its sdist (whose
tests/ is the suite test_beads_mcp_own_suite runs against our bd).

Both come from PyPI once and are kept under RUNTIME_CACHE/beads-mcp-1.3.2/, so later runs need no
network. Each is built in a `.partial-*` folder beside its final place and renamed into place when
complete, under a file lock (two pytest-xdist workers may want it at once): a run killed half-way
leaves only a `.partial-*` folder, which the next build sweeps away. Without PyPI the tests are
skipped, or fail under CI (see `unavailable`).
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest
from filelock import FileLock, Timeout

from conftest import RUNTIME_CACHE, unavailable

BEADS_MCP = "beads-mcp"
BEADS_MCP_VERSION = "1.3.2"
# What the sdist's tests need besides beads-mcp itself: its pyproject's dev group asks for
# pytest>=9.0.3 and pytest-asyncio>=1.2.0 (asyncio_mode = "auto"); pinned to the versions in its uv.lock.
# pytest-cov, ruff, mypy and build are in that group too but no test uses them.
TEST_REQUIREMENTS = ("pytest==9.1.1", "pytest-asyncio==1.4.0")
CACHE = RUNTIME_CACHE / f"{BEADS_MCP}-{BEADS_MCP_VERSION}"
PIP_TIMEOUT = 200  # seconds for one pip command (two of them, within the test's 600 s)
STEP_TIMEOUT = 120  # seconds for anything else: making the venv, checking it
LOCK_TIMEOUT = 480  # seconds to wait for another worker's build: under the test's timeout, so the lock's message shows

# What pip says when it cannot reach the index (then the test is `unavailable`, not failed).
OFFLINE_SIGNS = (
    "NewConnectionError", "Failed to establish a new connection", "Temporary failure in name resolution",
    "Name or service not known", "Network is unreachable", "Connection refused", "ConnectTimeoutError",
    "ReadTimeoutError", "Max retries exceeded", "ProxyError", "SSLError", "Could not fetch URL",
    "No matching distribution found", "Could not find a version that satisfies the requirement",
)


@dataclass(frozen=True)
class BeadsMcp:
    python: Path  # the venv's interpreter. Run tools as `python -m ...`: the venv's scripts name its build folder
    sdist: Path  # the unpacked sdist, beads_mcp-1.3.2/ (pyproject.toml, src/, tests/)


def _run(args: list[str], what: str, timeout: float, pip: bool = False) -> str:
    """Run a build step; stdout back. A pip step that cannot reach PyPI makes the test `unavailable`."""
    try:
        done = subprocess.run(args, capture_output=True, text=True, timeout=timeout,
                              env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"})
    except subprocess.TimeoutExpired:
        if pip:
            unavailable(f"{what}: pip did not finish in {timeout} s (is PyPI reachable?)")
        raise AssertionError(f"{what}: did not finish in {timeout} s") from None
    if done.returncode != 0:
        said = f"{done.stdout}\n{done.stderr}"
        tail = "\n".join(said.strip().splitlines()[-15:])
        if pip and any(sign in said for sign in OFFLINE_SIGNS):
            unavailable(f"{what}: PyPI looks unreachable:\n{tail}")
        raise AssertionError(f"{what} failed (exit {done.returncode}):\n{tail}")
    return done.stdout


def _sweep() -> None:
    """Remove what killed builds left (called under the lock, so no build is running)."""
    for leftover in CACHE.glob(".partial-*"):
        shutil.rmtree(leftover, ignore_errors=True)


def _venv_key() -> str:
    """The venv's folder name: the Python it is made from (a venv holds that interpreter's path) and what
    is installed in it."""
    base = os.path.realpath(getattr(sys, "_base_executable", sys.executable))
    digest = hashlib.sha256("\n".join([sys.version, base, f"{BEADS_MCP}=={BEADS_MCP_VERSION}",
                                       *TEST_REQUIREMENTS]).encode()).hexdigest()[:10]
    return f"venv-py{sys.version_info.major}.{sys.version_info.minor}-{digest}"


def _venv_works(python: Path) -> bool:
    if not python.exists():  # also false for a symlink to an interpreter since removed
        return False
    try:
        done = subprocess.run([str(python), "-c", "import importlib.metadata as m; print(m.version('beads-mcp'))"],
                              capture_output=True, text=True, timeout=STEP_TIMEOUT)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0 and done.stdout.strip() == BEADS_MCP_VERSION


def _discard(path: Path) -> None:
    """Move a broken cache entry out of the way (renamed first, so its name is free at once)."""
    if path.exists():
        aside = Path(tempfile.mkdtemp(prefix=".partial-stale-", dir=CACHE))
        path.rename(aside / path.name)
        shutil.rmtree(aside, ignore_errors=True)


@contextlib.contextmanager
def _partial(kind: str) -> Iterator[Path]:
    """A fresh `.partial-*` folder in the cache, removed afterwards unless the build renamed it into place."""
    partial = Path(tempfile.mkdtemp(prefix=f".partial-{kind}-", dir=CACHE))
    try:
        yield partial
    finally:
        shutil.rmtree(partial, ignore_errors=True)


def _build_venv(final: Path) -> None:
    with _partial("venv") as partial:
        _fill_venv(partial)
        partial.chmod(0o755)  # mkdtemp made it private
        partial.rename(final)


def _build_sdist(final: Path) -> None:
    with _partial("sdist") as partial:
        _fill_sdist(partial)
        partial.chmod(0o755)
        partial.rename(final)


def _fill_venv(partial: Path) -> None:
    _run([sys.executable, "-m", "venv", str(partial)], "python -m venv", STEP_TIMEOUT)
    python = partial / "bin" / "python"
    _run([str(python), "-m", "pip", "install", "-q", "--retries", "3",
          f"{BEADS_MCP}=={BEADS_MCP_VERSION}", *TEST_REQUIREMENTS],
         f"pip install {BEADS_MCP}=={BEADS_MCP_VERSION}", PIP_TIMEOUT, pip=True)
    assert _venv_works(python), f"{BEADS_MCP} {BEADS_MCP_VERSION} is not importable in the venv just built"


def _fill_sdist(partial: Path) -> None:
    download = partial / "download"
    _run([sys.executable, "-m", "pip", "download", "-q", "--retries", "3", "--no-binary", ":all:", "--no-deps",
          "-d", str(download), f"{BEADS_MCP}=={BEADS_MCP_VERSION}"],
         f"pip download --no-binary :all: {BEADS_MCP}=={BEADS_MCP_VERSION}", PIP_TIMEOUT, pip=True)
    [tarball] = download.glob("*.tar.gz")
    with tarfile.open(tarball) as archive:
        archive.extractall(partial, filter="data")
    tree = partial / f"beads_mcp-{BEADS_MCP_VERSION}"
    assert (tree / "tests" / "conftest.py").is_file() and (tree / "pyproject.toml").is_file(), \
        f"{tarball.name} does not hold beads_mcp-{BEADS_MCP_VERSION}/tests/ and pyproject.toml"


@pytest.fixture(scope="session")
def beads_mcp() -> BeadsMcp:
    """beads-mcp 1.3.2 in a venv of its own with what its tests need, and its unpacked sdist; built on
    first use and cached (see the module's docstring)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    venv = CACHE / _venv_key()
    sdist = CACHE / "sdist"
    tree = sdist / f"beads_mcp-{BEADS_MCP_VERSION}"
    python = venv / "bin" / "python"
    if not (_venv_works(python) and (tree / "tests").is_dir()) or any(CACHE.glob(".partial-*")):
        try:
            with FileLock(str(CACHE) + ".lock", timeout=LOCK_TIMEOUT):
                _sweep()
                if not _venv_works(python):
                    _discard(venv)
                    _build_venv(venv)
                if not (tree / "tests").is_dir():
                    _discard(sdist)
                    _build_sdist(sdist)
        except Timeout:
            raise AssertionError(f"another run held {CACHE}.lock for {LOCK_TIMEOUT} s") from None
    return BeadsMcp(python=python, sdist=tree)

"""The project installed the way users install it — a wheel, not `pip install -e` — works outside the
source tree: the README's town quick start, `bd hooks install --bare` with pushes the guard checks,
and `gt demo`. Nothing here may be skipped: it is the only test that sees what a user gets.

The wheel is built from a copy of the files it is made of (the source tree gets no build/ folder),
installed into a fresh venv by the test venv's pip (`pip --python`), and its dependencies come from
the package index pip is configured with (its cache makes that quick).
"""
from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

from conftest import BIN

ROOT = Path(__file__).resolve().parents[2]  # the project
TIMEOUT = 240  # seconds, for any one command (the demo alone lands its convoy within 110 s)
PIP_ENV = dict(os.environ)  # pip as the user has it (their HOME's pip config and cache), read before the
# hermetic fixture swaps HOME for a temporary one
HOOKS = ("pre-receive", "post-receive", "prepare-commit-msg", "commit-msg", "post-commit")


def run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = TIMEOUT,
        ok: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    if ok:
        assert result.returncode == 0, \
            f"{' '.join(cmd)}: exit {result.returncode}\n{result.stdout[-3000:]}{result.stderr}"
    return result


def readme_section(title: str) -> str:
    """One README section's shell blocks, extracted by the README test's own helper (shared, not copied)."""
    path = next(ROOT.glob("tests/**/test_readme.py"))
    spec = importlib.util.spec_from_file_location("readme_quick_start", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.section_script(title)


def build_and_install(work: Path) -> tuple[Path, Path]:
    """The wheel built from the project's files, and the bin folder of a fresh venv it is installed in."""
    source = work / "source"
    source.mkdir(parents=True)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    for name in ("gt", "hooks", "fixtures"):
        shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    run([sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "-w", str(work / "dist"), "-q"], work, PIP_ENV)
    wheel = next((work / "dist").glob("gastown_git-*.whl"))
    venv = work / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", str(venv)], work)
    run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "-q", str(wheel)], work,
        PIP_ENV)
    return wheel, venv / "bin"


def user_env(bin_dir: Path, **extra: str) -> dict[str, str]:
    """The test's environment with the installed venv first on PATH and the project's own .venv off it."""
    ours = {str(BIN), str(BIN.resolve())}
    path = [str(bin_dir)] + [p for p in os.environ.get("PATH", "").split(os.pathsep) if p and p not in ours]
    env = {k: v for k, v in os.environ.items() if k not in ("GT_ROOT", "PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    return {**env, "PATH": os.pathsep.join(path), **extra}


def test_pyproject_names_every_package():
    """package-dir (hooks/ and fixtures/ shipped as gt._hooks and gt._fixtures) rules out packages.find,
    so pyproject.toml lists the packages: a new one under gt/ must be added there."""
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "gt").rglob("__init__.py")}
    assert listed == found | {"gt._hooks", "gt._fixtures"}


def test_the_installed_wheel_runs_the_town_quick_start_the_guard_and_the_demo(tmp_path):
    wheel, bin_dir = build_and_install(tmp_path / "build")

    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names} - {"gt"}
    assert len(tops) == 1 and tops.pop().endswith(".dist-info")  # nothing else at the top of site-packages
    modules = {p.relative_to(ROOT).as_posix() for p in (ROOT / "gt").rglob("*.py")}
    shipped = {f"gt/_hooks/{name}" for name in HOOKS} | {"gt/_fixtures/make_sample.py", "gt/githooks/__main__.py"}
    assert modules | shipped <= set(names)

    python = str(bin_dir / "python")
    env = user_env(bin_dir, TMPDIR=str(tmp_path))
    maker = run([python, "-P", "-c", "import importlib.resources as r; "
                 "print(r.files('gt._fixtures').joinpath('make_sample.py'))"], tmp_path, env).stdout.strip()
    assert maker.startswith(str(bin_dir.parent)), maker  # the installed copy, not the source tree's
    formulas = {f"gt/beads/builtin_formulas/{n}.formula.toml" for n in ("quick-check", "feature-workflow")}
    assert formulas <= set(names)
    shown = json.loads(run([str(bin_dir / "bd"), "formula", "show", "feature-workflow", "--json"], tmp_path, env).stdout)
    assert shown["origin"] == "built-in" and len(shown["steps"]) == 5  # read from the installed package

    # The demo and the town quick start run side by side (each takes tens of seconds). Their output
    # goes to files: processes a town starts could hold a pipe open long after a failure.
    gt = str(bin_dir / "gt")
    towns = [tmp_path / "demo" / "gt"]  # each is stopped at the end, whatever happened
    demo_out, demo_err = tmp_path / "demo.out", tmp_path / "demo.err"
    with open(demo_out, "w") as out, open(demo_err, "w") as err:
        demo = subprocess.Popen([gt, "demo", "--dir", str(tmp_path / "demo")], cwd=tmp_path, env=env,
                                stdout=out, stderr=err, start_new_session=True)
    try:
        # The README's town quick start, "in the project's folder": here a folder holding only the
        # sample maker, taken from the installed package.
        project = tmp_path / "project"
        (project / "fixtures").mkdir(parents=True)
        shutil.copy2(maker, project / "fixtures" / "make_sample.py")
        block = readme_section("Quick start: a town")
        script = block.replace('export PATH="$PWD/.venv/bin:$PATH"', f'export PATH="{bin_dir}:$PATH"')
        assert script != block
        quick = tmp_path / "quick"
        quick.mkdir()
        result = run(["bash", "-euo", "pipefail", "-c", script], project, {**env, "TMPDIR": str(quick)})
        assert "[landed]  1/1 completed" in result.stdout and "Convoy landed: Greeting" in result.stdout
        town = next(quick.glob("*/gt"))
        towns.append(town)
        rig_repo = town / "gizmo" / ".repo.git"
        for name in HOOKS:
            text = (rig_repo / "hooks" / name).read_text()
            assert f"py={python}\n" in text and "-m gt.githooks" in text and f"# gastown-git hook: {name}" in text
        assert "Agent: gizmo/polecats/" in run(["git", "log", "--format=%B", "main"], rig_repo, env).stdout  # hooks ran
        log = rig_repo / "gt" / "hooks.log"
        assert not log.exists() or "failed" not in log.read_text()
        findings = json.loads(run([gt, "doctor", "--json"], town, env, ok=False).stdout)
        assert [f for f in findings if f["kind"] == "hooks"] == []  # all installed, none outdated

        # `bd hooks install --bare` on a hub: pushes of the ledger go through the installed guard.
        hub = tmp_path / "hub.git"
        run(["git", "init", "-q", "--bare", str(hub)], tmp_path, env)
        run([str(bin_dir / "bd"), "hooks", "install", "--bare", str(hub)], tmp_path, env)
        assert "-m gt.githooks pre-receive" in (hub / "hooks" / "pre-receive").read_text()
        repo = tmp_path / "proj"
        run(["git", "init", "-q", "-b", "main", str(repo)], tmp_path, env)
        run(["git", "config", "user.name", "Ann"], repo, env)
        run(["git", "config", "user.email", "ann@example.com"], repo, env)
        run([str(bin_dir / "bd"), "init", "--prefix", "pk"], repo, env)
        run([str(bin_dir / "bd"), "create", "Guarded work"], repo, env)
        run(["git", "push", "-q", str(hub), "beads"], repo, env)  # checked by the guard, and accepted
        refused = run(["git", "push", str(hub), ":beads"], repo, env, ok=False)
        assert refused.returncode != 0 and "refusing to delete the ledger branch" in refused.stderr

        demo.wait(timeout=TIMEOUT)
    finally:
        if demo.poll() is None:
            os.killpg(demo.pid, signal.SIGKILL)
            demo.wait(timeout=30)
        for town in towns:
            if town.is_dir():
                run([gt, "down", "--force"], town, env, timeout=60, ok=False)
    out = demo_out.read_text()
    assert demo.returncode == 0, out[-3000:] + demo_err.read_text()
    assert "[landed]  4/4 completed" in out and "Done in" in out

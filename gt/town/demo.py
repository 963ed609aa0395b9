"""`gt demo`: the whole of Gas Town in a few minutes, with real commands in a temporary town.

A town with two rigs made from sample projects; an epic with children and a cross-rig dependency;
a convoy; work slung to polecats running the scripted agent as two models (one fails its tests
once); the refinery merging, the witness sending the failed one back to work, dependent work fed as
it becomes ready, until the convoy lands and the overseer gets the landing mail. Every step is a
real `gt`/`bd`/`git` command, printed before it runs.
"""
from __future__ import annotations

import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

from gt.errors import GtError

TIMEOUT = 110.0  # seconds to wait for the convoy to land
MODELS = ("model-a", "model-b")


def script(files: dict[str, str], first_attempt: dict[str, str] | None = None) -> str:
    """A bead description: a task in words, then what the scripted agent does (ignored by real agents)."""
    import json

    def mapping(values: dict[str, str]) -> str:
        return "{" + ", ".join(f"{k}: {json.dumps(v)}" for k, v in values.items()) + "}"

    block = f"files: {mapping(files)}\nrun: ./tests.sh\n"
    if first_attempt:
        # the first attempt skips its own test run: the refinery's gate is where it fails
        block += f"attempts: {{1: {{files: {mapping(first_attempt)}, run: null}}}}\n"
    return f"```gt-script\n{block}```\n"


HELLO = "hello from gizmo\n"
SUB_BROKEN = "def add(a, b):\n    return a - b\n"
SUB_FIXED = "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n"
VERSION = "VERSION = '1.0'\n"
DOCS = "# Greeting\n\nSee hello.txt; gizmo.sub subtracts; widget.version names the release.\n"


class Demo:
    def __init__(self, root: Path, echo: Callable[[str], None], agent: str | None) -> None:
        self.root, self.echo, self.agent = root, echo, agent
        self.town = root / "gt"
        from gt.town.rundir import our_commands_first

        from gt.ledger import git

        self.env = our_commands_first(git.clean_env(GT_ROOT=str(self.town)))
        for name in ("BD_ACTOR", "BEADS_ACTOR", "GT_ROLE", "GT_RIG", "GT_POLECAT", "GT_CREW", "GT_DOG"):
            self.env.pop(name, None)
        self.turn = 0

    def say(self, text: str) -> None:
        self.echo(f"\n# {text}")

    def sh(self, command: str, cwd: Path | None = None, show: bool = True, quiet: bool = False) -> str:
        """Run one command as a user would type it; a failure stops the demo."""
        where = cwd or self.town
        if show:
            self.echo(f"$ {command}")
        result = subprocess.run(command, shell=True, cwd=where, env=self.env, capture_output=True, text=True)
        output = (result.stdout + result.stderr).rstrip()
        if output and ((show and not quiet) or result.returncode != 0):
            self.echo(output)  # a failed step's output is always shown: it says why
        if result.returncode != 0:
            last = output.splitlines()[-1].strip() if output else ""
            raise DemoFailed(f"`{command}` exited {result.returncode}" + (f": {last}" if last else ""))
        return result.stdout.strip()

    def sample(self, path: Path, name: str) -> None:
        """A small project with ./tests.sh, made by fixtures/make_sample.py (shipped as gt._fixtures)."""
        from importlib import resources

        try:
            source = resources.files("gt._fixtures").joinpath("make_sample.py")
        except ImportError as exc:
            raise DemoFailed(f"this installation lacks the sample maker ({exc}): reinstall gastown-git") from None
        if not source.is_file():
            raise DemoFailed(f"this installation lacks {source}: reinstall gastown-git")
        with resources.as_file(source) as maker:
            self.sh(f"{shlex.quote(sys.executable)} {shlex.quote(str(maker))} {shlex.quote(str(path))} --name {name}",
                    show=False)

    def create(self, title: str, rig: str, description: str, *extra: str) -> str:
        args = " ".join(shlex.quote(a) for a in extra)
        return self.sh(f"bd create {shlex.quote(title)} --rig {rig} -d {shlex.quote(description)} {args}".rstrip(),
                       quiet=True)

    def model(self) -> str:
        self.turn += 1
        return MODELS[(self.turn - 1) % 2]

    def run(self) -> None:
        from gt.ledger.store import document_path

        self.say("Install a town: the workspace where rigs, agents and their ledgers live")
        self.sh(f"gt install {shlex.quote(str(self.town))} --actor overseer", cwd=self.root)
        self._settings()
        self.say("Two rigs (projects), each cloned from a sample repository with a test command")
        for name, prefix in (("gizmo", "gz"), ("widget", "wd")):
            sample = self.root / "src" / name
            self.sample(sample, name)
            self.sh(f"gt rig add {name} {shlex.quote(str(sample))} --prefix {prefix}")
            (self.town / name / "settings").mkdir(exist_ok=True)
            (self.town / name / "settings" / "config.yaml").write_text("merge_queue:\n  test_command: ./tests.sh\n")

        self.say("File work: an epic with children in gizmo, one bead in widget, and dependencies")
        epic = self.sh("bd create 'Greeting feature' --rig gizmo -t epic -p 1")
        hello = self.create("Add hello.txt", "gizmo", "Write hello.txt with a greeting.\n\n" +
                            script({"hello.txt": HELLO}), "--parent", epic)
        sub = self.create("Add gizmo.sub", "gizmo", "Add sub(a, b) next to add().\n\n" +
                          script({"gizmo/__init__.py": SUB_FIXED}, {"gizmo/__init__.py": SUB_BROKEN}), "--parent", epic)
        docs = self.create("Document the greeting", "gizmo", "Write GREETING.md.\n\n" +
                           script({"GREETING.md": DOCS}), "--parent", epic)
        version = self.create("Expose widget.VERSION", "widget", "Add widget/version.py.\n\n" +
                              script({"widget/version.py": VERSION}))
        self.sh(f"bd dep add {docs} {hello}")
        self.say("A cross-rig dependency: the docs wait for the widget release too")
        self.sh(f"bd dep add {docs} {version}")
        self.sh("bd ready --all-rigs")

        self.say("A convoy tracks the epic's work and the widget bead; the overseer hears when it lands")
        convoy = self.sh(f"gt convoy create --from-epic {epic} {version} --notify overseer --json", quiet=True)
        import json

        convoy_id = json.loads(convoy)["id"]
        self.sh(f"gt convoy status {convoy_id}")

        self.say("Sling the ready work to polecats, half as model-a and half as model-b "
                 f"({'the scripted agent' if not self.agent else 'agent ' + self.agent}; {sub} fails its tests once)")
        for bead, rig in ((hello, "gizmo"), (sub, "gizmo"), (version, "widget")):
            self.sh(f"gt sling {bead} {rig} --model {self.model()}")
        self.sh("gt agents")

        self.say("Run the town until the convoy lands: each deacon tick runs the witnesses and refineries; "
                 "newly ready work is slung as it appears")
        self._until_landed(convoy_id)

        self.say("The convoy, the overseer's mail, and track records per model")
        self.sh(f"gt convoy status {convoy_id}")
        self.sh("gt mail inbox")
        self.sh("bd stats --group-by model")
        self.say("The town's activity feed (last lines)")
        self.sh("gt feed -n 12")
        self.say("Everything is plain git: the ledger's history and the code that landed")
        self.sh("git -C gizmo/.repo.git log --format='%an %s' beads | head -12")
        self.sh("git -C gizmo/.repo.git log --format='%h %an %s' main | head -6")
        self.sh(f"git -C gizmo/.repo.git show beads:{document_path('beads', hello)} | head -12")

    def _settings(self) -> None:
        """The demo town runs the scripted agent, or --agent NAME as the caller's town settings define it."""
        from gt.ledger.yamlio import dump, load_mapping

        path = self.town / "settings" / "config.yaml"
        settings = load_mapping(path.read_text(), str(path))
        from gt.town.settings import SCRIPTED, SCRIPTED_AGENT

        agents = dict(settings.get("agents") or {})
        if self.agent:
            agents.update(_agents_of_caller(self.agent, self.town))
        if (self.agent or SCRIPTED) == SCRIPTED and SCRIPTED not in agents:
            agents[SCRIPTED] = SCRIPTED_AGENT.as_dict()  # named explicitly: no town runs it unless told to
        settings["agents"] = agents
        settings["default_agent"] = self.agent or SCRIPTED
        path.write_bytes(dump(settings))

    def _until_landed(self, convoy_id: str) -> None:
        import json

        deadline = time.time() + TIMEOUT
        tick = 0
        while time.time() < deadline:
            tick += 1
            report = json.loads(self.sh("gt deacon tick --json", show=False))
            for rig, entry in report["rigs"].items():
                for outcome in entry.get("refinery") or []:
                    self.echo(f"  [refinery {rig}] {outcome['mr']}: {outcome['result']}"
                              + (f" ({outcome['detail']})" if outcome["result"] != "merged" else ""))
                for decision in entry.get("witness") or []:
                    if decision["action"] != "clean-up":
                        self.echo(f"  [witness {rig}] {decision['action']} {decision['agent']}: {decision.get('reason', '')}")
            status = json.loads(self.sh(f"gt convoy status {convoy_id} --json", show=False))
            if status["status"] == "closed":
                self.echo(f"  convoy {convoy_id} landed after {tick} ticks")
                return
            for stranded in json.loads(self.sh("gt convoy stranded --json", show=False)):
                for bead in stranded["ready"]:
                    rig = "gizmo" if bead.startswith("gz-") else "widget"
                    self.sh(f"gt sling {bead} {rig} --model {self.model()}")
            self.echo(f"  … tick {tick}: {status['completed']}/{status['total']} landed, "
                      f"working: {', '.join(status['swarm']) or 'nobody'}")
            time.sleep(1.0)
        raise DemoFailed(f"the convoy did not land within {TIMEOUT:g} s")


class DemoFailed(GtError):
    """A demo step failed: `gt demo` prints this one line as its error and exits 1."""


def _agents_of_caller(agent: str, demo_town: Path) -> dict[str, Any]:
    """`agent`'s definition from the caller's own town ($GT_ROOT), so `--agent NAME` runs what they configured."""
    from gt.town import settings as town_settings

    caller = os.environ.get("GT_ROOT")
    if not caller or not (Path(caller) / "settings").is_dir() or Path(caller).resolve() == demo_town.resolve():
        return {}
    agents = town_settings.load(Path(caller)).agents
    return {agent: agents[agent].as_dict()} if agent in agents else {}


def run(workdir: str | None = None, echo: Callable[[str], None] = print, agent: str | None = None) -> int:
    """Run the demo in `workdir` (default: a temporary directory removed afterwards): 0, or DemoFailed."""
    if workdir is None:
        with tempfile.TemporaryDirectory(prefix="gt-demo-") as tmp:
            return _run(Path(tmp), echo, agent, kept=False)
    Path(workdir).mkdir(parents=True, exist_ok=True)
    return _run(Path(workdir).resolve(), echo, agent, kept=True)


def _run(root: Path, echo: Callable[[str], None], agent: str | None, kept: bool) -> int:
    demo = Demo(root, echo, agent)
    started = time.time()
    try:
        demo.run()
    except Exception as exc:  # one error line (exit 1), never a success message after a failure
        detail = str(exc) if isinstance(exc, DemoFailed) else f"{type(exc).__name__}: {exc}"
        note = f" (the town is kept in {demo.town})" if kept and demo.town.exists() else ""
        raise DemoFailed(f"the demo failed: {detail}{note}") from exc
    finally:
        if demo.town.exists():
            try:
                subprocess.run([os.path.join(os.path.dirname(sys.executable), "gt"), "down", "--force"], cwd=root,
                               env=demo.env, capture_output=True, timeout=120)
            except subprocess.TimeoutExpired:
                echo("gt down --force did not finish within 120 s")
    where = f"kept in {shlex.quote(str(demo.town))}" if kept else "removed now; pass --dir PATH to keep it"
    echo(f"\nDone in {time.time() - started:.0f} s: a real town, inspectable with plain git ({where}).")
    return 0

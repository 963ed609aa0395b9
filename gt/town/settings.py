"""The town's settings (`settings/config.yaml`), with a rig's own `<rig>/settings/config.yaml` over them.

Agents are commands: `agents: {name: {command: [...]}}`, `default_agent`. None is built in: a
town runs only the runtimes its settings name (the scripted stand-in too, which `gt install
--default-agent script`, the demo and the tests name explicitly). Polecats come from
`name_pool` (names unique in the town), at most `max_polecats` per rig, on branches named by
`polecat_branch`; `merge_queue` holds the refinery's defaults and a rig's gates.

The dataclasses below are the schema: every key, its type and its default. `load` checks each file
against it (a bad value is a `UsageError` naming the file, the dotted key and the expected type; an
unknown key is a one-line warning, with a suggestion when it looks like a misspelling) and returns a
`Settings` with every value of its declared type. `problems` lists the same findings for `gt doctor`.
"""
from __future__ import annotations

import difflib
import sys
import types
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import (
    Any,
    Literal,
    NamedTuple,
    Union,
    get_args,
    get_origin,
    get_type_hints,
)

from gt.errors import UsageError
from gt.town import layout

Strategy = Literal["rebase", "merge"]
OnFailure = Literal["assign_back", "none"]
OnConflict = Literal["assign_back", "auto_rebase", "none"]
GATES = ("setup_command", "lint_command", "test_command", "build_command")


Preset = Literal["", "claude", "codex"]
PromptInput = Literal["", "argument", "stdin"]  # "": the preset's, else argument


@dataclass(frozen=True)
class Agent:
    """An agent runtime: a command template run in the agent's worktree (see gt.roles.runtimes).

    `preset` names a runtime this package knows (`claude`, `codex`): its command when `command` is
    empty, the hooks its sessions get and how its usage report is read. `prompt: stdin` feeds the
    prompt on standard input instead of through `{prompt}`/`{prompt_file}`. `interactive` is the
    command for a session a person attaches to in tmux (`gt mayor attach`).
    """

    command: list[str] = field(default_factory=list)  # a single string is taken as a one-word command
    tmux: bool = False
    preset: Preset = ""
    prompt: PromptInput = ""
    interactive: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def resolved(self) -> Agent:
        """This entry with its preset's command, prompt input and interactive form filling what it leaves out."""
        if not self.preset:
            return self
        base = PRESETS[self.preset]
        return Agent(command=self.command or base.command, tmux=self.tmux, preset=self.preset,
                     prompt=self.prompt or base.prompt, interactive=self.interactive or base.interactive)


# The runtimes shipped ready to use. Each passes the model ({model}: an option and its value are
# left out together when no model is known) and reads the prompt from stdin, so no argument
# approaches the kernel's 128 KiB limit. Claude Code runs with `--permission-mode dontAsk` and the
# session's settings file allowing its tools (which works as root, where
# --dangerously-skip-permissions is refused) and prints its report as stream-json; Codex runs
# `codex exec --json` with its sandbox off (the polecat's worktree is the boundary). Codex gets the
# town's hooks as `-c hooks.<Event>=[...]` overrides (a layer of this invocation only: the user's
# ~/.codex and the project's .codex/ are not touched), run without a persisted review because of
# `--dangerously-bypass-hook-trust` (Codex 0.171 skips untrusted hooks silently otherwise): after
# each shell command `gt runtime-hook post-tool-use` (nudges and new mail, as additionalContext), after
# a compaction (or /clear, /resume) `gt prime --hook`, and with each prompt typed in the interactive
# form `gt runtime-hook user-prompt-submit`. `{{`/`}}` are literal braces (the command is formatted).
_CODEX_START = ('hooks.SessionStart=[{{matcher="compact|clear|resume",'
                'hooks=[{{type="command",command="gt prime --hook",timeout=30}}]}}]')
_CODEX_TOOL = ('hooks.PostToolUse=[{{matcher="*",'
               'hooks=[{{type="command",command="gt runtime-hook post-tool-use",timeout=30}}]}}]')
_CODEX_PROMPT = ('hooks.UserPromptSubmit=[{{'
                 'hooks=[{{type="command",command="gt runtime-hook user-prompt-submit",timeout=30}}]}}]')
PRESETS: dict[str, Agent] = {
    "claude": Agent(
        command=["claude", "-p", "--model", "{model}", "--permission-mode", "dontAsk",
                 "--settings", "{settings_file}", "--output-format", "stream-json", "--verbose"],
        preset="claude", prompt="stdin",
        interactive=["claude", "--model", "{model}", "--settings", "{settings_file}", "{prompt}"]),
    "codex": Agent(
        command=["codex", "exec", "--json", "-m", "{model}", "--skip-git-repo-check",
                 "--dangerously-bypass-approvals-and-sandbox", "--dangerously-bypass-hook-trust",
                 "-c", _CODEX_START, "-c", _CODEX_TOOL, "-"],
        preset="codex", prompt="stdin",
        interactive=["codex", "-m", "{model}", "--dangerously-bypass-approvals-and-sandbox",
                     "--dangerously-bypass-hook-trust", "-c", _CODEX_START, "-c", _CODEX_TOOL, "-c", _CODEX_PROMPT,
                     "{prompt}"]),
}


@dataclass(frozen=True)
class MergeQueue:
    strategy: Strategy = "rebase"
    setup_command: str = ""
    lint_command: str = ""
    test_command: str = ""
    build_command: str = ""
    gate_timeout: float = 600.0  # seconds per gate
    retry_flaky_tests: int = 0  # extra tries of test_command
    on_failure: OnFailure = "assign_back"
    on_conflict: OnConflict = "assign_back"
    delete_merged_branches: bool = True
    push_to_origin: bool = False

    def gates(self) -> list[tuple[str, str]]:
        """The configured gates, in the order they run: (name, shell command)."""
        commands = {"setup_command": self.setup_command, "lint_command": self.lint_command,
                    "test_command": self.test_command, "build_command": self.build_command}
        return [(name, commands[name]) for name in GATES if commands[name]]


@dataclass(frozen=True)
class Witness:
    stall_seconds: float = 900.0  # no activity this long: nudge, then restart
    max_restarts: int = 3  # per bead, then escalate


@dataclass(frozen=True)
class Retry:
    """The retry breaker (gt.dispatch.attempts): refinery rejections and witness restarts of a bead."""

    max_attempts: int = 3  # then the bead is blocked and escalated
    backoff_seconds: float = 5.0  # the wait after the first attempt, doubling
    backoff_max_seconds: float = 600.0


@dataclass(frozen=True)
class Deacon:
    interval: float = 30.0  # seconds between ticks
    auto_feed: bool = False


@dataclass(frozen=True)
class Scheduler:
    """The scheduler (gt.dispatch.queue): how long work queued on another machine waits before this one takes it."""

    adopt_after: float = 3600.0  # seconds since its queued_at (0: this machine dispatches it at once)


@dataclass(frozen=True)
class Mayor:
    autostart: bool = False
    agent: str | None = None
    model: str | None = None


@dataclass(frozen=True)
class Crew:
    agent: str | None = None
    model: str | None = None


@dataclass(frozen=True)
class Dogs:
    tombstone_days: float = 30.0


def _urgent() -> list[str]:
    return ["mayor", "overseer"]


def _mayor() -> list[str]:
    return ["mayor"]


@dataclass(frozen=True)
class SeverityTargets:
    """Whom an escalation's mail goes to, by severity (town addresses: mayor, overseer, deacon, …)."""

    critical: list[str] = field(default_factory=_urgent)
    high: list[str] = field(default_factory=_urgent)
    medium: list[str] = field(default_factory=_mayor)
    low: list[str] = field(default_factory=_mayor)


@dataclass(frozen=True)
class SeverityAges:
    """Seconds an open, unacknowledged escalation waits before `gt escalate stale` notifies again
    (0: never), by severity; also the least time between two notifications of a repeated one."""

    critical: float = 900.0
    high: float = 3600.0
    medium: float = 14400.0
    low: float = 86400.0


@dataclass(frozen=True)
class Escalation:
    """Routing of escalations (gt/dispatch/escalations.py). `command` (an argv, never run through a
    shell) runs for high and critical ones with the escalation as JSON on stdin: this machine's
    settings name it, nothing in a ledger does."""

    notify: SeverityTargets = field(default_factory=SeverityTargets)
    stale_after: SeverityAges = field(default_factory=SeverityAges)
    command: list[str] = field(default_factory=list)
    command_timeout: float = 30.0  # seconds; then it is killed
    max_reescalations: int = 2  # times `stale` raises an unacknowledged one a severity (0: never)


SCRIPTED = "script"  # the scripted stand-in's usual name; a town has it only when its settings name it
SCRIPTED_AGENT = Agent(["python", "-m", "gt.agents.scripted"])

# The placeholders whose values come from a bead's text (through `gt prime`): never inside a string
# a shell or an interpreter evaluates. The others ({prompt_file}, {identity}, {worktree}, {model})
# come from this machine: the town's paths, the identity rules, the settings and the command line.
BEAD_DERIVED = ("prompt",)
_SHELLS = frozenset({"sh", "bash", "rbash", "dash", "zsh", "ksh", "mksh", "pdksh", "ash", "yash", "posh",
                     "fish", "csh", "tcsh"})
# programs that evaluate the argument of one of these options as code
_EVALUATORS = {"python": "c", "pypy": "c", "perl": "eE", "ruby": "e", "node": "ep", "nodejs": "ep", "php": "r",
               "su": "c", "runuser": "c", "script": "c", "lua": "e", "luajit": "e", "tclsh": "c"}
# short options of those programs that take the next element as their value (`python -W ignore -c …`)
_VALUE_LETTERS = {"python": "WXQm", "pypy": "WXQm", "perl": "IMmx", "ruby": "IrEC", "node": "rC", "nodejs": "rC",
                  "php": "cdfz", "su": "ls", "runuser": "lgGus", "lua": "l", "luajit": "l"}
_VALUE_LONG = frozenset({"--require", "--import", "--loader", "--experimental-loader", "--conditions",
                         "--input-type", "--shell", "--group", "--user"})
# programs that hand (some of) their arguments to a shell or an interpreter of their own: {prompt}
# may appear nowhere in a command that runs one of them
_REPARSERS = frozenset({"ssh", "flock", "awk", "gawk", "mawk", "nawk", "busybox", "pwsh", "powershell", "deno",
                        "bun", "osascript", "expect", "watch", "eval", "xargs", "parallel"})


def _program(word: str) -> str:
    """`/usr/bin/python3.12` -> `python`, `bash5` -> `bash`: the program a command word runs."""
    name = word.rsplit("/", 1)[-1]
    return name.rstrip("0123456789.") or name


def evaluated(command: list[str]) -> list[int]:
    """Which elements of an agent's command a shell or interpreter runs as code: `sh -c STRING`
    (also `bash -lc`, `env X=1 zsh -ec`, `timeout 60 sh -c`), `python -c CODE`, `perl -e CODE`, …;
    and the first element, the program itself."""
    found = [0] if command else []
    for at, word in enumerate(command):
        program = _program(word)
        if program in _SHELLS:
            found += _shell_script(command, at + 1)
        elif program in _EVALUATORS:
            found += _evaluator_code(command, at + 1, _EVALUATORS[program], _VALUE_LETTERS.get(program, ""))
        elif program in _REPARSERS or (program == "env" and any(
                w in ("-S", "--split-string") or w.startswith(("-S", "--split-string=")) for w in command[at + 1:])):
            found += range(at + 1, len(command))  # everything after it may be re-parsed
    return sorted(set(found))


def _shell_script(command: list[str], at: int) -> list[int]:
    """The command string of `sh [options] -c [options] STRING`, if the shell runs one."""
    running, takes_value = False, False
    for index in range(at, len(command)):
        word = command[index]
        if takes_value:
            takes_value = False
            continue
        if word == "--":
            return [index + 1] if running and index + 1 < len(command) else []
        if word.startswith("--"):  # bash --login, --rcfile FILE; fish --command=STRING, --command STRING
            if word.startswith(("--command=", "--init-command=")):
                return [index]
            if word in ("--command", "--init-command"):
                return [index + 1] if index + 1 < len(command) else []
            takes_value = word in ("--rcfile", "--init-file")
            continue
        if len(word) > 1 and word[0] in "-+":
            running = running or (word[0] == "-" and "c" in word[1:])
            takes_value = word[1:] in ("o", "O")
            continue
        return [index] if running else []
    return []


def _evaluator_code(command: list[str], at: int, letters: str, value_letters: str = "") -> list[int]:
    """The code argument of `python -c CODE` (or `-cCODE`), `perl -e CODE`, `node --eval CODE`, …,
    past options that take a value (`python -W ignore -c CODE`, `node --require x -e CODE`)."""
    skip = False
    for index in range(at, len(command)):
        word = command[index]
        if skip:
            skip = False
            continue
        if word in ("--eval", "--print", "--command", "-command"):
            return [index + 1] if index + 1 < len(command) else []
        if word.startswith(("--eval=", "--print=", "--command=")):
            return [index]
        if word.startswith("--"):  # a long option: its letters are not short flags
            skip = word in _VALUE_LONG
            continue
        if not word.startswith("-") or word == "-":
            return []
        flags = word[1:]
        for position, letter in enumerate(flags):
            if letter in letters:
                rest = flags[position + 1:]
                return [index] if rest else ([index + 1] if index + 1 < len(command) else [])
            if letter in value_letters:  # `-W ignore` takes the next element; `-Wignore` its own rest
                skip = position == len(flags) - 1
                break
    return []


def placeholders(text: str) -> set[str]:
    """The placeholder names a template element uses (`{prompt}`, `{prompt!r}`, `{prompt[0]}` → prompt)."""
    import string

    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError:
        return set()  # a malformed template: command_for says so when it formats it
    return {field.split(".")[0].split("[")[0] for _, field, _, _ in parsed if field is not None}


def shell_problem(command: list[str]) -> str | None:
    """Why an agent command is unsafe, if it is: a bead-derived placeholder inside a string that a
    shell or an interpreter evaluates (a bead titled `$(rm -rf ~)` would run), else None."""
    for index in evaluated(command):
        if index < len(command):
            unsafe = sorted(placeholders(command[index]) & set(BEAD_DERIVED))
            if unsafe:
                where = "as the program to run" if index == 0 else f"inside the code {command[index]!r}"
                return (f"{{{unsafe[0]}}} {where} would run whatever a bead's text says: use {{prompt_file}} "
                        "(a file holding the prompt) there, or pass {prompt} as an argument of its own, "
                        "e.g. [sh, -c, 'agent \"$1\"', sh, '{prompt}']")
    return None


def _builtin_pool() -> list[str]:
    return ["toast", "nux", "slit", "furiosa", "capable", "dag", "ace", "rictus"]


@dataclass(frozen=True)
class Settings:
    """The merged settings of a town (and a rig): what `load` returns."""

    agents: dict[str, Agent] = field(default_factory=dict)  # none built in: only what the settings name
    default_agent: str = ""  # none: gt sling needs --agent, or a default_agent in the settings
    models: dict[str, str] = field(default_factory=dict)  # agent name -> its model (for analytics)
    name_pool: list[str] = field(default_factory=_builtin_pool)
    max_polecats: int = 8
    max_agents: int = 0  # polecats working at once in the whole town (0: no town-wide cap); the town's file
    polecat_branch: str = "polecat/{name}/{bead}"
    merge_queue: MergeQueue = field(default_factory=MergeQueue)
    witness: Witness = field(default_factory=Witness)
    retry: Retry = field(default_factory=Retry)
    deacon: Deacon = field(default_factory=Deacon)
    scheduler: Scheduler = field(default_factory=Scheduler)
    mayor: Mayor = field(default_factory=Mayor)
    crew: Crew = field(default_factory=Crew)
    dogs: Dogs = field(default_factory=Dogs)
    escalation: Escalation = field(default_factory=Escalation)

    def session_defaults(self, role: str) -> tuple[str | None, str | None]:
        """The agent and model a persistent role's session runs by default (mayor, crew), else (None, None)."""
        sections: dict[str, Mayor | Crew] = {"mayor": self.mayor, "crew": self.crew}
        section = sections.get(role)
        return (section.agent, section.model) if section else (None, None)


class Problem(NamedTuple):
    """An unknown key (a warning) or a bad value (an error) in one settings file."""

    file: str  # relative to the town
    key: str  # dotted
    message: str
    error: bool

    @property
    def text(self) -> str:
        """The problem without the file's name."""
        return f"{self.key}: {self.message}" if self.error and self.key else self.message

    def __str__(self) -> str:
        return f"{self.file}: {self.text}"


_warned: set[tuple[str, str]] = set()


def load(town: Path, rig: str | None = None) -> Settings:
    """Built-in defaults, then the town's settings, then the rig's (mappings merge one level deep).

    A bad value raises UsageError; an unknown key is warned about on stderr (once per process)."""
    merged: dict[str, Any] = {}
    for path in _layers(town, rig):
        checked, found = _check_file(town, path)
        errors = [problem for problem in found if problem.error]
        if errors:
            raise UsageError(str(errors[0]))
        for problem in found:
            if (str(path), problem.key) not in _warned:
                _warned.add((str(path), problem.key))
                print(f"warning: {problem}", file=sys.stderr)
        for key, value in checked.items():
            if isinstance(value, dict) and isinstance(merged.get(key), dict):
                merged[key] = {**merged[key], **value}
            else:
                merged[key] = value
    built: Settings = _build(Settings, merged)
    return built


def problems(town: Path, rigs: Iterable[str] = ()) -> list[Problem]:
    """Unknown keys and bad values in the town's settings file and the given rigs' (for `gt doctor`)."""
    found: list[Problem] = []
    paths = [town / layout.SETTINGS_FILE] + [layout.rig_dir(town, rig) / layout.SETTINGS_FILE for rig in rigs]
    for path in paths:
        try:
            found += _check_file(town, path)[1]
        except UsageError as exc:  # the file does not parse
            name = _name(town, path)
            found.append(Problem(name, "", str(exc).removeprefix(f"{name}: "), True))
    return found


class StalePreset(NamedTuple):
    """An agent entry that runs a shipped runtime by hand and passes it no model."""

    path: Path
    agent: str
    preset: str  # the preset that would run it with its model, hooks and usage report


def stale_presets(town: Path, rigs: Iterable[str] = ()) -> list[StalePreset]:
    """Entries like `claude: {command: [claude, --dangerously-skip-permissions, -p, '{prompt}']}`
    (what older towns were given): without `{model}` the runtime runs its default model whatever
    `gt sling --model` records, and without the preset its usage is never read."""
    found = []
    for path in _layers(town, None) + [layout.rig_dir(town, rig) / layout.SETTINGS_FILE for rig in rigs]:
        try:
            checked, _ = _check_file(town, path)
        except UsageError:
            continue  # reported by `problems`
        for agent, entry in (checked.get("agents") or {}).items():
            command = entry.get("command") or []
            program = Path(command[0]).name if command else ""
            if program in PRESETS and not entry.get("preset") and not any("{model}" in part for part in command):
                found.append(StalePreset(path, agent, program))
    return found


def use_preset(stale: StalePreset) -> None:
    """Replace the entry's hand-written command with its preset (comments and other keys kept)."""
    from ruamel.yaml import YAML

    yaml = YAML()  # round trip: the user's comments and layout stay
    yaml.preserve_quotes = True
    data = yaml.load(stale.path.read_text(encoding="utf-8"))
    entry = data["agents"][stale.agent]
    if isinstance(entry, dict):
        entry.pop("command", None)
        entry["preset"] = stale.preset
    else:
        data["agents"][stale.agent] = {"preset": stale.preset}
    import io

    buffer = io.StringIO()
    yaml.dump(data, buffer)
    tmp = stale.path.with_name(f".{stale.path.name}.tmp")
    tmp.write_text(buffer.getvalue(), encoding="utf-8")
    tmp.replace(stale.path)


# -- checking one file ---------------------------------------------------------------------------


def _layers(town: Path, rig: str | None) -> list[Path]:
    layers = [town / layout.SETTINGS_FILE]
    if rig:
        layers.append(layout.rig_dir(town, rig) / layout.SETTINGS_FILE)
    return layers


def _name(town: Path, path: Path) -> str:
    try:
        return str(path.relative_to(town))
    except ValueError:
        return str(path)


def _check_file(town: Path, path: Path) -> tuple[dict[str, Any], list[Problem]]:
    """The file's values converted to the schema's types (sections partial: only the keys it names)."""
    from gt.ledger.yamlio import YamlError, load_mapping

    name = _name(town, path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}, []
    if not any(line.strip() and not line.lstrip().startswith("#") for line in text.splitlines()):
        return {}, []  # empty, or only comments
    try:
        raw = load_mapping(text, name)
    except YamlError as exc:
        raise UsageError(str(exc)) from None
    found: list[Problem] = []
    checked = _section(raw, Settings, "", name, found)
    for agent, entry in (checked.get("agents") or {}).items():
        unsafe = shell_problem(entry.get("command") or [])
        if unsafe:
            found.append(Problem(name, f"agents.{agent}.command", unsafe, True))
    return checked, found


class _Bad(Exception):
    def __init__(self, expected: str, value: object) -> None:
        super().__init__(f"expected {expected}, got {_shown(value)}")


def _shown(value: object) -> str:
    if value is None:
        return "nothing"
    text = repr(value) if isinstance(value, (str, int, float)) else f"a {type(value).__name__}"
    return text if len(text) <= 60 else text[:57] + "..."


_hint_cache: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    if cls not in _hint_cache:
        _hint_cache[cls] = get_type_hints(cls)
    return _hint_cache[cls]


def _section(raw: object, cls: type, prefix: str, name: str, found: list[Problem]) -> dict[str, Any]:
    """The keys `raw` names of the dataclass `cls`, each converted; unknown keys go to `found`."""
    if not isinstance(raw, dict):
        raise _Bad("a mapping", raw)
    hints = _hints(cls)
    out: dict[str, Any] = {}
    for key, value in raw.items():
        dotted = f"{prefix}{key}"
        if key not in hints:
            close = difflib.get_close_matches(str(key), list(hints), n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            found.append(Problem(name, dotted, f"unknown key {dotted}{hint}", False))
            continue
        if value is None and not is_dataclass(hints[key]):
            continue  # `key:` with no value: the default
        try:
            out[key] = _convert(value, hints[key], dotted, name, found)
        except _Bad as exc:
            found.append(Problem(name, dotted, str(exc), True))
    return out


def _convert(value: object, hint: Any, dotted: str, name: str, found: list[Problem]) -> Any:
    origin, args = get_origin(hint), get_args(hint)
    if isinstance(hint, type) and is_dataclass(hint):
        return _section(value if value is not None else {}, hint, f"{dotted}.", name, found)
    if origin in (Union, types.UnionType):  # X | None
        if value is None:
            return None
        return _convert(value, next(a for a in args if a is not type(None)), dotted, name, found)
    if origin is Literal:
        if value not in args:
            raise _Bad(f"one of {', '.join(map(str, args))}", value)
        return value
    if hint is bool:
        if not isinstance(value, bool):
            raise _Bad("true or false", value)
        return value
    if hint is int:  # counts, caps, tries: never negative
        if isinstance(value, float) and value.is_integer() and value >= 0:
            return int(value)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise _Bad("a whole number, 0 or more", value)
        return value
    if hint is float:  # seconds: never negative
        if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
            raise _Bad("a number, 0 or more", value)
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise _Bad("a string", value)
        return value
    if origin is list:  # list[str]
        if isinstance(value, str) and dotted.endswith(".command"):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise _Bad("a list of strings", value)
        return list(value)
    if origin is dict:  # dict[str, str] or dict[str, Agent]: the keys are the user's own names
        if not isinstance(value, dict):
            raise _Bad("a mapping", value)
        out: dict[str, Any] = {}
        for key, item in value.items():
            try:
                out[str(key)] = _convert({} if item is None and args[1] is not str else item, args[1], f"{dotted}.{key}", name, found)
            except _Bad as exc:
                found.append(Problem(name, f"{dotted}.{key}", str(exc), True))
        return out
    raise TypeError(f"settings schema: no check for {hint!r}")  # a programming error in the schema


def _build(cls: type[Any], data: dict[str, Any]) -> Any:
    """An instance of the dataclass `cls` from checked (possibly partial) data; defaults fill the rest."""
    hints = _hints(cls)
    values: dict[str, Any] = {}
    for item in fields(cls):
        if item.name not in data:
            continue
        hint, value = hints[item.name], data[item.name]
        if isinstance(hint, type) and is_dataclass(hint):
            value = _build(hint, value)
        elif get_origin(hint) is dict and is_dataclass(get_args(hint)[1]):
            value = {key: _build(get_args(hint)[1], entry) for key, entry in value.items()}
        values[item.name] = value
    return cls(**values)


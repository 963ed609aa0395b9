"""Formulas: `*.formula.toml` files describing repeatable multi-step work, in the original beads' format.

A formula names its variables (`[vars.NAME]`: description, required, default) and its steps
(`[[steps]]`: id, title, description, needs, optionally type, priority, labels); `{{NAME}}` in a
title or description is filled in when the formula is poured into a molecule (gt.beads.molecules).
Formula files are untrusted input: sizes are bounded, names checked, and every problem is one
`FormulaError` naming the file, the step and what is wrong. The search path is a list of folders,
first match wins, then the built-ins shipped in `gt/beads/builtin_formulas/`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from gt.errors import GtError

SUFFIX = ".formula.toml"
MAX_FILE_BYTES = 256 * 1024
MAX_STEPS = 200
MAX_VARS = 100
MAX_VALUE_BYTES = 4096
MAX_TEXT = 64 * 1024  # a step's description (a bead's text limit is larger; the file bound comes first)
NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")  # formula names and step ids (a step id ends a bead id)
VAR_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
BUILTIN = "built-in"
STEP_TYPES = ("task", "bug", "feature", "chore", "epic", "human")  # `human`: the original's steps for a person
# Features of the original's formulas this implementation does not have: refused, never silently ignored.
UNSUPPORTED_TOP = ("extends", "template", "compose", "advice", "pointcuts")
UNSUPPORTED_STEP = ("children", "loop", "expand", "expand_vars", "condition", "gate", "waits_for", "on_complete")
KNOWN_TOP = ("formula", "description", "version", "type", "vars", "steps", "phase", "pour", "source")
KNOWN_STEP = ("id", "title", "description", "notes", "needs", "depends_on", "type", "priority", "labels", "assignee",
              "metadata")


class FormulaError(GtError):
    """A formula that cannot be read or used, or variables that do not fit it."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="bad_formula")


@dataclass(frozen=True)
class Var:
    """A variable a formula declares."""

    name: str
    description: str = ""
    required: bool = False
    default: str | None = None


@dataclass(frozen=True)
class Step:
    """One step: a bead of the molecule."""

    id: str
    title: str
    description: str = ""
    needs: tuple[str, ...] = ()
    type: str = "task"
    priority: int | None = None
    labels: tuple[str, ...] = ()


@dataclass(frozen=True)
class Formula:
    """A parsed, checked formula and where it came from (`origin`: a search-path label)."""

    name: str
    description: str
    version: int
    type: str
    vars: tuple[Var, ...]
    steps: tuple[Step, ...]
    path: str
    origin: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "description": self.description, "version": self.version, "type": self.type,
            "source": self.path, "origin": self.origin,
            "vars": {v.name: {"description": v.description, "required": v.required, "default": v.default}
                     for v in self.vars},
            "steps": [{"id": s.id, "title": s.title, "description": s.description, "needs": list(s.needs),
                       "type": s.type, "priority": s.priority, "labels": list(s.labels)} for s in self.steps],
        }

    def placeholders(self) -> set[str]:
        """The variables its texts use."""
        texts = [self.description] + [t for s in self.steps for t in (s.title, s.description)]
        return {m.group(1) for text in texts for m in PLACEHOLDER.finditer(text)}

    def bind(self, given: Mapping[str, str]) -> dict[str, str]:
        """The values to fill in: `given` over the defaults; refuses a missing required variable, a
        variable the formula neither declares nor uses, and an oversized value."""
        declared = {v.name: v for v in self.vars}
        used = self.placeholders()
        unknown = sorted(set(given) - set(declared) - used)
        if unknown:
            known = ", ".join(sorted(set(declared) | used)) or "none"
            raise FormulaError(f"formula {self.name} has no variable {unknown[0]!r} (it has: {known})")
        for name, value in given.items():
            check_value(name, value)
        values = {v.name: v.default for v in self.vars if v.default is not None}
        values.update(given)
        missing = sorted({v.name for v in self.vars if v.required} - set(values)) + sorted(used - set(declared) - set(values))
        if missing:
            raise FormulaError(f"formula {self.name}: missing required variable{'s' if len(missing) > 1 else ''} "
                               f"{', '.join(missing)} (give --var {missing[0]}=VALUE)")
        for name in declared:
            values.setdefault(name, "")  # optional, no default: empty
        return {k: str(v) for k, v in values.items()}


def fill(text: str, values: Mapping[str, str]) -> str:
    """`text` with each `{{NAME}}` replaced by its value (bind() made sure there is one)."""
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def check_value(name: str, value: str) -> str:
    if not VAR_RE.fullmatch(name):
        raise FormulaError(f"invalid variable name {name!r}: letters, digits and '_', a letter or '_' first")
    if len(value.encode("utf-8", "surrogatepass")) > MAX_VALUE_BYTES:
        raise FormulaError(f"the value of {name} is longer than {MAX_VALUE_BYTES} bytes")
    if "\x00" in value:
        raise FormulaError(f"the value of {name} holds a NUL character")
    return value


def parse_vars(pairs: Iterable[str]) -> dict[str, str]:
    """`--var k=v` options as a mapping (a name given twice is refused)."""
    values: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        name = name.strip()
        if not sep:
            raise FormulaError(f"--var {pair!r}: write it as NAME=VALUE")
        if name in values:
            raise FormulaError(f"--var {name} is given twice")
        values[name] = check_value(name, value)
    return values


# -- parsing -----------------------------------------------------------------------------------


def parse(data: bytes, path: str, origin: str = "", expected: str | None = None) -> Formula:
    """Parse and check one formula file's bytes; `expected` is the name its file name gives."""
    import tomllib

    if len(data) > MAX_FILE_BYTES:
        raise FormulaError(f"{path}: larger than {MAX_FILE_BYTES // 1024} KB")
    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise FormulaError(f"{path}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise FormulaError(f"{path}: invalid TOML: {exc}") from None
    return _formula(doc, path, origin, expected)


def _text(value: Any, where: str, what: str, limit: int = MAX_TEXT) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise FormulaError(f"{where}: {what} must be a string")
    if len(value) > limit:
        raise FormulaError(f"{where}: {what} is longer than {limit} characters")
    if "\x00" in value:
        raise FormulaError(f"{where}: {what} holds a NUL character")
    return value


def _check_keys(table: dict[str, Any], where: str, known: Iterable[str], unsupported: Iterable[str]) -> None:
    """Refuse a key of the original's formulas this project does not have, then any other unknown key."""
    for key in unsupported:
        if key in table:
            raise FormulaError(f"{where}: `{key}` is a feature of the original's formulas not supported here")
    unknown = sorted(set(table) - set(known) - set(unsupported))
    if unknown:
        raise FormulaError(f"{where}: unknown key {unknown[0]!r}")


def _formula(doc: dict[str, Any], path: str, origin: str, expected: str | None) -> Formula:
    _check_keys(doc, path, KNOWN_TOP, UNSUPPORTED_TOP)
    name = doc.get("formula", expected)
    if not isinstance(name, str) or not NAME_RE.fullmatch(name):
        raise FormulaError(f"{path}: `formula` must be a name of letters, digits, '_' or '-' (at most 64)")
    if expected is not None and name != expected:
        raise FormulaError(f"{path}: declares formula {name!r}, but its file name says {expected!r}")
    version = doc.get("version", 1)
    if not isinstance(version, int) or isinstance(version, bool) or not 0 <= version < 1_000_000:
        raise FormulaError(f"{path}: `version` must be a whole number")
    kind = _text(doc.get("type"), path, "`type`", 64) or "workflow"
    description = _text(doc.get("description"), path, "`description`")
    variables = _vars(doc.get("vars"), path)
    steps = _steps(doc.get("steps"), path)
    formula = Formula(name, description, version, kind, variables, steps, path, origin)
    if len({v.name for v in variables} | formula.placeholders()) > MAX_VARS:
        raise FormulaError(f"{path}: more than {MAX_VARS} variables")
    return formula


def _vars(table: Any, path: str) -> tuple[Var, ...]:
    if table is None:
        return ()
    if not isinstance(table, dict):
        raise FormulaError(f"{path}: `vars` must be a table of [vars.NAME] tables")
    if len(table) > MAX_VARS:
        raise FormulaError(f"{path}: more than {MAX_VARS} variables")
    out = []
    for name, spec in table.items():
        where = f"{path}: variable {name!r}"
        if not VAR_RE.fullmatch(name):
            raise FormulaError(f"{where}: names are letters, digits and '_', a letter or '_' first")
        if isinstance(spec, str):  # the original's short form: the string is the default
            out.append(Var(name, default=check_value(name, spec)))
            continue
        if not isinstance(spec, dict):
            raise FormulaError(f"{where}: must be a table (description, required, default) or a string")
        required = spec.get("required", False)
        if not isinstance(required, bool):
            raise FormulaError(f"{where}: `required` must be true or false")
        default = spec.get("default")
        if default is not None:
            if not isinstance(default, str):
                raise FormulaError(f"{where}: `default` must be a string")
            check_value(name, default)
        out.append(Var(name, _text(spec.get("description"), where, "`description`", 4096), required, default))
    return tuple(out)


def _steps(items: Any, path: str) -> tuple[Step, ...]:
    if not isinstance(items, list) or not items:
        raise FormulaError(f"{path}: a formula needs at least one [[steps]] entry")
    if len(items) > MAX_STEPS:
        raise FormulaError(f"{path}: more than {MAX_STEPS} steps")
    steps: list[Step] = []
    seen: set[str] = set()
    for number, item in enumerate(items, 1):
        if not isinstance(item, dict):
            raise FormulaError(f"{path}: step {number} is not a table")
        step_id = item.get("id")
        if not isinstance(step_id, str) or not NAME_RE.fullmatch(step_id) or step_id.endswith("-"):
            raise FormulaError(f"{path}: step {number}: `id` must be letters, digits, '_' or '-' (at most 64)")
        where = f"{path}: step {step_id}"
        if step_id in seen:
            raise FormulaError(f"{where}: duplicate step id")
        seen.add(step_id)
        _check_keys(item, where, KNOWN_STEP, UNSUPPORTED_STEP)
        title = _text(item.get("title"), where, "`title`", 500).strip()
        if not title:
            raise FormulaError(f"{where}: `title` is missing")
        if "\n" in title or "\r" in title:
            raise FormulaError(f"{where}: `title` must be one line")
        needs: list[str] = []
        for key in ("needs", "depends_on"):
            value = item.get(key, [])
            if not isinstance(value, list) or not all(isinstance(n, str) for n in value):
                raise FormulaError(f"{where}: `{key}` must be a list of step ids")
            needs += value
        kind = item.get("type", "task")
        if kind not in STEP_TYPES:
            raise FormulaError(f"{where}: `type` must be one of {', '.join(STEP_TYPES)}")
        priority = item.get("priority")
        if priority is not None and (not isinstance(priority, int) or isinstance(priority, bool)
                                     or not 0 <= priority <= 4):
            raise FormulaError(f"{where}: `priority` must be 0-4")
        labels = item.get("labels", [])
        if not isinstance(labels, list) or not all(isinstance(x, str) and x.strip() and len(x) <= 100
                                                   and not any(c in x for c in ",\n\r\x00") for x in labels):
            raise FormulaError(f"{where}: `labels` must be a list of short labels")
        description = _text(item.get("description"), where, "`description`")
        steps.append(Step(step_id, title, description, tuple(dict.fromkeys(needs)), kind, priority,
                          tuple(dict.fromkeys(labels))))
    for step in steps:
        for need in step.needs:
            if need not in seen:
                raise FormulaError(f"{path}: step {step.id}: needs unknown step {need!r}")
            if need == step.id:
                raise FormulaError(f"{path}: step {step.id}: needs itself")
    cycle = _cycle(steps)
    if cycle:
        raise FormulaError(f"{path}: step {cycle[0]}: its needs make a cycle: {' -> '.join(cycle)}")
    return tuple(steps)


def _cycle(steps: list[Step]) -> list[str] | None:
    """A cycle of `needs`, as a path that ends where it starts (None: there is none)."""
    needs = {s.id: s.needs for s in steps}
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    for start in needs:
        if state.get(start):
            continue
        path: list[str] = [start]
        stack = [iter(needs[start])]
        state[start] = 1
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            elif not state.get(nxt):
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(needs[nxt]))
    return None


# -- the search path ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    """A folder of the search path, and what it is called in listings."""

    label: str
    folder: Path


@dataclass
class Listing:
    """What `bd formula list` shows: the formulas found (first per name), those shadowed and broken files."""

    formulas: list[Formula] = field(default_factory=list)
    shadowed: list[tuple[str, str]] = field(default_factory=list)  # (name, path)
    errors: list[str] = field(default_factory=list)


def repo_folder(worktree: str | None) -> list[Place]:
    """The repository's own formulas: `.beads/formulas/` of its work tree (none for a bare one)."""
    return [Place("repo", Path(worktree) / ".beads" / "formulas")] if worktree else []


def _files(place: Place) -> list[Path]:
    try:
        return sorted(p for p in place.folder.iterdir() if p.name.endswith(SUFFIX) and p.is_file())
    except OSError:
        return []


def _read(path: Path) -> bytes:
    with open(path, "rb") as f:
        data = f.read(MAX_FILE_BYTES + 1)
    return data


def _builtin_names() -> list[str]:
    from importlib.resources import files

    folder = files("gt.beads") / "builtin_formulas"
    return sorted(p.name[:-len(SUFFIX)] for p in folder.iterdir() if p.name.endswith(SUFFIX))


def _builtin(name: str) -> Formula:
    from importlib.resources import files

    resource = files("gt.beads") / "builtin_formulas" / f"{name}{SUFFIX}"
    return parse(resource.read_bytes(), f"{BUILTIN}:{name}{SUFFIX}", BUILTIN, name)


def load(name: str, places: Iterable[Place]) -> Formula:
    """The formula `name`: the first file of that name on the search path, else the built-in."""
    if not NAME_RE.fullmatch(name):
        raise FormulaError(f"invalid formula name {name!r}: letters, digits, '_' or '-' (at most 64)")
    for place in places:
        path = place.folder / f"{name}{SUFFIX}"
        if path.is_file():
            try:
                data = _read(path)
            except OSError as exc:
                raise FormulaError(f"{path}: cannot read: {exc.strerror}") from None
            return parse(data, str(path), place.label, name)
    if name in _builtin_names():
        return _builtin(name)
    raise FormulaError(f"no formula named {name!r} (see `bd formula list`)")


def listing(places: Iterable[Place]) -> Listing:
    """Every formula on the search path (first match per name wins), with the files that do not parse."""
    found = Listing()
    names: set[str] = set()
    candidates: list[tuple[str, str, Any]] = [
        (path.name[:-len(SUFFIX)], place.label, path) for place in places for path in _files(place)]
    candidates += [(name, BUILTIN, None) for name in _builtin_names()]
    for name, label, path in candidates:
        if name in names:
            found.shadowed.append((name, str(path) if path else f"{BUILTIN}:{name}{SUFFIX}"))
            continue
        try:
            formula = _builtin(name) if path is None else parse(_read(path), str(path), label, name)
        except (FormulaError, OSError) as exc:
            found.errors.append(str(exc) if isinstance(exc, FormulaError) else f"{path}: {exc}")
            continue
        names.add(name)
        found.formulas.append(formula)
    found.formulas.sort(key=lambda f: f.name)
    return found

"""The original bd's filter flags, shared by `list`, `count`, `search`, `ready` and `blocked`."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

import click

if TYPE_CHECKING:
    from gt.beads.queries import Filter

F = Callable[..., Any]

# (flags, options) of every filter; `which` below picks a command's subset by the first long name.
_FILTERS: dict[str, tuple[tuple[str, ...], dict[str, Any]]] = {
    "status": (("-s", "--status"), {"help": "Only these statuses (comma-separated)."}),
    "state": (("--state",), {"hidden": True, "help": "Same as --status."}),
    "priority": (("-p", "--priority"), {"help": "Only this priority (0-4 or P0-P4)."}),
    "type": (("-t", "--type", "type_"), {"help": "Only this type."}),
    "assignee": (("-a", "--assignee"), {"help": "Only beads assigned to this identity."}),
    "label": (("-l", "--label", "labels"), {"multiple": True, "help": "Only beads with all these labels (repeatable or comma-separated)."}),
    "label-any": (("--label-any",), {"multiple": True, "help": "Only beads with at least one of these labels."}),
    "exclude-label": (("--exclude-label",), {"multiple": True, "help": "Leave out beads with any of these labels."}),
    "label-pattern": (("--label-pattern",), {"metavar": "GLOB", "help": "Only beads with a label matching GLOB."}),
    "title": (("--title",), {"help": "Only titles containing this text (case-insensitive)."}),
    "title-contains": (("--title-contains",), {"hidden": True, "help": "Same as --title."}),
    "desc-contains": (("--desc-contains",), {"metavar": "TEXT", "help": "Only descriptions containing TEXT."}),
    "notes-contains": (("--notes-contains",), {"metavar": "TEXT", "help": "Only notes containing TEXT."}),
    "id": (("--id", "ids"), {"metavar": "IDS", "help": "Only these ids (comma-separated)."}),
    "created-after": (("--created-after",), {"metavar": "DATE", "help": "Created after DATE (YYYY-MM-DD or ISO 8601)."}),
    "created-before": (("--created-before",), {"metavar": "DATE", "help": "Created before DATE."}),
    "updated-after": (("--updated-after",), {"metavar": "DATE", "help": "Updated after DATE."}),
    "updated-before": (("--updated-before",), {"metavar": "DATE", "help": "Updated before DATE."}),
    "closed-after": (("--closed-after",), {"metavar": "DATE", "help": "Closed after DATE."}),
    "closed-before": (("--closed-before",), {"metavar": "DATE", "help": "Closed before DATE."}),
    "due-after": (("--due-after",), {"metavar": "DATE", "help": "Due after DATE."}),
    "due-before": (("--due-before",), {"metavar": "DATE", "help": "Due before DATE."}),
    "empty-description": (("--empty-description",), {"is_flag": True, "help": "Only beads without a description."}),
    "no-assignee": (("--no-assignee",), {"is_flag": True, "help": "Only unassigned beads."}),
    "unassigned": (("-u", "--unassigned"), {"is_flag": True, "help": "Only unassigned beads."}),
    "no-labels": (("--no-labels",), {"is_flag": True, "help": "Only beads without labels."}),
    "priority-min": (("--priority-min",), {"metavar": "P", "help": "Priority P or lower (numerically higher)."}),
    "priority-max": (("--priority-max",), {"metavar": "P", "help": "Priority P or higher (numerically lower)."}),
    "exclude-type": (("--exclude-type",), {"multiple": True, "help": "Leave out these types (repeatable or comma-separated)."}),
    "parent": (("--parent",), {"metavar": "ID", "help": "Only children of ID."}),
    "filter-parent": (("--filter-parent",), {"metavar": "ID", "hidden": True, "help": "Same as --parent."}),
    "no-parent": (("--no-parent",), {"is_flag": True, "help": "Only beads without a parent."}),
    "deferred": (("--deferred",), {"is_flag": True, "help": "Only beads with a defer date."}),
    "overdue": (("--overdue",), {"is_flag": True, "help": "Only unclosed beads past their due date."}),
    "include-infra": (("--include-infra", "--all-types", "include_infra"), {
        "is_flag": True, "help": "Include infrastructure beads (agents, mail, merge requests, convoys, …: "
                                 "the ledger's `types.infra`), which are left out otherwise."}),
}
LIST_FILTERS = tuple(k for k in _FILTERS if k != "unassigned")
COUNT_FILTERS = ("status", "state", "priority", "type", "assignee", "label", "label-any", "title", "title-contains",
                 "desc-contains", "notes-contains", "id", "created-after", "created-before", "updated-after",
                 "updated-before", "closed-after", "closed-before", "empty-description", "no-assignee", "no-labels",
                 "priority-min", "priority-max", "include-infra")
READY_FILTERS = ("priority", "type", "assignee", "unassigned", "label", "label-any", "exclude-label", "exclude-type", "parent")


def filter_options(which: tuple[str, ...]) -> Callable[[F], F]:
    """Add the named filter flags to a command (their values reach `build` through the command's params)."""

    def decorate(func: F) -> F:
        for name in reversed(which):
            flags, options = _FILTERS[name]
            names = [f for f in flags if f.startswith("-")]
            dest = next((f for f in flags if not f.startswith("-")), None)
            func = click.option(*names, *((dest,) if dest else ()), **options)(func)
        return func

    return decorate


def _dest(name: str) -> str:
    flags = _FILTERS[name][0]
    return next((f for f in flags if not f.startswith("-")), flags[-1].lstrip("-").replace("-", "_"))


def split(values: tuple[str, ...] | str | None) -> tuple[str, ...]:
    """A StringSlice of the original: repeatable and comma-separated."""
    if not values:
        return ()
    items = (values,) if isinstance(values, str) else values
    return tuple(part.strip() for item in items for part in item.split(",") if part.strip())


def _when(value: str | None, what: str) -> float | None:
    if not value:
        return None
    from gt.model.bead import normalize_time, parse_time

    return parse_time(normalize_time(value, what))


def build(params: dict[str, Any], which: tuple[str, ...]) -> Filter:
    """The Filter for the filter flags in `params` (removed from it)."""
    import time

    from gt.beads.queries import Filter
    from gt.model.bead import check_status, parse_priority

    got = {name: params.pop(_dest(name), None) for name in which}
    status = got.get("status") or got.get("state")
    statuses = None
    if status and status != "all":
        statuses = tuple(check_status(s.strip()) for s in status.split(",") if s.strip())

    def priority(name: str) -> int | None:
        value = got.get(name)
        return parse_priority(value) if value is not None else None

    def span(name: str) -> tuple[float | None, float | None]:
        return (_when(got.get(f"{name}-after"), f"--{name}-after date"),
                _when(got.get(f"{name}-before"), f"--{name}-before date"))

    contains = tuple((field, str(got[key]).lower()) for key, field in
                     (("desc-contains", "description"), ("notes-contains", "notes")) if got.get(key))
    title = got.get("title") or got.get("title-contains")
    flt = Filter(
        statuses=statuses, priority=priority("priority"), type=got.get("type"), assignee=got.get("assignee"),
        labels=split(got.get("label")), parent=got.get("parent") or got.get("filter-parent"),
        labels_any=split(got.get("label-any")), exclude_labels=split(got.get("exclude-label")),
        label_pattern=got.get("label-pattern"), title=title.lower() if title else None, ids=frozenset(split(got.get("id"))),
        unassigned=bool(got.get("no-assignee") or got.get("unassigned")), no_labels=bool(got.get("no-labels")),
        no_parent=bool(got.get("no-parent")), priority_min=priority("priority-min"),
        priority_max=priority("priority-max"), exclude_types=split(got.get("exclude-type")),
        created=span("created"), updated=span("updated"), closed=span("closed"), due=span("due"),
        deferred_only=bool(got.get("deferred")), overdue_at=time.time() if got.get("overdue") else None,
        contains=contains, empty_description=bool(got.get("empty-description")),
        include_infra=bool(got.get("include-infra")),
    )
    flt.include_closed = status == "all"  # the original's `--status all`: every status, closed included
    return flt

import click

from gt.cli.common import Out, command as subcommand


@click.group("polecat")
def polecat() -> None:
    """Polecats: the rigs' transient workers (list, status, nuke, gc, identity).

    Example: gt polecat list --rig gizmo

    Example: gt polecat identity show gizmo/nux
    """


@click.group("identity")
def identity() -> None:
    """A polecat's identity and its record.

    Example: gt polecat identity show gizmo/polecats/nux --json
    """


@subcommand("show")
@click.argument("name", metavar="RIG/NAME")
def show(out: Out, name: str) -> None:
    """The polecat's CV: completed, failed, abandoned, first-pass rate, models, languages, recent work.

    Example: gt polecat identity show gizmo/polecats/nux --json
    """
    from gt.cli.format import cv_text
    from gt.errors import GtError, UsageError
    from gt.ledger.store import check_key
    from gt.records import audit, sources
    from gt.town.layout import require_town
    from gt.town.rigs import registry

    parts = name.split("/")
    if len(parts) == 3 and parts[1] == "polecats":
        parts = [parts[0], parts[2]]
    try:
        if len(parts) != 2:
            raise GtError(name)
        for part in parts:
            check_key(part)
    except GtError:
        raise UsageError(f"invalid polecat {name!r}: give RIG/NAME, e.g. gizmo/nux") from None
    if parts[0] not in registry(require_town()):
        raise GtError(f"no rig named {parts[0]!r}", code="not_found")
    identity_name = f"{parts[0]}/polecats/{parts[1]}"
    ledgers = sources.sources()
    data = sources.cached(ledgers, "cv", [identity_name], lambda: audit.cv(ledgers, identity_name))
    out.emit(data, lambda: cv_text(data))


identity.add_command(show)


def _ago(stamp: str | None) -> str:
    """"12s ago", "5m ago", "3h ago", "2d ago" for an ISO 8601 time; "never" without one."""
    import time

    from gt.model.bead import parse_time

    when = parse_time(stamp)
    if when is None:
        return "never"
    seconds = max(int(time.time() - when), 0)
    for size, unit in ((86400, "d"), (3600, "h"), (60, "m")):
        if seconds >= size:
            return f"{seconds // size}{unit} ago"
    return f"{seconds}s ago"


def _line(p: dict[str, object]) -> str:
    """One polecat on one line: who, state, hook, attempts, session, last activity, worktree."""
    session = "alive" if p["alive"] else "not running"
    where = p["worktree"] or "no worktree"
    return (f"{p['rig']}/{p['name']}  {p['state']}  hook {p['hook'] or '-'}  attempts {p['attempts']}  {session}  "
            f"last activity {_ago(p['last_activity'] if isinstance(p['last_activity'], str) else None)}  {where}")


@subcommand("list")
@click.option("--rig", help="Only this rig's polecats (default: every rig's).")
def list_(out: Out, rig: str | None) -> None:
    """Every polecat: its state, the bead on its hook, attempts at it, whether its session is alive,
    its last activity and its worktree.

    Example: gt polecat list --rig gizmo --json
    """
    from gt.roles import polecat_admin
    from gt.town.layout import require_town

    found = polecat_admin.listing(require_town(), rig)
    out.emit(found, lambda: "\n".join(_line(p) for p in found) or "No polecats")


@subcommand("status")
@click.argument("name", metavar="NAME")
@click.option("--rig", help="The polecat's rig (when NAME is not RIG/NAME).")
@click.option("-n", "--lines", default=20, show_default=True, type=click.IntRange(min=1),
              help="How many of its session's last lines.")
def status(out: Out, name: str, rig: str | None, lines: int) -> None:
    """One polecat (RIG/NAME, or a NAME unique in the town): what `list` shows, and the last lines of
    its session (as `gt session peek`).

    Example: gt polecat status gizmo/nux -n 10
    """
    from gt.roles import polecat_admin
    from gt.town.layout import require_town

    data = polecat_admin.status(require_town(), name, rig, lines)

    def text() -> str:
        session = data["session"]
        rows = [f"{data['identity']}", f"  state:          {data['state']}", f"  hook:           {data['hook'] or '-'}",
                f"  attempts:       {data['attempts']}",
                f"  session:        {'alive' if data['alive'] else (session['ended'] or 'not running')}",
                f"  last activity:  {data['last_activity'] or 'never'} ({_ago(data['last_activity'])})",
                f"  worktree:       {data['worktree'] or '-'}", f"  branch:         {data['branch'] or '-'}"]
        if session["lines"]:
            rows += [f"--- last lines of its session (from its {session['source']})", *session["lines"]]
        else:
            rows.append("--- no session output on this machine")
        return "\n".join(rows)

    out.emit(data, text)


@subcommand("nuke")
@click.argument("name", metavar="NAME")
@click.option("--rig", help="The polecat's rig (when NAME is not RIG/NAME).")
@click.option("--force", is_flag=True, help="Remove the worktree and branch even when they hold unlanded work "
                                             "(it is lost; the ledger commit records it).")
def nuke(out: Out, name: str, rig: str | None, force: bool) -> None:
    """Stop a polecat's session, put its hooked bead back to open with a note, and remove its worktree
    and branch. Refuses, changing nothing, when they hold work that has not landed on the rig's
    default branch, unless --force. Its identity and record stay.

    Example: gt polecat nuke gizmo/nux --force
    """
    from gt.roles import polecat_admin
    from gt.town.layout import require_town

    town = require_town()
    done = polecat_admin.nuke(town, out.signature(None), name, rig, force)

    def text() -> str:
        parts = ["session stopped" if done["stopped"] else "no session running"]
        if done["bead"]:
            parts.append(f"{done['bead']} back to open")
        removed = done["removed"]
        if removed["worktree"]:
            parts.append(f"removed worktree {removed['worktree']}")
        if removed["branch"]:
            parts.append(f"removed branch {removed['branch']}")
        if done["discarded"]:
            parts.append(f"discarded (--force): {'; '.join(done['discarded'])}")
        if done["rejected"]:
            parts.append(f"rejected {', '.join(done['rejected'])}")
        return f"Nuked {done['agent']}: {', '.join(parts)}"

    out.emit(done, text)


@subcommand("gc")
@click.option("--rig", help="Only this rig's polecats (default: every rig's).")
def gc(out: Out, rig: str | None) -> None:
    """Remove idle polecats (nothing on the hook, no live session) whose work has landed: their worktree
    and branch, and those fields of their record. Idle ones with unlanded work are kept, and named.

    Example: gt polecat gc --rig gizmo --json
    """
    from gt.roles import polecat_admin
    from gt.town.layout import require_town

    done = polecat_admin.gc(require_town(), out.signature(None), rig)

    def text() -> str:
        rows = []
        for r in done["removed"]:
            what = [f"worktree {r['worktree']}" if r["worktree"] else "", f"branch {r['branch']}" if r["branch"] else ""]
            rows.append(f"Removed {r['agent']}: {', '.join(w for w in what if w) or 'its stale record fields'}")
        rows += [f"Kept {k['agent']}: unlanded {'; '.join(k['unlanded'])}" for k in done["kept"]]
        return "\n".join(rows) or "Nothing to collect"

    out.emit(done, text)


for sub in (list_, status, nuke, gc, identity):
    polecat.add_command(sub)

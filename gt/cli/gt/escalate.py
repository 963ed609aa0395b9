from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from gt.cli.common import Out, command as subcommand, read_text

if TYPE_CHECKING:
    from pathlib import Path

    from gt.ledger.store import Signature

RAISE = "_raise"  # the hidden subcommand behind `gt escalate DESCRIPTION`


class _Group(click.Group):
    """`gt escalate DESCRIPTION [options]` raises one; `list`, `show`, `ack`, `close` and `stale` are
    subcommands. Arguments that do not start with a subcommand's name go to the hidden RAISE."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ctx.help_option_names:
            args = [RAISE, *args]
        return super().parse_args(ctx, args)

    def resolve_command(self, ctx: click.Context, args: list[str]
                        ) -> tuple[str | None, click.Command | None, list[str]]:
        if args and args[0] not in self.commands:
            return RAISE, self.commands[RAISE], args
        return super().resolve_command(ctx, args)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for name in super().list_commands(ctx) if name != RAISE]

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        params = [p for p in self.commands[RAISE].get_params(ctx) if isinstance(p, click.Option)]
        rows = [row for row in (p.get_help_record(ctx) for p in params) if row]
        with formatter.section("Options (with DESCRIPTION)"):
            formatter.write_dl(rows)
        self.format_commands(ctx, formatter)


@click.group("escalate", cls=_Group, options_metavar="DESCRIPTION [OPTIONS] |",
             subcommand_metavar="COMMAND [ARGS]...")
def escalate() -> None:
    """Raise an escalation for a person or the mayor, or list, show, acknowledge and close them.

    `gt escalate DESCRIPTION` records an escalation in the town ledger and mails it by severity
    (settings `escalation.notify`: critical and high to the mayor and the overseer, medium and low to
    the mayor; high and critical also run `escalation.command` when one is set). Options:
    `-s/--severity critical|high|medium|low` (default medium), `-r/--reason TEXT` (the details),
    `--related BEAD` (the bead it is about: raising it again about that bead folds into the one
    still open, counting it and keeping the latest reason), `--source WHO` (default: you),
    `--json` (an object with `id`). Unknown severity: exit 2.

    Example: gt escalate "Build failing on main" --severity high --reason "tests.sh exits 1" --related gz-a3f8k
    """


def _town_and_actor(out: Out) -> tuple[Path, Signature]:
    from gt.town.layout import require_town

    return require_town(), out.signature(None)


def _line(e: dict[str, Any]) -> str:
    text = f"{e['id']}  {e['severity']:<8} {e['status']:<6} {e['title']}"
    if e["count"] > 1:
        text += f"  (x{e['count']})"
    if e["related"]:
        text += f"  about {e['related']}"
    return text


@subcommand(RAISE, hidden=True)
@click.argument("description", nargs=-1)
@click.option("-s", "--severity", default="medium", show_default=True, metavar="LEVEL", help="critical, high, medium or low.")
@click.option("-r", "--reason", metavar="TEXT", help="The details (kept as the latest reason when it is raised again).")
@click.option("--related", metavar="BEAD", help="The bead it is about: repeats about it fold into one escalation.")
@click.option("--source", metavar="WHO", help="Who or what raised it (default: you).")
def raise_(out: Out, description: tuple[str, ...], severity: str, reason: str | None, related: str | None,
           source: str | None) -> None:
    """Raise an escalation.

    Example: gt escalate "Need API credentials" --severity high
    """
    from gt.errors import UsageError
    from gt.dispatch import escalations

    text = " ".join(description).strip()
    if not text:
        raise UsageError("what is escalated? give a description: gt escalate DESCRIPTION [--severity …]")
    severity = escalations.check_severity(severity)
    town, actor = _town_and_actor(out)
    result = escalations.escalate(town, actor, text, severity, read_text(reason, None, "reason"), related, source,
                                  wait=True)

    def said() -> str:
        told = f"; notified {', '.join(result['notified'])}" if result["notified"] else ""
        if result["folded"]:
            quiet = "" if result["notified"] else "; not notified again yet"
            return f"Folded into {result['id']} [{result['severity']}] (raised {result['count']} times){told}{quiet}"
        return f"Escalated {result['id']} [{result['severity']}]: {result['title']}{told}"

    out.emit(result, said)


@subcommand("list")
@click.option("--all", "everything", is_flag=True, help="Include closed escalations.")
def list_(out: Out, everything: bool) -> None:
    """Escalations not yet closed, most severe first, then oldest first.

    Example: gt escalate list --all
    """
    from gt.town.layout import require_town
    from gt.dispatch import escalations

    found = escalations.list_(require_town(), everything)
    out.emit(found, "\n".join(_line(e) for e in found) or ("No escalations" if everything else "No open escalations"))


@subcommand("show")
@click.argument("escalation_id", metavar="ID")
def show(out: Out, escalation_id: str) -> None:
    """One escalation: severity, status (open, acked, closed), who acknowledged it, how often it was raised.

    Example: gt escalate show hq-x7k2m --json
    """
    from gt.town.layout import require_town
    from gt.dispatch import escalations

    e = escalations.show(require_town(), escalation_id)

    def said() -> str:
        was = f" (was {e['original_severity']})" if e["original_severity"] != e["severity"] else ""
        lines = [f"{e['id']}: {e['title']}", f"  severity: {e['severity']}{was}   status: {e['status']}   "
                 f"raised {e['count']} time{'s' if e['count'] != 1 else ''}"]
        if e["related"]:
            lines.append(f"  about: {e['related']}")
        lines.append(f"  raised by {e['raised_by']}" + (f" for {e['source']}" if e["source"] != e["raised_by"] else "")
                     + f" at {e['created_at']}")
        if e["notified_at"]:
            lines.append(f"  notified {e['notifications']} time{'s' if e['notifications'] != 1 else ''}, "
                         f"last at {e['notified_at']}")
        if e["acked_by"]:
            lines.append(f"  acknowledged by {e['acked_by']} at {e['acked_at']}")
        if e["status"] == "closed":
            lines.append(f"  closed by {e['closed_by']} at {e['closed_at']}"
                         + (f": {e['close_reason']}" if e["close_reason"] else ""))
        if e["reason"]:
            lines += ["", e["reason"]]
        return "\n".join(lines)

    out.emit(e, said)


@subcommand("ack")
@click.argument("escalation_id", metavar="ID")
def ack(out: Out, escalation_id: str) -> None:
    """Acknowledge an escalation: you are on it, so it is not sent again as stale.

    Example: gt escalate ack hq-x7k2m
    """
    from gt.dispatch import escalations

    town, actor = _town_and_actor(out)
    e = escalations.ack(town, actor, escalation_id)
    out.emit(e, f"Acknowledged {e['id']}" if e["changed"] else f"{e['id']} was already acknowledged by {e['acked_by']}")


@subcommand("close")
@click.argument("escalation_id", metavar="ID")
@click.option("--reason", help="How it was resolved.")
def close(out: Out, escalation_id: str, reason: str | None) -> None:
    """Close a resolved escalation.

    Example: gt escalate close hq-x7k2m --reason "credentials added"
    """
    from gt.dispatch import escalations

    town, actor = _town_and_actor(out)
    e = escalations.close(town, actor, escalation_id, reason)
    text = (f"Closed {e['id']}" + (f": {e['close_reason']}" if e["close_reason"] else "")) if e["changed"] \
        else f"{e['id']} was already closed"
    out.emit(e, text)


@subcommand("stale")
def stale(out: Out) -> None:
    """Notify again about open, unacknowledged escalations past their severity's `stale_after`.

    Each is raised one severity (low, medium, high, critical) up to `escalation.max_reescalations`
    times (default 2). The Deacon runs this on every tick.

    Example: gt escalate stale --json
    """
    from gt.dispatch import escalations

    town, actor = _town_and_actor(out)
    found = escalations.stale(town, actor, wait=True)
    out.emit(found, "\n".join(
        f"Re-notified {e['id']} [{e['severity']}" + (f", was {e['raised_from']}" if e["raised_from"] else "") + "]"
        + (f" to {', '.join(e['notified'])}" if e["notified"] else "") + f": {e['title']}" for e in found)
        or "No stale escalations")


for sub in (raise_, list_, show, ack, close, stale):
    escalate.add_command(sub)

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from gt.cli.common import Out, command as subcommand, read_text

if TYPE_CHECKING:
    from pathlib import Path

    from gt.ledger.store import Signature


@click.group("mail")
def mail() -> None:
    """Mail between agents and the overseer (messages in the town ledger).

    Example: gt mail send mayor -s "Need review" -m "gz-a3f8k is ready"
    """


def _reader(out: Out) -> tuple[Path, str, Signature]:
    from gt.ledger.store import Signature
    from gt.town.layout import require_town
    from gt.dispatch import mail

    who = mail.identity(out.actor)
    return require_town(), who.name, Signature(who.name)


def _line(msg: dict[str, Any]) -> str:
    mark = " " if msg.get("read") else "*"
    return f"{mark} {msg['id']}  {msg.get('created_at', '')[:16]}  {(msg.get('mail') or {}).get('from')}: {msg['title']}"


@subcommand("send")
@click.argument("to", nargs=-1)
@click.option("-s", "--subject", required=True)
@click.option("-m", "--message", "body", help="The body.")
@click.option("--body-file", type=click.Path(), help="Read the body from a file (- for stdin).")
@click.option("--reply-to", metavar="ID", help="The message this answers.")
@click.option("--human", is_flag=True, help="Send to the overseer (the human).")
def send(out: Out, to: tuple[str, ...], subject: str, body: str | None, body_file: str | None,
         reply_to: str | None, human: bool) -> None:
    """Send mail to identities (mayor, <rig>/witness, <rig>/polecats/<name>, overseer).

    Example: gt mail send gizmo/witness mayor -s "Status?" -m "How is gz-a3f8k going?"
    """
    from gt.dispatch import mail

    town, _, signature = _reader(out)
    addresses = list(to) + (["overseer"] if human else [])
    doc = mail.send(town, signature, addresses, subject, read_text(body, body_file, "body") or "", reply_to)
    out.emit(doc, f"Sent {doc['id']} to {', '.join(doc['mail']['to'])}")


@subcommand("inbox")
@click.option("--all", "everything", is_flag=True, help="Include archived messages.")
@click.option("--unread", is_flag=True, help="Only unread messages.")
def inbox(out: Out, everything: bool, unread: bool) -> None:
    """Your messages, oldest first (* marks unread).

    Example: gt mail inbox --all --json
    """
    from gt.dispatch import mail

    town, reader, _ = _reader(out)
    found = mail.inbox(town, reader, everything, unread)
    out.emit(found, "\n".join(_line(m) for m in found) or f"No mail for {reader}")


@subcommand("check")
def check(out: Out) -> None:
    """How many unread messages you have (and your waiting nudges).

    Example: gt mail check
    """
    from gt.town import rundir
    from gt.dispatch import mail

    town, reader, _ = _reader(out)
    unread = mail.inbox(town, reader, unread_only=True)
    nudges = rundir.drain_nudges(town, reader)
    out.emit({"unread": len(unread), "nudges": nudges},
             "\n".join([f"{len(unread)} unread" + (f": {unread[-1]['title']}" if unread else "")]
                       + [f"Nudge from {n['from']}: {n['message']}" for n in nudges]))


@subcommand("read")
@click.argument("message_id")
def read(out: Out, message_id: str) -> None:
    """Show a message and mark it read.

    Example: gt mail read hq-m84ah
    """
    from gt.dispatch import mail

    town, reader, signature = _reader(out)
    doc = mail.read(town, signature, reader, message_id)
    info = doc.get("mail") or {}
    out.emit(doc, f"{doc['id']}  from {info.get('from')} to {', '.join(info.get('to') or [])}\n"
                  f"Subject: {doc['title']}\n\n{doc.get('description', '')}")


@subcommand("reply")
@click.argument("message_id")
@click.option("-m", "--message", "body", required=True)
def reply(out: Out, message_id: str, body: str) -> None:
    """Answer a message (to its sender).

    Example: gt mail reply hq-m84ah -m "On it."
    """
    from gt.dispatch import mail

    town, _, signature = _reader(out)
    doc = mail.reply(town, signature, message_id, read_text(body, None, "body") or "")
    out.emit(doc, f"Sent {doc['id']} to {', '.join(doc['mail']['to'])}")


@subcommand("archive")
@click.argument("message_id")
def archive(out: Out, message_id: str) -> None:
    """Hide a message from your inbox (kept in history; `inbox --all` shows it).

    Example: gt mail archive hq-m84ah
    """
    from gt.dispatch import mail

    town, reader, signature = _reader(out)
    doc = mail.archive(town, signature, reader, message_id)
    out.emit(doc, f"Archived {doc['id']}")


for sub in (send, inbox, check, read, reply, archive):
    mail.add_command(sub)

import click

from gt.cli.common import Out, command as subcommand


@click.group("polecat")
def polecat() -> None:
    """Polecats: the rigs' transient workers.

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
polecat.add_command(identity)

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
    from gt.records import audit, sources

    identity_name = name if "/polecats/" in name else name.replace("/", "/polecats/", 1)
    ledgers = sources.sources()
    data = sources.cached(ledgers, "cv", [identity_name], lambda: audit.cv(ledgers, identity_name))
    out.emit(data, lambda: cv_text(data))


identity.add_command(show)
polecat.add_command(identity)

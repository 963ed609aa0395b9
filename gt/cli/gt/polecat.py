import click

from gt.cli.common import Out, command as subcommand


@click.group("polecat")
def command() -> None:
    """Polecats: the rigs' transient workers.

    Example: gt polecat identity show gizmo/nux

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
    from gt.records import history

    identity_name = name if "/polecats/" in name else name.replace("/", "/polecats/", 1)
    lgs = history.ledgers()
    data = history.cached(lgs, "cv", [identity_name], lambda: history.cv(lgs, identity_name))
    out.emit(data, lambda: cv_text(data))


identity.add_command(show)
command.add_command(identity)

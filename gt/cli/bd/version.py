from gt.cli.common import Out, command

NAME = "gastown-git"  # the distribution whose version this is (what `bd --version` reads)


@command("version")
def version(out: Out) -> None:
    """Print bd's version: `bd version X.Y.Z (gastown-git)`. Opens no ledger.

    Example: bd version --json
    """
    from importlib.metadata import version as installed

    number = installed(NAME)
    out.emit({"version": number, "name": NAME}, f"bd version {number} ({NAME})")

from gt.cli.common import Out, command

NAME = "gastown-git"  # the distribution whose version this is
# The original bd's release whose command-line contract (flags and JSON) this bd speaks: tools built
# for beads read the first X.Y.Z of `bd version` and require a minimum (beads-mcp: 0.9.0).
CONTRACT = "1.0.3"


def text() -> str:
    from importlib.metadata import version as installed

    return f"bd version {CONTRACT} ({NAME} {installed(NAME)})"


@command("version")
def version(out: Out) -> None:
    """Print the version: `bd version 1.0.3 (gastown-git X.Y.Z)`, the original bd's release whose
    contract this bd speaks, then this package's own version. Opens no ledger.

    Example: bd version --json
    """
    from importlib.metadata import version as installed

    number = installed(NAME)
    out.emit({"version": CONTRACT, "build": f"{NAME} {number}", "name": NAME, "package_version": number}, text())

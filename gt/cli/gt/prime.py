from gt.cli.common import Out, command


@command("prime")
def prime(out: Out) -> None:
    """Your role, the bead on your hook in full, handoff mail and nudges: what an agent starts from.

    Example: gt prime
    """
    from gt.town.layout import require_town
    from gt.dispatch.prime import prime

    data = prime(require_town(), out.identity())
    out.emit(data, data["text"].rstrip("\n"))

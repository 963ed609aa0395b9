from gt.cli.common import Out, command


@command("whoami")
def whoami(out: Out) -> None:
    """Who you are acting as here, your role and rig, and how that was decided.

    Example: gt whoami
    """
    from gt.errors import GtError
    from gt.ledger.gitdir import discover
    from gt.town.identity import detect

    try:
        repo = discover()
    except GtError:
        repo = None
    who = detect(out.actor, repo)
    out.emit({"identity": who.name, "role": who.role, "rig": who.rig, "agent": who.agent, "source": who.source},
             f"{who.name}\nrole: {who.role}" + (f"\nrig: {who.rig}" if who.rig else "") + f"\nfrom: {who.source}")

from gt.cli.common import Out, command


@command("agents")
def agents(out: Out) -> None:
    """Agent sessions the town started: pid, runtime, state, log.

    Example: gt agents
    """
    from gt.town.layout import require_town
    from gt.roles import runtimes

    found = runtimes.listing(require_town())
    out.emit(found, "\n".join(f"{s['identity']}  {s['state']}  pid {s['pid']}  {s['agent']}"
                              + (f" ({s['model']})" if s.get("model") else "") + f"  {s['log']}"
                              + (f"\n    {s['ended']}" if s.get("ended") else "") for s in found)
             or "No agent sessions")

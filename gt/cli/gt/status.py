from gt.cli.common import Out, command


@command("status")
def status(out: Out) -> None:
    """The town at a glance: deacon health, rigs, agents and their hooks, merge queues, convoys.

    Example: gt status
    """
    from gt.town.layout import require_town
    from gt.roles import services

    data = services.status(require_town())

    def text() -> str:
        d = data["deacon"]
        lines = [f"Deacon: {d['state']}" + (f" (pid {d['pid']}, heartbeat {d['heartbeat_age']} s ago, "
                                            f"{d['ticks']} ticks)" if d["pid"] else "")
                 + ("; boot watching" if d["boot"] else "")]
        lines += [f"Rig {r['name']} ({r['prefix']}): {r['merge_queue']} in the merge queue" for r in data["rigs"]]
        lines += [f"  {a['identity']}: {a['state']}" + (f", hooked {a['hook']}" if a["hook"] else "")
                  + (" [running]" if a["running"] else "")
                  + (f" [session {a['session_ended']}]" if a.get("session_ended") and a["hook"] else "")
                  for a in data["agents"]]
        lines += [f"Convoy {c['id']} {c['title']}: {c['completed']}/{c['total']}" for c in data["convoys"]]
        return "\n".join(lines)

    out.emit(data, text)

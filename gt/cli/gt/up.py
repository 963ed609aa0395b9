from gt.cli.common import Out, command


@command("up")
def up(out: Out) -> None:
    """Start the Deacon (and Boot's watchdog, and the mayor when the settings say so).

    Example: gt up
    """
    from gt.town.layout import require_town
    from gt.roles import services

    started = services.up(require_town())
    out.emit(started, "\n".join(f"{name}: pid {pid}" for name, pid in started.items()))

import click

from gt.cli.common import Out, command


@command("dashboard")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535), help="The port (0: any free one).")
@click.option("--bind", default="127.0.0.1", show_default=True, metavar="ADDRESS",
              help="The address to listen on; away from loopback every request needs the token.")
@click.option("--open", "open_browser", is_flag=True, help="Open the page in the default browser.")
def dashboard(out: Out, port: int, bind: str, open_browser: bool) -> None:
    """The town at a glance in a browser, kept current as commits land (Ctrl-C stops).

    Read-only but for nudge, ack, sling and retry, which need the token printed at start-up.

    Example: gt dashboard --port 8080 --open
    """
    import json
    import sys

    from gt.errors import GtError
    from gt.town.layout import require_town
    from gt.web import server

    town = require_town()
    actor = out.signature(None)

    def ready(running: server.DashboardServer) -> None:
        url = running.url()
        if out.json:
            click.echo(json.dumps({"url": running.url(False), "token": running.token, "town": str(town)}))
        else:
            click.echo(f"Gas Town dashboard for {town}\n  {url}\n(actions need that token; Ctrl-C stops)")
        sys.stdout.flush()
        if open_browser:
            import webbrowser

            webbrowser.open(url)

    try:
        server.serve(town, bind, port, actor, ready=ready)
    except OSError as exc:
        raise GtError(f"cannot listen on {bind}:{port}: {exc.strerror or exc}", code="unavailable") from None

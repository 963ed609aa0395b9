"""`gt dashboard`'s web server: the standard library's threading HTTP server, pages from
gt.web.pages, a server-sent event stream as commits land, and four token-guarded actions.

Guards: the Host header must name this server (a DNS rebinding page cannot talk to it); away from
loopback every request needs the token; an action needs the token in a header, a JSON body, and no
foreign Origin or cross-site fetch.
"""
from __future__ import annotations

import hmac
import json
import secrets
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable
from urllib.parse import parse_qs, unquote, urlsplit

from gt.errors import GtError
from gt.ledger.store import Signature
from gt.web import pages
from gt.web.data import Board

COOKIE = "gt_dashboard_{port}"  # one per port: cookies do not tell ports apart, and each server has its own token
MAX_BODY = 16 * 1024  # an action's JSON body
MAX_FIELD = 2000  # any one value in it
MAX_QUERY = 200  # a filter in a page's query (an actor glob, a window)
BATCH_ROWS = 200  # feed rows one batch sends (a sync of thousands of commits: the newest; the pages show the rest)
POLL = 0.25  # seconds between looks at the ledgers' heads
KEEPALIVE = 15.0  # seconds between comments on an idle event stream
BACKLOG = 64  # feed batches kept for streams that fall behind
STATIC = {"app.js": "text/javascript; charset=utf-8", "style.css": "text/css; charset=utf-8"}
LOOPBACK = ("127.0.0.1", "::1", "localhost")


class Watcher:
    """Looks at the ledgers every POLL seconds and hands each batch of new commits' feed rows to the streams."""

    def __init__(self, board: Board) -> None:
        self.board = board
        self.generation = 0
        self.batches: list[tuple[int, list[dict[str, Any]]]] = []
        self.changed = threading.Condition()
        self.stopping = threading.Event()
        self._shown: set[str] = set()
        self._state: Any = None

    def start(self) -> None:
        self._shown = self.board.commits()
        self._state = self.board.state()
        threading.Thread(target=self._run, name="gt-dashboard-watch", daemon=True).start()

    def _run(self) -> None:
        said = ""
        while not self.stopping.wait(POLL):
            try:
                self.look()
            except Exception as exc:  # a ledger mid-write, gone, or holding what cannot be shown
                line = f"watch: {type(exc).__name__}: {str(exc)[:200]}"
                if line != said:  # once per kind of trouble, not four times a second
                    _log(line)
                said = line

    def look(self) -> None:
        """One look: when anything changed, the new commits' feed rows go out as the next batch (a
        `change` goes out even when reading them failed: the pages read the town themselves)."""
        from gt.records.feed import feed_lines

        state = self.board.state()
        if state == self._state:
            return
        self._state = state
        rows: list[dict[str, Any]] = []
        try:
            rows = feed_lines(self.board.sources(), shown=self._shown)
            self._shown |= {row["commit"] for row in rows}
        finally:
            with self.changed:
                self.generation += 1
                self.batches.append((self.generation, rows[-BATCH_ROWS:]))
                del self.batches[:-BACKLOG]
                self.changed.notify_all()

    def stop(self) -> None:
        """Stop looking, and wake every stream so it ends."""
        self.stopping.set()
        with self.changed:
            self.changed.notify_all()

    def since(self, generation: int, timeout: float) -> tuple[int, list[dict[str, Any]]]:
        """The feed rows of every batch after `generation` (waiting up to `timeout` for one), and the newest generation."""
        with self.changed:
            if self.generation == generation:
                self.changed.wait(timeout)
            rows = [row for gen, batch in self.batches if gen > generation for row in batch]
            return self.generation, rows


class DashboardServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, town: Path, host: str, port: int, token: str, actor: Signature) -> None:
        if ":" in host:  # an IPv6 address
            import socket

            self.address_family = socket.AF_INET6
        super().__init__((host, port), Handler)
        self.town = town
        self.token = token
        self.actor = actor
        self.board = Board(town)
        self.watcher = Watcher(self.board)
        self.bind_host = host
        port_here = self.server_address[1]
        self.cookie = COOKIE.format(port=port_here)
        names = {host, *LOOPBACK} if host in LOOPBACK else {host}
        self.hosts = {f"[{name}]:{port_here}" if ":" in name else f"{name}:{port_here}" for name in names}
        # bound to every address, a request may name any of them: the token guards it (reads included)
        self.any_host = host in ("0.0.0.0", "::")

    def handle_error(self, request: Any, client_address: Any) -> None:
        """One line on stderr for whatever a request's thread did not catch, never a traceback."""
        import sys

        kind, exc = sys.exc_info()[:2]
        if kind is not None and not issubclass(kind, (BrokenPipeError, ConnectionResetError)):
            _log(f"request from {client_address[0]}: {kind.__name__}: {str(exc)[:200]}")

    @property
    def open_reads(self) -> bool:
        """Reading needs no token only on loopback."""
        return self.bind_host in LOOPBACK

    def url(self, with_token: bool = True) -> str:
        host = self.bind_host if self.bind_host not in ("0.0.0.0", "::") else "127.0.0.1"
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.server_address[1]}/" + (f"?token={self.token}" if with_token else "")

    def start(self) -> None:
        """Read the main page's data once (the first visit is then as fast as the next), and start watching."""
        self.board.convoys(), self.board.agents(), self.board.feed(), self.board.records("model", "all")
        self.watcher.start()

    def is_token(self, given: str) -> bool:
        """`given` is this server's token (compared in constant time)."""
        return hmac.compare_digest(given.encode(), self.token.encode())


class Handler(BaseHTTPRequestHandler):
    server: DashboardServer
    protocol_version = "HTTP/1.1"
    server_version = "gt-dashboard"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:  # quiet: the terminal shows the URL, not each request
        pass

    # -- guards ---------------------------------------------------------------------------------

    def _host_ok(self) -> bool:
        return self.server.any_host or (self.headers.get("Host") or "") in self.server.hosts

    def _same_origin(self) -> str | None:
        """This request's origin, when it names this server (the Host header it was sent to)."""
        host = self.headers.get("Host") or ""
        return f"http://{host}" if self._host_ok() and host else None

    def _tokens_given(self) -> list[str]:
        """Every token this request carries: its query's (the printed address, which then sets the
        cookie), its header's and its cookie's (a stale cookie of an earlier run must not hide a good query)."""
        found = parse_qs(urlsplit(self.path).query).get("token", [])[:1]
        header = self.headers.get("X-GT-Token")
        if header:
            found.append(header)
        for part in (self.headers.get("Cookie") or "").split(";"):
            name, _, value = part.strip().partition("=")
            if name == self.server.cookie:
                found.append(value)
        return found

    def _authorized(self) -> bool:
        return any(self.server.is_token(given) for given in self._tokens_given())

    def _cross_site_read(self) -> bool:
        """A read another site's page makes in the background (not a person following a link): refused,
        so no page elsewhere can keep this server busy or open streams."""
        return (self.headers.get("Sec-Fetch-Site") or "same-origin") == "cross-site" \
            and self.headers.get("Sec-Fetch-Mode") != "navigate"

    # -- replies --------------------------------------------------------------------------------

    def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("X-Frame-Options", "DENY")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                         "script-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, data: Any) -> None:
        self._send(status, json.dumps(data, ensure_ascii=False, default=str).encode(), "application/json; charset=utf-8")

    def _error(self, status: int, message: str, code: str) -> None:
        if self.path.startswith("/api/") or self.command == "POST":
            self._json(status, {"error": message, "code": code})
        else:
            page = pages.layout("Error", "", pages.error_page(message), None, str(self.server.town))
            self._send(status, page.encode(), "text/html; charset=utf-8")

    def _failed(self, exc: Exception) -> None:
        """The reply to a request that raised: a GtError's own message (404 for what is not there, else
        400); anything else 500, logged as one line."""
        if isinstance(exc, GtError):
            status = HTTPStatus.NOT_FOUND if exc.code == "not_found" else HTTPStatus.BAD_REQUEST
            self._error(status, " ".join(str(exc).split("\n")) or "error", exc.code or "error")
            return
        _log(f"{self.path}: {type(exc).__name__}: {exc}")
        self._error(HTTPStatus.INTERNAL_SERVER_ERROR, f"{type(exc).__name__}: {exc}".splitlines()[0], "internal")

    # -- reading --------------------------------------------------------------------------------

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        if not self._host_ok():
            self._error(HTTPStatus.MISDIRECTED_REQUEST, "unknown Host header", "host")
            return
        if self._cross_site_read():
            self._error(HTTPStatus.FORBIDDEN, "refused: a cross-site request", "refused")
            return
        authorized = self._authorized()
        if not authorized and not self.server.open_reads:
            self._error(HTTPStatus.UNAUTHORIZED, "this dashboard needs its token: open the URL it printed", "token")
            return
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items() if v}
        for name, value in query.items():
            if name != "token" and len(value) > MAX_QUERY:
                self._error(HTTPStatus.BAD_REQUEST, f"invalid {name}: at most {MAX_QUERY} characters", "usage")
                return
        if "token" in query and authorized:  # into a cookie, and out of the address bar and history
            from urllib.parse import urlencode

            rest = urlencode([(k, v) for k, values in parse_qs(parts.query, keep_blank_values=True).items()
                              if k != "token" for v in values])
            self._send(HTTPStatus.SEE_OTHER, b"", "text/plain", {
                "Location": parts.path + (f"?{rest}" if rest else ""),
                "Set-Cookie": f"{self.server.cookie}={self.server.token}; HttpOnly; SameSite=Strict; Path=/"})
            return
        try:
            self._route(parts.path, query, authorized)
        except (BrokenPipeError, ConnectionResetError):
            pass
        except Exception as exc:
            self._failed(exc)

    def _route(self, path: str, query: dict[str, str], authorized: bool) -> None:
        board = self.server.board
        if path.startswith("/static/"):
            name = path.removeprefix("/static/")
            if name not in STATIC:
                raise GtError(f"no file {name!r}", code="not_found")
            from importlib.resources import files

            self._send(HTTPStatus.OK, (files("gt.web") / "static" / name).read_bytes(), STATIC[name])
            return
        if path == "/events":
            if self.command == "HEAD":
                self._send(HTTPStatus.OK, b"", "text/event-stream; charset=utf-8")
                return
            self._stream(query)
            return
        if path.startswith("/api/"):
            self._json(HTTPStatus.OK, self._api(path.removeprefix("/api/"), query))
            return
        token = self.server.token if authorized else None
        views: dict[str, tuple[str, Callable[[], str]]] = {
            "/": ("Overview", lambda: pages.overview(board, bool(token))),
            "/convoys": ("Convoys", lambda: pages.convoys_page(board, query.get("landed") == "1")),
            "/agents": ("Agents", lambda: pages.agents_page(board, bool(token))),
            "/ready": ("Ready", lambda: pages.ready_page(board, bool(token))),
            "/queue": ("Merge queue", lambda: pages.queue_page(board, bool(token))),
            "/escalations": ("Escalations", lambda: pages.escalations_page(board, bool(token), query.get("all") == "1")),
            "/feed": ("Feed", lambda: pages.feed_page(board, query.get("rig") or None, query.get("actor") or None)),
            "/records": ("Track records", lambda: pages.records_page(board, query.get("by", "model"),
                                                                     query.get("window", "all"))),
        }
        render: Callable[[], str]
        if path.startswith("/bead/"):
            bead_id = _field(unquote(path.removeprefix("/bead/")), "bead id")
            title, render = bead_id, lambda: pages.bead_page(board, bead_id)
        elif path in views:
            title, render = views[path]
        else:
            raise GtError(f"no page {path!r}", code="not_found")
        generation = self.server.watcher.generation  # before reading: a change during it is sent again
        page = pages.layout(title, path, render(), token, str(self.server.town), generation)
        self._send(HTTPStatus.OK, page.encode("utf-8"), "text/html; charset=utf-8")

    def _api(self, name: str, query: dict[str, str]) -> Any:
        board = self.server.board
        readers: dict[str, Callable[[], Any]] = {
            "status": board.status, "agents": board.agents, "ready": board.ready, "queue": board.queues,
            "convoys": lambda: board.convoys(query.get("landed") == "1"),
            "escalations": lambda: board.escalations(query.get("all") == "1"),
            "feed": lambda: board.feed(query.get("rig") or None, query.get("actor") or None, 200),
            "records": lambda: board.records(query.get("by", "model"), query.get("window", "all")),
            "peek": lambda: board.peek(_field(query.get("agent"), "agent")),
        }
        if name.startswith("bead/"):
            return board.bead(_field(unquote(name.removeprefix("bead/")), "bead id"))
        if name not in readers:
            raise GtError(f"no API {name!r}", code="not_found")
        return readers[name]()

    def _stream(self, query: dict[str, str]) -> None:
        """Server-sent events: `feed` with each new commit's line (filtered like the feed page), `change` after each batch."""
        import fnmatch

        rig, actor = query.get("rig") or None, query.get("actor") or None
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        watcher = self.server.watcher
        generation = watcher.generation
        asked = self.headers.get("Last-Event-ID") or query.get("since") or ""
        if asked.isdigit() and len(asked) < 12 and int(asked) <= generation:  # a later one: an earlier run's
            generation = int(asked)
        self.wfile.write(b"retry: 1000\n: connected\n\n")
        self.wfile.flush()
        while not watcher.stopping.is_set():
            newest, rows = watcher.since(generation, KEEPALIVE)
            if newest == generation:
                self.wfile.write(b": idle\n\n")
            for row in rows:
                if (rig and row["ledger"] != rig) or (actor and not fnmatch.fnmatchcase(row["author"], actor)):
                    continue
                data = json.dumps({"html": pages.feed_item(row), "commit": row["commit"]}, ensure_ascii=False)
                self.wfile.write(f"event: feed\ndata: {data}\n\n".encode())
            if newest != generation:
                self.wfile.write(f"id: {newest}\nevent: change\ndata: {newest}\n\n".encode())
            generation = newest
            self.wfile.flush()

    # -- actions --------------------------------------------------------------------------------

    def do_POST(self) -> None:
        if not self._host_ok():
            self._error(HTTPStatus.MISDIRECTED_REQUEST, "unknown Host header", "host")
            return
        self.close_connection = True  # an unread body must never be taken for the next request
        refused = self._refusal()
        if refused:
            self._error(HTTPStatus.FORBIDDEN, refused, "refused")
            return
        try:
            length = int(self.headers.get("Content-Length") or "0")
        except ValueError:
            length = -1
        if not 0 < length <= MAX_BODY:
            self._error(HTTPStatus.BAD_REQUEST, f"give a JSON body of at most {MAX_BODY} bytes", "usage")
            return
        try:
            body = json.loads(self.rfile.read(length))
            if not isinstance(body, dict):
                raise ValueError("not an object")
        except (ValueError, RecursionError) as exc:
            self._error(HTTPStatus.BAD_REQUEST, f"the body is not a JSON object: {str(exc)[:200]}", "usage")
            return
        name = urlsplit(self.path).path.removeprefix("/api/")
        try:
            result = act(self.server, name, body)
        except Exception as exc:
            self._failed(exc)
            return
        self._json(HTTPStatus.OK, {"ok": True, "result": result})

    def _refusal(self) -> str | None:
        """Why this action request is refused (None: it is not): a missing or wrong token, a foreign
        origin, a cross-site fetch, or a body that is not JSON (a plain form from elsewhere)."""
        origin = self.headers.get("Origin")
        if origin is not None and origin != self._same_origin():
            return f"refused: the request comes from another origin ({origin[:100]})"
        if (self.headers.get("Sec-Fetch-Site") or "same-origin") not in ("same-origin", "none"):
            return "refused: a cross-site request"
        given = self.headers.get("X-GT-Token") or ""
        if not given or not self.server.is_token(given):
            return "refused: actions need the dashboard's token (the X-GT-Token header)"
        if (self.headers.get("Content-Type") or "").split(";")[0].strip() != "application/json":
            return "refused: send the action as application/json"
        return None


def act(server: DashboardServer, name: str, body: dict[str, Any]) -> Any:
    """One action, through the same function its command calls: nudge, ack, sling, retry."""
    town, actor = server.town, server.actor
    if name == "nudge":
        from gt.dispatch import handoff

        return handoff.nudge(town, actor.name, _field(body.get("agent"), "agent"), _field(body.get("message"), "message"))
    if name == "ack":
        from gt.dispatch import escalations

        return escalations.ack(town, actor, _field(body.get("id"), "id"))
    if name == "sling":
        from gt.dispatch.sling import split_target
        from gt.roles import polecats

        beads, target = split_target(town, [_field(body.get("bead"), "bead"), _field(body.get("rig"), "rig")], None)
        return polecats.sling(town, actor, beads, target).as_dict()
    if name == "retry":
        from gt.roles import refinery

        doc = refinery.retry(town, actor, _field(body.get("rig"), "rig"), _field(body.get("request"), "request"))
        return {"id": doc.get("id"), "status": doc.get("status")}
    raise GtError(f"no action {name!r}: nudge, ack, sling or retry", code="not_found")


def _field(value: Any, what: str) -> str:
    """A request's text value: present, one line, bounded, printable."""
    if not isinstance(value, str) or not value.strip():
        raise GtError(f"give the {what}", code="usage")
    if len(value) > MAX_FIELD or any(ord(c) < 32 for c in value):
        raise GtError(f"invalid {what}: one line of at most {MAX_FIELD} characters", code="usage")
    return value


def new_token() -> str:
    return secrets.token_urlsafe(24)


def _log(line: str) -> None:
    import sys

    sys.stderr.write(f"[{time.strftime('%H:%M:%S')}] dashboard: {line}\n")
    sys.stderr.flush()


def serve(town: Path, host: str, port: int, actor: Signature, token: str | None = None,
          ready: Callable[[DashboardServer], None] | None = None) -> None:
    """Serve until interrupted; `ready` is called once the socket listens and the first page is read."""
    server = DashboardServer(town, host, port, token or new_token(), actor)
    try:
        server.start()
        if ready is not None:
            ready(server)
        server.serve_forever(poll_interval=0.5)
    except KeyboardInterrupt:
        pass
    finally:
        server.watcher.stop()
        server.server_close()

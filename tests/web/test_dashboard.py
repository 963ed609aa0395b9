"""`gt dashboard` on a town built by `gt demo`, seen in headless Chromium as a person sees it, and its
guards tried over plain HTTP: actions without the token or from another origin change nothing."""
from __future__ import annotations

import http.client
import http.server
import json
import queue
import re
import subprocess
import threading
import time
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import urlsplit

import pytest

from conftest import BIN, Bd, gt, own_home, require_program, unavailable

pytestmark = pytest.mark.timeout(600)

CHROMIUM_FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--window-size=1400,1000")


class Dashboard:
    """A running `gt dashboard`: its address, token and process."""

    def __init__(self, town: Path, *args: str) -> None:
        self.proc = subprocess.Popen([str(BIN / "gt"), "dashboard", "--port", "0", "--json", *args], cwd=town,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=lambda: lines.put(self.proc.stdout.readline() if self.proc.stdout else ""),
                         daemon=True).start()
        try:
            first = lines.get(timeout=60)
        except queue.Empty:
            self.stop()
            raise AssertionError("gt dashboard printed nothing in 60 s") from None
        assert first, f"gt dashboard ended: {self.proc.stderr.read() if self.proc.stderr else ''}"
        started = json.loads(first)
        self.url: str = started["url"].rstrip("/")
        self.token: str = started["token"]
        self.netloc = urlsplit(self.url).netloc

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        host, port = self.netloc.rsplit(":", 1)
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        try:
            conn.request(method, path, body=body, headers={"Host": self.netloc, **(headers or {})})
            reply = conn.getresponse()
            return reply.status, dict(reply.getheaders()), reply.read()
        finally:
            conn.close()

    def act(self, action: str, data: dict[str, Any], **headers: str) -> tuple[int, dict[str, Any]]:
        status, _, body = self.request("POST", f"/api/{action}", json.dumps(data).encode(),
                                       {"Content-Type": "application/json", **headers})
        return status, json.loads(body)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)


@pytest.fixture(scope="module")
def town(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The demo's town, then one more bead slung (not started) so a convoy is open and a polecat holds it,
    and one open escalation."""
    tmp = tmp_path_factory.mktemp("dash")
    with own_home(tmp):
        gt(tmp, "demo", "--dir", str(tmp / "demo"), timeout=240)
        root = tmp / "demo" / "gt"
        bead = Bd(root)("create", "Polish the greeting", "--rig", "gizmo").stdout.strip()
        gt(root, "sling", bead, "gizmo", "--no-start", "--model", "model-a")
        gt(root, "escalate", "Disk almost full on the build box", "--severity", "high")
        yield root
        gt(root, "down", "--force", ok=False)


@pytest.fixture(scope="module")
def dashboard(town: Path) -> Iterator[Dashboard]:
    running = Dashboard(town)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    require_program("chromium", "the dashboard's browser tests")
    require_program("chromedriver", "the dashboard's browser tests (Debian's chromium-driver)")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.options import Options
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        unavailable("selenium is not installed: `make test` installs the [test] extra")
    options = Options()
    options.binary_location = require_program("chromium", "headless browser")
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(require_program("chromedriver", "webdriver")), options=options)
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(30)
    yield driver
    driver.quit()


def wait_until(driver: Any, check: Any, what: str, timeout: float = 20) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.1).until(check, f"timed out waiting for {what}")


# Read and click through one script call each: a live refresh (a commit, or the minute ticking) may
# swap a section between finding an element and using it.

def text_of(driver: Any, css: str) -> str:
    return str(driver.execute_script("const n = document.querySelector(arguments[0]); return n ? n.innerText : ''", css))


def texts_of(driver: Any, css: str) -> list[str]:
    return list(driver.execute_script("return [...document.querySelectorAll(arguments[0])].map(n => n.textContent)", css))


def click(driver: Any, css: str) -> None:
    assert driver.execute_script("const n = document.querySelector(arguments[0]); if (n) n.click(); return !!n", css), css


def test_main_page_shows_convoys_agents_feed_and_track_records(town: Path, dashboard: Dashboard, browser: Any,
                                                               tmp_path: Path) -> None:
    browser.get(f"{dashboard.url}/?token={dashboard.token}")  # the address it printed: the token becomes a cookie
    assert "token=" not in browser.current_url
    convoys = text_of(browser, "#convoys")
    assert "Polish the greeting" in convoys and "0/1" in convoys
    agents = dict(browser.execute_script(
        "return [...document.querySelectorAll('#agents tr.agent')].map(r => [r.dataset.identity, r.innerText])"))
    hooked = [who for who, text in agents.items() if who.startswith("gizmo/polecats/") and "gz-" in text]
    assert len(hooked) == 1, agents
    assert {"mayor", "gizmo/witness", "gizmo/refinery", "widget/polecats/slit"} <= agents.keys()
    chart = " ".join(texts_of(browser, "#records svg text"))
    assert "model-a" in chart and "model-b" in chart and "100%" in chart
    feed = text_of(browser, "#feed")
    assert "hooked by" in feed and "closed by gizmo/refinery" in feed
    assert browser.find_element("css selector", "meta[name=gt-token]").get_attribute("content") == dashboard.token
    browser.save_screenshot(str(tmp_path / "overview.png"))


def test_a_new_bead_appears_in_the_feed_without_a_reload(town: Path, dashboard: Dashboard, browser: Any) -> None:
    browser.get(f"{dashboard.url}/")
    wait_until(browser, lambda d: "on" in (d.find_element("id", "live").get_attribute("class") or ""), "the event stream")
    browser.execute_script("window.__sameDocument = 'yes'")
    Bd(town).proc("create", "Canary for the live feed", "--rig", "widget", timeout=60)
    first_line = "return document.querySelector('#feed li').innerText"  # read at once: the section may be swapped
    wait_until(browser, lambda d: "Canary for the live feed" in d.execute_script(first_line), "the feed line", 15)
    assert browser.execute_script("return window.__sameDocument") == "yes"  # no reload happened


def test_the_other_views(town: Path, dashboard: Dashboard, browser: Any) -> None:
    browser.get(f"{dashboard.url}/convoys?landed=1")
    landed = text_of(browser, "#convoys")
    assert "Greeting feature" in landed and "4/4" in landed and "widget" in landed
    browser.get(f"{dashboard.url}/queue")
    queue_text = text_of(browser, "#queue")
    assert "test_command" in queue_text and "failed" in queue_text and "merged" in queue_text
    browser.get(f"{dashboard.url}/records?by=actor&window=30d")
    assert "gizmo/polecats/nux" in text_of(browser, "#records")
    browser.get(f"{dashboard.url}/escalations")
    assert "Disk almost full on the build box" in text_of(browser, "#escalations")
    root = Bd(town)("mol", "pour", "quick-check", "--var", "target=the widget", "--rig", "widget").stdout.strip()
    for step in Bd(town).json("mol", "show", root)["steps"]:
        Bd(town)("close", step["id"])
    browser.get(f"{dashboard.url}/records?by=formula&window=all")
    formulas = text_of(browser, "#records")
    assert "quick-check" in formulas and "1/1 molecules complete" in formulas and "4/4 steps closed" in formulas
    assert {"lint", "report"} <= set(texts_of(browser, "#records svg text"))
    status = json.loads(dashboard.request("GET", "/api/convoys?landed=1")[2])
    bead_id = next(b["id"] for c in status if c["title"] == "Greeting feature" for b in c["beads"] if b["rig"] == "gizmo")
    browser.get(f"{dashboard.url}/bead/{bead_id}")
    page = text_of(browser, "#bead")
    assert bead_id in page and "History" in page and "git --git-dir=" in page and " log -p beads -- beads/" in page
    assert "closed by gizmo/refinery" in page or "merged" in page
    browser.get(f"{dashboard.url}/agents")
    click(browser, "tr.agent[data-identity='widget/polecats/slit'] button.peek")
    shown = ("const r = document.querySelector(\"tr.agent[data-identity='widget/polecats/slit'] + tr\");"
             "return !!r && !r.hidden && r.querySelector('pre').textContent.trim() !== ''")
    wait_until(browser, lambda d: d.execute_script(shown), "the session's last lines")


def test_ack_from_the_page_with_the_token(town: Path, dashboard: Dashboard, browser: Any) -> None:
    browser.get(f"{dashboard.url}/?token={dashboard.token}")
    browser.get(f"{dashboard.url}/escalations")
    click(browser, "#escalations button[data-action=ack]")
    wait_until(browser, lambda d: not d.execute_script("return document.querySelectorAll("
                                                       "'#escalations button[data-action=ack]').length"),
               "the escalation to show as acked")
    listed = json.loads(gt(town, "escalate", "list", "--all", "--json").stdout)
    assert [e["status"] for e in listed if e["title"] == "Disk almost full on the build box"] == ["acked"]


def test_actions_are_refused_without_the_token_or_from_another_origin(town: Path, dashboard: Dashboard,
                                                                     browser: Any) -> None:
    gt(town, "escalate", "Flaky runner", "--severity", "low")
    target = next(e["id"] for e in json.loads(gt(town, "escalate", "list", "--json").stdout) if e["title"] == "Flaky runner")
    same = {"Origin": f"http://{dashboard.netloc}"}
    assert dashboard.act("ack", {"id": target}, **same)[0] == 403  # no token
    assert dashboard.act("ack", {"id": target}, **{"X-GT-Token": "wrong", **same})[0] == 403
    status, said = dashboard.act("ack", {"id": target}, **{"X-GT-Token": dashboard.token, "Origin": "http://evil.example"})
    assert status == 403 and "another origin" in said["error"]
    status, said = dashboard.act("ack", {"id": target}, **{"X-GT-Token": dashboard.token, "Sec-Fetch-Site": "cross-site"})
    assert status == 403
    form = dashboard.request("POST", "/api/ack", b"id=" + target.encode(),
                             {"Content-Type": "application/x-www-form-urlencoded", "X-GT-Token": dashboard.token})
    assert form[0] == 403
    rebinding = dashboard.request("GET", "/", headers={"Host": "attacker.example:80"})
    assert rebinding[0] == 421
    # a page of another origin in the browser, holding the token, cannot make the dashboard act
    other = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _OtherOrigin)
    threading.Thread(target=other.serve_forever, daemon=True).start()
    try:
        browser.get(f"http://127.0.0.1:{other.server_address[1]}/")
        outcome = browser.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "fetch(arguments[0] + '/api/ack', {method: 'POST', credentials: 'include', headers: "
            "{'Content-Type': 'application/json', 'X-GT-Token': arguments[1]}, body: JSON.stringify({id: arguments[2]})})"
            ".then(r => done('status ' + r.status), e => done('failed: ' + e));",
            dashboard.url, dashboard.token, target)
        assert outcome.startswith("failed") or outcome == "status 403", outcome
    finally:
        other.shutdown()
    listed = json.loads(gt(town, "escalate", "list", "--json").stdout)
    assert [e["status"] for e in listed if e["id"] == target] == ["open"]  # nothing acked it
    # the page without the token: its action buttons are off
    browser.get(f"{dashboard.url}/escalations")
    browser.delete_all_cookies()
    browser.get(f"{dashboard.url}/escalations")
    assert not browser.find_elements("css selector", "meta[name=gt-token]")
    enabled = browser.execute_script(
        "return [...document.querySelectorAll('#escalations button[data-action=ack]')].map(b => !b.disabled)")
    assert enabled and not any(enabled)
    status, said = dashboard.act("ack", {"id": target}, **{"X-GT-Token": dashboard.token})  # a tool holding it
    assert status == 200 and said["result"]["status"] == "acked"


class _OtherOrigin(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"<!doctype html><title>elsewhere</title><p>another site"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_hostile_requests_get_one_line_and_change_nothing(town: Path, dashboard: Dashboard) -> None:
    before = gt(town, "feed", "-n", "0", "--json").stdout
    for path in ("/bead/%00evil", "/bead/" + "x" * 5000, "/bead/no-such-bead", "/api/peek?agent=../../etc/passwd",
                 "/nope", "/static/../../pyproject.toml", "/records?window=forever", "/api/bead/%0a"):
        status, headers, body = dashboard.request("GET", path)
        assert 400 <= status < 500, (path, status)
        assert b"Traceback" not in body
    token = {"X-GT-Token": dashboard.token, "Content-Type": "application/json"}
    assert dashboard.request("POST", "/api/ack", b"{" * 20000, token)[0] == 400  # too large
    status, _, body = dashboard.request("POST", "/api/ack", b"[" * 15000, token)  # nested past the parser's depth
    assert status == 400 and len(json.loads(body)["error"].splitlines()) == 1
    assert dashboard.request("HEAD", "/events")[0] == 200  # answered, not streamed forever
    assert dashboard.request("GET", "/feed?actor=" + "x" * 300)[0] == 400
    cross = dashboard.request("GET", "/api/feed", headers={"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors"})
    assert cross[0] == 403  # another site's page reading in the background
    followed = dashboard.request("GET", "/", headers={"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"})
    assert followed[0] == 200  # a person following a link from elsewhere
    assert dashboard.request("POST", "/api/ack", b"[1, 2]", token)[0] == 400
    assert dashboard.request("POST", "/api/ack", b'{"id": 3}', token)[0] == 400
    assert dashboard.request("POST", "/api/rm-rf", b'{"id": "x"}', token)[0] == 404
    status, _, body = dashboard.request("POST", "/api/sling", json.dumps({"bead": "gz-nothere", "rig": "gizmo"}).encode(),
                                        token)
    assert status in (400, 404) and len(json.loads(body)["error"].splitlines()) == 1
    assert gt(town, "feed", "-n", "0", "--json").stdout == before


def test_what_lands_before_the_stream_opens_still_comes(town: Path, dashboard: Dashboard) -> None:
    page = dashboard.request("GET", "/")[2].decode()
    made = re.search(r'<meta name="gt-generation" content="(\d+)">', page)
    assert made
    Bd(town).proc("create", "Landed while the page loaded", "--rig", "gizmo", timeout=60)
    time.sleep(1.0)  # the watcher has seen it; a stream opened now from the current state would miss it
    host, port = dashboard.netloc.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=15)
    try:
        conn.request("GET", f"/events?since={made.group(1)}", headers={"Host": dashboard.netloc})
        reply = conn.getresponse()
        deadline, seen = time.time() + 15, ""
        while "Landed while the page loaded" not in seen and time.time() < deadline:
            seen += reply.fp.readline().decode()
        assert "Landed while the page loaded" in seen
    finally:
        conn.close()


def test_bound_to_every_address_any_name_with_the_token(town: Path) -> None:
    running = Dashboard(town, "--bind", "0.0.0.0")
    try:
        port = running.netloc.rsplit(":", 1)[1]
        elsewhere = {"Host": f"192.0.2.7:{port}"}  # how another machine names this one
        assert running.request("GET", "/", headers=elsewhere)[0] == 401
        assert running.request("GET", f"/?token={running.token}", headers=elsewhere)[0] == 303
    finally:
        running.stop()


def test_away_from_loopback_even_reading_needs_the_token(town: Path) -> None:
    running = Dashboard(town, "--bind", "127.0.0.2")
    try:
        assert running.request("GET", "/")[0] == 401
        assert running.request("GET", "/api/status")[0] == 401
        status, headers, _ = running.request("GET", f"/?token={running.token}")
        assert status == 303 and "HttpOnly" in headers["Set-Cookie"] and running.token not in headers["Location"]
        cookie = headers["Set-Cookie"].split(";")[0]
        assert cookie.startswith(f"gt_dashboard_{running.netloc.rsplit(':', 1)[1]}=")  # one per port
        assert running.request("GET", "/", headers={"Cookie": cookie})[0] == 200
        stale = cookie.split("=")[0] + "=an-earlier-run's-token"  # the printed address still works after a restart
        assert running.request("GET", f"/?token={running.token}", headers={"Cookie": stale})[0] == 303
        assert running.request("GET", "/", headers={"Cookie": stale})[0] == 401
    finally:
        running.stop()


@pytest.mark.parametrize("command", [("gt", "status"), ("gt", "feed"), ("bd", "list"), ("bd", "ready")])
def test_the_dashboard_stays_out_of_the_other_commands(town: Path, command: tuple[str, str]) -> None:
    program, sub = command
    probe = (f"import sys; from gt.cli.{program} import main; sys.argv = ['{program}', '{sub}']\n"
             "try:\n    main()\nexcept SystemExit:\n    pass\n"
             "assert not [m for m in sys.modules if m.startswith(('gt.web', 'http.server'))], 'imported'")
    done = subprocess.run([str(BIN / "python"), "-c", probe], cwd=town,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr

"""What a remote can push reaches the dashboard as text, never as markup, and breaks no page: a
title made of HTML, a merge request whose fields have the wrong types, a commit dated past any
calendar. The live feed keeps going after it."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any, Iterator

import pytest

from conftest import TIMEOUT, Bd, bead_path, git, gt, make_town, own_home
from test_dashboard import Dashboard, browser, wait_until  # noqa: F401  (browser: a fixture)

pytestmark = pytest.mark.timeout(600)

TITLE = "<script>alert(1)</script>\"'><img src=x onerror=alert(2)> & <b>bold</b>"
REQUEST = """id: gz-mrhost1
title: '<img src=x onerror=alert(3)>'
type: merge-request
status: open
priority: 2
created_at: '2026-11-30T10:00:00Z'
updated_at: '2026-11-30T10:00:00Z'
mr:
  branch: "<i>branch</i>"
  source: gz-nothere
  worker: "gizmo/polecats/<u>x</u>"
  attempts:
  - at: 5
    result: failed
    detail: "<svg onload=alert(4)>"
    gates:
    - {gate: "<b>gate</b>", seconds: "x", passed: "yes"}
    - {gate: lint, seconds: .nan, passed: true}
    - "not a gate"
  - "not an attempt"
  - at: '2026-11-30T10:01:00Z'
    gates: {not: a list}
"""


def push_by_hand(rig_repo: Path, tmp: Path, path: str, text: str, when: str) -> None:
    """One file committed onto the rig's ledger with plain git plumbing (as a remote's push lands), dated `when`."""
    env = {**os.environ, "GIT_INDEX_FILE": str(tmp / "hand-index"), "GIT_AUTHOR_DATE": when,
           "GIT_COMMITTER_DATE": when, "GIT_AUTHOR_NAME": "<b>mallory</b>", "GIT_AUTHOR_EMAIL": "m@example.com",
           "GIT_COMMITTER_NAME": "mallory", "GIT_COMMITTER_EMAIL": "m@example.com"}
    bare = f"--git-dir={rig_repo}"
    blob = subprocess.run(["git", bare, "hash-object", "-w", "--stdin"], input=text, text=True, capture_output=True,
                          check=True, timeout=TIMEOUT).stdout.strip()
    subprocess.run(["git", bare, "read-tree", "beads"], env=env, check=True, timeout=TIMEOUT)
    subprocess.run(["git", bare, "update-index", "--add", "--cacheinfo", f"100644,{blob},{path}"], env=env,
                   check=True, timeout=TIMEOUT)
    tree = subprocess.run(["git", bare, "write-tree"], env=env, capture_output=True, text=True, check=True,
                          timeout=TIMEOUT).stdout.strip()
    commit = subprocess.run(["git", bare, "commit-tree", tree, "-p", "beads", "-m",
                             "merge request <script>alert(5)</script>\n\nOp: <b>op</b>\nBead-Id: gz-mrhost1"],
                            env=env, capture_output=True, text=True, check=True, timeout=TIMEOUT).stdout.strip()
    git(rig_repo, "update-ref", "refs/heads/beads", commit)


@pytest.fixture(scope="module")
def hostile_town(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    tmp = tmp_path_factory.mktemp("hostile")
    with own_home(tmp):
        root = make_town(tmp)
        Bd(root)("create", TITLE, "--rig", "gizmo", "-d", "</pre><script>alert(6)</script>")
        push_by_hand(root / "gizmo" / ".repo.git", tmp, bead_path("gz-mrhost1"), REQUEST, "@10000000000000 +0000")  # year 318857
        yield root


def test_the_commands_read_it_too(hostile_town: Path) -> None:
    """The merge queue's order and a bead's history are the same code the pages use."""
    listed = json.loads(gt(hostile_town, "mq", "list", "gizmo", "--json").stdout)
    assert [d["id"] for d in listed] == ["gz-mrhost1"]
    history = Bd(hostile_town).json("history", "gz-mrhost1")
    assert [h["time"] for h in history] == ["?"]  # a commit dated past any calendar


def test_hostile_ledger_data_is_shown_as_text_and_breaks_no_page(hostile_town: Path) -> None:
    running = Dashboard(hostile_town)
    try:
        for path in ("/", "/ready", "/queue", "/feed", "/agents", "/convoys", "/escalations", "/records",
                     "/bead/gz-mrhost1", "/api/queue", "/api/feed"):
            status, _, body = running.request("GET", path)
            assert status == 200, (path, body[:300])
            if path.startswith("/api/"):  # data, served as JSON with nosniff: the text as it is
                assert json.loads(body) is not None
                continue
            text = body.decode()
            assert "<script>alert" not in text and "<img src=x" not in text and "<svg onload" not in text, path
        queue_page = running.request("GET", "/queue")[2].decode()
        assert "&lt;b&gt;gate&lt;/b&gt;" in queue_page and "&lt;i&gt;branch&lt;/i&gt;" in queue_page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in running.request("GET", "/ready")[2].decode()
        shown = json.loads(running.request("GET", "/api/queue")[2])
        gates = shown[0]["pending"][0]["attempts"][0]["gates"]
        assert [g["seconds"] for g in gates] == [None, None] and [g["passed"] for g in gates] == [False, True]
    finally:
        running.stop()


def test_the_browser_runs_none_of_it_and_the_feed_goes_on(hostile_town: Path, browser: Any) -> None:  # noqa: F811
    running = Dashboard(hostile_town)
    try:
        browser.get(f"{running.url}/?token={running.token}")
        for path in ("/ready", "/queue", "/bead/gz-mrhost1", "/feed"):
            browser.get(f"{running.url}{path}")
            assert browser.execute_script("return document.querySelectorAll('img, svg[onload], script:not([src])').length") == 0
        page = browser.execute_script("return document.getElementById('feed').innerText")
        assert "alert(5)" in page  # the commit's subject, as text
        browser.get(f"{running.url}/")
        wait_until(browser, lambda d: "on" in (d.find_element("id", "live").get_attribute("class") or ""), "the stream")
        Bd(hostile_town).proc("create", "After the hostile push", "--rig", "gizmo", timeout=60)
        feed_text = "return document.getElementById('feed').innerText"
        wait_until(browser, lambda d: "After the hostile push" in d.execute_script(feed_text), "the feed line", 15)
        assert browser.execute_script("return document.querySelectorAll('#agents script, #feed img').length") == 0
    finally:
        running.stop()

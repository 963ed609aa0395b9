"""Drive every beads-mcp 1.3.2 BdCliClient method against a bd binary.

Usage: <venv with beads-mcp==1.3.2>/bin/python compat/drive_beads_mcp.py [--json] BD_PATH LEDGER_TEMPLATE
Copies LEDGER_TEMPLATE (a git repo whose ledger was built by `bd init` +
`bd import corpus`) to a scratch dir (under $TMPDIR) and runs each case there.  Prints a
table and writes results.json ($DRIVE_OUT, else beside this file).

With --json, stdout is one JSON array instead, one object per call:
{"method", "call" (the variant), "ok" (bool), "error" (str or null), "argv", "detail"};
the table then goes to stderr and no results.json is written unless DRIVE_OUT is set.
tests/compat/test_beads_mcp.py runs it this way.
"""

import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile

ARGS = sys.argv[1:]
AS_JSON = "--json" in ARGS
if AS_JSON:
    ARGS.remove("--json")
if len(ARGS) != 2:
    sys.exit("usage: python compat/drive_beads_mcp.py [--json] BD_PATH LEDGER_TEMPLATE "
             "(see docs/beads-compatibility.md)")
BD, TEMPLATE = ARGS
TABLE = sys.stderr if AS_JSON else sys.stdout  # with --json, stdout carries only the JSON
BD_TIMEOUT = 120  # seconds for each bd or git command the harness runs itself
os.environ["BEADS_PATH"] = BD
for k in ("BEADS_DIR", "BEADS_DB", "BEADS_WORKING_DIR", "BEADS_ACTOR"):
    os.environ.pop(k, None)

from beads_mcp import bd_client as bc  # noqa: E402
from beads_mcp.models import (  # noqa: E402
    AddCommentParams,
    AddDependencyParams,
    AddNoteParams,
    BlockedParams,
    ClaimIssueParams,
    CloseIssueParams,
    CreateIssueParams,
    InitParams,
    ListCommentsParams,
    ListIssuesParams,
    ReadyWorkParams,
    ReopenIssueParams,
    ShowIssueParams,
    UpdateIssueParams,
)

# Capture the argv each call builds (wrap create_subprocess_exec).
_real_exec = asyncio.create_subprocess_exec
_last_argv: list[list[str]] = []


async def _spy_exec(*cmd, **kw):
    _last_argv.append([os.path.basename(cmd[0]) if cmd[0] == BD else cmd[0], *cmd[1:]])
    return await _real_exec(*cmd, **kw)


bc.asyncio.create_subprocess_exec = _spy_exec  # type: ignore[attr-defined]

work = tempfile.mkdtemp(prefix="bd15drive_")
ledger = os.path.join(work, "ledger")
shutil.copytree(TEMPLATE, ledger, symlinks=True)
client = bc.BdCliClient(bd_path=BD, working_dir=ledger)
actor_client = bc.BdCliClient(bd_path=BD, working_dir=ledger, actor="drive-actor")
flags_client = bc.BdCliClient(bd_path=BD, working_dir=ledger, no_auto_flush=True, no_auto_import=True)
# seed: an open, unassigned, labelled bead so label filters have something to find
subprocess.run([BD, "create", "drive seed labelled",
                "-l", "workflow", "-p", "1"], cwd=ledger, capture_output=True, check=True, timeout=BD_TIMEOUT)

# ids from the corpus (beads v0.47.0 export)
OPEN_ID = "bd-ee1"            # open task, discovered-from dep
EPIC = "bd-bvec"              # open epic, blocked (blocks deps)
CLOSED_ID = "bd-0088"         # closed task with parent-child dep on bd-44d0
CLOSED_ID2 = "bd-0088"
COMMENTED = "bd-6df0"         # has 2 comments
AGENT_ID = "bd-beads-polecat-amber"  # multi-hyphen id (closed agent bead)
LABEL = "workflow"

state: dict[str, str] = {}


async def _new(title: str, **kw) -> str:
    iss = await client.create(CreateIssueParams(title=title, **kw))
    return iss.id


async def _new_raw(title: str) -> str:
    """Create via the bd CLI directly (so later cases work even if create() fails to parse)."""
    out = subprocess.run([BD, "create", title, "--json"], cwd=ledger, capture_output=True, text=True,
                         timeout=BD_TIMEOUT)
    try:
        return json.loads(out.stdout)["id"]
    except Exception:
        return out.stdout.strip().split()[-1] if out.stdout.strip() else "bd-missing"


def fresh_plain_dir() -> str:
    d = tempfile.mkdtemp(prefix="bd15init_", dir=work)
    return d


def fresh_git_dir() -> str:
    d = tempfile.mkdtemp(prefix="bd15initgit_", dir=work)
    subprocess.run(["git", "init", "-q", "-b", "main", d], check=True, timeout=BD_TIMEOUT)
    subprocess.run(["git", "-C", d, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q",
                    "--allow-empty", "-m", "init"], check=True, timeout=BD_TIMEOUT)
    return d


async def init_in(d: str, prefix: str | None):
    c = bc.BdCliClient(bd_path=BD, working_dir=d)
    out = await c.init(InitParams(prefix=prefix))
    return out.strip()[:120]


CASES = [
    # (method, variant label, coroutine factory)
    ("_check_version", "", lambda: client._check_version()),
    ("ready", "default (--limit 10)", lambda: client.ready()),
    ("ready", "--type", lambda: client.ready(ReadyWorkParams(issue_type="task"))),
    ("ready", "--priority", lambda: client.ready(ReadyWorkParams(priority=1)), lambda r: _ok(r and all(i.priority == 1 for i in r), "empty or unfiltered")),
    ("ready", "--assignee", lambda: client.ready(ReadyWorkParams(assignee="beads/crew/wolf"))),
    ("ready", "--label", lambda: client.ready(ReadyWorkParams(labels=[LABEL])),
     lambda r: _ok(r and all(LABEL in i.labels for i in r), "empty or unfiltered")),
    ("ready", "--label-any", lambda: client.ready(ReadyWorkParams(labels_any=[LABEL, "template"])),
     lambda r: _ok(r and all({LABEL, "template"} & set(i.labels) for i in r), "empty or unfiltered")),
    ("ready", "--unassigned", lambda: client.ready(ReadyWorkParams(unassigned=True))),
    ("ready", "--sort hybrid", lambda: client.ready(ReadyWorkParams(sort_policy="hybrid"))),
    ("ready", "--sort priority", lambda: client.ready(ReadyWorkParams(sort_policy="priority"))),
    ("ready", "--sort oldest", lambda: client.ready(ReadyWorkParams(sort_policy="oldest"))),
    ("ready", "--parent", lambda: client.ready(ReadyWorkParams(parent_id=EPIC))),
    ("list_issues", "default (--limit 20)", lambda: client.list_issues()),
    ("list_issues", "--status open", lambda: client.list_issues(ListIssuesParams(status="open")), lambda r: _ok(r and all(i.status == "open" for i in r), "empty or unfiltered")),
    ("list_issues", "--status closed", lambda: client.list_issues(ListIssuesParams(status="closed"))),
    ("list_issues", "--priority", lambda: client.list_issues(ListIssuesParams(priority=1))),
    ("list_issues", "--type", lambda: client.list_issues(ListIssuesParams(issue_type="bug"))),
    ("list_issues", "--assignee", lambda: client.list_issues(ListIssuesParams(assignee="beads/crew/wolf"))),
    ("list_issues", "--label", lambda: client.list_issues(ListIssuesParams(labels=[LABEL])),
     lambda r: _ok(r and all(LABEL in i.labels for i in r), "empty or unfiltered")),
    ("list_issues", "--label-any", lambda: client.list_issues(ListIssuesParams(labels_any=[LABEL, "template"])),
     lambda r: _ok(r and all({LABEL, "template"} & set(i.labels) for i in r), "empty or unfiltered")),
    ("list_issues", "global --no-auto-flush --no-auto-import", lambda: flags_client.list_issues()),
    ("list_issues", "--title", lambda: client.list_issues(ListIssuesParams(query="doctor")), lambda r: _ok(r and all("doctor" in i.title.lower() for i in r), "empty or unfiltered")),
    ("list_issues", "--no-assignee", lambda: client.list_issues(ListIssuesParams(unassigned=True)), lambda r: _ok(r and all(not i.assignee for i in r), "empty or unfiltered")),
    ("show", "open issue w/ deps", lambda: client.show(ShowIssueParams(issue_id=OPEN_ID)), lambda r: _ok(r.id == OPEN_ID and len(r.dependencies) > 0, "dependencies empty or wrong id")),
    ("show", "closed issue w/ parent", lambda: client.show(ShowIssueParams(issue_id=CLOSED_ID)), lambda r: _ok(any(d.dependency_type == "parent-child" for d in r.dependencies), "no parent-child LinkedIssue")),
    ("show", "multi-hyphen id", lambda: client.show(ShowIssueParams(issue_id=AGENT_ID))),
    ("show", "missing id (expect BdCommandError)", lambda: _expect_error(client.show(ShowIssueParams(issue_id="bd-nope999")))),
    ("create", "minimal", lambda: client.create(CreateIssueParams(title="drive: minimal"))),
    ("create", "all flags", lambda: client.create(CreateIssueParams(
        title="drive: full", description="d", design="des", acceptance="acc", external_ref="gh-9",
        priority=1, issue_type="bug", assignee="alice", labels=["a", "b"])),
        lambda r: _ok(r.issue_type == "bug" and r.assignee == "alice" and r.priority == 1, "fields")),
    ("create", "--id explicit", lambda: client.create(CreateIssueParams(title="drive: id", id="bd-drive1")), lambda r: _ok(r.id == "bd-drive1", f"id {r.id!r}")),
    ("create", "--id gt-gastown-polecat-Toast", lambda: client.create(CreateIssueParams(title="drive: toast", id="bd-gastown-polecat-Toast")), lambda r: _ok(r.id == "bd-gastown-polecat-Toast", f"id came back as {r.id!r} (case not preserved)")),
    ("create", "--deps plain id", lambda: client.create(CreateIssueParams(title="drive: deps", deps=[OPEN_ID]))),
    ("create", "--deps type:id", lambda: client.create(CreateIssueParams(title="drive: deps2", deps=[f"discovered-from:{OPEN_ID}"]))),
    ("update", "status+priority+title", lambda: _upd(status="in_progress", priority=0, title="drive: upd")),
    ("update", "text fields", lambda: _upd(description="D", design="X", acceptance_criteria="AC", notes="N", external_ref="gh-1")),
    ("update", "assignee", lambda: _upd(assignee="bob")),
    ("update", "status blocked", lambda: _upd(status="blocked")),
    ("claim", "", lambda: _claim(), lambda r: _ok(r.status == "in_progress" and r.assignee, "not claimed")),
    ("close", "", lambda: _close(), lambda r: _ok(r[0].status == "closed" and r[0].closed_at is not None, "not closed")),
    ("reopen", "one id", lambda: _reopen1(), lambda r: _ok(r[0].status == "open" and r[0].closed_at is None, "not reopened")),
    ("reopen", "two ids + --reason", lambda: _reopen2(), lambda r: _ok(len(r) == 2, "not 2")),
    ("add_dependency", "blocks", lambda: _dep("blocks")),
    ("add_dependency", "related", lambda: _dep("related")),
    ("add_dependency", "relates-to", lambda: _dep("relates-to")),
    ("add_dependency", "discovered-from", lambda: _dep("discovered-from")),
    ("add_dependency", "parent-child", lambda: _dep("parent-child")),
    ("add_dependency", "supersedes", lambda: _dep("supersedes")),
    ("add_comment", "", lambda: client.add_comment(AddCommentParams(issue_id=OPEN_ID, text="drive comment"))),
    ("list_comments", "corpus issue with comments", lambda: client.list_comments(ListCommentsParams(issue_id=COMMENTED)), lambda r: _ok(len(r) == 2 and all(c.issue_id == COMMENTED for c in r), "count/issue_id")),
    ("list_comments", "after add_comment", lambda: client.list_comments(ListCommentsParams(issue_id=OPEN_ID))),
    ("add_note", "", lambda: client.add_note(AddNoteParams(issue_id=OPEN_ID, text="drive note"))),
    ("add_note", "then show: note present", lambda: client.show(ShowIssueParams(issue_id=OPEN_ID)),
     lambda r: _ok("drive note" in (r.notes or ""), "note missing")),
    ("quickstart", "", lambda: client.quickstart()),
    ("stats", "global --actor X (BEADS_ACTOR set)", lambda: actor_client.stats(),
     lambda r: _ok(r.summary.total_issues > 0, "zero")),
    ("create", "global --actor X (BEADS_ACTOR set)", lambda: actor_client.create(CreateIssueParams(title="drive: actor")),
     lambda r: _ok(True, "")),
    ("stats", "", lambda: client.stats(), lambda r: _ok(r.summary.total_issues > 0, "zero")),
    ("blocked", "default", lambda: client.blocked(), lambda r: _ok(r and all(b.blocked_by_count == len(b.blocked_by) for b in r), "empty/count")),
    ("blocked", "--parent", lambda: client.blocked(BlockedParams(parent_id=EPIC))),
    ("inspect_migration", "migrate --inspect", lambda: client.inspect_migration()),
    ("get_schema_info", "info --schema", lambda: client.get_schema_info()),
    ("repair_deps", "", lambda: client.repair_deps()),
    ("repair_deps", "--fix", lambda: client.repair_deps(fix=True)),
    ("detect_pollution", "", lambda: client.detect_pollution()),
    ("detect_pollution", "--clean --yes", lambda: client.detect_pollution(clean=True)),
    ("validate", "", lambda: client.validate()),
    ("validate", "--fix --yes", lambda: client.validate(fix_all=True)),
    ("init", "plain dir, --prefix", lambda: init_in(fresh_plain_dir(), "tst")),
    ("init", "git repo, --prefix", lambda: init_in(fresh_git_dir(), "tst")),
    ("init", "git repo, no prefix", lambda: init_in(fresh_git_dir(), None)),
]


def _ok(cond, msg):
    if not cond:
        raise AssertionError("post-check failed: " + msg)


async def _expect_error(coro):
    try:
        await coro
    except bc.BdCommandError as e:
        return f"raised BdCommandError as expected: {str(e)[:80]}"
    raise AssertionError("expected BdCommandError, got success")


async def _scratch(key: str) -> str:
    if key not in state:
        state[key] = await _new_raw(f"drive scratch {key}")
    return state[key]


async def _upd(**kw):
    iid = await _scratch("upd")
    return await client.update(UpdateIssueParams(issue_id=iid, **kw))


async def _claim():
    iid = await _scratch("claim")
    return await client.claim(ClaimIssueParams(issue_id=iid))


async def _close():
    iid = await _scratch("close")
    return await client.close(CloseIssueParams(issue_id=iid, reason="drive close"))


async def _reopen1():
    iid = await _scratch("reopen1")
    subprocess.run([BD, "close", iid, "-r", "x"], cwd=ledger, capture_output=True, timeout=BD_TIMEOUT)
    return await client.reopen(ReopenIssueParams(issue_ids=[iid]))


async def _reopen2():
    a, b = await _scratch("reopen2a"), await _scratch("reopen2b")
    subprocess.run([BD, "close", a, b, "-r", "x"], cwd=ledger, capture_output=True, timeout=BD_TIMEOUT)
    return await client.reopen(ReopenIssueParams(issue_ids=[a, b], reason="drive reopen"))


async def _dep(t: str):
    a = await _scratch("dep-" + t)
    b = await _scratch("depon-" + t)
    await client.add_dependency(AddDependencyParams(issue_id=a, depends_on_id=b, dep_type=t))
    return f"{a} -> {b}"


def _summ(res) -> str:
    if isinstance(res, list):
        return f"list[{len(res)}]" + (f" of {type(res[0]).__name__}" if res else "")
    if res is None:
        return "None"
    if isinstance(res, str):
        return "str: " + res.replace("\n", " ")[:70]
    if isinstance(res, dict):
        return "dict keys: " + ",".join(list(res)[:6])
    return type(res).__name__


def _err(e: BaseException) -> str:
    s = f"{type(e).__name__}: {e}"
    s = " ".join(s.split())
    if "validation error" in s:
        # keep the pydantic summary: which fields failed
        lines = str(e).splitlines()
        fields = [ln.strip() for ln in lines[1:] if ln and not ln.startswith(" ")]
        s = f"ValidationError ({lines[0].split(' for ')[0]}): missing/invalid " + ", ".join(fields[:6])
    return s[:300]


async def main():
    rows = []
    for case in CASES:
        method, variant, fn = case[:3]
        _last_argv.clear()
        try:
            res = await fn()
            if len(case) > 3:
                case[3](res)
            status, detail = "works", _summ(res)
        except Exception as e:  # noqa: BLE001
            status, detail = "FAILS", _err(e)
        argv = " ".join(_last_argv[-1][1:]) if _last_argv else ""
        rows.append({"method": method, "variant": variant, "argv": argv, "status": status, "detail": detail})
        print(f"{status:5} | {method:18} | {variant:32} | bd {argv[:70]} | {detail}", file=TABLE, flush=True)
    out = os.environ.get("DRIVE_OUT") or (
        None if AS_JSON else os.path.join(os.path.dirname(os.path.abspath(__file__)), "results.json"))
    if out:
        with open(out, "w") as f:
            json.dump(rows, f, indent=1)
    n = len(rows)
    ok = sum(r["status"] == "works" for r in rows)
    meths = {}
    for r in rows:
        meths.setdefault(r["method"], []).append(r["status"] == "works")
    print(f"\n{ok}/{n} calls work; methods fully working: "
          f"{sum(all(v) for v in meths.values())}/{len(meths)}; "
          f"methods with at least one working variant: {sum(any(v) for v in meths.values())}/{len(meths)}",
          file=TABLE)
    print("scratch dir:", work, file=TABLE)
    if AS_JSON:
        json.dump([{"method": r["method"], "call": r["variant"], "ok": r["status"] == "works",
                    "error": None if r["status"] == "works" else r["detail"], "argv": r["argv"],
                    "detail": r["detail"]} for r in rows], sys.stdout, indent=1)
        print(flush=True)


asyncio.run(main())

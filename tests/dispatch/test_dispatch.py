"""Work dispatch end to end in temporary towns: sling, hooks, polecats, the scripted agent, done,
prime, mail, nudges and convoys. Agents run as real processes."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import SCRIPT, Bd, agent_record, bead, git, gt, merge_requests, wait_for

pytestmark = pytest.mark.town({"gizmo": "gz", "other": "ot"})


def test_sling_to_a_rig_spawns_a_polecat_whose_agent_commits_and_submits(town):
    work = bead(town, "Add hello", script=SCRIPT.format(path="hello.txt", text="hello"))
    out = json.loads(gt(town, "sling", work, "gizmo", "--model", "model-a", "--json").stdout)
    [slung] = out["slung"]
    assert slung["agent"] == "gizmo/polecats/toast" and slung["branch"] == f"polecat/toast/{work}"
    home = town / "gizmo" / "polecats" / "toast"
    assert Path(slung["worktree"]) == home and (home / "tests.sh").exists()
    [mr] = wait_for(lambda: merge_requests(town), what="a merge request")
    info = mr["mr"]
    repo = town / "gizmo" / ".repo.git"
    head = git(repo, "rev-parse", f"polecat/toast/{work}").strip()
    assert {k: info[k] for k in ("branch", "target", "head", "source", "worker", "model", "agent", "rig")} == {
        "branch": f"polecat/toast/{work}", "target": "main", "head": head, "source": work,
        "worker": "gizmo/polecats/toast", "model": "model-a", "agent": "script", "rig": "gizmo"}
    assert info["convoy"] == out["convoy"]
    assert git(repo, "log", "-1", "--format=%an|%s", head).strip() == f"gizmo/polecats/toast|{work}: Add hello"
    assert git(repo, "show", f"{head}:hello.txt") == "hello\n"
    shown = Bd(town).show(work)
    assert shown["status"] == "in_progress" and shown["assignee"] == "gizmo/polecats/toast"
    assert shown["dispatch"]["model"] == "model-a"
    record = agent_record(town, "gizmo/polecats/toast")
    assert record["state"] == "done" and record["hook"] == work and record["model"] == "model-a"
    log = git(repo, "log", "--format=%an|%s", "beads")
    assert f"steve|hook {work} on gizmo/polecats/toast" in log or f"hook {work} on gizmo/polecats/toast" in log
    assert f"gizmo/polecats/toast|done {work} by gizmo/polecats/toast" in log
    sessions = json.loads(gt(town, "agents", "--json").stdout)
    assert [(s["identity"], s["agent"], s["model"]) for s in sessions] == [("gizmo/polecats/toast", "script", "model-a")]
    assert "tests passed" in Path(sessions[0]["log"]).read_text()
    status = json.loads(gt(town, "convoy", "status", out["convoy"], "--json").stdout)
    assert (status["completed"], status["total"], status["beads"][0]["rig"]) == (0, 1, "gizmo")


def test_several_beads_go_to_several_polecats_under_one_convoy(town):
    first, second = bead(town, "one"), bead(town, "two")
    out = json.loads(gt(town, "sling", first, second, "gizmo", "--no-start", "--json").stdout)
    assert [s["agent"] for s in out["slung"]] == ["gizmo/polecats/toast", "gizmo/polecats/nux"]
    convoy = json.loads(gt(town, "convoy", "status", out["convoy"], "--json").stdout)
    assert sorted(b["id"] for b in convoy["beads"]) == sorted([first, second])
    assert convoy["swarm"] == ["gizmo/polecats/nux", "gizmo/polecats/toast"]
    third = bead(town, "three")
    again = json.loads(gt(town, "sling", third, "--to", "gizmo", "--no-start", "--no-convoy", "--json").stdout)
    assert again["convoy"] is None and again["slung"][0]["agent"] == "gizmo/polecats/slit"  # names unique


def test_sling_refusals_write_nothing(town):
    repo = town / "gizmo" / ".repo.git"
    closed = bead(town, "closed one")
    Bd(town)("close", closed)
    work = bead(town, "work")
    before = git(repo, "rev-parse", "beads"), git(town, "rev-parse", "beads")
    cases = [
        ((closed, "gizmo"), "is closed"),
        ((work, "deacon/dogs/boot"), "is a dog"),
        ((work, "nosuchrig/polecats/x"), "no rig named nosuchrig"),
        ((work, "gizmo", "--agent", "nosuch"), "no agent runtime named 'nosuch'"),
    ]
    for args, message in cases:
        result = gt(town, "sling", *args, ok=False)
        assert result.returncode != 0 and message in result.stderr, (args, result.stderr)
    assert (git(repo, "rev-parse", "beads"), git(town, "rev-parse", "beads")) == before
    gt(town, "sling", work, "gizmo", "--no-start")
    taken = gt(town, "sling", work, "other", ok=False)
    assert "already hooked by gizmo/polecats/toast" in taken.stderr
    (town / "gizmo" / "settings").mkdir()
    (town / "gizmo" / "settings" / "config.yaml").write_text("max_polecats: 1\n")
    more = bead(town, "more")
    capped = gt(town, "sling", more, "gizmo", "--no-start").stdout  # queued, not refused (gt queue)
    assert f"Queued {more} for gizmo (rig at its cap: max_polecats 1; 1 busy (toast))" in capped


def test_hook_unsling_and_force(town):
    gt(town, "crew", "add", "joe", "--rig", "gizmo")
    joe = town / "gizmo" / "crew" / "joe"
    first, second = bead(town, "first"), bead(town, "second")
    gt(town, "hook", first, "gizmo/crew/joe")
    shown = json.loads(gt(joe, "hook", "--json").stdout)
    assert shown["bead"]["id"] == first and shown["bead"]["status"] == "hooked" and shown["since"]
    busy = gt(joe, "hook", second, ok=False)
    assert busy.returncode == 1 and f"already has {first} on its hook" in busy.stderr
    gt(joe, "hook", second, "--force")
    assert Bd(town).show(first)["status"] == "open"
    assert Bd(town).show(second)["assignee"] == "gizmo/crew/joe"
    assert gt(joe, "unsling").stdout.startswith(f"Took {second} off gizmo/crew/joe's hook")
    assert Bd(town).show(second)["status"] == "open"
    assert "nothing on the hook" in gt(joe, "hook").stdout
    assert "needs an agent identity" in gt(town, "hook", first, ok=False).stderr
    # a town agent hooking a rig bead: two ledgers, bead first, then the agent record
    gt(town, "hook", first, "mayor")
    assert Bd(town).show(first)["assignee"] == "mayor"
    assert "hook" in git(town, "log", "-1", "--format=%s", "beads")
    assert json.loads(gt(town / "mayor", "hook", "--json").stdout)["bead"]["id"] == first


def test_done_refusals_reruns_and_resubmission(town):
    work = bead(town, "by hand")
    gt(town, "sling", work, "gizmo", "--no-start")
    home = town / "gizmo" / "polecats" / "toast"
    assert "no commits on" in gt(home, "done", ok=False).stderr
    (home / "a.txt").write_text("a\n")
    assert "uncommitted changes" in gt(home, "done", ok=False).stderr
    git(home, "add", "a.txt")
    git(home, "commit", "-qm", "a")
    assert git(home, "log", "-1", "--format=%an").strip() == "gizmo/polecats/toast"  # plain git, agent identity
    first = json.loads(gt(home, "done", "--json").stdout)
    rerun = json.loads(gt(home, "done", "--json").stdout)
    assert rerun["merge_request"] == first["merge_request"] and len(merge_requests(town)) == 1
    (home / "b.txt").write_text("b\n")
    git(home, "add", "b.txt")
    git(home, "commit", "-qm", "b (a fix)")
    fixed = json.loads(gt(home, "done", "--json").stdout)
    assert fixed["merge_request"] != first["merge_request"] and len(merge_requests(town)) == 2
    assert Bd(town).show(work)["status"] == "in_progress"  # done never closes the bead


def test_done_escalated_and_deferred(town):
    stuck = bead(town, "hard one")
    gt(town, "sling", stuck, "gizmo", "--no-start")
    home = town / "gizmo" / "polecats" / "toast"
    gt(home, "done", "--status", "ESCALATED", "-m", "the API is missing")
    for reader in ("gizmo/witness", "mayor"):
        [msg] = json.loads(gt(town, "mail", "inbox", "--identity", reader, "--json").stdout)
        assert msg["title"].startswith(f"ESCALATED {stuck}") and "the API is missing" in msg["description"]
    assert Bd(town).show(stuck)["assignee"] == "gizmo/polecats/toast"
    gt(home, "done", "--status", "DEFERRED", "-m", "later")
    assert Bd(town).show(stuck)["status"] == "open"
    assert "nothing on the hook" in gt(home, "hook").stdout


def test_scripted_agent_failures_and_escalation(town):
    crash = bead(town, "crash", script='```gt-script\nfail: "simulated crash"\n```\n')
    out = json.loads(gt(town, "sling", crash, "gizmo", "--json").stdout)
    pid = out["slung"][0]["pid"]
    from gt.town.rundir import alive

    wait_for(lambda: not alive(pid), what="the crashing agent to exit")
    assert merge_requests(town) == [] and Bd(town).show(crash)["status"] == "hooked"
    [session] = json.loads(gt(town, "agents", "--json").stdout)
    assert session["state"] == "exited" and "failing as asked" in Path(session["log"]).read_text()


def test_prime_for_each_role(town):
    from gt.dispatch.prime import BUDGET, estimate_tokens

    gt(town, "crew", "add", "joe", "--rig", "gizmo")
    long_text = "x" * 20000
    work = bead(town, "Long one", "gizmo", None, "-d", long_text, "--acceptance", "it works")
    gt(town, "sling", work, "gizmo", "--no-start")
    gt(town, "nudge", "gizmo/polecats/toast", "rebase first")
    home = town / "gizmo" / "polecats" / "toast"
    text = gt(home, "prime").stdout
    assert long_text[:1000] in text and f"(truncated: run `bd show {work}` for all of it)" in text  # cut to fit
    assert "it works" in text and "gt done" in text and "Nudge from overseer: rebase first" in text
    assert text.rstrip().endswith("start now, without asking.") and estimate_tokens(text) <= BUDGET
    data = json.loads(gt(home, "prime", "--json").stdout)
    assert data["identity"] == "gizmo/polecats/toast" and data["hook"]["id"] == work and "text" not in data
    assert data["hook"]["description"].rstrip() == long_text and data["convoy"]["id"].startswith("hq-cv-")
    assert data["nudges"] == []  # delivered once
    for where, role in ((town / "mayor", "mayor"), (town / "gizmo" / "witness", "witness"),
                        (town / "gizmo" / "refinery" / "rig", "refinery"), (town / "gizmo" / "crew" / "joe", "crew"),
                        (town / "deacon", "deacon"), (town, "human")):
        text = gt(where, "prime").stdout
        assert f"({role}" in text and "hook is empty" in text, (where, text)
        assert len(text) <= 6000


def test_handoff_shows_in_the_next_prime(town):
    work = bead(town, "long task")
    gt(town, "sling", work, "gizmo", "--no-start")
    home = town / "gizmo" / "polecats" / "toast"
    gt(home, "handoff", "-s", "Halfway", "-m", "parser done; tests next")
    text = gt(home, "prime").stdout
    assert "Handoff from your previous session" in text and "parser done; tests next" in text


def test_only_the_towns_own_mail_concerns_a_bead():
    from gt.dispatch.mail import concerns

    def about(sender: object, subject: str) -> str | None:
        return concerns({"title": subject, "mail": {"from": sender, "to": ["mayor"]}})

    for sender, subject in (("gizmo/refinery", "FIX_NEEDED gz-a3f8k"), ("gizmo/refinery", "REBASE_NEEDED gz-a3f8k"),
                            ("gizmo/refinery", "MERGED gz-a3f8k"), ("gizmo/witness", "ESCALATED gz-a3f8k: x is stuck"),
                            ("gizmo/witness", "RECOVERED_BEAD gz-a3f8k"), ("deacon", "ESCALATED gz-a3f8k: stuck"),
                            ("gizmo/polecats/toast", "ESCALATED gz-a3f8k: cannot build")):
        assert about(sender, subject) == "gz-a3f8k", (sender, subject)
    for sender, subject in (("mayor", "URGENT gz-a3f8k: reopen, the fix regressed"),
                            ("overseer", "FIX_NEEDED gz-a3f8k"), ("mayor", "ESCALATED gz-a3f8k: look"), ("gizmo/crew/joe", "MERGED gz-a3f8k"),
                            ("steve", "MERGED gz-a3f8k"), ("gizmo/refinery", "FYI hq-abc12 landed"),
                            ("gizmo/witness", "PR gz-a3f8k review"), ("gizmo/refinery", "FIX_NEEDEDgz-a3f8k"),
                            ("gizmo/refinery", "fix_needed gz-a3f8k"), ("gizmo/refinery", "FIX_NEEDED not-an-id!"),
                            (None, "FIX_NEEDED gz-a3f8k"), (["gizmo/refinery"], "FIX_NEEDED gz-a3f8k")):
        assert about(sender, subject) is None, (sender, subject)
    assert concerns({"title": "FIX_NEEDED gz-a3f8k", "mail": "gizmo/refinery"}) is None


def test_mail_round_trip(town):
    gt(town, "crew", "add", "joe", "--rig", "gizmo")
    sent = json.loads(gt(town / "mayor", "mail", "send", "gizmo/witness", "gizmo/crew/joe", "-s", "Status?",
                         "-m", "How is it going?", "--json").stdout)
    assert sent["mail"] == {"from": "mayor", "to": ["gizmo/witness", "gizmo/crew/joe"]}
    witness = town / "gizmo" / "witness"
    [msg] = json.loads(gt(witness, "mail", "inbox", "--json").stdout)
    assert msg["id"] == sent["id"] and msg["read"] is False
    assert "How is it going?" in gt(witness, "mail", "read", sent["id"][:6]).stdout
    assert json.loads(gt(witness, "mail", "inbox", "--json").stdout)[0]["read"] is True
    assert json.loads(gt(town / "gizmo" / "crew" / "joe", "mail", "inbox", "--json").stdout)[0]["read"] is False
    reply = json.loads(gt(witness, "mail", "reply", sent["id"], "-m", "Fine.", "--json").stdout)
    assert reply["mail"]["to"] == ["mayor"] and reply["title"] == "Re: Status?"
    assert [m["title"] for m in json.loads(gt(town / "mayor", "mail", "inbox", "--json").stdout)] == ["Re: Status?"]
    gt(witness, "mail", "archive", sent["id"])
    assert json.loads(gt(witness, "mail", "inbox", "--json").stdout) == []
    assert len(json.loads(gt(witness, "mail", "inbox", "--all", "--json").stdout)) == 1
    bad = gt(town / "mayor", "mail", "send", "gizmo/polecats/ghost", "-s", "x", "-m", "y", ok=False)
    assert bad.returncode == 2 and "unknown address" in bad.stderr
    gt(witness, "mail", "send", "--human", "-s", "For you", "-m", "hello overseer")
    assert json.loads(gt(town, "whoami", "--json").stdout)["role"] == "human"
    assert [m["title"] for m in json.loads(gt(town, "mail", "inbox", "--json").stdout)] == ["For you"]
    log = git(town, "log", "--format=%an|%s", "beads")
    assert f"mayor|mail {sent['id']} to gizmo/witness, gizmo/crew/joe: Status?" in log
    assert f"gizmo/witness|read {sent['id']} by gizmo/witness" in log


def test_convoys_across_two_rigs(town):
    a, b = bead(town, "gizmo part"), bead(town, "other part", "other")
    made = json.loads(gt(town, "convoy", "create", "Two rigs", a, b, "--notify", "mayor", "--json").stdout)
    cid = made["id"]
    assert cid.startswith("hq-cv-")
    status = json.loads(gt(town, "convoy", "status", cid, "--json").stdout)
    assert [(r["id"], r["rig"], r["status"]) for r in status["beads"]] == [(a, "gizmo", "open"), (b, "other", "open")]
    assert (status["completed"], status["total"]) == (0, 2)
    assert f"  .. {a} [task] gizmo part" in gt(town, "convoy", "status").stdout  # plain marks off a terminal
    stranded = json.loads(gt(town, "convoy", "stranded", "--json").stdout)
    assert stranded == [{"id": cid, "title": "Two rigs", "ready": [a, b]}]
    assert json.loads(gt(town, "convoy", "check", "--json").stdout) == []
    Bd(town)("close", a)
    assert json.loads(gt(town, "convoy", "status", cid, "--json").stdout)["completed"] == 1
    closing = Bd(town)("close", b)  # the last one: the convoy lands in the same command
    assert f"Convoy {cid} landed" in closing.stdout
    landed = json.loads(gt(town, "convoy", "status", cid, "--json").stdout)
    assert landed["status"] == "closed" and landed["completed"] == 2
    [note] = json.loads(gt(town / "mayor", "mail", "inbox", "--json").stdout)
    assert note["title"] == "Convoy landed: Two rigs" and a in note["description"] and b in note["description"]
    assert [c["id"] for c in json.loads(gt(town, "convoy", "list", "--json").stdout)] == []
    assert [c["id"] for c in json.loads(gt(town, "convoy", "list", "--all", "--json").stdout)] == [cid]
    c = bead(town, "late addition")
    reopened = json.loads(gt(town, "convoy", "add", cid, c, "--json").stdout)
    assert reopened["status"] == "open"
    assert "still tracks open beads" in gt(town, "convoy", "close", cid, ok=False).stderr
    gt(town, "convoy", "close", cid, "--force", "-r", "dropped")
    assert json.loads(gt(town, "convoy", "list", "--status", "closed", "--json").stdout)[0]["id"] == cid


def test_convoy_from_epic(town):
    epic = Bd(town)("create", "Epic", "--rig", "gizmo", "-t", "epic").stdout.strip()
    kids = [Bd(town)("create", f"child {n}", "--rig", "gizmo", "--parent", epic).stdout.strip() for n in (1, 2)]
    done = Bd(town)("create", "done child", "--rig", "gizmo", "--parent", epic).stdout.strip()
    Bd(town)("close", done)
    made = json.loads(gt(town, "convoy", "create", "--from-epic", epic, "--json").stdout)
    assert made["title"] == "Epic"
    assert sorted(d["target"] for d in made["dependencies"]) == sorted(kids)


def test_a_sling_that_cannot_start_its_agent_leaves_the_work_open(town):
    settings = town / "settings" / "config.yaml"
    settings.write_text(settings.read_text().replace("agents:\n", "agents:\n  broken:\n    command: [/no/such/agent]\n", 1))
    one, two = bead(town, "one"), bead(town, "two")
    failed = gt(town, "sling", one, two, "gizmo", "--agent", "broken", ok=False)
    assert failed.returncode == 1 and "cannot start agent 'broken'" in failed.stderr
    for work in (one, two):
        shown = Bd(town).show(work)
        assert shown["status"] == "open" and "assignee" not in shown
    again = json.loads(gt(town, "sling", one, "gizmo", "--no-start", "--json").stdout)
    assert again["slung"][0]["agent"] in ("gizmo/polecats/toast", "gizmo/polecats/nux")  # free to reuse

"""`gt polecat list/status/nuke/gc` and the cap, in temporary towns with the scripted agent."""
from __future__ import annotations

import json
from pathlib import Path

from conftest import Bd, agent_record, bead, git, gt, last_message, trailers, wait_for

STALL = '```gt-script\nstall: 120\n```\n'  # the scripted agent sleeps: a live session with nothing committed


def polecats(town: Path, *args: str) -> list[dict]:
    return json.loads(gt(town, "polecat", "list", *args, "--json").stdout)


def commit(home: Path, name: str) -> None:
    (home / name).write_text(f"{name}\n")
    git(home, "add", name)
    git(home, "commit", "-qm", f"add {name}")


def branches(town: Path) -> list[str]:
    return git(town / "gizmo" / ".repo.git", "branch", "--list", "polecat/*", "--format=%(refname:short)").split()


def test_list_and_status_show_a_live_polecat_and_nuke_releases_its_bead(town):
    from gt.town.rundir import alive

    work = bead(town, "slow one", script=STALL)
    pid = json.loads(gt(town, "sling", work, "gizmo", "--json").stdout)["slung"][0]["pid"]
    home = town / "gizmo" / "polecats" / "toast"
    wait_for(lambda: "stalling" in gt(town, "session", "peek", "gizmo/polecats/toast").stdout,
             timeout=30, what="the agent to start")
    [shown] = polecats(town)
    assert {k: v for k, v in shown.items() if k != "last_activity"} == {
        "name": "toast", "rig": "gizmo", "identity": "gizmo/polecats/toast", "state": "working", "hook": work,
        "attempts": 0, "alive": True, "worktree": str(home), "branch": f"polecat/toast/{work}"}
    assert shown["last_activity"].endswith("Z")
    assert [p["identity"] for p in polecats(town, "--rig", "gizmo")] == ["gizmo/polecats/toast"]
    line = gt(town, "polecat", "list").stdout.strip()
    assert line.startswith(f"gizmo/toast  working  hook {work}  attempts 0  alive  last activity ")
    status = json.loads(gt(town, "polecat", "status", "toast", "--json").stdout)  # unique in the town
    assert status["identity"] == "gizmo/polecats/toast" and status["alive"] is True
    assert any("stalling for 120 s" in text for text in status["session"]["lines"])
    assert "stalling for 120 s" in gt(town, "polecat", "status", "gizmo/toast").stdout

    nuked = gt(town, "polecat", "nuke", "gizmo/toast", "--actor", "steve").stdout.strip()
    assert nuked == (f"Nuked gizmo/polecats/toast: session stopped, {work} back to open, removed worktree {home}, "
                     f"removed branch polecat/toast/{work}")
    assert not alive(pid)
    after = Bd(town).show(work)
    assert after["status"] == "open" and "assignee" not in after
    assert "Released by gt polecat nuke: gizmo/polecats/toast was nuked by steve." in after["notes"]
    assert not home.exists() and branches(town) == []
    record = agent_record(town, "gizmo/polecats/toast")
    assert (record["state"], record["hook"], record.get("worktree"), record.get("branch")) == ("idle", None, None, None)
    message = last_message(town / "gizmo" / ".repo.git")
    assert message.startswith(f"nuke {work} from gizmo/polecats/toast: nuked by steve")
    assert trailers(message, "Reason") == [f"gt polecat nuke: removed worktree gizmo/polecats/toast, branch "
                                           f"polecat/toast/{work}"]
    assert trailers(message, "Forced") == []
    [listed] = polecats(town)  # the identity and its record stay
    assert (listed["state"], listed["hook"], listed["alive"], listed["worktree"]) == ("idle", None, False, None)
    missing = gt(town, "polecat", "status", "gizmo/nosuch", ok=False)
    assert missing.returncode == 1 and "no polecat named 'nosuch' in rig gizmo" in missing.stderr


def test_nuke_refuses_unlanded_work_unless_forced(town):
    work = bead(town, "by hand")
    gt(town, "sling", work, "gizmo", "--no-start")
    home = town / "gizmo" / "polecats" / "toast"
    commit(home, "a.txt")
    mr = json.loads(gt(home, "done", "--json").stdout)["merge_request"]
    (home / "scratch.txt").write_text("not committed\n")
    repo = town / "gizmo" / ".repo.git"
    before = git(repo, "rev-parse", "beads")
    refused = gt(town, "polecat", "nuke", "toast", "--rig", "gizmo", ok=False)
    assert refused.returncode == 1 and len(refused.stderr.strip().splitlines()) == 1
    assert refused.stderr.startswith("Error: gizmo/polecats/toast holds unlanded work: uncommitted changes in "
                                     f"gizmo/polecats/toast; 1 commit on polecat/toast/{work} not on main; ")
    assert "--force" in refused.stderr
    assert git(repo, "rev-parse", "beads") == before and home.exists() and branches(town) == [f"polecat/toast/{work}"]

    forced = json.loads(gt(town, "polecat", "nuke", "gizmo/toast", "--force", "--json").stdout)
    assert forced["bead"] == work and forced["forced"] is True and forced["rejected"] == [mr]
    assert forced["discarded"] == ["uncommitted changes in gizmo/polecats/toast",
                                   f"1 commit on polecat/toast/{work} not on main"]
    assert not home.exists() and branches(town) == []
    shown = Bd(town).show(work)
    assert shown["status"] == "open" and "its unlanded work was discarded" in shown["notes"]
    assert Bd(town).show(mr)["status"] == "closed"
    nuke_commit = next(c for c in git(repo, "log", "--format=%H", "beads").split()
                       if git(repo, "log", "-1", "--format=%s", c).startswith("nuke "))
    message = git(repo, "log", "-1", "--format=%B", nuke_commit)
    assert trailers(message, "Forced") == ["true"]
    assert trailers(message, "Discarded") == [f"uncommitted changes in gizmo/polecats/toast; 1 commit on "
                                              f"polecat/toast/{work} not on main"]


def test_gc_removes_idle_polecats_whose_work_landed(town):
    landed, unlanded, busy = bead(town, "landed"), bead(town, "unlanded"), bead(town, "busy")
    gt(town, "sling", landed, unlanded, busy, "gizmo", "--no-start")
    homes = {name: town / "gizmo" / "polecats" / name for name in ("toast", "nux", "slit")}
    commit(homes["toast"], "landed.txt")
    gt(homes["toast"], "done")
    [outcome] = json.loads(gt(town, "refinery", "process", "gizmo", "--json").stdout)
    assert outcome["result"] == "merged"
    commit(homes["nux"], "unlanded.txt")
    gt(town, "unsling", "gizmo/polecats/nux")  # idle, with work that never landed
    done = json.loads(gt(town, "polecat", "gc", "--json").stdout)
    assert done["removed"] == [{"agent": "gizmo/polecats/toast", "rig": "gizmo", "name": "toast",
                                "worktree": str(homes["toast"]), "branch": f"polecat/toast/{landed}"}]
    assert done["kept"] == [{"agent": "gizmo/polecats/nux", "rig": "gizmo", "name": "nux",
                             "unlanded": [f"1 commit on polecat/nux/{unlanded} not on main"]}]
    assert not homes["toast"].exists() and homes["nux"].exists() and homes["slit"].exists()
    assert sorted(branches(town)) == sorted([f"polecat/nux/{unlanded}", f"polecat/slit/{busy}"])
    record = agent_record(town, "gizmo/polecats/toast")
    assert (record["state"], record.get("worktree"), record.get("branch")) == ("idle", None, None)
    assert Bd(town).show(busy)["status"] == "hooked"
    again = gt(town, "polecat", "gc", "--rig", "gizmo").stdout.strip()
    assert again == f"Kept gizmo/polecats/nux: unlanded 1 commit on polecat/nux/{unlanded} not on main"


def test_stuck_or_escalated_polecats_do_not_count_against_the_cap(town):
    from gt.dispatch import agents
    from gt.ledger.store import Signature

    (town / "gizmo" / "settings").mkdir(exist_ok=True)
    (town / "gizmo" / "settings" / "config.yaml").write_text("max_polecats: 1\n")
    first, second, third, fourth = (bead(town, title) for title in ("one", "two", "three", "four"))
    gt(town, "sling", first, "gizmo", "--no-start")
    capped = json.loads(gt(town, "sling", second, "gizmo", "--no-start", "--json").stdout)  # queued, not refused
    assert capped["slung"] == [] and [q["reason"] for q in capped["queued"]] == ["rig at its cap: max_polecats 1; 1 busy (toast)"]
    gt(town / "gizmo" / "polecats" / "toast", "done", "--status", "ESCALATED", "-m", "needs a person")
    assert agent_record(town, "gizmo/polecats/toast")["state"] == "escalated"
    slung = json.loads(gt(town, "sling", second, "gizmo", "--no-start", "--json").stdout)
    assert slung["slung"][0]["agent"] == "gizmo/polecats/nux"
    agents.set_state(town, Signature("gizmo/witness"), "gizmo/polecats/nux", "stuck for the test", state="stuck",
                     restarts={second: 2, first: 5})  # as the witness counts them, per bead
    slung = json.loads(gt(town, "sling", third, "gizmo", "--no-start", "--json").stdout)
    assert slung["slung"][0]["agent"] == "gizmo/polecats/slit"
    capped = gt(town, "sling", fourth, "gizmo", "--no-start").stdout
    assert f"Queued {fourth} for gizmo (rig at its cap: max_polecats 1; 1 busy (slit))" in capped
    states = {p["name"]: (p["state"], p["attempts"]) for p in polecats(town)}
    assert states == {"toast": ("escalated", 0), "nux": ("stuck", 0), "slit": ("working", 0)}  # attempts: the bead's


def test_an_idle_polecat_with_uncommitted_changes_is_passed_over(town):
    (town / "gizmo" / "settings").mkdir(exist_ok=True)
    (town / "gizmo" / "settings" / "config.yaml").write_text("max_polecats: 1\n")
    first, second, third = (bead(town, title) for title in ("one", "two", "three"))
    gt(town, "sling", first, "gizmo", "--no-start")
    toast = town / "gizmo" / "polecats" / "toast"
    gt(town, "unsling", "gizmo/polecats/toast")  # idle, as the retry breaker leaves it
    (toast / "wip.txt").write_text("not committed\n")
    slung = json.loads(gt(town, "sling", second, "gizmo", "--no-start", "--json").stdout)
    assert [s["agent"] for s in slung["slung"]] == ["gizmo/polecats/nux"] and slung["queued"] == []
    assert Bd(town).show(second)["status"] == "hooked"
    # the dirty worktree waits for a person, untouched
    assert (toast / "wip.txt").read_text() == "not committed\n"
    assert git(toast, "status", "--porcelain") == "?? wip.txt\n"
    assert git(toast, "rev-parse", "--abbrev-ref", "HEAD").strip() == f"polecat/toast/{first}"
    record = agent_record(town, "gizmo/polecats/toast")
    assert (record["state"], record["hook"]) == ("idle", None)
    (toast / "wip.txt").unlink()  # a person cleans it: it is picked again
    slung = json.loads(gt(town, "sling", third, "gizmo", "--no-start", "--json").stdout)
    assert [s["agent"] for s in slung["slung"]] == ["gizmo/polecats/toast"]

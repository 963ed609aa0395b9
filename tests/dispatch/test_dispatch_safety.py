"""Who may hold work, and what dispatch says and leaves behind: refusals for dogs and infrastructure
roles, messages that tell the truth, no stray convoy, addresses on every commit, private runtime files."""
from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path

from conftest import BIN, SCRIPT, TIMEOUT, Bd, bead, git, gt, make_sample, wait_for


def heads(town: Path) -> tuple[str, str]:
    return git(town / "gizmo" / ".repo.git", "rev-parse", "beads"), git(town, "rev-parse", "beads")


def settings_file(town: Path, text: str) -> None:
    path = town / "settings" / "config.yaml"
    path.write_text(path.read_text() + text)


def test_dogs_and_infrastructure_roles_never_hold_project_work(town):
    work = bead(town, "project work")
    before = heads(town)
    for target in ("deacon/dogs/maintenance", "deacon/dogs/boot", "deacon", "gizmo/witness", "gizmo/refinery"):
        for command in (("hook", work, target), ("sling", work, target), ("hook", work, "--actor", target)):
            refused = gt(town, *command, ok=False)
            assert refused.returncode == 1, (command, refused.stderr, refused.stdout)
            expected = "is a dog" if "/dogs/" in target else "never holds project work"
            assert f"{target} " in refused.stderr and expected in refused.stderr, (command, refused.stderr)
    assert heads(town) == before
    assert Bd(town).show(work)["status"] == "open"
    gt(town, "hook", work, "mayor")  # the mayor, crew and polecats still take work
    assert Bd(town).show(work)["assignee"] == "mayor"


def test_unsling_says_what_became_of_the_bead(town):
    gt(town, "crew", "add", "joe", "--rig", "gizmo")
    done, undone = bead(town, "finished meanwhile"), bead(town, "still to do")
    gt(town, "hook", done, "gizmo/crew/joe")
    Bd(town)("close", done, "-r", "finished by hand")
    taken = gt(town, "unsling", "gizmo/crew/joe")
    assert "back to open" not in taken.stdout and f"Took {done} off gizmo/crew/joe's hook (it stays closed)" in taken.stdout
    assert Bd(town).show(done)["status"] == "closed"
    gt(town, "hook", undone, "gizmo/crew/joe")
    shown = json.loads(gt(town, "unsling", "gizmo/crew/joe", "--json").stdout)
    assert shown == {"agent": "gizmo/crew/joe", "bead": undone, "status": "open"}
    gt(town, "hook", undone, "gizmo/crew/joe")
    assert gt(town, "unsling", "gizmo/crew/joe").stdout.strip().endswith("(back to open)")


def test_the_polecat_cap_counts_truthfully(town):
    settings_file(town, "max_polecats: 1\n")
    first, second = bead(town, "first"), bead(town, "second")
    both = json.loads(gt(town, "sling", first, second, "gizmo", "--no-start", "--json").stdout)
    [waiting] = both["queued"]  # beyond the cap: queued, and why, counted truthfully
    assert [s["bead"] for s in both["slung"]] == [first] and waiting["bead"] == second
    assert waiting["reason"] == "rig at its cap: max_polecats 1; 1 being set up by gt sling (its other beads count too)"
    gt(town, "unsling", second)
    capped = json.loads(gt(town, "sling", second, "gizmo", "--no-start", "--json").stdout)["queued"][0]["reason"]
    assert capped == "rig at its cap: max_polecats 1; 1 busy (toast)"


def test_rig_remove_names_the_unmerged_branches(town):
    work = bead(town, "unfinished")
    gt(town, "sling", work, "gizmo", "--no-start")
    home = town / "gizmo" / "polecats" / "toast"
    (home / "wip.txt").write_text("half done\n")
    git(home, "add", "wip.txt")
    git(home, "commit", "-qm", "wip")
    refused = gt(town, "rig", "remove", "gizmo", ok=False)
    assert refused.returncode == 1 and f"unmerged work (polecat/toast/{work})" in refused.stderr, refused.stderr
    assert "+," not in refused.stderr


def test_a_sling_whose_runtime_cannot_start_leaves_no_convoy(town):
    settings = town / "settings" / "config.yaml"
    settings.write_text(settings.read_text().replace(
        "agents:\n", "agents:\n  relative: {command: [./no-such-agent]}\n  absolute: {command: [/no/such/agent]}\n", 1))
    one, two = bead(town, "one"), bead(town, "two")
    failed = gt(town, "sling", one, two, "gizmo", "--agent", "relative", ok=False)  # found only when it starts
    assert failed.returncode == 1 and "cannot start agent 'relative'" in failed.stderr
    for status in ("open", "closed"):
        assert json.loads(gt(town, "convoy", "list", "--status", status, "--json").stdout) == [], status
    assert json.loads(gt(town, "convoy", "stranded", "--json").stdout) == []
    for work in (one, two):
        assert Bd(town).show(work)["status"] == "open"
    before = heads(town)
    missing = gt(town, "sling", one, two, "gizmo", "--agent", "absolute", ok=False)  # refused before writing
    assert missing.returncode == 1 and "cannot start agent 'absolute'" in missing.stderr
    assert heads(town) == before


def test_every_commit_carries_an_address_and_agents_their_own(tmp_path, town):
    git(tmp_path, "config", "--global", "user.email", "steve@example.com")  # the human's, for his own writes
    gt(town, "crew", "add", "joe", "--rig", "gizmo")
    joe = town / "gizmo" / "crew" / "joe"
    (joe / "notes.txt").write_text("by joe\n")
    git(joe, "add", "notes.txt")
    git(joe, "commit", "-qm", "joe's notes")
    Bd(joe)("create", "filed by joe")  # a ledger write from the crew clone
    work = bead(town, "by hand")
    gt(town, "sling", work, "gizmo", "--no-start")
    toast = town / "gizmo" / "polecats" / "toast"
    (toast / "a.txt").write_text("a\n")
    git(toast, "add", "a.txt")
    git(toast, "commit", "-qm", "a")
    gt(toast, "done")
    gt(town, "refinery", "process", "gizmo", "--once", ok=False)
    gt(town, "witness", "patrol", "gizmo")
    signed = []  # (name, email) of every author and committer
    for repo, branch in ((town / "gizmo" / ".repo.git", "beads"), (town, "beads"), (town / "gizmo" / ".repo.git", "main")):
        for line in git(repo, "log", "--format=%an|%ae|%cn|%ce", branch).splitlines()[:20]:
            author, author_email, committer, committer_email = line.split("|")
            signed += [(author, author_email), (committer, committer_email)]
    assert [pair for pair in signed if "@" not in pair[1]] == []  # never `<>`
    assert {"gizmo/crew/joe", "gizmo/polecats/toast", "gizmo/refinery", "steve"} <= {name for name, _ in signed}
    assert "steve@example.com" not in git(joe, "log", "--format=%ae %ce")  # joe's commits are joe's
    assert [pair for pair in signed if pair[0].startswith("gizmo/") and pair[1] == "steve@example.com"] == []
    from gt.town.identity import email_of, parse
    from gt.town.install import agent_env

    assert git(joe, "log", "-1", "--format=%an <%ae>").strip() == f"gizmo/crew/joe <{email_of('gizmo/crew/joe')}>"
    assert [pair for pair in signed if parse(pair[0]).role != "human" and pair[1] != email_of(pair[0])] == []
    assert agent_env(town, "gizmo/polecats/toast")["GIT_AUTHOR_EMAIL"] == email_of("gizmo/polecats/toast")


def loose(cwd: Path, program: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `gt`/`bd` under umask 000, as a careless shell would."""
    result = subprocess.run(["sh", "-c", 'umask 000 && exec "$0" "$@"', str(BIN / program), *args], cwd=cwd,
                            capture_output=True, text=True, timeout=TIMEOUT)
    assert result.returncode == 0, f"{program} {' '.join(args)}: {result.stderr}{result.stdout}"
    return result


def test_nothing_is_world_writable_and_prompts_and_logs_are_private_whatever_the_umask(tmp_path):
    from gt.town import rundir

    town = tmp_path / "gt"
    loose(tmp_path, "gt", "install", str(town), "--actor", "steve", "--default-agent", "script")
    loose(town, "gt", "rig", "add", "gizmo", str(make_sample(tmp_path / "src" / "gizmo", "gizmo")), "--prefix", "gz")
    work = loose(town, "bd", "create", "Add a file", "--rig", "gizmo", "-d",
                 "Do it.\n\n" + SCRIPT.format(path="a.txt", text="a")).stdout.strip()
    loose(town, "gt", "sling", work, "gizmo")
    who = "gizmo/polecats/toast"
    wait_for(lambda: not rundir.alive((rundir.session(town, who) or {}).get("pid")), 60, "the scripted agent")
    loose(town, "gt", "nudge", who, "hello")
    loose(town, "gt", "witness", "patrol", "gizmo")
    open_to_all = []
    for folder, dirs, files in os.walk(town):
        for name in dirs + files:
            path = Path(folder) / name
            mode = path.lstat().st_mode
            if not stat.S_ISLNK(mode) and mode & 0o002:
                open_to_all.append(f"{oct(mode & 0o777)} {path.relative_to(town)}")
    assert open_to_all == []
    runtime = town / ".runtime"
    private = [runtime, *(p for p in runtime.rglob("*") if p.is_dir())]
    private += [*(runtime / "prompts").iterdir(), *(runtime / "logs").iterdir(), *(runtime / "agents").glob("*.json"),
                *(runtime / "nudges").iterdir()]
    assert (runtime / "prompts" / "gizmo.polecats.toast.md").exists() and (runtime / "logs" / "gizmo.polecats.toast.log").exists()
    shared = [f"{oct(p.stat().st_mode & 0o777)} {p.relative_to(town)}" for p in private if p.stat().st_mode & 0o077]
    assert shared == []

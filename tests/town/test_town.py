"""The town: gt install, identity detection from flags, environment, git config and directory."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import Bd, git, gt, make_sample
from gt.town.identity import detect, from_directory, from_role_env, parse


pytestmark = pytest.mark.town({}, agent=None, files={"gastown/config.json": "{}"})


def test_install_creates_the_layout_and_an_hq_ledger(town):
    for path in ("mayor/town.json", "mayor/rigs.json", ".beads/routes.yaml", "settings/config.yaml",
                 "deacon/dogs/boot"):
        assert (town / path).exists(), path
    info = json.loads((town / "mayor" / "town.json").read_text())
    assert info["name"] == "gt" and info["owner"] == "steve"
    assert "prefix: hq" in git(town, "show", "beads:ledger.yaml")
    assert git(town, "log", "--format=%an|%s", "beads").strip() == "steve|init ledger (prefix hq)"
    assert Bd(town)("create", "town work", "--actor", "mayor").stdout.startswith("hq-")


def test_install_again_is_a_no_op_and_force_repairs_without_touching_data(town):
    before = git(town, "rev-parse", "beads")
    (town / "settings" / "config.yaml").write_text("default_agent: codex\n")
    assert "already exists" in gt(town, "install", str(town)).stdout
    (town / "mayor" / "rigs.json").unlink()
    out = gt(town, "install", str(town), "--force").stdout
    assert "mayor/rigs.json" in out and "settings" not in out
    assert (town / "settings" / "config.yaml").read_text() == "default_agent: codex\n"
    assert git(town, "rev-parse", "beads") == before


@pytest.mark.parametrize("where,expected", [
    ("mayor", "mayor"), ("mayor/rig/src", "mayor"), ("deacon", "deacon"), ("deacon/dogs/boot", "deacon/dogs/boot"),
    ("gastown/polecats/nux/src/deep", "gastown/polecats/nux"), ("gastown/crew/joe", "gastown/crew/joe"),
    ("gastown/witness", "gastown/witness"), ("gastown/refinery/rig", "gastown/refinery"),
    ("gastown/mayor/rig", "mayor"), ("settings", None), ("", None), ("nosuchrig/polecats/x", None),
])
def test_identity_from_directory(town, where, expected):
    path = town / where
    path.mkdir(parents=True, exist_ok=True)
    assert from_directory(town, path) == expected


def test_detection_order(town, repo):
    env = {"BD_ACTOR": "from-env", "GT_ROLE": "polecat", "GT_RIG": "gastown", "GT_POLECAT": "nux"}
    from gt.ledger.gitdir import discover

    paths = discover(str(repo))
    assert detect("explicit", paths, env=env).source == "--actor"
    assert detect(None, paths, env=env).name == "from-env"
    env.pop("BD_ACTOR")
    assert detect(None, paths, env=env).name == "gastown/polecats/nux"
    git(repo, "config", "gt.identity", "gastown/crew/joe")
    assert detect(None, paths, env={}).name == "gastown/crew/joe"  # a cross-rig worktree keeps its owner
    git(repo, "config", "--unset", "gt.identity")
    assert detect(None, paths, cwd=town / "mayor", env={}).name == "mayor"
    assert detect(None, paths, cwd=repo, env={}).source == "git config user.name"


def test_role_env_and_parse():
    assert from_role_env({"GT_ROLE": "dog", "GT_DOG": "boot"}) == "deacon/dogs/boot"
    assert from_role_env({"GT_ROLE": "witness", "GT_RIG": "gp"}) == "gp/witness"
    assert from_role_env({"GT_ROLE": "polecat"}) is None
    assert parse("gp/polecats/toast").role == "polecat" and parse("alice").role == "human"


def test_bd_writes_in_an_agent_home_are_attributed_to_the_agent(town):
    home = town / "mayor"
    Bd(home)("create", "filed by the mayor")
    assert git(town, "log", "-1", "--format=%an", "beads").strip() == "mayor"


def test_whoami_and_role_env(town):
    home = town / "gastown" / "polecats" / "nux"
    home.mkdir(parents=True)
    who = json.loads(gt(home, "whoami", "--json").stdout)
    assert who == {"identity": "gastown/polecats/nux", "role": "polecat", "rig": "gastown", "agent": "nux",
                   "source": "directory"}
    exports = gt(home, "role", "env").stdout
    assert "export GT_POLECAT=nux" in exports and "export BD_ACTOR=gastown/polecats/nux" in exports
    assert f"export GT_ROOT={town}" in exports
    outside = gt(town, "role", "env", ok=False)
    assert outside.returncode == 1 and "not an agent identity" in outside.stderr and "polecats" in outside.stderr


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    return make_sample(tmp_path / "src" / "gizmo", "gizmo")


def test_rig_add_builds_the_layout_and_registers_the_rig(town, sample):
    gt(town, "rig", "add", "gizmo", str(sample), "--prefix", "gz", "--actor", "steve")
    rig = town / "gizmo"
    for path in ("config.json", ".repo.git/HEAD", "mayor/rig/tests.sh", "refinery/rig/tests.sh", "witness",
                 "crew", "polecats", ".beads/redirect", ".repo.git/hooks/pre-receive"):
        assert (rig / path).exists(), path
    assert json.loads((rig / "config.json").read_text())["default_branch"] == "main"
    assert git(rig / ".repo.git", "config", "--get", "remote.origin.fetch").strip() == "+refs/heads/*:refs/remotes/origin/*"
    assert git(rig / "mayor" / "rig", "rev-parse", "--abbrev-ref", "HEAD").strip() == "HEAD"  # detached
    assert "gz: gizmo/.repo.git" in (town / ".beads" / "routes.yaml").read_text()
    assert json.loads((town / "mayor" / "rigs.json").read_text())["rigs"]["gizmo"]["prefix"] == "gz"
    assert git(town, "log", "-1", "--format=%an|%s", "beads").strip() == "steve|rig add gizmo (prefix gz)"
    assert "rigs/" in git(town, "ls-tree", "-r", "--name-only", "beads")
    listed = json.loads(gt(town, "rig", "list", "--json").stdout)
    assert [r["name"] for r in listed] == ["gizmo"]


def test_every_folder_of_a_rig_reads_and_writes_its_one_ledger(town, sample):
    gt(town, "rig", "add", "gizmo", str(sample), "--prefix", "gz")
    rig = town / "gizmo"
    made = Bd(rig / "witness")("create", "from the witness folder").stdout.strip()
    assert made.startswith("gz-")
    assert git(rig / ".repo.git", "log", "-1", "--format=%an", "beads").strip() == "gizmo/witness"
    for where in (rig / "mayor" / "rig", rig / "refinery" / "rig", rig / "crew", rig):
        assert [b["id"] for b in Bd(where).json("list")] == [made]
    assert Bd(town).json("list") == []  # the town's own ledger is separate


def test_rig_add_refusals_leave_nothing_behind(town, sample):
    gt(town, "rig", "add", "gizmo", str(sample), "--prefix", "gz")
    again = gt(town, "rig", "add", "gizmo", str(sample), ok=False)
    assert again.returncode == 1 and "exists already" in again.stderr
    clash = gt(town, "rig", "add", "other", str(sample), "--prefix", "gz", ok=False)
    assert clash.returncode == 1 and "prefix 'gz'" in clash.stderr
    assert not (town / "other").exists()
    bad = gt(town, "rig", "add", "broken", str(town / "no-such-repo"), ok=False)
    assert bad.returncode == 1 and not (town / "broken").exists()
    assert [r["name"] for r in json.loads(gt(town, "rig", "list", "--json").stdout)] == ["gizmo"]


def test_rig_remove_refuses_unmerged_polecat_work(town, sample):
    gt(town, "rig", "add", "gizmo", str(sample), "--prefix", "gz")
    repo = town / "gizmo" / ".repo.git"
    work = town / "gizmo" / "polecats" / "nux"
    git(repo, "worktree", "add", "-q", "-b", "polecat/nux/gz-1", str(work), "main")
    (work / "new.txt").write_text("work\n")
    git(work, "add", "new.txt")
    git(work, "-c", "user.name=nux", "-c", "user.email=n@x", "commit", "-qm", "polecat work")
    refused = gt(town, "rig", "remove", "gizmo", ok=False)
    assert refused.returncode == 1 and "polecat/nux/gz-1" in refused.stderr
    assert (town / "gizmo").exists()
    gt(town, "rig", "remove", "gizmo", "--force")
    assert not (town / "gizmo").exists()
    assert "gz:" not in (town / ".beads" / "routes.yaml").read_text()
    assert json.loads((town / "mayor" / "rigs.json").read_text())["rigs"] == {}


def test_bead_ids_route_to_the_ledger_that_owns_their_prefix(town, sample):
    gt(town, "rig", "add", "gizmo", str(sample), "--prefix", "gz")
    made = Bd(town)("create", "into the rig", "--rig", "gizmo", "--actor", "mayor").stdout.strip()
    assert made.startswith("gz-")
    assert Bd(town)("create", "by prefix", "--prefix", "gz").stdout.startswith("gz-")
    town_bead = Bd(town)("create", "town work").stdout.strip()
    assert town_bead.startswith("hq-")
    for where in (town, town / "mayor", town / "gizmo" / "polecats", town / "gizmo" / "mayor" / "rig"):
        where.mkdir(parents=True, exist_ok=True)
        assert Bd(where).show(made)["title"] == "into the rig"
        assert Bd(where).show(town_bead)["title"] == "town work"
    Bd(town / "mayor")("close", made, "-r", "done from the mayor's home")
    assert git(town / "gizmo" / ".repo.git", "log", "-1", "--format=%an|%s", "beads").strip() == \
        f"mayor|close {made}: done from the mayor's home"
    assert Bd(town)("create", "x", "--prefix", "nope", ok=False).exit_code == 1
    assert "different ledgers" in Bd(town)("show", made, town_bead, ok=False).stderr
    assert "not in a town" in Bd(town.parent)("create", "x", "--rig", "gizmo", ok=False).stderr


def test_crew_clone_commits_as_its_identity_uses_the_rig_ledger_and_pushes_to_main(town, sample):
    gt(town, "rig", "add", "gizmo", str(sample), "--prefix", "gz")
    gt(town, "crew", "add", "joe", "--rig", "gizmo")
    home = town / "gizmo" / "crew" / "joe"
    rig_repo = town / "gizmo" / ".repo.git"
    made = Bd(home)("create", "joe's bead").stdout.strip()
    assert made.startswith("gz-")
    assert git(rig_repo, "log", "-1", "--format=%an", "beads").strip() == "gizmo/crew/joe"
    assert git(home, "branch", "--list", "beads").strip() == ""  # no private ledger in the clone
    (home / "work.txt").write_text("crew work\n")
    git(home, "add", "work.txt")
    git(home, "commit", "-qm", "crew change")  # plain git, as a human would
    assert git(home, "log", "-1", "--format=%an", "HEAD").strip() == "gizmo/crew/joe"
    git(home, "push", "-q", "origin", "HEAD:main")
    assert git(rig_repo, "log", "-1", "--format=%an|%s", "main").strip() == "gizmo/crew/joe|crew change"
    assert git(home, "status", "--porcelain").strip() == ""
    assert json.loads(gt(town, "crew", "list", "--rig", "gizmo", "--json").stdout) == ["joe"]
    (home / "more.txt").write_text("x\n")
    git(home, "add", "more.txt")
    git(home, "commit", "-qm", "not pushed")
    refused = gt(town, "crew", "remove", "joe", "--rig", "gizmo", ok=False)
    assert refused.returncode == 1 and "1 unpushed commits" in refused.stderr
    gt(town, "crew", "remove", "joe", "--rig", "gizmo", "--force")
    assert not home.exists()


def test_rig_worktrees_commit_as_their_agent_with_plain_git(town, sample):
    gt(town, "rig", "add", "gizmo", str(sample), "--prefix", "gz")
    repo = town / "gizmo" / ".repo.git"
    assert git(repo, "config", "--get", "extensions.worktreeConfig").strip() == "true"
    assert git(repo, "rev-parse", "--is-bare-repository").strip() == "true"
    for where, who in (("mayor/rig", "mayor"), ("refinery/rig", "gizmo/refinery")):
        checkout = town / "gizmo" / where
        assert git(checkout, "rev-parse", "--is-bare-repository").strip() == "false"
        (checkout / f"{where.split('/')[0]}.txt").write_text("x\n")
        git(checkout, "add", ".")
        git(checkout, "commit", "-qm", f"by {who}")
        assert git(checkout, "log", "-1", "--format=%an", "HEAD").strip() == who
        assert Bd(checkout)("create", f"bead by {who}").exit_code == 0
        assert git(repo, "log", "-1", "--format=%an", "beads").strip() == who


def test_cross_rig_worktree_keeps_the_owners_identity(town, sample, tmp_path):
    other = make_sample(tmp_path / "src" / "other", "other")
    gt(town, "rig", "add", "gizmo", str(sample), "--prefix", "gz")
    gt(town, "rig", "add", "other", str(other), "--prefix", "ot")
    gt(town, "crew", "add", "joe", "--rig", "gizmo")
    joe = town / "gizmo" / "crew" / "joe"
    made = json.loads(gt(joe, "worktree", "other", "--json").stdout)
    work = town / "other" / "crew" / "gizmo-joe"
    assert made == {"identity": "gizmo/crew/joe", "rig": "other", "path": str(work), "branch": "crew/gizmo-joe"}
    assert json.loads(gt(work, "whoami", "--json").stdout)["identity"] == "gizmo/crew/joe"
    (work / "fix.txt").write_text("fix\n")
    git(work, "add", "fix.txt")
    git(work, "commit", "-qm", "joe fixes other")
    assert git(work, "log", "-1", "--format=%an", "HEAD").strip() == "gizmo/crew/joe"
    assert Bd(work)("create", "filed from the worktree").stdout.startswith("ot-")
    assert git(town / "other" / ".repo.git", "log", "-1", "--format=%an", "beads").strip() == "gizmo/crew/joe"
    assert [w["path"] for w in json.loads(gt(joe, "worktree", "list", "--json").stdout)] == [str(work)]
    assert json.loads(gt(town, "worktree", "list", "--all", "--json").stdout)[0]["identity"] == "gizmo/crew/joe"
    refused = gt(joe, "worktree", "remove", "other", ok=False)
    assert refused.returncode == 1 and "1 commits not on main" in refused.stderr
    git(work, "push", "-q", ".", "HEAD:main")  # landing: into the rig's own repository
    gt(joe, "worktree", "remove", "other")
    assert not work.exists()
    assert "joe fixes other" in git(town / "other" / ".repo.git", "log", "--format=%s", "main")
    assert "not a crew member" in gt(town / "mayor", "worktree", "other", ok=False).stderr
    assert "already has a clone" in gt(joe, "worktree", "gizmo", ok=False).stderr


def test_cross_rig_dependencies_and_all_rigs(town, sample, tmp_path):
    other = make_sample(tmp_path / "src" / "other", "other")
    gt(town, "rig", "add", "gizmo", str(sample), "--prefix", "gz")
    gt(town, "rig", "add", "other", str(other), "--prefix", "ot")
    mine = Bd(town)("create", "needs the other rig", "--rig", "gizmo", "-p", "1").stdout.strip()
    theirs = Bd(town)("create", "the other rig's part", "--rig", "other", "-p", "2").stdout.strip()
    Bd(town)("dep", "add", mine, theirs)
    assert git(town / "gizmo" / ".repo.git", "log", "-1", "--format=%s", "beads").strip() == f"dep add {mine} -> {theirs} (blocks)"
    gizmo = town / "gizmo" / "mayor" / "rig"
    assert [b["id"] for b in Bd(gizmo).json("ready")] == []
    assert [b["id"] for b in Bd(gizmo).json("blocked")] == [mine]
    everywhere = [b["id"] for b in Bd(gizmo).json("ready", "--all-rigs")]
    assert everywhere == [theirs]
    assert Bd(town)("dep", "add", theirs, mine, ok=False).exit_code == 1  # a cycle across rigs is refused
    missing = Bd(town)("dep", "add", mine, "ot-zzzzz", ok=False)
    assert missing.exit_code == 1 and "ot-zzzzz" in missing.stderr
    Bd(town)("close", theirs, "-r", "done")
    assert [b["id"] for b in Bd(gizmo).json("ready")] == [mine]
    listed = Bd(town / "mayor").json("list", "--all-rigs", "--all")
    assert [b["id"] for b in listed] == [mine, theirs]  # by priority across ledgers
    assert Bd(town)("list", "--all-rigs").stdout.startswith(mine)


def test_a_second_machine_joins_the_town_and_gt_sync_moves_every_ledger(town, sample, tmp_path):
    remote = tmp_path / "town-remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    gt(town, "remote", "set", f"file://{remote}")
    gt(town, "rig", "add", "gizmo", str(sample), "--prefix", "gz")
    rig_bead = Bd(town)("create", "rig work from A", "--rig", "gizmo").stdout.strip()
    town_bead = Bd(town)("create", "town work from A").stdout.strip()
    first = json.loads(gt(town, "sync", "--json").stdout)
    assert {r["ledger"]: r["pushed"] for r in first["ledgers"]} == {"town": True, "gizmo": True}

    other = tmp_path / "machine-b" / "gt"
    joined = json.loads(gt(tmp_path, "install", str(other), "--from", f"file://{remote}", "--json").stdout)
    assert joined["rigs"] == ["gizmo"]
    assert Bd(other).show(rig_bead)["title"] == "rig work from A"
    assert Bd(other).show(town_bead)["title"] == "town work from A"
    assert (other / "gizmo" / "mayor" / "rig" / "tests.sh").exists()
    from_b = Bd(other)("create", "rig work from B", "--rig", "gizmo").stdout.strip()
    gt(other, "sync")

    text = gt(town, "sync").stdout
    assert "gizmo: fast-forward" in text and "town: up to date" in text
    assert Bd(town).show(from_b)["title"] == "rig work from B"
    assert git(town / "gizmo" / ".repo.git", "log", "-1", "--format=%s", "beads").startswith(f"create {from_b}")


def test_gt_sync_reports_ledgers_without_a_remote(town):
    out = json.loads(gt(town, "sync", "--json").stdout)
    assert out["ledgers"] == [{"ledger": "town", "remote": None, "action": "no remote", "pushed": False,
                               "merged_beads": 0, "error": None, "renamed": {}}]


def test_gt_doctor_finds_a_broken_town_and_fixes_it(town, sample):
    import shutil

    shutil.rmtree(town / "gastown")
    gt(town, "rig", "add", "gizmo", str(sample), "--prefix", "gz")
    gt(town, "crew", "add", "joe", "--rig", "gizmo")
    assert gt(town, "doctor").stdout.strip() == "The town is healthy"
    repo = town / "gizmo" / ".repo.git"
    (town / "mayor" / "rigs.json").unlink()
    (repo / "hooks" / "pre-receive").unlink()
    git(town / "gizmo" / "crew" / "joe", "config", "user.name", "Somebody Else")
    git(repo, "config", "--worktree", "--unset", "core.bare")
    git(repo, "config", "core.bare", "true")  # shared: every linked worktree would think it is bare
    (town / ".beads" / "routes.yaml").write_text("hq: .\n")
    shutil.copytree(town / "deacon", town / "stray")
    (town / "stray" / "config.json").write_text("{}")
    result = gt(town, "doctor", "--json", ok=False)
    assert result.returncode == 1
    kinds = {(f["kind"], Path(f["path"]).name) for f in json.loads(result.stdout)}
    assert {("layout", "rigs.json"), ("hooks", "hooks"), ("identity", "joe"),
            ("worktree-config", "config"), ("routes", "routes.yaml"), ("registry", "stray")} <= kinds
    fixed = json.loads(gt(town, "doctor", "--fix", "--json", ok=False).stdout)
    assert [f["kind"] for f in fixed if not f["fixed"]] == ["registry"]  # the stray folder is for a human
    import shutil as sh

    sh.rmtree(town / "stray")
    assert gt(town, "doctor").stdout.strip() == "The town is healthy"
    assert git(town / "gizmo" / "mayor" / "rig", "rev-parse", "--is-bare-repository").strip() == "false"
    assert (repo / "hooks" / "pre-receive").exists()


def test_rig_remove_refuses_unsaved_crew_work_and_worktrees_belong_to_their_owner(town, sample, tmp_path):
    gt(town, "rig", "add", "gizmo", str(sample), "--prefix", "gz")
    gt(town, "crew", "add", "ann", "--rig", "gizmo")
    (town / "gizmo" / "crew" / "ann" / "wip.txt").write_text("precious\n")
    refused = gt(town, "rig", "remove", "gizmo", ok=False)
    assert refused.returncode == 1 and "crew/ann" in refused.stderr
    assert (town / "gizmo" / "crew" / "ann" / "wip.txt").exists()
    other = make_sample(tmp_path / "src" / "other", "other")
    gt(town, "rig", "add", "web-app", str(other), "--prefix", "wa")
    gt(town, "crew", "add", "joe", "--rig", "web-app")
    gt(town / "web-app" / "crew" / "joe", "worktree", "gizmo")
    work = town / "gizmo" / "crew" / "web-app-joe"
    (work / "mine.txt").write_text("joe's\n")
    # web/crew/app-joe would name the same folder: it is not theirs to remove
    stranger = gt(town, "worktree", "remove", "gizmo", "--force", "--actor", "web/crew/app-joe", ok=False)
    assert stranger.returncode == 1 and "belongs to web-app/crew/joe" in stranger.stderr and (work / "mine.txt").exists()


def test_sync_reports_an_unreachable_rig_and_relative_remotes_work_anywhere(town, sample, tmp_path):
    import shutil

    other = make_sample(tmp_path / "src" / "other", "other")
    gt(town, "rig", "add", "gizmo", str(sample), "--prefix", "gz")
    gt(town, "rig", "add", "other", str(other), "--prefix", "ot")
    git(tmp_path, "init", "-q", "--bare", "hub.git")
    gt(town, "remote", "set", "../hub.git")  # relative to where it is typed
    assert git(town, "remote", "get-url", "origin").strip() == str(tmp_path / "hub.git")
    gt(town / "gizmo" / "mayor" / "rig", "sync")  # works from another directory
    shutil.move(str(other), str(tmp_path / "moved"))  # the second machine cannot reach this rig
    joined = json.loads(gt(tmp_path, "install", "laptop", "--from", "hub.git", "--json").stdout)
    assert joined["rigs"] == ["gizmo"] and "other" in joined["failed"]
    report = json.loads(gt(tmp_path / "laptop", "sync", "--json", ok=False).stdout)
    actions = {r["ledger"]: r["action"] for r in report["ledgers"]}
    assert actions["other"] == "failed" and actions["gizmo"] != "failed"
    failed = gt(tmp_path, "install", "broken", "--from", str(tmp_path / "no-such.git"), ok=False)
    assert failed.returncode == 1 and not (tmp_path / "broken").exists()

"""What a remote can make this machine do with rigs: nothing without the user's say.

A rig record this machine did not add (`gt rig add`), join with (`gt install --from`) or adopt
(`gt rig adopt`) waits: no clone, no fetch, no push to its URL. URLs that run programs are refused.
"""
from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from conftest import git, gt, hand_commit, make_sample
from gt.errors import UsageError
from gt.town.remotes import check_url


def record_path(name: str) -> str:
    return f"rigs/{hashlib.sha1(name.encode()).hexdigest()[:2]}/{name}.yaml"


def rig_record(name: str, url: str, prefix: str) -> str:
    return f"type: rig\nname: {name}\ngit_url: {json.dumps(url)}\ndefault_branch: main\nprefix: {prefix}\n"


def by_hand(town: Path, name: str, url: str, prefix: str) -> None:
    """Commit a rig record onto the town ledger with plain git, as a remote's user could."""
    git(town, "config", "user.name", "Mallory")
    git(town, "config", "user.email", "mallory@example.com")
    hand_commit(town, record_path(name), rig_record(name, url, prefix), f"rig {name}, by hand")


def test_a_rig_record_from_a_remote_waits_until_the_user_adopts_it(town, tmp_path):
    hub = tmp_path / "hub.git"
    git(tmp_path, "init", "-q", "--bare", str(hub))
    gt(town, "remote", "set", f"file://{hub}")
    gt(town, "sync")
    joined = gt(tmp_path, "install", "laptop", "--from", f"file://{hub}").stdout
    gizmo_url = str(tmp_path / "src" / "gizmo")
    assert f"+ rig gizmo from {gizmo_url}" in joined  # what joining takes, shown with its URL
    laptop = tmp_path / "laptop"

    private = make_sample(tmp_path / "private", "private")  # a repository outside the town
    by_hand(town, "evil", str(private), "ev")
    waiting = {"name": "evil", "git_url": str(private), "reason": "not adopted on this machine"}
    for machine in (town, laptop):  # committed here with plain git, then arrived on the laptop by sync
        report = json.loads(gt(machine, "sync", "--json").stdout)
        assert report["rigs_added"] == [] and report["rigs_waiting"] == [waiting]
        assert all(r["action"] != "failed" for r in report["ledgers"])
        assert not (machine / "evil").exists() and "ev:" not in (machine / ".beads" / "routes.yaml").read_text()
    assert git(private, "branch", "--list", "beads") == ""  # nothing was pushed into it
    assert git(private, "for-each-ref").count("\n") == 1  # main alone

    text = gt(laptop, "sync").stdout
    assert f"rig evil waits: {private}" in text and "gt rig adopt evil" in text
    doctor = gt(laptop, "doctor")  # shown, but the town stays healthy
    assert "evil" in doctor.stdout and str(private) in doctor.stdout
    assert "evil" in gt(laptop, "rig", "list").stdout

    adopted = json.loads(gt(laptop, "rig", "adopt", "evil", "--json").stdout)
    assert adopted["git_url"] == str(private) and (laptop / "evil" / ".repo.git").is_dir()
    after = json.loads(gt(laptop, "sync", "--json").stdout)
    assert after["rigs_waiting"] == [] and "evil" in [r["ledger"] for r in after["ledgers"]]
    assert gt(laptop, "doctor").stdout.strip() == "The town is healthy"
    assert gt(laptop, "rig", "adopt", "evil", ok=False).returncode == 1  # here already

    # a rig this machine took comes back when its folder goes, but not from a URL changed elsewhere
    shutil.rmtree(laptop / "gizmo")
    assert json.loads(gt(laptop, "sync", "--json").stdout)["rigs_added"] == ["gizmo"]
    shutil.rmtree(laptop / "gizmo")
    by_hand(laptop, "gizmo", str(private), "gz")
    moved = json.loads(gt(laptop, "sync", "--json", "--no-push").stdout)
    assert moved["rigs_added"] == [] and moved["rigs_waiting"][0]["name"] == "gizmo"
    assert "changed" in moved["rigs_waiting"][0]["reason"] and not (laptop / "gizmo").exists()


@pytest.mark.parametrize("url", [
    "ext::sh -c touch% /tmp/pwned", "EXT::sh", "fd::17", "foo::bar", "-oProxyCommand=touch /tmp/pwned",
    "--upload-pack=touch /tmp/pwned", "ssh://-oProxyCommand=x/repo.git", "ssh://-o@host/repo.git",
    "-host:repo.git", "gopher://host/repo.git", "/tmp/repo\n.git", "",
])
def test_urls_that_run_programs_or_look_like_options_are_refused(url):
    with pytest.raises(UsageError):
        check_url(url)


@pytest.mark.parametrize("url", [
    "/srv/git/project.git", "../project.git", "project", "file:///srv/git/project.git",
    "ssh://git@example.com/me/project.git", "ssh://example.com:2222/project.git", "git@example.com:me/project.git",
    "example.com:project.git", "https://example.com/me/project.git", "git://example.com/project.git",
])
def test_local_paths_file_ssh_scp_and_https_urls_are_allowed(url):
    assert check_url(url) == url


@pytest.mark.town({})
def test_rig_add_and_adopt_refuse_ext_and_option_urls(town, tmp_path):
    marker = tmp_path / "pwned"
    bad = {"helper": f"ext::sh -c touch% {marker}", "option": f"--upload-pack=touch {marker}"}
    for name, url in bad.items():
        refused = gt(town, "rig", "add", "--", name, url, ok=False)
        assert refused.returncode == 2 and "refused" in refused.stderr, refused.stderr
        by_hand(town, name, url, name[:2])
    report = json.loads(gt(town, "sync", "--json").stdout)
    assert sorted(r["name"] for r in report["rigs_waiting"]) == ["helper", "option"]
    for name in bad:
        refused = gt(town, "rig", "adopt", name, ok=False)
        assert refused.returncode == 2 and "refused" in refused.stderr, refused.stderr
        assert not (town / name).exists()
    assert gt(town, "rig", "adopt", "nobody", ok=False).returncode == 1
    assert not marker.exists()


def test_a_source_whose_head_names_an_option_is_refused(tmp_path):
    """The default branch comes from the source's HEAD: `--lock` there must not reach `git worktree add`."""
    source = make_sample(tmp_path / "src" / "odd", "odd")
    git(source, "update-ref", "refs/heads/--lock", "HEAD")
    git(source, "symbolic-ref", "HEAD", "refs/heads/--lock")
    root = tmp_path / "gt"
    gt(tmp_path, "install", str(root), "--actor", "steve")
    refused = gt(root, "rig", "add", "odd", str(source), "--prefix", "od", ok=False)
    assert refused.returncode != 0 and "Traceback" not in refused.stderr
    assert "--lock" in refused.stderr and not (root / "odd" / "mayor" / "rig").exists()

from conftest import bead_path, git


def test_create_writes_one_commit_with_trailers(bd, repo):
    bead_id = bd("create", "Fix login", "-t", "bug", "-p", "0").stdout.strip()
    log = git(repo, "log", "--format=%an|%s", "beads").splitlines()
    assert log[0] == f"Test User|create {bead_id}: Fix login"
    body = git(repo, "log", "-1", "--format=%B", "beads")
    assert f"Bead-Id: {bead_id}" in body and "Op: create" in body and "Actor: Test User" in body
    shown = git(repo, "show", f"beads:{bead_path(bead_id)}")
    assert "priority: 0" in shown and "title: Fix login" in shown

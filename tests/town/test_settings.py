"""Typed, validated settings: defaults, rig overrides, bad values (exit 2, one line) and unknown keys
(a warning, a `gt doctor` finding, a suggestion for a misspelling) in real towns."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import Bd, gt, make_sample

from gt.town import settings


@pytest.fixture
def town(tmp_path: Path) -> Path:
    root = tmp_path / "gt"
    gt(tmp_path, "install", str(root), "--actor", "steve")
    gt(root, "rig", "add", "gizmo", str(make_sample(tmp_path / "src" / "gizmo", "gizmo")), "--prefix", "gz")
    return root


def town_file(town: Path, text: str) -> None:
    path = town / "settings" / "config.yaml"
    path.write_text(path.read_text() + text)


def rig_file(town: Path, text: str) -> None:
    (town / "gizmo" / "settings").mkdir(exist_ok=True)
    (town / "gizmo" / "settings" / "config.yaml").write_text(text)


def settings_findings(town: Path) -> list[dict[str, object]]:
    result = gt(town, "doctor", "--json", ok=False, timeout=60)
    return [f for f in json.loads(result.stdout) if f["kind"] == "settings"]


def test_defaults_are_typed_and_the_installed_file_is_clean(town):
    loaded = settings.load(town)
    assert isinstance(loaded, settings.Settings)
    assert loaded.default_agent == "claude" and set(loaded.agents) == {"claude", "codex"}  # no scripted agent
    assert loaded.agents["claude"].tmux is False and loaded.models == {}
    assert loaded.max_polecats == 8 and loaded.polecat_branch == "polecat/{name}/{bead}"
    assert "valkyrie" in loaded.name_pool and all(isinstance(n, str) for n in loaded.name_pool)
    mq = loaded.merge_queue
    assert (mq.strategy, mq.on_failure, mq.on_conflict, mq.retry_flaky_tests) == ("rebase", "assign_back",
                                                                                  "assign_back", 1)
    assert mq.gate_timeout == 600.0 and isinstance(mq.gate_timeout, float) and mq.gates() == []
    assert (mq.delete_merged_branches, mq.push_to_origin) == (True, False)
    assert loaded.witness.stall_seconds == 900.0 and isinstance(loaded.witness.stall_seconds, float)
    assert loaded.witness.max_restarts == 3 and loaded.deacon.interval == 30.0 and loaded.deacon.auto_feed is False
    assert (loaded.mayor.autostart, loaded.mayor.agent, loaded.crew.model) == (False, None, None)
    assert loaded.dogs.tombstone_days == 30.0
    assert settings_findings(town) == []
    (town / "settings" / "config.yaml").write_text("# everything commented out\n")
    assert settings.load(town) == settings.Settings()
    (town / "settings" / "config.yaml").write_text("agents:\n  mine: {command: [sh]}\nmerge_queue:\n")
    assert set(settings.load(town).agents) == {"mine"}  # none built in: only what the settings name
    assert settings.load(town).merge_queue == settings.MergeQueue()


def test_a_rig_overrides_the_town_one_level_deep_with_the_schemas_types(town):
    town_file(town, "witness:\n  stall_seconds: 60\n  max_restarts: 5\n")
    rig_file(town, "default_agent: mine\nagents:\n  mine: {command: sh, tmux: true}\nmodels: {mine: m-1}\n"
                   "merge_queue:\n  test_command: ./tests.sh\n  gate_timeout: 30\nwitness:\n  max_restarts: 1\n"
                   "max_polecats: 2.0\n")
    here, there = settings.load(town), settings.load(town, "gizmo")
    assert here.default_agent == "claude" and here.merge_queue.test_command == "" and here.max_polecats == 8
    assert there.default_agent == "mine" and there.agents["mine"] == settings.Agent(["sh"], tmux=True)
    assert "claude" in there.agents and there.models == {"mine": "m-1"}
    assert there.merge_queue.gates() == [("test_command", "./tests.sh")]
    assert there.merge_queue.gate_timeout == 30.0 and isinstance(there.merge_queue.gate_timeout, float)
    assert there.merge_queue.retry_flaky_tests == 1  # the town's, kept: mappings merge one level deep
    assert (there.witness.stall_seconds, there.witness.max_restarts) == (60.0, 1)
    assert there.max_polecats == 2 and isinstance(there.max_polecats, int)
    # the CLI reads the rig's file: its default agent is what gt sling refuses
    rig_file(town, "default_agent: nosuch\n")
    work = Bd(town)("create", "work", "--rig", "gizmo").stdout.strip()
    refused = gt(town, "sling", work, "gizmo", ok=False, timeout=60)
    assert refused.returncode == 2 and "no agent runtime named 'nosuch'" in refused.stderr


@pytest.mark.parametrize(("where", "text", "message"), [
    ("town", "witness:\n  stall_seconds: soon\n",
     "settings/config.yaml: witness.stall_seconds: expected a number, 0 or more, got 'soon'"),
    ("rig", "merge_queue:\n  gate_timeout: [1]\n",
     "gizmo/settings/config.yaml: merge_queue.gate_timeout: expected a number, 0 or more, got a list"),
    ("rig", "merge_queue:\n  strategy: squash\n",
     "gizmo/settings/config.yaml: merge_queue.strategy: expected one of rebase, merge, got 'squash'"),
    ("rig", "witness: {max_restarts: 2.5}\n",
     "gizmo/settings/config.yaml: witness.max_restarts: expected a whole number, 0 or more, got 2.5"),
    ("rig", "name_pool: toast\n", "gizmo/settings/config.yaml: name_pool: expected a list of strings, got 'toast'"),
    ("rig", "agents:\n  mine: {command: [sh], tmux: yes}\n",
     "gizmo/settings/config.yaml: agents.mine.tmux: expected true or false, got 'yes'"),
    ("rig", "witness: 3\n", "gizmo/settings/config.yaml: witness: expected a mapping, got 3"),
    ("rig", "merge_queue:\n  retry_flaky_tests: -1\n",
     "gizmo/settings/config.yaml: merge_queue.retry_flaky_tests: expected a whole number, 0 or more, got -1"),
])
def test_a_bad_value_is_one_line_naming_file_key_and_type_exit_2(town, where, text, message):
    if where == "town":
        town_file(town, text)
    else:
        rig_file(town, text)
    for args in (("witness", "patrol", "gizmo"), ("sling", "gz-nosuch", "gizmo")):
        result = gt(town, *args, ok=False, timeout=60)
        assert (result.returncode, result.stderr, result.stdout) == (2, f"Error: {message}\n", ""), args
    problems = [f["problem"] for f in settings_findings(town)]
    assert problems == [message.split(": ", 1)[1]]


def test_an_unknown_key_is_a_warning_with_a_suggestion_and_a_doctor_finding(town):
    rig_file(town, "merge_queue:\n  test_comand: ./tests.sh\nagents:\n  my-bot: {command: [sh], comand: x}\n"
                   "frobnicate: 1\n")
    result = gt(town, "witness", "patrol", "gizmo", timeout=60)
    warnings = result.stderr.splitlines()
    assert warnings == [
        "warning: gizmo/settings/config.yaml: unknown key merge_queue.test_comand (did you mean test_command?)",
        "warning: gizmo/settings/config.yaml: unknown key agents.my-bot.comand (did you mean command?)",
        "warning: gizmo/settings/config.yaml: unknown key frobnicate",
    ]
    assert settings.load(town, "gizmo").agents["my-bot"].command == ["sh"]  # any agent name is allowed
    findings = settings_findings(town)
    assert [(f["path"], f["problem"], f["fixed"]) for f in findings] == [
        (str(town / "gizmo" / "settings" / "config.yaml"), w.split(": ", 2)[2], False) for w in warnings]
    text = gt(town, "doctor", ok=False, timeout=60)
    assert text.returncode == 1 and "unknown key merge_queue.test_comand (did you mean test_command?)" in text.stdout


def test_a_file_that_does_not_parse_is_a_usage_error(town):
    rig_file(town, "witness: [\n")
    result = gt(town, "witness", "patrol", "gizmo", ok=False, timeout=60)
    assert result.returncode == 2 and result.stderr.startswith("Error: gizmo/settings/config.yaml: invalid YAML")
    assert "Traceback" not in result.stderr

"""The README's quick start runs as pasted."""
import os
import re
import subprocess

from conftest import BIN, ROOT, TIMEOUT

README = ROOT / "README.md"


def section_script(title: str) -> str:
    """The shell blocks of one README section, as one script."""
    text = README.read_text()
    section = text[text.index(f"## {title}\n"):]
    section = section[:section.index("\n## ", 1)]
    return "".join(re.findall(r"```sh\n(.*?)```", section, re.S))


def test_town_quick_start_runs(tmp_path):
    block = section_script("Quick start: a town")
    script = block.replace('export PATH="$PWD/.venv/bin:$PATH"', f'export PATH="{BIN}:$PATH"')
    assert script != block
    env = {k: v for k, v in os.environ.items() if k != "GT_ROOT"}
    result = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=README.parent, capture_output=True,
                            text=True, timeout=180, env={**env, "TMPDIR": str(tmp_path)})
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr
    out = result.stdout
    assert "[landed]  1/1 completed" in out and "Convoy landed: Greeting" in out
    assert "gizmo/refinery | close gz-" in out and "gizmo/polecats/toast | gz-" in out
    assert re.search(r"^model-a +1 ", out, re.M)
    assert "+ rig gizmo" in out and out.rstrip().endswith("Status: closed   Priority: P2   Type: task")
    leftovers = subprocess.run(["pgrep", "-f", str(tmp_path)], capture_output=True, text=True,
                               timeout=TIMEOUT).stdout.split()
    assert leftovers == []  # gt down stopped everything


def test_quick_start_block_runs(tmp_path):
    block = section_script("Quick start: beads in any repository")
    assert "bd sync" in block
    script = block.replace('export PATH="$PWD/.venv/bin:$PATH"', f'export PATH="{BIN}:$PATH"')
    result = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=tmp_path, capture_output=True,
                            text=True, timeout=120, env={**os.environ, "TMPDIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    log = [line for line in result.stdout.splitlines() if " | " in line]  # the `git log` at the end
    assert log[0].startswith("alice | close ") and log[-1].endswith("| init ledger (prefix mp)")
    assert "Fix login" in result.stdout
    assert result.stdout.rstrip().endswith("Status: open   Priority: P0   Type: bug")  # bob's edit, synced back


def command_lines() -> list[tuple[str, str]]:
    """Every `gt …`/`bd …` command shown in the README's and docs' shell blocks and in the help examples."""
    from gt.cli.reference import commands, examples

    found = []
    for path in [README, *sorted((README.parent / "docs").glob("*.md"))]:
        if path.name == "cli.md":
            continue
        for block in re.findall(r"```(?:sh|console)\n(.*?)```", path.read_text(), re.S):
            for line in block.splitlines():
                line = line.strip().removeprefix("$ ")
                for part in re.split(r"\s*(?:&&|\|\|?|;)\s*", line.split("  #")[0]):
                    if re.match(r"(gt|bd) ", part.strip()):
                        found.append((path.name, part.strip()))

    for _, cmd in commands():  # the walk that generates docs/cli.md
        for example in examples(cmd):
            text = example.split("   (")[0].strip()
            if re.match(r"(gt|bd) ", text):
                found.append(("--help", text))
    return found


def test_every_command_shown_in_the_docs_parses():
    import shlex

    import click

    from gt.cli.bd import bd
    from gt.cli.gt import gt

    lines = command_lines()
    assert len(lines) > 100
    bad = []
    for where, line in lines:
        words = shlex.split(line.replace("$(", "(").replace("`", ""), comments=True)
        group: click.Command = gt if words[0] == "gt" else bd
        args = words[1:]
        path = [words[0]]
        try:
            while isinstance(group, click.Group) and args:
                if args[0] == "-C":
                    args = args[2:]
                    continue
                ctx = group.make_context(" ".join(path), list(args), resilient_parsing=True)
                sub = group.get_command(ctx, args[0]) if args else None
                if sub is None and hasattr(group, "resolve_command"):
                    _, sub, _ = group.resolve_command(ctx, list(args))
                    args = ["add", *args] if sub is not None and sub.name == "add" and args[0] != "add" else args
                if sub is None:
                    raise click.UsageError(f"no command {args[0]!r}")
                path.append(args[0])
                group, args = sub, args[1:]
            group.make_context(" ".join(path), list(args))
        except click.exceptions.Exit:
            pass
        except click.ClickException as exc:
            bad.append(f"{where}: {line}: {exc.format_message()}")
    assert bad == []

import click

from gt.cli.common import Out, command as subcommand


@click.group("crew")
def crew() -> None:
    """Crew: persistent clones for human-directed agents, pushing to the default branch.

    Example: gt crew add joe --rig gastown
    """


@subcommand("add")
@click.argument("name")
@click.option("--rig", help="The rig (default: the rig of the current directory).")
def add(out: Out, name: str, rig: str | None) -> None:
    """Add a crew member: a full clone at <rig>/crew/<name>.

    Example: gt crew add joe --rig gizmo
    """
    from gt.town import crew

    town, rig = out.town_and_rig(rig, "--rig NAME")
    result = crew.add(town, rig, name)
    out.emit(result, f"Added {result['identity']} at {result['path']}")


@subcommand("list")
@click.option("--rig", help="The rig (default: the rig of the current directory).")
def list_(out: Out, rig: str | None) -> None:
    """The rig's crew.

    Example: gt crew list --rig gizmo
    """
    from gt.town import crew

    town, rig = out.town_and_rig(rig, "--rig NAME")
    found = crew.members(town, rig)
    out.emit(found, "\n".join(f"{rig}/crew/{n}" for n in found) or "No crew")


@subcommand("remove")
@click.argument("name")
@click.option("--rig", help="The rig (default: the rig of the current directory).")
@click.option("--force", is_flag=True, help="Remove even with unpushed commits or uncommitted changes.")
def remove(out: Out, name: str, rig: str | None, force: bool) -> None:
    """Remove a crew member's clone (refused with unpushed work).

    Example: gt crew remove joe --rig gizmo
    """
    from gt.town import crew

    town, rig = out.town_and_rig(rig, "--rig NAME")
    crew.remove(town, rig, name, force)
    out.emit({"removed": f"{rig}/crew/{name}"}, f"Removed {rig}/crew/{name}")


@subcommand("start")
@click.argument("name")
@click.option("--rig", help="The rig (default: the rig of the current directory).")
@click.option("--agent", help="The agent runtime (default: settings crew.agent, else default_agent).")
def start(out: Out, name: str, rig: str | None, agent: str | None) -> None:
    """Start the crew member's agent session in its clone.

    Example: gt crew start joe --rig gizmo --agent claude
    """
    from gt.roles import sessions

    town, rig = out.town_and_rig(rig, "--rig NAME")
    _check_name(name)
    data = sessions.start_home(town, f"{rig}/crew/{name}", agent)
    out.emit(data, f"{rig}/crew/{name}: pid {data['pid']} ({data['agent']}), log {data['log']}")


@subcommand("attach")
@click.argument("name")
@click.option("--rig", help="The rig (default: the rig of the current directory).")
@click.option("--agent", help="The agent runtime, when it starts (default: settings crew.agent, else default_agent).")
@click.option("--model", help="The model, when it starts (default: settings crew.model).")
@click.option("--no-attach", is_flag=True, help="Start it (or keep it) and say how to attach, without attaching.")
def attach(out: Out, name: str, rig: str | None, agent: str | None, model: str | None, no_attach: bool) -> None:
    """Attach to the crew member's interactive session in tmux, starting it when it is not running.

    Example: gt crew attach joe --rig gizmo
    """
    from gt.cli.gt.session import attached, check_terminal
    from gt.roles import sessions

    town, rig = out.town_and_rig(rig, "--rig NAME")
    _check_name(name)
    check_terminal(no_attach, f"gt crew attach {name} --rig {rig}")
    identity = f"{rig}/crew/{name}"
    attached(out, identity, sessions.open_interactive(town, identity, agent, model), no_attach)


@subcommand("stop")
@click.argument("name")
@click.option("--rig", help="The rig (default: the rig of the current directory).")
def stop(out: Out, name: str, rig: str | None) -> None:
    """Stop the crew member's agent session.

    Example: gt crew stop joe --rig gizmo
    """
    from gt.roles import sessions

    town, rig = out.town_and_rig(rig, "--rig NAME")
    _check_name(name)
    stopped = sessions.stop_home(town, f"{rig}/crew/{name}")
    out.emit({"stopped": stopped}, f"{rig}/crew/{name}: {'stopped' if stopped else 'was not running'}")


@subcommand("show")
@click.argument("name")
@click.option("--rig", help="The rig (default: the rig of the current directory).")
def show(out: Out, name: str, rig: str | None) -> None:
    """The crew member's CV: completed, failed, abandoned, first-pass rate, models, languages, recent work.

    Example: gt crew show joe --rig gizmo
    """
    from gt.cli.format import cv_text
    from gt.records import audit, sources

    _, rig = out.town_and_rig(rig, "--rig NAME")
    _check_name(name)
    identity = f"{rig}/crew/{name}"
    ledgers = sources.sources()
    data = sources.cached(ledgers, "cv", [identity], lambda: audit.cv(ledgers, identity))
    out.emit(data, lambda: cv_text(data))


def _check_name(name: str) -> None:
    """A crew member's name is a plain name (it becomes a folder and part of an identity)."""
    from gt.errors import GtError, UsageError
    from gt.ledger.store import check_key

    try:
        check_key(name)
    except GtError:
        raise UsageError(f"invalid crew name {name!r}: use lowercase letters, digits, '.', '_' and '-'") from None


for sub in (add, list_, remove, start, attach, stop, show):
    crew.add_command(sub)

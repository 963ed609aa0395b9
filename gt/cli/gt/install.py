import click

from gt.cli.common import Out, command


@command("install")
@click.argument("path", required=False)
@click.option("--name", help="The town's name (default: the folder's name).")
@click.option("--force", is_flag=True, help="Repair a town: add what is missing, touch no data.")
@click.option("--remote", metavar="URL", help="Sync the town ledger with this git remote.")
@click.option("--from", "from_url", metavar="URL", help="Join an existing town: clone its ledger and its rigs.")
@click.option("--default-agent", metavar="NAME", help="The agent runtime gt sling starts (default: claude); `script` also defines the scripted stand-in.")
def install(out: Out, path: str | None, name: str | None, force: bool, remote: str | None,
            from_url: str | None, default_agent: str | None) -> None:
    """Create a town (default ~/gt, or $GT_ROOT).

    Example: gt install ~/gt --remote git@example.com:me/town.git
    """
    from pathlib import Path

    from gt.errors import UsageError
    from gt.town import layout
    from gt.town import remotes
    from gt.town.install import install

    root = Path(path) if path else layout.default_root()
    if from_url:
        if remote or force:
            raise UsageError("--from takes its remote from the URL: no --remote or --force with it")
        joined = remotes.join(root, from_url, out.signature(None))
        out.emit(joined, f"Joined the town at {joined['root']} from {joined['remote']}"
                 + "".join(f"\n  + rig {name} from {joined['urls'].get(name)}" for name in joined["rigs"])
                 + "".join(f"\n  ! rig {name}: {why}" for name, why in joined["failed"].items())
                 + "".join(f"\n  ! rig {w['name']} waits: {w['git_url']} ({w['reason']}; "
                           f"take it with `gt rig adopt {w['name']}`)" for w in joined["rigs_waiting"]))
        return
    report = install(root, out.signature(None).name, name, force, default_agent=default_agent)
    if remote:
        remotes.set_remote(report.root, remote)

    def text() -> str:
        tail = f"\nTown remote: {remote}" if remote else ""
        if report.existed and not report.created:
            return f"A town already exists at {report.root}" + ("" if force else " (use --force to repair it)") + tail
        verb = "Repaired" if report.existed else "Installed"
        return f"{verb} the town at {report.root}\n" + "\n".join(f"  + {c}" for c in report.created) + tail

    out.emit({**report.as_dict(), "remote": remote}, text)

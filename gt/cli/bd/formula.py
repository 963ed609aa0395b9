import click

from gt.cli.common import LazyGroup, Out, command as subcommand


@click.group("formula", cls=LazyGroup)
def formula() -> None:
    """Formulas: repeatable multi-step work (`*.formula.toml`) that `bd mol pour` turns into beads.

    Searched in the repository's .beads/formulas/, the rig's formulas/, the town's formulas/, then the
    built-ins; the first file of a name wins.

    Example: bd formula list
    """


@subcommand("list")
def list_(out: Out) -> None:
    """The formulas on the search path (first of each name), with where each comes from.

    Example: bd formula list --json
    """
    from gt.beads.formulas import listing
    from gt.dispatch.molecules import places

    found = listing(places())
    data = {"formulas": [{"name": f.name, "description": f.description, "version": f.version, "type": f.type,
                          "steps": len(f.steps), "vars": [v.name for v in f.vars], "origin": f.origin,
                          "source": f.path} for f in found.formulas],
            "shadowed": [{"name": n, "source": p} for n, p in found.shadowed], "errors": found.errors}

    def text() -> str:
        lines = [f"{f.name:24} {len(f.steps):3} steps  [{f.origin}]  {f.description.splitlines()[0] if f.description else ''}"
                 for f in found.formulas] or ["No formulas."]
        lines += [f"Unreadable: {e}" for e in found.errors]
        return "\n".join(lines)

    out.emit(data, text)


@subcommand("show")
@click.argument("name")
def show(out: Out, name: str) -> None:
    """A formula's variables and steps, with what each step needs.

    Example: bd formula show quick-check
    """
    from gt.beads.formulas import load
    from gt.dispatch.molecules import places

    found = load(name, places())

    def text() -> str:
        lines = [f"{found.name} (version {found.version}, {found.type}) from {found.path}"]
        if found.description:
            lines.append(found.description.rstrip())
        if found.vars:
            lines.append("Variables:")
            for var in found.vars:
                how = "required" if var.required else f"default {var.default!r}" if var.default is not None else "optional"
                lines.append(f"  {var.name} ({how}){': ' + var.description if var.description else ''}")
        lines.append("Steps:")
        for number, step in enumerate(found.steps, 1):
            needs = f"  (needs {', '.join(step.needs)})" if step.needs else ""
            lines.append(f"  {number}. {step.id}: {step.title}{needs}")
        return "\n".join(lines)

    out.emit(found.as_dict(), text)


formula.add_command(list_)
formula.add_command(show)

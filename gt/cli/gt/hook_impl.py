import click


@click.command("hook-impl", hidden=True, add_help_option=False,
               context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.argument("name")
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def hook_impl(name: str, args: tuple[str, ...]) -> None:
    """Run git hook NAME (what the installed hooks do when the Python that installed them is gone).

    Example: gt hook-impl post-commit
    """
    from gt.githooks.__main__ import run

    raise SystemExit(run([name, *args]))


command = hook_impl  # the lazy command table's attribute, whichever name it expects

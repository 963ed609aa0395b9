import click

from gt.cli.common import Out, command as subcommand


@click.group("role")
def role() -> None:
    """The role of the identity acting here.

    Example: eval "$(gt role env)"
    """


@subcommand("env")
def env(out: Out) -> None:
    """Print the environment an agent session needs, as shell exports.

    Example: eval "$(gt role env)"
    """
    from gt.town.install import role_env

    variables = role_env(out.actor)
    import shlex

    out.emit(variables, "\n".join(f"export {k}={shlex.quote(v)}" for k, v in variables.items()))


role.add_command(env)

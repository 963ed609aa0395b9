import click

from gt.cli.common import Out, command as subcommand


@click.group("dog")
def dog() -> None:
    """The Deacon's dogs: infrastructure helpers (never project work).

    Example: gt dog call maintenance

    Example: gt dog list
    """


@subcommand("list")
def list_(out: Out) -> None:
    """The dogs and what each does.

    Example: gt dog list
    """
    from gt.roles import dogs

    found = dogs.listing()
    out.emit(found, "\n".join(f"{d['name']:<12} {d['does']}" for d in found))


@subcommand("call")
@click.argument("name")
def call(out: Out, name: str) -> None:
    """Run one dog now.

    Example: gt dog call maintenance
    """
    import json

    from gt.town.layout import require_town
    from gt.roles import dogs

    result = dogs.call(require_town(), name)
    out.emit(result, f"{name}: {json.dumps(result, sort_keys=True)}")


dog.add_command(list_)
dog.add_command(call)

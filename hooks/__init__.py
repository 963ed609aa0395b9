"""The git hook templates: installed as package data `gt._hooks` (see pyproject.toml), read by
gt.githooks.install with importlib.resources. This file makes the folder a package for editable installs."""

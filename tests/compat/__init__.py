"""beads compatibility, measured with the official beads MCP server (beads-mcp 1.3.2).

A package (this file) so that pytest imports tests/compat/conftest.py as `compat.conftest`: a
conftest.py outside a package is imported as the module `conftest`, which would replace tests/conftest.py
in sys.modules and break every later `from conftest import ...`.
"""

"""`python -m gt.githooks NAME [ARGS]`: the one entry point the installed git hooks call.

The scripts in hooks/ (shipped as gt._hooks) run it with the Python that installed them, or, when
that Python is gone, through `gt hook-impl NAME [ARGS]`. NAME is the git hook: `pre-receive` runs
the ledger guard (gt.beads.guard: exit 1 refuses the push), the others the transition handlers
(gt.githooks.handlers: always exit 0). Where the code behind a hook lives may change; this name
does not, so hooks installed by an older version keep working. Imports stay lazy: a hook runs on
every commit.
"""
from __future__ import annotations

import sys

GUARD = "pre-receive"
TRANSITIONS = ("prepare-commit-msg", "commit-msg", "post-commit", "post-receive")


def run(argv: list[str]) -> int:
    """Run hook argv[0] with the rest as its arguments (stdin is the hook's); its exit status."""
    import os

    os.umask(os.umask(0) | 0o002)  # like gt and bd: nothing a hook writes is world-writable
    name = argv[0] if argv else ""
    if name == GUARD:
        from gt.beads.guard import main as guard

        return guard()
    if name in TRANSITIONS:
        from gt.githooks.handlers import main as transition

        return transition(argv)
    print(f"gt.githooks: unknown hook {name!r} (expected one of {', '.join((GUARD, *TRANSITIONS))})",
          file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))

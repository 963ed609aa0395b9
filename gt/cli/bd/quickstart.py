from gt.cli.common import Out, command

# Every command shown here runs as written (tests/beads/test_note_quickstart_version.py runs each,
# with ID and OTHER standing for bead ids): keep it true when a command or flag changes.
GUIDE = """\
bd: work items (beads) for agents, kept on a git branch of their own

Beads live on the ledger branch (`beads` by default) of the repository; every change is a
commit naming who made it. Ids look like gt-a3f8k; any unique prefix of an id works.
Commands take --json; a change takes --actor NAME for who makes it (default: $BD_ACTOR,
else git's user.name).

Set up (once per repository; a clone of a shared repository needs no init):
  bd init --prefix gt                 the ledger, with ids gt-...

Find work:
  bd ready                            open, unblocked, not deferred: by priority, then age
  bd list --status open,in_progress   beads by status (closed ones with --all)
  bd show ID                          everything about a bead: dependencies, notes, comments
  bd search "login"                   beads whose text mentions it
  bd blocked                          what is blocked, and by what

Do work:
  bd update ID --claim                take it: atomic, only one agent wins
  bd note ID "Fails only when the cache is empty"     append to its notes
  bd comment ID "Reproduced on main"                  add a comment
  bd close ID --reason "Fixed and tested"

File work:
  bd create "Fix login timeout" -t bug -p 1 -d "What happens and where"
                                      prints the new id; priority 0 (highest) to 4, default 2
  bd create "Flaky test seen while fixing" --deps discovered-from:ID
  bd dep add ID OTHER                 ID depends on OTHER: OTHER blocks it until OTHER closes
  bd dep add ID OTHER --type related  a link that never blocks
  bd update ID --status open --assignee ""           put it back for someone else

Share (with the repository's remote):
  bd sync                             fetch, merge and push the ledger; never forced

More: bd --help, and bd COMMAND --help.
"""


@command("quickstart")
def quickstart(out: Out) -> None:
    """A short guide to the everyday commands, for agents.

    Plain text; with --json, {"guide": TEXT}. Opens no ledger.

    Example: bd quickstart
    """
    out.emit({"guide": GUIDE}, GUIDE.rstrip("\n"))

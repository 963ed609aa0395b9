"""The ledger: YAML documents on a git branch, written with dulwich. Knows nothing of beads or agents."""

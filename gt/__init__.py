"""Gas Town, git-native: beads, hooks and convoys stored in git."""
__version__ = "0.1.0"

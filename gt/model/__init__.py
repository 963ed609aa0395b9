"""The model: beads, dependencies, readiness and ids. Pure: no I/O."""

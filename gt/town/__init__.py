"""The town: layout, rigs, identity, routing and settings."""

"""Roles and workflows: operations that combine the ledger and the model."""

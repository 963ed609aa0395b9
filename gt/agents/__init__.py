"""Agent programs shipped with Gas Town (the scripted agent that stands in for a model)."""

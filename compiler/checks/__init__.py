"""Checks of the config beyond its schema: one module per concern."""

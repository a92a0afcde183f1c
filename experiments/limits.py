"""Limits every command shares, in a module light enough for the CLI to import at start."""

MAX_WORKERS = 64
"""The most local worker processes a command starts (more is a mistake, not a machine)."""

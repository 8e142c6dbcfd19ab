"""Prompt files, one per agent role, loaded with importlib.resources."""

"""Prompt files, one per agent role, loaded with importlib.resources; :func:`render` fills one
in (the public name other packages use, e.g. the plan node's failure note)."""

from agents._prompts import load_prompt, render

__all__ = ["load_prompt", "render"]

"""Load the prompt files that sit next to the agents (`agents/prompts/*.md`)."""

from __future__ import annotations

from functools import cache
from importlib import resources


@cache
def load_prompt(name: str) -> str:
    """The text of `agents/prompts/<name>.md`."""
    return (resources.files("agents.prompts") / f"{name}.md").read_text()


def render(name: str, **fields: str) -> str:
    """A prompt file with its `{field}` slots filled in."""
    return load_prompt(name).format(**fields)

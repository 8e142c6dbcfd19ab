"""The LLM backends a spec string can name (``embedded``, ``openai:<model>``, ...): a registry.

mendako's own backends are built by ``agents.llm.make_chat_model``; a package adds one by
registering a :class:`Backend` with a ``make`` factory under the entry-point group
``mendako.llms`` (``myllm = "my_pkg:BACKEND"``): ``--llm myllm:<arg>`` then builds it, and
the CLI's help and spec validation list it. Light on purpose (no LangChain import): the CLI
reads it for ``--help``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any

__all__ = ["BUILTIN", "GROUP", "Backend", "backends", "spec_forms"]

GROUP = "mendako.llms"
"""The entry-point group LLM backends register under."""


@dataclass(frozen=True)
class Backend:
    """One kind of spec string: its name, its forms, what it is, and (plugins) its factory."""

    name: str
    """The spec's prefix (``openai`` in ``openai:gpt-4o-mini``)."""
    forms: str
    """The forms it takes, for help and error messages."""
    summary: str
    """One line: what it is."""
    needs_arg: bool = True
    """Whether a value must follow ``name:``."""
    make: Callable[..., Any] | None = None
    """``make(arg, **kw) -> BaseChatModel`` for a plugin; None: built in (``agents.llm``)."""


BUILTIN = (
    Backend("embedded", "embedded | embedded:<packaged name>",
            "a small model inside a PyPI package, run by llama.cpp (default)", needs_arg=False),
    Backend("llamacpp", "llamacpp:/path/model.gguf", "a local GGUF file, run by llama.cpp"),
    Backend("ollama", "ollama:<model>", "an Ollama server"),
    Backend("openai", "openai:<model>", "OpenAI or any OpenAI-compatible server (vLLM, ...)"),
    Backend("anthropic", "anthropic:<model>", "Anthropic's API"),
    Backend("hf", "hf:<path>", "transformers (a model folder or a .gguf file)"),
    Backend("none", "none | none:<seed>",
            "no knowledge: random valid choices from the run's seed", needs_arg=False),
)  # fmt: skip
"""mendako's own backends."""


@functools.cache
def backends() -> dict[str, Backend]:
    """Every backend by name: mendako's own, then the entry points ``mendako.llms``."""
    found = {b.name: b for b in BUILTIN}
    for ep in entry_points(group=GROUP):
        declared = ep.load()
        if isinstance(declared, Backend) and declared.name not in found:
            found[declared.name] = declared
    return found


def spec_forms() -> str:
    """The spec forms of every backend, for help and error messages."""
    return " | ".join(b.forms for b in backends().values())

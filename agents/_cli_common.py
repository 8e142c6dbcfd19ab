"""What every `mendako` sub-command shares: consoles, common options, one-line errors."""

from __future__ import annotations

from typing import Annotated, NoReturn

import typer
from rich.console import Console

from agents.llm_backends import spec_forms
from envs.registry import env_names

console = Console()
err = Console(stderr=True)

LLMOpt = Annotated[
    str,
    typer.Option(
        "--llm",
        help="LLM backend: "
        + spec_forms()
        + " (none: no knowledge, random choices from the run's seed; plugins register under"
        " the entry-point group mendako.llms)",
    ),
]
EnvOpt = Annotated[
    str,
    typer.Option(
        "--env",
        help="Environment: "
        + " | ".join(env_names())
        + " (plugins register under the entry-point group mendako.envs)",
    ),
]


def fail(message: str, code: int = 2) -> NoReturn:
    """Print a one-line error (no traceback) and exit non-zero; `message` is plain text
    (it often holds outside words: never read as markup, control characters escaped)."""
    from envs.untrusted import assemble

    err.print(assemble(("error:", "bold red"), " ", message), highlight=False)
    raise typer.Exit(code)


def user_errors() -> tuple[type[BaseException], ...]:
    """Exceptions that mean bad input from the user: shown as one line, never a traceback."""
    from agents.llm import LLMError
    from envs.registry import UnknownEnvError
    from graphs.trace import RunNotFound
    from skills.library import SkillNotFound

    return (ValueError, LLMError, UnknownEnvError, RunNotFound, SkillNotFound, FileNotFoundError)

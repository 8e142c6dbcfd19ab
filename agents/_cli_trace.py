"""`mendako trace ...`: inspect recorded runs."""

from __future__ import annotations

from typing import Annotated

import typer

from agents import _render as render
from agents._cli_common import console, fail, user_errors

trace_app = typer.Typer(help="Inspect recorded runs.", no_args_is_help=True)


@trace_app.command("list")
def trace_list(
    limit: Annotated[int, typer.Option(help="Show at most this many runs.")] = 50,
) -> None:
    """Recorded runs, newest first."""
    from graphs.trace import list_runs

    render.runs_table(console, list_runs()[:limit])


@trace_app.command("show")
def trace_show(
    run_id: Annotated[str, typer.Argument(help="Run id, a unique prefix, or 'last'.")],
    full: Annotated[bool, typer.Option(help="Print whole LLM prompts.")] = False,
) -> None:
    """The plan, every step's candidate scores, chosen skill, verdict, timings and LLM calls."""
    from graphs.trace import find_run

    try:
        run_ = find_run(run_id)
    except user_errors() as e:
        fail(str(e))
        return
    render.trace(console, run_, full=full)

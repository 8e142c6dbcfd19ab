"""`mendako trace ...`: inspect recorded runs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from agents import _render as render
from agents._cli_common import console, fail, user_errors
from envs.untrusted import text

trace_app = typer.Typer(help="Inspect recorded runs.", no_args_is_help=True)


@trace_app.command("list")
def trace_list(
    limit: Annotated[int, typer.Option(help="Show at most this many runs.")] = 50,
) -> None:
    """Recorded runs, newest first."""
    from graphs.trace import list_runs

    runs = list_runs()
    render.runs_table(console, runs[:limit], total=len(runs))
    _report_damage(runs[:limit])


def _report_damage(runs: list) -> None:
    """One warning line per damaged file of these runs (on stderr: the table stays clean)."""
    from agents._cli_common import err

    for run_ in runs:
        for problem in run_.damage():
            err.print(text(f"damaged: {problem}", style="yellow"))


@trace_app.command("show")
def trace_show(
    run_id: Annotated[str, typer.Argument(help="Run id, a unique prefix, or 'last'.")],
    full: Annotated[bool, typer.Option(help="Print whole LLM prompts.")] = False,
    node: Annotated[
        str | None, typer.Option(help="Only this node's events (plan, score_affordances, ...).")
    ] = None,
    step: Annotated[int | None, typer.Option(help="Only step N (one subgoal attempt).")] = None,
    at: Annotated[
        str | None,
        typer.Option(
            help="Time travel: the state at this checkpoint (id, id prefix, or index; -1 = "
            "last); 'list' lists the checkpoints."
        ),
    ] = None,
) -> None:
    """The plan, every step's candidate scores, chosen skill, verdict, timings and LLM calls."""
    from graphs.trace import find_run

    try:
        run_ = find_run(run_id)
        if at == "list":
            render.checkpoints_table(console, run_, run_.checkpoints())
            _report_damage([run_])
        elif at is not None:
            render.state_at(console, run_, run_.state_at(at), full=full)
            _report_damage([run_])
        else:
            render.trace(console, run_, full=full, node=node, step=step)
    except user_errors() as e:
        fail(str(e))


@trace_app.command("export")
def trace_export(
    run_id: Annotated[str, typer.Argument(help="Run id, a unique prefix, or 'last'.")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="json or html.")] = "html",
    out: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write (default: in the run).")
    ] = None,
) -> None:
    """Write the run as JSON, or as one self-contained HTML report (graph, timeline, SayCan
    table per step, episode GIF)."""
    from graphs.export import write_export
    from graphs.trace import find_run

    try:
        run_ = find_run(run_id)
        path = write_export(run_, fmt, out)
    except user_errors() as e:
        fail(str(e))
    _report_damage([run_])
    console.print(text(f"wrote {path}"), highlight=False)

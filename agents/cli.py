"""The `mendako` command line: run goals, manage skills, inspect traces. It only builds objects
from flags and renders; the work happens in graphs/, skills/ and envs/."""

from __future__ import annotations

import logging
import sys
from typing import Annotated, Any

import typer

from agents import _render as render
from agents._cli_common import EnvOpt, LLMOpt, console, fail, user_errors
from agents._cli_skills import skills_app
from agents._cli_trace import trace_app

app = typer.Typer(
    name="mendako",
    help="A language model plans, RL grounds it: give a goal, watch the agent, read its trace.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(skills_app, name="skills")
app.add_typer(trace_app, name="trace")


@app.command()
def run(
    goal: Annotated[str, typer.Argument(help="What the agent should do, in words.")],
    env: EnvOpt = "crafter",
    seed: Annotated[int, typer.Option(help="World seed.")] = 0,
    llm: LLMOpt = "embedded",
    max_replans: Annotated[int, typer.Option(help="Replans allowed after failures.")] = 3,
    skill_budget: Annotated[int, typer.Option(help="Env steps per skill execution.")] = 400,
    max_steps: Annotated[int, typer.Option(help="Env steps for the whole run.")] = 10_000,
) -> None:
    """Pursue GOAL in an environment and show every step."""
    from graphs.context import RunSettings
    from graphs.runner import run_goal

    settings = RunSettings(
        env_id=env,
        seed=seed,
        llm=llm,
        max_replans=max_replans,
        skill_budget=skill_budget,
        max_env_steps=max_steps,
    )
    console.print(f"[bold]goal:[/] {goal!r}  env={env} seed={seed} llm={llm}", highlight=False)
    try:
        summary = run_goal(goal, settings, on_event=lambda e: render.live_event(console, e))
    except user_errors() as e:
        fail(str(e))
        return
    render.summary(console, summary)
    if summary.outcome != "achieved":
        raise typer.Exit(1)


@app.command()
def graph(
    mermaid: Annotated[bool, typer.Option(help="Print mermaid instead of ASCII.")] = False,
) -> None:
    """Print mendako's state machine."""
    from graphs.build import build_graph

    g = build_graph().get_graph()
    if mermaid:
        console.print(g.draw_mermaid(), highlight=False)
        return
    try:
        console.print(g.draw_ascii(), highlight=False)
    except ImportError:
        console.print(g.draw_mermaid(), highlight=False)


def main(argv: list[str] | None = None) -> Any:
    """Entry point of the `mendako` console script."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    return app(args=argv if argv is not None else sys.argv[1:])

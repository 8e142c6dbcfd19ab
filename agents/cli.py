"""The `mendako` command line: run goals, manage skills, inspect traces. It only builds objects
from flags and renders; the work happens in graphs/, skills/ and envs/."""

from __future__ import annotations

import logging
import sys
from typing import Annotated, Any

import typer
from rich.console import Console

from agents import _render as render

app = typer.Typer(
    name="mendako",
    help="A language model plans, RL grounds it: give a goal, watch the agent, read its trace.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
skills_app = typer.Typer(
    help="The skill library: list what the agent can do.", no_args_is_help=True
)
trace_app = typer.Typer(help="Inspect recorded runs.", no_args_is_help=True)
app.add_typer(skills_app, name="skills")
app.add_typer(trace_app, name="trace")

console = Console()
err = Console(stderr=True)

LLMOpt = Annotated[
    str,
    typer.Option(
        "--llm",
        help="LLM backend: embedded | llamacpp:/path.gguf | ollama:M | openai:M | "
        "anthropic:M | hf:PATH",
    ),
]
EnvOpt = Annotated[str, typer.Option("--env", help="Environment: crafter | babyai | minedojo")]


def _fail(message: str, code: int = 2) -> None:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


def _user_errors() -> tuple[type[BaseException], ...]:
    from agents.llm import LLMError
    from envs.registry import UnknownEnvError
    from graphs.trace import RunNotFound
    from skills.library import SkillNotFound

    return (ValueError, LLMError, UnknownEnvError, RunNotFound, SkillNotFound, FileNotFoundError)


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
    except _user_errors() as e:
        _fail(str(e))
        return
    render.summary(console, summary)
    if summary.outcome != "achieved":
        raise typer.Exit(1)


@skills_app.command("list")
def skills_list(env: EnvOpt = "crafter") -> None:
    """List the skills available in ENV, with their kind and success history."""
    from envs.registry import adapter
    from skills.library import SkillLibrary

    try:
        adapter(env)
        library = SkillLibrary(env)
    except _user_errors() as e:
        _fail(str(e))
        return
    render.skills_table(console, library)


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
    except _user_errors() as e:
        _fail(str(e))
        return
    render.trace(console, run_, full=full)


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

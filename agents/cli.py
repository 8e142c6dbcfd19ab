"""The `mendako` command line: run goals, manage skills, inspect traces. It only builds objects
from flags and renders; the work happens in graphs/, skills/ and envs/."""

from __future__ import annotations

import logging
import sys
from typing import Annotated, Any, Literal, cast

import typer

from agents import _render as render
from agents._cli_bench import bench_app, explore
from agents._cli_common import EnvOpt, LLMOpt, console, fail, user_errors
from agents._cli_learn import learn as _learn  # noqa: F401  (registers `skills learn`)
from agents._cli_skills import skills_app
from agents._cli_trace import trace_app
from agents._cli_world import imagine, world_app
from agents.rewards import check_options, reward_kinds
from envs.untrusted import assemble

app = typer.Typer(
    name="mendako",
    help="A language model plans, RL grounds it: give a goal, watch the agent, read its trace.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(skills_app, name="skills")
app.add_typer(trace_app, name="trace")
app.add_typer(bench_app, name="bench")
app.command("explore")(explore)
app.add_typer(world_app, name="world-model")
app.command("imagine")(imagine)


@app.command()
def run(
    goal: Annotated[str, typer.Argument(help="What the agent should do, in words.")] = "",
    env: EnvOpt = "crafter",
    seed: Annotated[int, typer.Option(help="World seed.")] = 0,
    llm: LLMOpt = "embedded",
    max_replans: Annotated[int, typer.Option(help="Replans allowed after failures.")] = 3,
    skill_budget: Annotated[int, typer.Option(help="Env steps per skill execution.")] = 400,
    max_steps: Annotated[int, typer.Option(help="Env steps for the whole run.")] = 10_000,
    world_model: Annotated[
        str, typer.Option(help="Plans and affordances from: rules | learned | off.")
    ] = "rules",
    write_skills: Annotated[
        bool, typer.Option(help="Let the coder write a skill when none scores well enough.")
    ] = False,
    mission: Annotated[
        bool, typer.Option("--mission", help="Pursue the env's own mission (BabyAI) as GOAL.")
    ] = False,
    record: Annotated[
        bool, typer.Option(help="Keep a frame per env step; the run gets episode.gif.")
    ] = False,
    resume: Annotated[
        str | None,
        typer.Option(help="Continue this killed run (id, prefix, 'last') from its checkpoint."),
    ] = None,
    reward: Annotated[
        str,
        typer.Option(
            help="Verifier mode: "
            + "; ".join(f"{k.name}: {k.summary}" for k in reward_kinds().values())
            + "."
        ),
    ] = "programmatic",
    clip_weights: Annotated[
        str | None, typer.Option(help="Local Hugging Face CLIP folder for --reward clip.")
    ] = None,
    manual: Annotated[
        str | None, typer.Option(help="Game manual (text file) for --reward manual.")
    ] = None,
    learn: Annotated[
        bool, typer.Option(help="After the run, update the RL skills it used with PPO.")
    ] = False,
    replace: Annotated[
        bool,
        typer.Option(help="With --learn: updated versions become active even if they do worse."),
    ] = False,
) -> None:
    """Pursue GOAL in an environment and show every step (or --resume a killed run)."""
    from graphs.context import RunSettings
    from graphs.runner import check_settings, resume_run, run_goal

    if world_model not in ("rules", "learned", "off"):
        fail(f"--world-model must be rules, learned or off (got {world_model!r})")
    _check_reward(reward, clip_weights, manual)

    if resume is not None:
        console.print(assemble(("resuming", "bold"), f" {resume}"), highlight=False)
        try:
            summary = resume_run(resume, on_event=lambda e: render.live_event(console, e))
        except user_errors() as e:
            fail(str(e))
        render.summary(console, summary)
        if summary.outcome != "achieved":
            raise typer.Exit(1)
        return
    if mission:
        goal = _own_mission(env, seed, goal)

    settings = RunSettings(
        env_id=env,
        seed=seed,
        llm=llm,
        max_replans=max_replans,
        skill_budget=skill_budget,
        max_env_steps=max_steps,
        world_model=cast(Literal["rules", "learned", "off"], world_model),  # checked above
        write_skills=write_skills,
        reward=reward,  # checked by _check_reward (the reward registry)
        clip_weights=clip_weights,
        manual=manual,
    )
    try:
        check_settings(settings)  # bad numbers: one line, before anything is printed or built
    except user_errors() as e:
        fail(str(e))
    console.print(
        assemble(("goal:", "bold"), f" {goal!r}  env={env} seed={seed} llm={llm}"),
        highlight=False,
    )
    library = None
    try:
        if learn:
            from envs.registry import base_id
            from skills.library import SkillLibrary

            library = SkillLibrary(base_id(env))
        summary = run_goal(
            goal,
            settings,
            library=library,
            record=record,
            on_event=lambda e: render.live_event(console, e),
        )
    except user_errors() as e:
        fail(str(e))
        return
    render.summary(console, summary)
    if library is not None:
        from skills.rl.online import learn_from_run

        for update in learn_from_run(library, replace=replace):
            console.print(assemble(("learned", "bold"), " ", update.line()), highlight=False)
    if summary.outcome != "achieved":
        raise typer.Exit(1)


def _check_reward(reward: str, clip_weights: str | None, manual: str | None) -> None:
    """Fail in one line, before any model loads, on a bad --reward/--clip-weights/--manual
    (the reward kind's own check, from the registry)."""
    from pathlib import Path

    try:
        check_options(reward, clip_weights=clip_weights, manual=manual)
    except ValueError as e:
        fail(f"--reward: {e}" if reward not in reward_kinds() else str(e))
    if manual is not None and not Path(manual).expanduser().is_file():
        fail(f"--manual {manual}: no such file")


def _own_mission(env: str, seed: int, goal: str) -> str:
    """The env's own mission for `seed`, as the goal of `run --mission`."""
    from envs.registry import EnvSession

    if goal:
        fail("--mission takes no GOAL: the env's own mission is the goal")
    try:
        own = EnvSession.open(env, seed).mission
    except user_errors() as e:
        fail(str(e))
    if not own:
        fail(f"env {env!r} has no mission of its own: give a GOAL")
    return own


@app.command("envs")
def envs_list() -> None:
    """List the registered environments (mendako's own and plugins, entry points
    'mendako.envs')."""
    from rich.table import Table

    from envs.registry import GROUP, adapters
    from envs.untrusted import text

    table = Table("env", "summary", "adapter", title=f"environments (entry-point group {GROUP})")
    for name, spec in adapters().items():
        table.add_row(text(name), text(spec.summary), text(type(spec).__module__))
    console.print(table)


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
    from agents._redact import install

    install()  # no credential in any log line or warning (LangSmith's echo its API key)
    return app(args=argv if argv is not None else sys.argv[1:])

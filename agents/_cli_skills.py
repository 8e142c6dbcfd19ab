"""`mendako skills ...`: the skill library (list, show, add, remove, generate)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from agents import _render as render
from agents._cli_common import EnvOpt, LLMOpt, console, user_errors
from agents._cli_common import fail as _fail_markup
from envs.untrusted import assemble, safe, text

skills_app = typer.Typer(help="The skill library: what the agent can do.", no_args_is_help=True)

DRY_RUN_STEPS = 200
"""Env steps a skill may take in the dry run of `skills add`."""


def fail(message: str, code: int = 2) -> NoReturn:
    """One-line error; the message is plain text (sandbox errors hold `[brackets]`)."""
    _fail_markup(message, code)


def _library(env: str) -> Any:
    from envs.registry import adapter
    from skills.library import SkillLibrary

    adapter(env)
    return SkillLibrary(env)


def _errors() -> tuple[type[BaseException], ...]:
    from skills.library import SkillRefused

    return (*user_errors(), SkillRefused)


@skills_app.command("list")
def skills_list(env: EnvOpt = "crafter") -> None:
    """List the skills available in ENV, with their kind and success history."""
    try:
        library = _library(env)
    except user_errors() as e:
        fail(str(e))
        return
    render.skills_table(console, library)


@skills_app.command("show")
def skills_show(
    name: Annotated[str, typer.Argument(help="Skill name (see `mendako skills list`).")],
    env: EnvOpt = "crafter",
) -> None:
    """Show one skill: description, success rate, versions, and its code."""
    try:
        info = _library(env).show(name)
    except _errors() as e:
        fail(str(e))
        return
    m = info.meta
    origin = "shipped with mendako" if info.shipped else "user skill"
    console.print(assemble((m.name, "bold"), f"  ({m.kind}, {origin})"), highlight=False)
    console.print(text(f"description: {m.description}"), highlight=False)
    console.print(text(f"achievement: {m.achievement or '-'}"), highlight=False)
    console.print(
        f"success rate: {m.successes}/{m.attempts} attempts (smoothed {m.success_rate:.2f})",
        highlight=False,
    )
    console.print(
        f"version: {m.version} (on disk: {', '.join(f'v{v}' for v in info.versions)})",
        highlight=False,
    )
    if info.folder is not None:
        console.print(text(f"folder: {info.folder}"), highlight=False)
    for key in ("task", "steps", "rounds", "verified_seeds", "llm"):
        if key in m.extra:
            console.print(text(f"{key}: {m.extra[key]}"), highlight=False)
    if info.source is not None:
        from rich.syntax import Syntax

        console.print(Syntax(safe(info.source, newlines=True), "python", line_numbers=True))


def dry_run(
    source: str, env: str, seed: int = 0, steps: int = DRY_RUN_STEPS, time_limit_s: float = 30
) -> str:
    """Run `source` sandboxed in a fresh env for up to `steps`; '' if it ran, else the error.

    Running out of steps or the episode ending is fine; an exception, a timeout, a memory
    blow-up or a refusal is not.
    """
    from envs.registry import EnvSession
    from skills.code.sandbox import run_code_skill

    session = EnvSession.open(env, seed)
    res = run_code_skill(source, session.api(steps, {}), time_limit_s=time_limit_s)
    if res.ok or res.error_kind in ("budget", "episode_over"):
        return ""
    return res.feedback()


@skills_app.command("add")
def skills_add(
    path: Annotated[Path, typer.Argument(help="A Python file defining `def run(api) -> None`.")],
    name: Annotated[str | None, typer.Option(help="Skill name (default: the file's stem).")] = None,
    description: Annotated[
        str | None, typer.Option(help="What it does, in words (default: its docstring).")
    ] = None,
    achievement: Annotated[
        str | None, typer.Option(help="The env achievement it unlocks (e.g. place_furnace).")
    ] = None,
    env: EnvOpt = "crafter",
    dry_run_seed: Annotated[int, typer.Option(help="World seed of the dry run.")] = 0,
) -> None:
    """Add a hand-written code skill to your library (checked, then dry-run in the env)."""
    import ast

    from skills.base import SkillMeta
    from skills.code.sandbox import SkillRejected, check_source

    try:
        library = _library(env)
        source = path.read_text()
        check_source(source)
        skill_name = name or path.stem
        if path.stem == "skill" and name is None:
            skill_name = path.parent.name
        doc = ast.get_docstring(ast.parse(source)) or ""
        rules = library_rules(env)
        if achievement is not None and achievement not in rules.achievements:
            raise ValueError(f"unknown achievement {achievement!r} for {env}")
        first_doc_line = doc.strip().splitlines()[0] if doc.strip() else ""
        meta = SkillMeta(
            name=skill_name,
            description=description or first_doc_line or skill_name.replace("_", " "),
            env=env,
            achievement=achievement,
            extra={"added_from": str(path.resolve())},
        )
        from skills.library import valid_name

        valid_name(meta.name)
        problem = dry_run(source, env, dry_run_seed)
        if problem:
            raise ValueError(
                f"{path}: the dry run in {env} (seed {dry_run_seed}) failed: "
                + problem.splitlines()[0]
            )
        stored = library.add(source, meta)
    except SkillRejected as e:
        fail(f"{path}: {e}")
        return
    except _errors() as e:
        fail(str(e))
        return
    console.print(
        assemble("added ", (stored.name, "bold"), f" v{stored.version} to {library.user_root}"),
        highlight=False,
    )


def library_rules(env: str) -> Any:
    """The rules object of an env (achievement names, preconditions)."""
    from envs.registry import adapter

    return adapter(env).load_rules()


@skills_app.command("remove")
def skills_remove(
    name: Annotated[str, typer.Argument(help="A user skill's name.")],
    env: EnvOpt = "crafter",
) -> None:
    """Remove one of your skills (all its versions). Shipped skills cannot be removed."""
    try:
        library = _library(env)
        library.remove(name)
    except _errors() as e:
        fail(str(e))
        return
    console.print(assemble("removed ", (name, "bold")), highlight=False)


def parse_seeds(text: str) -> tuple[int, ...]:
    """`0-4` -> (0, 1, 2, 3, 4); `1,3,5` -> (1, 3, 5)."""
    seeds: list[int] = []
    try:
        for part in text.split(","):
            lo, sep, hi = part.strip().partition("-")
            seeds += list(range(int(lo), int(hi) + 1)) if sep else [int(lo)]
    except ValueError:
        raise ValueError(f"bad seeds {text!r}: use e.g. 0-4 or 1,3,5") from None
    if not seeds:
        raise ValueError(f"bad seeds {text!r}: use e.g. 0-4 or 1,3,5")
    return tuple(dict.fromkeys(seeds))


@skills_app.command("generate")
def skills_generate(
    task: Annotated[str, typer.Argument(help="What the skill should do, e.g. 'place a furnace'.")],
    llm: LLMOpt = "embedded",
    env: EnvOpt = "crafter",
    seeds: Annotated[str, typer.Option(help="Seeds it must pass on: 0-4 or 1,3,5.")] = "0-4",
    rounds: Annotated[int, typer.Option(help="Write -> test -> feedback rounds at most.")] = 3,
    budget: Annotated[int, typer.Option(help="Env steps per test run.")] = 400,
    name: Annotated[
        str | None, typer.Option(help="Skill name (default <target>_from_scratch).")
    ] = None,
    mode: Annotated[
        str, typer.Option(help="auto | compose (steps under a grammar) | python (free code)")
    ] = "auto",
) -> None:
    """Write a new skill with the LLM (Voyager loop); only a verified one is saved."""
    from agents.coder import CoderSettings, write_skill
    from agents.llm import make_chat_model

    if mode not in ("auto", "compose", "python"):
        fail(f"unknown mode {mode!r}: auto | compose | python")
    try:
        library = _library(env)
        settings = CoderSettings(
            env_id=env,
            seeds=parse_seeds(seeds),
            rounds=rounds,
            budget=budget,
            mode=mode,  # type: ignore[arg-type]
            llm_spec=llm,
        )
        chat = make_chat_model(llm)
        result = write_skill(
            task,
            llm=chat,
            library=library,
            settings=settings,
            name=name,
            on_round=lambda a: render_attempt(a),
        )
    except _errors() as e:
        fail(str(e))
        return
    if not result.verified:
        fail(f"{result.message}; nothing was saved", code=1)
    console.print(
        assemble(
            ("saved", "bold green"),
            f" {result.name} v{result.saved_version}: verified on seeds "
            f"{', '.join(map(str, settings.seeds))} in {len(result.attempts)} round(s), "
            f"{result.wall_s:.1f} s",
        ),
        highlight=False,
    )


def render_attempt(attempt: Any) -> None:
    """One line per round of the coder, plus its notes and first failure."""
    passed = sum(r.passed for r in attempt.results)
    status = "[green]verified[/]" if attempt.passed else "[red]failed[/]"
    console.print(
        f"round {attempt.round}: {status} ({passed}/{len(attempt.results)} seeds run passed, "
        f"{attempt.wall_s:.1f} s)",
        highlight=False,
    )
    if attempt.steps:
        console.print(text(f"  steps: {', '.join(attempt.steps)}"), highlight=False)
    for note in attempt.notes:
        console.print(text(f"  {note}"), highlight=False)
    bad = next((r for r in attempt.results if not r.passed), None)
    if bad is not None:
        console.print(text(f"  seed {bad.seed}: {bad.critique}"), highlight=False)

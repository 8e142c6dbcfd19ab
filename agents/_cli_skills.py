"""`mendako skills ...`: the skill library (list, show, add, remove, generate)."""

from __future__ import annotations

from dataclasses import dataclass
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
        f"version: {m.version}, active (on disk: {', '.join(f'v{v}' for v in info.versions)})",
        highlight=False,
    )
    if not m.verified:
        because = m.extra.get("unverified_because", "its claim was not seen")
        console.print(text(f"UNVERIFIED: {because}", "yellow"), highlight=False)
    if info.folder is not None:
        console.print(text(f"folder: {info.folder}"), highlight=False)
    for key in ("task", "steps", "rounds", "verified_seeds", "llm"):
        if key in m.extra:
            console.print(text(f"{key}: {m.extra[key]}"), highlight=False)
    if len(info.history) > 1 or any(not v.active for v in info.history):
        _versions_table(info.history)
    if info.source is not None:
        from rich.syntax import Syntax

        console.print(Syntax(safe(info.source, newlines=True), "python", line_numbers=True))


def _versions_table(history: list[Any]) -> None:
    """Every version with its own figures (its own record plus what use added to it)."""
    from rich.table import Table

    table = Table("version", "origin", "status", "success", "checked", title="versions")
    for v in history:
        m = v.meta
        status = "active" if v.active else "inactive"
        if not m.verified:
            status += ", unverified"
        gate = m.extra.get("gate") if isinstance(m.extra.get("gate"), dict) else {}
        ev = m.extra.get("eval") if isinstance(m.extra.get("eval"), dict) else {}
        checked = ""
        if gate:
            checked = f"gate {gate.get('new')}/{gate.get('episodes')} on {gate.get('seeds')}"
            if gate.get("active") is not None:
                checked += f" (then active v{gate.get('active_version')}: {gate.get('active')})"
        elif ev:
            checked = f"eval {ev.get('successes')}/{ev.get('episodes')} on {ev.get('seeds')}"
        elif m.extra.get("verified_seeds"):
            checked = f"dry run unlocked {m.achievement} on seed {m.extra['verified_seeds'][0]}"
        table.add_row(
            text(f"v{v.version}"),
            text("shipped" if v.shipped else "user"),
            text(status),
            text(f"{m.successes}/{m.attempts}"),
            text(checked),
        )
    console.print(table)


@dataclass(frozen=True)
class DryRun:
    """What the dry run of `skills add` saw on one seed."""

    seed: int
    error: str
    """'' if the skill ran (returned, used its steps up, or the episode ended)."""
    unlocked: tuple[str, ...]
    """Achievements unlocked during the run."""


def dry_run(
    source: str, env: str, seed: int = 0, steps: int = DRY_RUN_STEPS, time_limit_s: float = 30
) -> DryRun:
    """Run `source` sandboxed in a fresh env of `seed` for up to `steps`.

    Running out of steps or the episode ending is fine; an exception, a timeout, a memory
    blow-up or a refusal is an error. What it unlocked is what `skills add` verifies.
    """
    from envs.registry import EnvSession
    from skills.code.sandbox import run_code_skill

    session = EnvSession.open(env, seed)
    before = {k for k, v in session.achievements.items() if v}
    res = run_code_skill(source, session.api(steps, {}), time_limit_s=time_limit_s)
    error = "" if res.ok or res.error_kind in ("budget", "episode_over") else res.feedback()
    unlocked = tuple(sorted(k for k, v in session.achievements.items() if v and k not in before))
    return DryRun(seed, error, unlocked)


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
    dry_run_seeds: Annotated[
        str, typer.Option(help="World seeds of the dry run (0-2 or 1,3,5).")
    ] = "0-2",
    dry_run_steps: Annotated[
        int, typer.Option(help="Env steps the skill may take in each dry run.")
    ] = DRY_RUN_STEPS,
) -> None:
    """Add a hand-written code skill to your library: checked, then dry-run in fresh worlds.

    It is verified if it unlocks its --achievement on at least one of the seeds; otherwise it
    is stored as unverified (shown so, and ranked below verified skills)."""
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
        meta, why = _verify(path, source, env, meta, dry_run_seeds, dry_run_steps)
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
    if stored.verified:
        seed = stored.extra["verified_seeds"][0]
        console.print(text(f"verified: it unlocked {stored.achievement} on seed {seed}"))
    else:
        console.print(text(f"stored as UNVERIFIED ({why}); ranked below verified skills", "yellow"))


def _verify(
    path: Path, source: str, env: str, meta: Any, seeds_text: str, steps: int
) -> tuple[Any, str]:
    """Dry-run `source` on the seeds until one unlocks `meta.achievement`; the meta marked
    verified (and the seed) or unverified (and why), with the reason. A dry run that fails
    (error, timeout, refusal) raises ValueError."""
    if steps <= 0:
        raise ValueError(f"--dry-run-steps must be positive (got {steps})")
    seeds = parse_seeds(seeds_text)
    verified_on: list[int] = []
    for seed in seeds:
        seen = dry_run(source, env, seed, steps)
        if seen.error:
            raise ValueError(
                f"{path}: the dry run in {env} (seed {seed}) failed: " + seen.error.splitlines()[0]
            )
        if meta.achievement is not None and meta.achievement in seen.unlocked:
            verified_on.append(seed)
            break  # one seed is enough to see the claim hold
    why = ""
    if meta.achievement is None:
        why = "no --achievement declared, so there is no claim to check"
    elif not verified_on:
        why = (
            f"{meta.achievement} was not unlocked in {steps} steps on seeds {seeds_text}, "
            "from a fresh world"
        )
    extra = dict(meta.extra)
    if verified_on:
        extra["verified_seeds"] = verified_on
    else:
        extra["unverified_because"] = why
    return meta.model_copy(update={"verified": bool(verified_on), "extra": extra}), why


def library_rules(env: str) -> Any:
    """The rules object of an env (achievement names, preconditions)."""
    from envs.registry import adapter

    return adapter(env).load_rules()


@skills_app.command("activate")
def skills_activate(
    name: Annotated[str, typer.Argument(help="Skill name.")],
    version: Annotated[int, typer.Argument(help="The version to make active (see `skills show`).")],
    env: EnvOpt = "crafter",
) -> None:
    """Make another stored version of a skill the active one (the others stay)."""
    try:
        meta = _library(env).activate(name, version)
    except _errors() as e:
        fail(str(e))
        return
    console.print(text(f"{meta.name} v{meta.version} is now active"), highlight=False)


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
    out_of_range = [s for s in seeds if not 0 <= s <= 2**32 - 1]
    if out_of_range:
        raise ValueError(f"seed {out_of_range[0]} is outside 0..{2**32 - 1}")
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
    if rounds <= 0 or budget <= 0:
        fail(f"--rounds and --budget must be positive (got {rounds} and {budget})")
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
        f"{attempt.wall_s:.1f} s; {attempt.mode}, {attempt.method or 'method unknown'})",
        highlight=False,
    )
    if attempt.steps:
        console.print(text(f"  steps: {', '.join(attempt.steps)}"), highlight=False)
    for note in attempt.notes:
        console.print(text(f"  {note}"), highlight=False)
    bad = next((r for r in attempt.results if not r.passed), None)
    if bad is not None:
        console.print(text(f"  seed {bad.seed}: {bad.critique}"), highlight=False)

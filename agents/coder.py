"""The coder: Voyager's loop that writes a new code skill, tests it in the env, and keeps it
only once the verifier passes it.

One call of `write_skill(task, ...)`:

1. **Target.** The task's words are read as an achievement: the LLM proposes one (in the same
   structured call as the steps), `agents.planner.ground_target` accepts it only when the
   task's words support it, else takes the best supported one (the rules' names, not the
   LLM, decide what counts as the target).
2. **Retrieve.** The most relevant existing skills (`agents.retrieval`, embeddings of the
   embedded GGUF, offline) go into the prompt.
3. **Write.** Two modes:
   - ``compose`` (the embedded model and other small local models): the LLM chooses an
     ordered list of steps, each from an enum of known steps (``collect wood``,
     ``place table``, ``make wood_sword``, ``use place_furnace``...), under a JSON-schema
     grammar. The steps are rendered deterministically into ``def run(api)`` Python over
     the primitive API (``use X`` inlines skill X's own ``run``). Amounts (``until=``) come
     from the rules, not the LLM. In round 1 the LLM's steps run as chosen; from round 2
     on, after a failure, the LLM's new steps are repaired by the rules like the planner's
     plan (`agents.planner.repair`: missing prerequisites inserted, unneeded steps dropped).
     So the LLM decides the order and which existing skills to reuse; the rules decide what
     is missing; the env decides what worked.
   - ``python`` (stronger backends, ``openai:``/``anthropic:``/``ollama:``): free Python,
     prompted with the API's docstrings, the rules of the target and the retrieved skills'
     code; the reply must pass the sandbox's static check before it runs.
   ``auto`` (the default) starts in ``python`` for those backends and in ``compose`` for
   the others; a ``python`` round whose code is refused before it runs (a small model
   behind a server writes no parseable ``run(api)``: measured with SmolLM2-135M through
   llama.cpp's server, 3 of 3 rounds) switches the remaining rounds to ``compose``.
4. **Test.** The code runs in the sandbox (separate process, time and memory limits) in a
   fresh env on every seed given; the programmatic verifier checks the achievement.
5. **Feed back.** On failure, the sandbox's error, the verifier's critique and the env's
   description of the final state go into the next prompt; at most `rounds` rounds.
6. **Keep.** Only a skill verified on every seed is added to the library (a rewrite of an
   existing user skill becomes its next version).
"""

from __future__ import annotations

import ast
import inspect
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from langchain_core.language_models import BaseChatModel
from pydantic import BaseModel, Field, create_model

from agents import planner, verifier
from agents._prompts import render
from agents.llm import method_of
from envs.values import Subgoal

log = logging.getLogger(__name__)

Mode = Literal["auto", "compose", "python"]
MAX_STEPS = 8
_FREE_PYTHON_BACKENDS = ("openai", "anthropic", "ollama")


def mode_for(spec: str) -> Literal["compose", "python"]:
    """The writing mode for an LLM spec: free Python for strong remote models, else compose."""
    return "python" if spec.split(":", 1)[0].lower() in _FREE_PYTHON_BACKENDS else "compose"


@dataclass(frozen=True, kw_only=True)
class CoderSettings:
    """How the coder writes and tests one skill."""

    env_id: str = "crafter"
    """Environment the skill is for."""
    seeds: tuple[int, ...] = (0,)
    """World seeds the skill must pass on (each in a fresh env)."""
    rounds: int = 3
    """Write -> test -> feedback rounds at most."""
    budget: int = 400
    """Env steps the skill may spend per seed."""
    time_limit_s: float = 30.0
    """Sandbox wall-clock limit per seed."""
    retrieve_k: int = 5
    """How many existing skills are retrieved into the prompt."""
    mode: Mode = "auto"
    """``compose`` (grammar over steps), ``python`` (free code) or ``auto`` (from `llm_spec`)."""
    llm_spec: str = "embedded"
    """The LLM's spec string, recorded in the skill's meta and used by ``auto``."""
    embed_spec: str = "embedded"
    """Model for retrieval embeddings (llama.cpp specs only)."""


@dataclass
class SeedResult:
    """How the skill did on one seed."""

    seed: int
    passed: bool
    steps: int
    error: str | None
    critique: str
    observation: str


@dataclass
class Attempt:
    """One round: the code written and what the env and verifier said."""

    round: int
    source: str
    steps: list[str] = field(default_factory=list)
    """The composed steps (compose mode), after any repair."""
    notes: list[str] = field(default_factory=list)
    """What the rules repaired, or why the code was refused."""
    results: list[SeedResult] = field(default_factory=list)
    wall_s: float = 0.0
    mode: str = ""
    """How this round was written: ``compose`` or ``python``."""
    method: str = ""
    """How the model's answer was obtained: the structured-output method (compose; see
    ``agents.llm.method_of``) or ``text`` (python: code read from a plain reply)."""

    @property
    def passed(self) -> bool:
        """True when the code ran and the verifier passed it on every seed."""
        return bool(self.results) and all(r.passed for r in self.results)


@dataclass
class CoderResult:
    """The outcome of `write_skill`."""

    task: str
    target: str | None
    name: str | None
    verified: bool
    attempts: list[Attempt]
    retrieved: list[str]
    wall_s: float
    saved_version: int | None = None
    message: str = ""


# --------------------------------------------------------------------------- steps (compose)
def step_vocabulary(rules: Any, skills: list[Any]) -> list[str]:
    """Every step the grammar allows: primitives from the rules, then reusable code skills."""
    steps: list[str] = []
    for info in rules.collect.values():
        steps.extend(f"collect {item}" for item in info["receive"])
    steps += [f"place {x}" for x in rules.place]
    steps += [f"make {x}" for x in rules.make]
    steps += [f"use {s.meta.name}" for s in skills if _inlinable(s)]
    return list(dict.fromkeys(steps))


def _inlinable(skill: Any) -> bool:
    return (
        skill.meta.kind == "code" and bool(skill.meta.achievement) and _run_def(skill) is not None
    )


def _run_def(skill: Any) -> ast.FunctionDef | None:
    try:
        tree = ast.parse(getattr(skill, "source", "") or "")
    except SyntaxError:
        return None
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == "run":
            return node
    return None


def step_achievement(step: str, library: Any) -> str:
    """The achievement a step unlocks (``collect wood`` -> ``collect_wood``)."""
    verb, _, arg = step.partition(" ")
    if verb == "use":
        return library.get(arg).meta.achievement
    return f"{verb}_{arg}"


def _amounts(achievements: list[str], rules: Any) -> list[dict[str, int]]:
    """Absolute `until` counts for each collect step: what the later steps consume (>= 1)."""
    out: list[dict[str, int]] = []
    for i, name in enumerate(achievements):
        if not name.startswith("collect_"):
            out.append({})
            continue
        (item,) = rules.requirement(name).gives
        total = 0
        for later in achievements[i + 1 :]:
            if later == name:
                break
            total += rules.requirement(later).consumes.get(item, 0)
        out.append({item: max(1, total)})
    return out


def render_composition(
    task: str, target: str, steps: list[Subgoal], uses: dict[str, Any], rules: Any, note: str
) -> str:
    """Deterministic Python for a list of (achievement, need) steps over the primitive API.

    `uses` maps an achievement to the library skill whose `run` is inlined for it.
    """
    helpers: list[str] = []
    body: list[str] = []
    for i, sg in enumerate(steps, 1):
        name = sg.name
        verb, _, obj = name.partition("_")
        label = f"step {i} ({sg.instruction})"
        fail = f"raise RuntimeError({label!r} + ' failed: ' + _why(api, {name!r}))"
        skill = uses.get(name)
        if skill is not None and verb != "collect":
            fn = _run_def(skill)
            assert fn is not None
            fn = _strip_annotations(fn)
            fn.name = f"_use_{skill.meta.name}"
            helpers.append(ast.unparse(fn))
            body += [
                f"    # {i}. {sg.instruction}: reuse skill {skill.meta.name}",
                f"    before = api.achievements.get({name!r}, 0)",
                f"    _use_{skill.meta.name}(api)",
                f"    if api.achievements.get({name!r}, 0) <= before:",
                f"        {fail}",
            ]
            continue
        if verb == "collect":
            (item, until), *_ = sg.need.items() or [(next(iter(rules.requirement(name).gives)), 1)]
            call = f"api.collect({item!r}, until={until})"
        elif verb == "place":
            call = f"api.place({obj!r})"
        elif verb == "make":
            call = f"api.make({obj!r})"
        else:  # achievements without a primitive (eat, defeat, wake) only come through `use`
            raise ValueError(f"no primitive for {name!r}; it needs an existing skill")
        body += [f"    # {i}. {sg.instruction}", f"    if not {call}:", f"        {fail}"]
    doc = f"Skill written by mendako's coder for: {task} (target {target}). {note}".strip()
    parts = [
        f'"""{_doc_safe(doc)}"""',
        "",
        "",
        "def _why(api, achievement):",
        "    missing = api.missing(achievement)",
        "    return '; '.join(missing) if missing else 'nothing reachable to act on'",
        "",
    ]
    for h in helpers:
        parts += ["", h, ""]
    parts += ["", "def run(api):", *body, ""]
    return "\n".join(parts)


def _doc_safe(text: str) -> str:
    return text.replace('"""', "'''").replace("\\", "/")


def _strip_annotations(fn: ast.FunctionDef) -> ast.FunctionDef:
    copy = ast.parse(ast.unparse(fn)).body[0]
    assert isinstance(copy, ast.FunctionDef)
    fn = copy
    for arg in (*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs):
        arg.annotation = None
    fn.returns = None
    fn.body = [
        n for n in fn.body if not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant))
    ] or [ast.Pass()]
    return fn


def _compose_schema(names: list[str], steps: list[str]) -> type[BaseModel]:
    target: Any = Literal[tuple([*names, planner.NONE])]  # built at run time: Any to mypy
    step: Any = Literal[tuple(steps)]
    return create_model(
        "SkillSteps",
        target=(target, ...),
        steps=(list[step], Field(min_length=1, max_length=MAX_STEPS)),
    )


# --------------------------------------------------------------------------- python mode
def api_doc(api_cls: type) -> str:
    """One line per public method/property of the API: signature and first docstring line."""
    lines = []
    for name, obj in inspect.getmembers(api_cls):
        if name.startswith("_") or name in {"env", "rules", "info"}:
            continue
        doc = (inspect.getdoc(obj) or "").split("\n\n")[0].replace("\n", " ")
        if isinstance(obj, property):
            lines.append(f"- api.{name} (property): {doc}")
        elif callable(obj):
            sig = str(inspect.signature(obj)).replace("(self, ", "(").replace("(self)", "()")
            lines.append(f"- api.{name}{sig}: {doc}")
    return "\n".join(lines)


def extract_code(text: str) -> str:
    """The Python in an LLM reply: the first fenced block, else the whole text."""
    m = re.search(r"```(?:python|py)?\s*\n(.*?)```", text, re.S)
    return (m.group(1) if m else text).strip() + "\n"


# --------------------------------------------------------------------------- the loop
def write_skill(
    task: str,
    *,
    llm: BaseChatModel,
    library: Any,
    settings: CoderSettings | None = None,
    target: str | None = None,
    name: str | None = None,
    save: bool = True,
    on_round: Callable[[Attempt], None] | None = None,
) -> CoderResult:
    """Write, test and (when verified on every seed) save a skill for `task`.

    `target` skips reading the task (the graph passes its subgoal's achievement). Never
    raises for bad code; raises ValueError when the task names no known achievement.
    """
    from agents.retrieval import SkillRetriever
    from envs.registry import adapter

    settings = settings or CoderSettings()
    t0 = time.perf_counter()
    mode = mode_for(settings.llm_spec) if settings.mode == "auto" else settings.mode
    if not settings.seeds:
        raise ValueError("the coder needs at least one seed to test on")
    module = adapter(settings.env_id)
    rules = module.load_rules()
    if rules is None:
        raise ValueError(f"env {settings.env_id!r} has no rules: the coder needs them")
    names = list(rules.achievements)
    skills = list(library)
    retrieved = SkillRetriever(settings.embed_spec).rank(task, skills, settings.retrieve_k)
    retrieved_skills = [library.get(r.name) for r in retrieved]
    if target is not None and target not in names:
        raise ValueError(f"unknown achievement {target!r} for {settings.env_id}")
    attempts: list[Attempt] = []
    feedback = ""
    writer: _Composer | _PythonWriter = (
        _Composer(llm, library, rules, names, retrieved_skills, task)
        if mode == "compose"
        else _PythonWriter(llm, rules, retrieved_skills, task, _api_class(module))
    )
    for rnd in range(1, settings.rounds + 1):
        t_round = time.perf_counter()
        attempt, target = writer.write(rnd, target, feedback)
        attempt.mode = mode
        attempt.method = "text" if mode == "python" else method_of(llm)
        if target is None:
            raise ValueError(
                f"no known achievement matches {task!r}; say what to do, e.g. 'make a wood sword'"
            )
        if not attempt.notes or not attempt.notes[0].startswith("refused"):
            for seed in settings.seeds:  # the first failure is the feedback: stop there
                attempt.results.append(_test(attempt.source, target, seed, settings))
                if not attempt.results[-1].passed:
                    break
        attempt.wall_s = time.perf_counter() - t_round
        attempts.append(attempt)
        # A model that cannot write a parseable `run(api)` (a small one behind a server) will
        # not learn it from feedback: compose steps under the schema instead, which any
        # model with structured output can do.
        switch = settings.mode == "auto" and mode == "python" and _refused(attempt)
        if switch and rnd < settings.rounds:
            attempt.notes.append("auto: the free code was refused; composing steps from now on")
        if on_round is not None:
            on_round(attempt)
        if attempt.passed:
            break
        if switch:
            mode, feedback = "compose", ""
            writer = _Composer(llm, library, rules, names, retrieved_skills, task)
            continue
        feedback = writer.feedback(attempt)
    best = attempts[-1] if attempts else None
    verified = best is not None and best.passed
    result = CoderResult(
        task=task,
        target=target,
        name=None,
        verified=verified,
        attempts=attempts,
        retrieved=[r.name for r in retrieved],
        wall_s=time.perf_counter() - t0,
    )
    if not verified:
        result.message = f"no verified skill for {task!r} after {len(attempts)} rounds"
        return result
    assert best is not None and target is not None
    result.name = name or f"{target}_from_scratch"
    if save:
        from skills.base import SkillMeta

        seeds = ",".join(map(str, settings.seeds))
        meta = SkillMeta(
            name=result.name,
            description=f"{task} (written by the coder, verified on seeds {seeds})",
            kind="code",
            env=settings.env_id,
            achievement=target,
            self_contained=True,
            extra={
                "written_by": "coder",
                "mode": best.mode,
                "method": best.method,
                "llm": settings.llm_spec,
                "task": task,
                "steps": best.steps,
                "rounds": len(attempts),
                "verified_seeds": list(settings.seeds),
            },
        )
        stored = library.add(best.source, meta)
        result.saved_version = stored.version
    result.wall_s = time.perf_counter() - t0
    result.message = f"{result.name}: verified on seeds {list(settings.seeds)}"
    return result


_NOT_CODE = ("syntax error", "cannot be parsed", "no top-level `def")


def _refused(attempt: Attempt) -> bool:
    """The round's reply was not a skill at all: no parse, or no ``run(api)`` (refusals a
    strong model fixes from feedback, such as a forbidden import, do not count)."""
    first = attempt.notes[0] if attempt.notes else ""
    return first.startswith("refused") and any(w in first for w in _NOT_CODE)


def _api_class(module: Any) -> type:
    import typing

    return typing.get_type_hints(module.make_api)["return"]


def _test(source: str, target: str, seed: int, settings: CoderSettings) -> SeedResult:
    """Run `source` sandboxed in a fresh env of `seed`; the verifier judges the target."""
    from envs.registry import EnvSession
    from skills.code.sandbox import run_code_skill

    session = EnvSession.open(settings.env_id, seed)
    baseline = session.achievements
    api = session.api(settings.budget, {})
    res = run_code_skill(source, api, time_limit_s=settings.time_limit_s)
    stopped = (
        res.error_kind
        if res.error_kind in ("budget", "episode_over")
        else ("returned" if res.ok else "error")
    )
    verdict = verifier.verify(
        Subgoal(name=target),
        baseline,
        session.achievements,
        session.inventory,
        steps=session.steps,
        stopped=stopped,
        error=None if res.ok else res.feedback(),
    )
    return SeedResult(
        seed=seed,
        passed=verdict.success,
        steps=session.steps,
        error=None if res.ok else res.feedback(),
        critique=verdict.critique,
        observation=session.describe(),
    )


def _first_failure(attempt: Attempt) -> SeedResult | None:
    return next((r for r in attempt.results if not r.passed), None)


class _Composer:
    """Compose mode: constrained steps from the LLM, rendered to Python; rules repair."""

    def __init__(
        self, llm: Any, library: Any, rules: Any, names: list[str], retrieved: list[Any], task: str
    ) -> None:
        self.llm, self.library, self.rules, self.names, self.task = llm, library, rules, names, task
        self.retrieved = retrieved
        self.vocab = step_vocabulary(rules, retrieved)
        self.schema = _compose_schema(names, self.vocab)

    def write(self, rnd: int, target: str | None, feedback: str) -> tuple[Attempt, str | None]:
        retrieved = "; ".join(
            f"use {s.meta.name} ({s.meta.description})" for s in self.retrieved if _inlinable(s)
        )
        prompt = render(
            "coder",
            achievements=", ".join(self.names),
            retrieved=retrieved or "none",
            task=self.task,
            feedback=feedback,
        )
        raw: Any = self.llm.with_structured_output(self.schema).invoke(prompt)
        data = raw.model_dump() if isinstance(raw, BaseModel) else dict(raw)
        proposed, llm_steps = str(data["target"]), [str(s) for s in data["steps"]]
        notes = [f"LLM steps: {', '.join(llm_steps)}"]
        if target is None:
            target, source = planner.ground_target(self.task, proposed, self.names)
            notes.append(f"target {target} (read by {source}; LLM said {proposed})")
            if target is None:
                return Attempt(round=rnd, source="", notes=notes), None
        uses: dict[str, Any] = {}
        for text in llm_steps:
            if text.startswith("use "):
                skill = self.library.get(text[4:])
                uses.setdefault(skill.meta.achievement, skill)
        achievements = [step_achievement(s, self.library) for s in llm_steps]
        if rnd == 1:
            # As the LLM wrote it: amounts from the rules, order and choice from the LLM.
            needs = _amounts(achievements, self.rules)
            steps = [Subgoal(name=a, need=n) for a, n in zip(achievements, needs, strict=True)]
        else:
            proposal = planner.PlanProposal(target=target, subgoals=achievements)
            steps, repair_notes = planner.repair(proposal, target, self.rules, {})
            notes += [f"rules: {n}" for n in repair_notes]
        for s in steps:
            if s.name not in uses and not _has_primitive(s.name):
                skill = self._skill_for(s.name)
                if skill is None:
                    notes.insert(0, f"refused: no primitive and no code skill for {s.name}")
                    return Attempt(round=rnd, source="", notes=notes), target
                uses[s.name] = skill
        source = render_composition(
            self.task, target, steps, uses, self.rules, f"Steps: {_step_list(steps)}."
        )
        return Attempt(round=rnd, source=source, steps=_step_words(steps), notes=notes), target

    def _skill_for(self, achievement: str) -> Any:
        """A library code skill for an achievement with no primitive (eat, defeat, wake)."""
        fits = [s for s in self.library if s.meta.achievement == achievement and _inlinable(s)]
        fits.sort(key=lambda s: (s.meta.self_contained, not self.library.is_shipped(s.meta.name)))
        return fits[0] if fits else None

    def feedback(self, attempt: Attempt) -> str:
        bad = _first_failure(attempt)
        if bad is None:
            return render(
                "coder_feedback",
                steps=", ".join(attempt.steps) or "none",
                error=(attempt.notes or ["refused"])[0],
                critique="not run",
                observation="unchanged",
            )
        return render(
            "coder_feedback",
            steps=", ".join(attempt.steps),
            error=(bad.error or "none").splitlines()[0],
            critique=bad.critique,
            observation=bad.observation,
        )


def _has_primitive(name: str) -> bool:
    return name.partition("_")[0] in ("collect", "place", "make")


def _step_words(steps: list[Subgoal]) -> list[str]:
    return [s.text for s in steps]


def _step_list(steps: list[Subgoal]) -> str:
    return ", ".join(_step_words(steps))


class _PythonWriter:
    """Python mode: free code from a strong model, prompted like Voyager."""

    def __init__(self, llm: Any, rules: Any, retrieved: list[Any], task: str, api_cls: type):
        self.llm, self.rules, self.task, self.retrieved = llm, rules, task, retrieved
        self.api_doc = api_doc(api_cls)

    def write(self, rnd: int, target: str | None, feedback: str) -> tuple[Attempt, str | None]:
        from skills.code.sandbox import ALLOWED_IMPORTS, SkillRejected, check_source

        names = list(self.rules.achievements)
        if target is None:
            target, _ = planner.ground_target(self.task, "", names)
            if target is None:
                return Attempt(round=rnd, source=""), None
        chain = self.rules.prerequisites(target, {})
        rules_text = "; ".join(
            f"{a}: {', '.join(self.rules.missing(a, {})) or 'always possible'}" for a, _ in chain
        )
        code_blocks = "\n\n".join(
            f"# skill {s.meta.name}: {s.meta.description}\n{getattr(s, 'source', '')}"
            for s in self.retrieved
            if s.meta.kind == "code"
        )
        prompt = render(
            "coder_python",
            imports=", ".join(sorted(ALLOWED_IMPORTS)),
            api_doc=self.api_doc,
            rules=f"from an empty inventory, {target} needs, in order: {rules_text}",
            retrieved=code_blocks or "none",
            task=self.task,
            target=target,
            feedback=feedback,
        )
        reply = self.llm.invoke(prompt)
        source = extract_code(str(getattr(reply, "content", reply)))
        try:
            check_source(source)
        except SkillRejected as e:
            return Attempt(round=rnd, source=source, notes=[f"refused: {e}"]), target
        return Attempt(round=rnd, source=source), target

    def feedback(self, attempt: Attempt) -> str:
        bad = _first_failure(attempt)
        if bad is None:  # refused before running
            error, critique, obs = (attempt.notes or ["?"])[0], "not run", "unchanged"
        else:
            error, critique, obs = bad.error or "none", bad.critique, bad.observation
        return render(
            "coder_python_feedback",
            code=attempt.source.strip(),
            error=error,
            critique=critique,
            observation=obs,
        )

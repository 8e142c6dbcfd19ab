"""Who decides: the constraints prune, the model chooses (DESIGN.md), on real parts.

The embedded model and the `none` backend (no knowledge) against real Crafter sessions,
the real rules and the shipped skill library: the model's ranking decides where options
are tied by the rules, a forced choice makes no model call, the planner keeps the model's
order where it is free, and `none` draws at random from the run's seed (reproducibly, and
not biased towards the first option).
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Literal

import pytest
from pydantic import BaseModel, Field

from agents import affordance, curriculum, decide, planner
from agents.llm import LLMError, make_chat_model, make_scorer, parse_spec
from envs.crafter import load_rules
from envs.registry import EnvSession
from skills.library import SkillLibrary


class CountingScorer:
    """A real scorer with its calls counted (instrumentation, not a stand-in)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls = 0

    def distribution(self, *args: Any, **kw: Any) -> list[float]:
        self.calls += 1
        return self.inner.distribution(*args, **kw)

    def score(self, *args: Any, **kw: Any) -> list[float]:
        self.calls += 1
        return self.inner.score(*args, **kw)


@pytest.fixture(scope="module")
def session() -> EnvSession:
    return EnvSession.open("crafter", 0)


@pytest.fixture(scope="module")
def embedded() -> Any:
    return make_scorer("embedded", cache=False)


# ------------------------------------------------------------------ the none backend
def test_none_is_a_backend_spec_like_any_other() -> None:
    assert parse_spec("none") == ("none", "")
    assert parse_spec("none:7") == ("none", "7")
    with pytest.raises(LLMError, match="integer seed"):
        parse_spec("none:abc")
    scorer = make_scorer("none")
    assert scorer.distribution("p", ["a", "b", "c", "d"]) == [0.25] * 4
    assert make_scorer(make_chat_model("none", run_seed=3)).run_seed == 3


class Nested(BaseModel):
    kind: Literal["x", "y", "z"]
    n: int = Field(ge=2, le=5)


class Wanted(BaseModel):
    pick: Literal["a", "b", "c", "d"]
    names: list[Literal["p", "q", "r"]] = Field(min_length=1, max_length=4)
    inner: Nested
    maybe: str | None = None
    flag: bool


def test_none_structured_output_is_valid_random_and_reproducible_per_seed() -> None:
    outs = []
    for seed in range(60):
        model = make_chat_model("none", run_seed=seed)
        out = model.with_structured_output(Wanted).invoke("choose")
        assert isinstance(out, Wanted)  # valid by construction: validated by pydantic
        again = make_chat_model("none", run_seed=seed).with_structured_output(Wanted)
        assert again.invoke("choose") == out  # the same seed draws the same
        outs.append(out)
    picks = Counter(o.pick for o in outs)
    assert set(picks) == {"a", "b", "c", "d"}
    assert {len(o.names) for o in outs} == {1, 2, 3, 4}
    assert {o.inner.n for o in outs} == {2, 3, 4, 5}
    # A JSON-schema dict works too, and a different prompt is a different draw.
    schema = Wanted.model_json_schema()
    model = make_chat_model("none", run_seed=1)
    drawn = {str(model.with_structured_output(schema).invoke(f"q{i}")) for i in range(10)}
    assert len(drawn) > 1
    assert make_chat_model("none").invoke("anything").content == ""


def test_ties_are_drawn_at_random_not_first_option() -> None:
    firsts = Counter(decide.choose([0.25] * 4, seed=seed, key=("t", 0)) for seed in range(400))
    # Uniform over 4 options: each about 100 of 400 (binomial sd ~8.7).
    assert set(firsts) == {0, 1, 2, 3}
    assert all(60 <= firsts[i] <= 140 for i in range(4)), firsts
    assert decide.choose([0.1, 0.7, 0.2], seed=5, key="k") == 1  # a preference decides


def test_none_curriculum_is_reproducible_and_not_first_option_biased(session: EnvSession) -> None:
    picks = []
    for seed in range(40):
        scorer = make_scorer("none")
        p = curriculum.propose(None, session, {}, scorer=scorer, seed=seed, index=0)
        q = curriculum.propose(None, session, {}, scorer=scorer, seed=seed, index=0)
        assert p.goal == q.goal  # reproducible per seed
        assert p.decision is not None and not p.decision.forced
        n = len(p.decision.options)
        assert p.decision.scores == [pytest.approx(1 / n, abs=1e-5)] * n
        picks.append(p.goal)
    options = p.decision.options
    counts = Counter(picks)
    assert len(counts) >= 8  # 40 draws over ~20 options
    assert counts[options[0]] <= 8  # the first listed option is no favourite


# ------------------------------------------------------------------ the model decides
def test_the_embedded_model_can_change_the_curriculum_choice(
    session: EnvSession, embedded: Any
) -> None:
    mine = curriculum.propose(None, session, {}, scorer=embedded, seed=0, index=0)
    d = mine.decision
    assert d is not None and d.method == "loglik" and len(d.options) > 1
    assert max(d.scores) - min(d.scores) > 0.01  # the model has preferences ...
    assert mine.goal == d.options[d.scores.index(max(d.scores))]  # ... and they decide
    # With no knowledge the same situation goes to a random option, mostly another one.
    nones = [
        curriculum.propose(None, session, {}, scorer=make_scorer("none"), seed=s).goal
        for s in range(10)
    ]
    assert any(g != mine.goal for g in nones)


def test_skills_for_one_achievement_differ_in_usefulness(
    session: EnvSession, embedded: Any
) -> None:
    library = SkillLibrary("crafter")
    counted = CountingScorer(embedded)
    scores, exchange, d = affordance.rank(
        counted, "collect wood", list(library), session, subgoal="collect_wood"
    )
    assert counted.calls == 1 and exchange is not None
    assert set(d.options) == {"collect_wood", "rl_collect_wood"} and not d.forced
    code, rl = (next(s for s in scores if s.skill == n) for n in d.options)
    assert abs(code.usefulness - rl.usefulness) > 0.01  # each scored on its own description
    assert scores[0].skill == d.choice and d.scores
    liked = d.options[d.scores.index(max(d.scores))]
    # Where the affordance outweighs the model's preference, the trace says so.
    assert (d.overridden_by == "affordance") == (liked != d.choice)


def test_a_forced_choice_makes_no_model_call(session: EnvSession, embedded: Any) -> None:
    library = SkillLibrary("crafter")
    counted = CountingScorer(embedded)
    scores, exchange, d = affordance.rank(
        counted, "collect drink", list(library), session, subgoal="collect_drink"
    )
    assert counted.calls == 0 and exchange is None
    assert d.forced and d.method == "forced" and d.choice == "collect_drink" == scores[0].skill
    # The curriculum with one option left: forced, no call.
    rules = session.rules
    tried = {a: 2 for a in rules.achievements if a != "collect_sapling"}
    p = curriculum.propose(None, session, tried, scorer=counted, seed=0)
    assert counted.calls == 0 and p.exchange is None
    assert p.goal == "collect_sapling" and p.decision is not None and p.decision.forced


# ------------------------------------------------------------------ the planner
IRON = {"wood_pickaxe": 1, "stone_pickaxe": 1}


def _plan(subgoals: list[str], target: str, inv: dict[str, int], known: set[str]) -> Any:
    proposal = planner.PlanProposal(target=target, subgoals=subgoals)
    return planner.repair(proposal, target, load_rules(), inv, known)


def test_planner_keeps_the_models_order_where_it_is_free() -> None:
    # Coal, iron and the furnace do not need each other: either order stands.
    a = ["collect_iron", "collect_coal", "collect_wood", "collect_stone", "place_furnace"]
    b = ["collect_stone", "place_furnace", "collect_coal", "collect_wood", "collect_iron"]
    for order in (a, b):
        plan, notes = _plan(order, "make_iron_pickaxe", IRON, {"table"})
        assert [s.name for s in plan] == [*order, "make_iron_pickaxe"]
        assert notes == []  # nothing changed: no disagreement


def test_planner_inserts_moves_and_drops_with_a_reason_each() -> None:
    plan, notes = _plan(["place_furnace", "collect_coal"], "make_iron_pickaxe", IRON, {"table"})
    names = [s.name for s in plan]
    # collect_stone inserted right before the furnace that needs it; the model's order kept.
    assert names[:3] == ["collect_stone", "place_furnace", "collect_coal"]
    assert names[-1] == "make_iron_pickaxe" and {"collect_iron", "collect_wood"} <= set(names)
    assert any(n.startswith("inserted collect_stone: place_furnace needs it") for n in notes)
    plan, notes = _plan(
        ["place_table", "collect_wood", "collect_diamond", "eat_cow", "make_wood_pickaxe"],
        "make_wood_pickaxe",
        {},
        set(),
    )
    assert [s.name for s in plan] == [
        "collect_wood",
        "place_table",
        "eat_cow",
        "make_wood_pickaxe",
    ]  # a feasible extra step the model asked for stays, where it put it
    assert any(n.startswith("moved collect_wood before place_table") for n in notes)
    assert any(n.startswith("dropped collect_diamond: not feasible") for n in notes)
    # A step that needs the target itself cannot come before it: the goal ends there.
    plan, notes = _plan(["collect_coal"], "make_wood_pickaxe", {}, set())
    assert [s.name for s in plan][-1] == "make_wood_pickaxe" and "collect_coal" not in str(plan)
    assert any("dropped collect_coal: not feasible" in n for n in notes)
    # Already done (a pickaxe is held) and impossible now (energy is full) are dropped.
    plan, notes = _plan(
        ["make_wood_pickaxe", "wake_up", "collect_stone"], "collect_stone", IRON, set()
    )
    assert [s.name for s in plan] == ["collect_stone"]
    assert any("already done" in n for n in notes) and any("energy is full" in n for n in notes)


# ------------------------------------------------------------------ the trace
def test_trace_show_lists_each_decision_with_options_scores_and_forced() -> None:
    from typer.testing import CliRunner

    from agents.cli import app
    from graphs.context import RunSettings
    from graphs.explore import explore
    from graphs.trace import find_run

    s = explore(RunSettings(seed=4, llm="none", max_env_steps=150))
    again = explore(RunSettings(seed=4, llm="none", max_env_steps=150))
    goals = [e["goal"] for e in find_run(s.run_id).events() if e["kind"] == "goal"]
    assert goals == [e["goal"] for e in find_run(again.run_id).events() if e["kind"] == "goal"]
    shown = CliRunner().invoke(app, ["trace", "show", s.run_id], env={"COLUMNS": "300"})
    assert shown.exit_code == 0, shown.output
    assert "decision curriculum (loglik): chose" in shown.output  # options with scores
    assert "decision planner (structured)" in shown.output
    assert "forced" in shown.output or "decision saycan (loglik)" in shown.output
    full = CliRunner().invoke(app, ["trace", "show", s.run_id, "--full"], env={"COLUMNS": "300"})
    assert full.exit_code == 0 and len(full.output) > len(shown.output)
    assert "more" not in [ln for ln in full.output.splitlines() if "decision curriculum" in ln][0]

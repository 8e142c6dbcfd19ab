"""The explorer's curriculum, its survival reflexes and the Crafter score, on real Crafter."""

from __future__ import annotations

import math
from typing import Any, get_args, get_origin

import pytest
from langchain_core.runnables import RunnableLambda

from agents import curriculum
from agents.bench import crafter_score, success_rates
from envs.crafter import load_rules
from graphs.context import RunSettings
from graphs.explore import explore
from graphs.trace import find_run


class FirstChoice:
    """A stand-in LLM for structured calls: every Literal field gets its first option."""

    def with_structured_output(self, schema: Any, **_: Any) -> Any:
        def pick(_: Any) -> Any:
            values = {}
            for name, field in schema.model_fields.items():
                ann = field.annotation
                if get_origin(ann) is list:
                    values[name] = [get_args(get_args(ann)[0])[0]]
                else:
                    values[name] = get_args(ann)[0]
            return schema.model_validate(values)

        return RunnableLambda(pick)


class MatchScorer:
    """Puts the usefulness on options that read like the instruction (a fake LLM factor)."""

    def distribution(self, prompt: str, options: list[str], **_: Any) -> list[float]:
        instruction = prompt.split("Instruction:")[-1].splitlines()[0].strip()
        raw = [10.0 if o.strip() == instruction else 0.01 for o in options]
        return [r / sum(raw) for r in raw]


def test_crafter_score_matches_crafters_formula() -> None:
    rates = {"a": 100.0, "b": 0.0, "c": 50.0}
    expected = math.exp((math.log(101) + math.log(1) + math.log(51)) / 3) - 1
    assert crafter_score(rates) == pytest.approx(expected)
    assert crafter_score({"a": 0.0, "b": 0.0}) == 0.0
    assert crafter_score({"a": 100.0}) == pytest.approx(100.0)


def test_success_rates_count_episodes_with_at_least_one_unlock() -> None:
    eps = [{"collect_wood": 3}, {"collect_wood": 0, "place_table": 1}, {}]
    rates = success_rates(eps, ["collect_wood", "place_table", "eat_cow"])
    assert rates == pytest.approx({"collect_wood": 100 / 3, "place_table": 100 / 3, "eat_cow": 0})


def test_frontier_lists_reachable_options_in_rules_order_skipping_done_or_failed() -> None:
    rules = load_rules()
    front = curriculum.frontier(rules, {"collect_wood": 1}, {}, set(), {"eat_cow": 2})
    assert "collect_wood" not in front and "eat_cow" not in front
    # No hand-written order: the rules' own order, the model ranks them (propose).
    assert front == [a for a in rules.achievements if a in front]
    assert {"make_wood_sword", "defeat_skeleton", "collect_diamond"} <= set(front)


def test_a_plant_is_not_proposed_for_eating_before_it_can_be_ripe() -> None:
    rules = load_rules()
    done = {"place_plant": 1}

    def front(plant_age: int | None) -> list[str]:
        ages = {"plant": plant_age}
        return curriculum.frontier(rules, done, {}, {"plant"}, {}, age=ages.get)

    assert "eat_plant" not in front(120)  # the only plant seen is too young to eat
    assert "eat_plant" in front(rules.requirement("eat_plant").wait)
    assert "eat_plant" in front(None)  # none remembered: its chain places one


def test_explorer_unlocks_achievements_and_traces_its_goals() -> None:
    s = explore(RunSettings(seed=1, max_env_steps=300), llm=FirstChoice(), scorer=MatchScorer())
    assert s.env_steps <= 300 + 800  # a reflex (a night in shelter) may finish past the cap
    assert len(s.achievements) >= 3
    events = list(find_run(s.run_id).events())
    goal_events = [e for e in events if e["kind"] == "goal"]
    assert goal_events
    for e in goal_events:  # every goal is a traced decision among the frontier's options
        (decision,) = e["decisions"]
        assert decision["role"] == "curriculum" and decision["choice"] == e["goal"]
        assert e["goal"] in decision["options"]
        assert decision["forced"] == (len(decision["options"]) == 1)
    assert events[-1]["kind"] == "end"


def test_explore_command_shows_progress_and_ends() -> None:
    from typer.testing import CliRunner

    from agents.cli import app

    result = CliRunner().invoke(
        app, ["explore", "--seed", "1", "--max-steps", "120"], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    assert "goal " in result.output and "unlocked 0/22" in result.output
    assert "achievements (" in result.output and "run id:" in result.output


def test_explorer_runs_on_babyai_too() -> None:
    # BabyAI has no food, night or local view: the reflexes find nothing to do there.
    s = explore(
        RunSettings(env_id="babyai", seed=0, max_env_steps=50),
        llm=FirstChoice(),
        scorer=MatchScorer(),
    )
    assert s.ended == "episode over" and s.achievements

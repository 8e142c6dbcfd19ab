"""The planner's prompt names the env and what it calls its goals from the env's contract."""

from __future__ import annotations

from agents import planner
from agents.llm import make_chat_model
from envs.registry import adapter


def _prompt(env_id: str | None, names: list[str]) -> str:
    _, exchange = planner.propose(make_chat_model("none"), "g", "", names, "", env_id)
    return exchange.prompt


def test_prompt_words_come_from_the_env_contract() -> None:
    babyai = _prompt("babyai:BabyAI-UnlockPickup-v0", ["pick_up_green_box"])
    assert babyai.startswith("Which BabyAI mission does this goal ask for")
    assert "Missions: pick_up_green_box." in babyai and "Crafter" not in babyai
    assert "achievement" not in babyai
    crafter = _prompt("crafter", ["collect_wood", "place_table"])
    assert crafter.startswith("Which Crafter achievement does this goal ask for")
    assert "Achievements: collect_wood, place_table." in crafter
    # Crafter's prompt as it always was, to the byte (cached replies, seeded `none` answers).
    assert crafter == (
        "Which Crafter achievement does this goal ask for, and which achievements lead to it,"
        " in order? Achievements: collect_wood, place_table. Answer target none if no"
        " achievement matches.\nGoal: g\n"
    )
    assert adapter("babyai").goal_words == ("mission", "missions")
    plain = _prompt(None, ["a"])
    assert plain.startswith("Which goal does") and "Crafter" not in plain

"""Which embedded model: SmolLM2-135M-Instruct vs Gemma 3 270M on what the planner needs.

Run from the repository root: ``python -m benchmarks.llm_choice [--models smollm2,gemma3-270m]``.

Per model (llama.cpp, greedy, 2-core CPU): load time, generation tokens/s, JSON-schema plan
validity, SayCan scoring time for 10 options, and two probes, each answered two ways —
a grammar-constrained choice (structured output, enum of names) and log-likelihood
scoring calibrated by the content-free prompt (PMI, see ``agents.llm.Scorer``):

- *situation*: 8 Crafter situations, pick the right next skill from a list of 10;
- *goal*: 6 goal phrasings, pick the matching achievement from Crafter's 22.
"""

from __future__ import annotations

import argparse
import importlib.resources
import logging
import os
import time
from typing import Any, Literal

import yaml
from pydantic import BaseModel, Field, create_model

from agents import _llm_llama
from agents.llm import LlamaCppScorer, LLMError, embedded_model_path, make_chat_model

ACHIEVEMENTS: list[str] = yaml.safe_load(
    (importlib.resources.files("crafter") / "data.yaml").read_text()
)["achievements"]

SKILLS = [
    "place_table", "collect_stone", "eat_cow", "collect_wood", "make_stone_pickaxe",
    "defeat_zombie", "collect_drink", "make_wood_pickaxe", "place_furnace", "collect_coal",
]  # fmt: skip

SITUATIONS: list[tuple[str, str]] = [
    ("You have nothing in your inventory. A tree is right in front of you.", "collect_wood"),
    ("You have 3 wood. You stand on grass. There is no table nearby.", "place_table"),
    ("You have 2 wood and a table is next to you. You have no pickaxe.", "make_wood_pickaxe"),
    ("You have a wood pickaxe. A stone block is in front of you.", "collect_stone"),
    ("You are very thirsty. Water is right in front of you.", "collect_drink"),
    ("You are very hungry. A cow is right in front of you.", "eat_cow"),
    ("You have 1 wood, 1 stone and a wood pickaxe. A table is next to you.", "make_stone_pickaxe"),
    ("A zombie is attacking you and your health is dropping.", "defeat_zombie"),
]

GOALS: list[tuple[str, str]] = [
    ("make a stone pickaxe", "make_stone_pickaxe"),
    ("get some wood", "collect_wood"),
    ("craft a wooden pickaxe", "make_wood_pickaxe"),
    ("find something to drink", "collect_drink"),
    ("build a furnace", "place_furnace"),
    ("kill a zombie", "defeat_zombie"),
]

PLAN_GOALS = ["make a wood pickaxe", "collect stone", "place a furnace", "eat a cow",
              "make a stone sword"]  # fmt: skip


def _choice_model(name: str, values: list[str]) -> type[BaseModel]:
    return create_model(name, choice=(Literal[tuple(values)], ...))  # type: ignore[valid-type]


def _plan_model() -> type[BaseModel]:
    item = Literal[tuple(ACHIEVEMENTS)]  # type: ignore[valid-type]
    return create_model("Plan", subgoals=(list[item], Field(min_length=1, max_length=5)))


def _human(name: str) -> str:
    return name.replace("_", " ")


def decode_speed(path: Any, n: int = 64) -> float:
    """Greedy decoding speed in tokens/s over ``n`` tokens, EOS ignored (Gemma's base
    model answers a chat turn with EOS at once, which would measure nothing)."""
    llm, lock = _llm_llama.get_llama(path, "chat")
    with lock:
        llm.reset()
        tokens = llm.tokenize(b"Describe a forest in a few sentences.", add_bos=True)
        t = time.perf_counter()
        for i, _ in enumerate(llm.generate(tokens, temp=0.0, reset=True)):
            if i + 1 >= n:
                break
        return n / (time.perf_counter() - t)


def bench(name: str) -> dict[str, Any]:
    """All figures for one packaged model."""
    path = embedded_model_path(name)
    row: dict[str, Any] = {"model": name, "file_MB": path.stat().st_size / 2**20}

    t = time.perf_counter()
    _llm_llama.get_llama(path, "chat")
    row["load_s"] = time.perf_counter() - t

    row["tok_per_s"] = decode_speed(path)
    chat = make_chat_model(f"embedded:{name}", cache=False, max_tokens=128)
    msg = chat.invoke("Describe a forest in a few sentences.")
    row["reply_tokens"] = msg.usage_metadata["output_tokens"]

    plan_schema = _plan_model()
    valid = hits = 0
    for goal in PLAN_GOALS:
        try:
            plan = chat.with_structured_output(plan_schema).invoke(
                f"Crafter goal: {goal}. List the achievements to unlock, in order."
            )
            valid += 1
            target = {"make a wood pickaxe": "make_wood_pickaxe", "collect stone":
                      "collect_stone", "place a furnace": "place_furnace", "eat a cow":
                      "eat_cow", "make a stone sword": "make_stone_sword"}[goal]  # fmt: skip
            hits += target in plan.subgoals
        except LLMError:
            pass
    row["plan_valid"] = f"{valid}/{len(PLAN_GOALS)}"
    row["plan_has_goal"] = f"{hits}/{len(PLAN_GOALS)}"

    scorer = LlamaCppScorer(path)
    options = [_human(s) for s in SKILLS]
    scorer.score("Instruction: collect wood\nSkill:", options)  # warm
    t = time.perf_counter()
    scorer.score("Instruction: place a table\nSkill:", options)
    row["score10_s"] = time.perf_counter() - t

    skill_schema = _choice_model("NextSkill", SKILLS)
    listing = ", ".join(SKILLS)
    json_ok = ll_ok = 0
    for situation, want in SITUATIONS:
        ans = chat.with_structured_output(skill_schema).invoke(
            f"You play Crafter. {situation}\nSkills: {listing}.\nWhich skill should you use next?"
        )
        json_ok += ans.choice == want
        prompt = "Situation: {}\nThe best next skill is to"
        pmi = scorer.score(prompt.format(situation), options, baseline=prompt.format(""))
        ll_ok += SKILLS[max(range(len(pmi)), key=pmi.__getitem__)] == want
    row["situation_json"] = f"{json_ok}/{len(SITUATIONS)}"
    row["situation_ll"] = f"{ll_ok}/{len(SITUATIONS)}"

    goal_schema = _choice_model("Achievement", ACHIEVEMENTS)
    names = [_human(a) for a in ACHIEVEMENTS]
    json_ok = ll_ok = 0
    for goal, want in GOALS:
        ans = chat.with_structured_output(goal_schema).invoke(
            f"Goal: {goal}\nWhich Crafter achievement does this goal ask for? "
            f"Choose from: {', '.join(ACHIEVEMENTS)}."
        )
        json_ok += ans.choice == want
        pmi = scorer.score(f"Goal: {goal}\nAchievement:", names, baseline="Goal: \nAchievement:")
        ll_ok += ACHIEVEMENTS[max(range(len(pmi)), key=pmi.__getitem__)] == want
    row["goal_json"] = f"{json_ok}/{len(GOALS)}"
    row["goal_ll"] = f"{ll_ok}/{len(GOALS)}"
    return row


COLUMNS = [
    ("model", "{}"), ("file_MB", "{:.0f}"), ("load_s", "{:.2f}"), ("tok_per_s", "{:.0f}"),
    ("reply_tokens", "{}"), ("plan_valid", "{}"), ("plan_has_goal", "{}"), ("score10_s", "{:.2f}"),
    ("situation_json", "{}"), ("situation_ll", "{}"), ("goal_json", "{}"), ("goal_ll", "{}"),
]  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    """Print the comparison table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="smollm2,gemma3-270m")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    os.environ.setdefault("MENDAKO_LLM_CACHE", "0")  # measure the model, not the cache
    rows = []
    for name in args.models.split(","):
        try:
            rows.append(bench(name))
        except LLMError as e:
            logging.warning("skipping %s: %s", name, e)
    print(f"llama.cpp threads: {_llm_llama.n_threads()}; load avg: {os.getloadavg()[0]:.1f}")
    print(" | ".join(c for c, _ in COLUMNS))
    for row in rows:
        print(" | ".join(fmt.format(row[c]) for c, fmt in COLUMNS))


if __name__ == "__main__":
    main()

"""The goal reader: the env's words prune, the model chooses; readings say who read them."""

from __future__ import annotations

import pytest

from agents import goal_reader as R
from envs import crafter, goal_vocab


@pytest.fixture(scope="module")
def vocab() -> goal_vocab.GoalVocabulary:
    v = goal_vocab.load("crafter")
    assert v is not None
    return v


class CountingScorer:
    """Uniform scores (what `--llm none` gives), counting the calls made."""

    model_id = "uniform"

    def __init__(self) -> None:
        self.calls = 0

    def score(self, prompt: str, options: list[str], **_: object) -> list[float]:
        self.calls += 1
        return [0.0] * len(options)


def test_vocabulary_covers_exactly_the_envs_achievements(vocab) -> None:
    assert sorted(vocab.achievements) == sorted(crafter.load_rules().achievements)
    assert goal_vocab.load("minedojo") is None  # no vocabulary: the planner's grounding reads
    for goal, target in vocab.examples:
        assert target in (*vocab.achievements, vocab.refuse), goal


@pytest.mark.parametrize(
    ("goal", "target"),
    [
        ("木のツルハシを作って", "make_wood_pickaxe"),
        ("石を集めて", "collect_stone"),
        ("水を飲みたい", "collect_drink"),
        ("石を置いて", "place_stone"),
        ("苗木を植えて", "place_plant"),
        ("craft wooden pickaxes", "make_wood_pickaxe"),
        ("put a stone down", "place_stone"),
        ("plant a sapling", "place_plant"),
        ("build a house", None),
        ("家を建てて", None),
    ],
)
def test_word_match_in_english_and_japanese(vocab, goal: str, target: str | None) -> None:
    assert vocab.match(goal) == target


def test_one_word_match_is_read_without_a_model_call(vocab) -> None:
    scorer = CountingScorer()
    r = R.read_goal("ゾンビを倒して", vocab, scorer)
    assert (r.target, r.method, r.scores, scorer.calls) == ("defeat_zombie", "words", {}, 0)


def test_the_model_chooses_among_the_words_candidates(vocab) -> None:
    class Prefers:
        model_id = "prefers"

        def __init__(self, liked: str) -> None:
            self.liked = liked

        def score(self, prompt: str, options: list[str], **_: object) -> list[float]:
            return [0.0 if o == self.liked else -5.0 for o in options]

    # "stone" and "pickaxe": collect_stone and make_stone_pickaxe both match.
    assert set(vocab.matches("a stone pickaxe")) == {"collect_stone", "make_stone_pickaxe"}
    r = R.read_goal("a stone pickaxe", vocab, Prefers("collect_stone"))
    assert (r.target, r.method) == ("collect_stone", "model")
    assert set(r.scores) == {"collect_stone", "make_stone_pickaxe"}
    assert sum(r.scores.values()) == pytest.approx(1.0)
    # Where the words name nothing, the model reads alone: its choice stands when sure ...
    r = R.read_goal("gather timber", vocab, Prefers("collect_wood"))
    assert (r.target, r.method, r.words) == ("collect_wood", "model", None)
    assert len(r.scores) == len(vocab.achievements) + 1
    # ... and a sure refusal refuses, by the model.
    r = R.read_goal("ride a horse", vocab, Prefers(vocab.refuse))
    assert (r.target, r.method) == (None, "model")


def test_with_no_knowledge_the_reader_is_the_word_match(vocab) -> None:
    scorer = CountingScorer()
    for goal in ["a stone pickaxe", "gather timber", "木のツルハシを作って"]:
        r = R.read_goal(goal, vocab, scorer)
        assert r.target == vocab.match(goal)
        assert r.method == ("words" if len(vocab.matches(goal)) == 1 else r.method)
    # Uniform scores never pass the threshold: an unmatched goal is refused, by nobody.
    r = R.read_goal("gather timber", vocab, scorer)
    assert (r.target, r.method) == (None, "none")


def test_plan_reading_exact_kept_and_no_vocabulary() -> None:
    names = list(crafter.load_rules().achievements)
    scorer = CountingScorer()
    r = R.read("crafter", "make a wood pickaxe", scorer, names)
    assert (r.target, r.method, scorer.calls) == ("make_wood_pickaxe", "exact", 0)
    r = R.read("crafter", "anything at all", scorer, names, kept="collect_coal")
    assert (r.target, r.method, scorer.calls) == ("collect_coal", "kept", 0)
    d = R.decision(r, env_steps=7)
    assert (d.role, d.choice, d.forced, d.env_steps) == ("goal", "collect_coal", True, 7)
    # An env without a vocabulary: the planner's grounding of the proposed target.
    r = R.read("minedojo", "get wood", None, ["collect_wood", "place_table"], "place_table")
    assert (r.target, r.method) == ("collect_wood", "planner")


def test_decision_records_options_scores_and_note(vocab) -> None:
    r = R.read_goal("a stone pickaxe", vocab, CountingScorer())
    d = R.decision(r)
    assert d.options == list(r.scores) and len(d.scores) == len(d.options)
    assert d.method == "loglik" and d.choice == r.target
    assert "by model" in d.notes[0] and "words: make_stone_pickaxe" in d.notes[0]


def test_real_embedded_model_reads_fixed_phrasings(vocab, tmp_path, monkeypatch) -> None:
    """SmolLM2 (the shipped GGUF, llama.cpp): the model chooses among the words' candidates,
    and refuses a goal the env has nothing for; scores do not depend on what ran before."""
    monkeypatch.setenv("MENDAKO_HOME", str(tmp_path))
    from agents.llm import make_scorer

    scorer = make_scorer("embedded:smollm2", cache=False)
    r = R.read_goal("a stone pickaxe", vocab, scorer)
    assert (r.target, r.method) == ("make_stone_pickaxe", "model")
    assert r.scores["make_stone_pickaxe"] > 0.6
    r = R.read_goal("write a poem", vocab, scorer)
    assert (r.target, r.method, r.model_choice) == (None, "model", None)
    assert r.scores[vocab.refuse] > 0.8


@pytest.mark.slow
def test_ci_slow_reused_prompt_head_gives_fresh_scores(vocab, tmp_path, monkeypatch) -> None:
    """The prompt's head is reused from the call before; the scores are those of a fresh start."""
    monkeypatch.setenv("MENDAKO_HOME", str(tmp_path))
    from agents import _llm_llama
    from agents.llm import make_scorer

    scorer = make_scorer("embedded:smollm2", cache=False)
    R.read_goal("write a poem", vocab, scorer)

    again = R.read_goal("a stone pickaxe", vocab, scorer).scores
    for llm in _llm_llama._POOL.values():  # forget the kept head: evaluate from nothing
        llm._mendako_head = None
    fresh = R.read_goal("a stone pickaxe", vocab, scorer).scores
    assert again == pytest.approx(fresh, abs=1e-6)


def test_an_unsure_model_does_not_override_the_most_specific_word_match(vocab) -> None:
    class Leans:
        model_id = "leans"

        def score(self, prompt: str, options: list[str], **_: object) -> list[float]:
            return [0.0 if o == "collect_stone" else -0.5 for o in options]

    r = R.read_goal("a stone pickaxe", vocab, Leans())
    assert r.scores["collect_stone"] < R.OVERRIDE
    assert (r.target, r.method, r.model_choice) == ("make_stone_pickaxe", "words", "collect_stone")
    assert R.decision(r).overridden_by == "words"

"""Goal vocabularies: the words of an environment's goals, in every language it supports.

An env's vocabulary is data (``envs/data/<env>_goals.yaml``): per achievement, a line
describing it for a language model, and the keys of the word-match fallback in English and
Japanese; plus a few example phrasings. ``load(env_id)`` returns it typed, or None for envs
without one (their goals are read by the planner alone).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

import yaml

__all__ = ["GoalVocabulary", "load", "parse", "stem", "words"]

_STOP = frozenset("a an the some of to and then me my your for it with".split())


def stem(word: str) -> str:
    """An English word lower-cased, with a plural or "-en" ending cut (wooden -> wood)."""
    word = word.lower()
    for suffix in ("en", "s"):  # wooden -> wood, pickaxes -> pickaxe
        if word.endswith(suffix) and len(word) > len(suffix) + 3:
            return word[: -len(suffix)]
    return word


def words(goal: str) -> set[str]:
    """Content words of an English goal, lower-cased and lightly stemmed."""
    return {stem(w) for w in re.findall(r"[a-zA-Z]+", goal) if w.lower() not in _STOP}


Key = tuple[tuple[str, ...], ...]
"""A match key: terms that must all appear; each term is a tuple of alternatives."""


def _keys(raw: list[list[str]] | None, stemmed: bool) -> tuple[Key, ...]:
    out = []
    for key in raw or []:
        terms = []
        for term in key:
            alts = [a.strip() for a in str(term).split("|") if a.strip()]
            terms.append(tuple(stem(a) if stemmed else a for a in alts))
        out.append(tuple(terms))
    return tuple(out)


@dataclass(frozen=True)
class GoalVocabulary:
    """What a goal reader knows of one env's goals."""

    env: str
    """The env it belongs to."""
    describe: dict[str, str]
    """Achievement -> one line saying what it is in the game (for the model's prompt)."""
    refuse: str
    """The option that means "none of these goals"."""
    refuse_describe: str
    """What the refusal option means."""
    en: dict[str, tuple[Key, ...]]
    """Achievement -> English match keys."""
    ja: dict[str, tuple[Key, ...]]
    """Achievement -> Japanese match keys (substring terms)."""
    examples: tuple[tuple[str, str], ...]
    """(phrasing, achievement or ``refuse``) shown to the model as a pattern."""
    kinds: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Kind of object (the env's ``Vocabulary.kinds``) -> the words that name it: English
    (stemmed) and Japanese (substrings); what "next to ..." may name."""

    def kind(self, text: str) -> str | None:
        """The kind of object ``text`` names ("the crafting table", 作業台), longest word first."""
        gw = words(text)
        named = [
            (len(w), k) for k, ws in self.kinds.items() for w in ws
            if (w in gw if w.isascii() else w in text)
        ]  # fmt: skip
        return max(named)[1] if named else None

    @property
    def achievements(self) -> list[str]:
        """The achievements this vocabulary covers, in its order."""
        return list(self.describe)

    def matches(self, goal: str, targets: list[str] | None = None) -> dict[str, int]:
        """Every achievement one of whose keys the goal matches (English words or Japanese
        substrings), with the most terms matched by one key, most first."""
        gw = words(goal)
        found: dict[str, int] = {}
        for name in targets or self.achievements:
            for key in (*self.en.get(name, ()), *self.ja.get(name, ())):
                if all(any(a in gw or (not a.isascii() and a in goal) for a in t) for t in key):
                    found[name] = max(found.get(name, 0), len(key))
        return dict(sorted(found.items(), key=lambda kv: (-kv[1], len(kv[0]), kv[0])))

    def match(self, goal: str, targets: list[str] | None = None) -> str | None:
        """The word-match reading: the achievement whose key matches most terms, ties to the
        shorter name; else None."""
        found = self.matches(goal, targets)
        return next(iter(found), None)


@cache
def load(env_id: str) -> GoalVocabulary | None:
    """The goal vocabulary of ``env_id`` (``crafter``, ``babyai:...``), or None if it has none."""
    base = env_id.split(":", 1)[0].split("-", 1)[0].lower()
    path = resources.files("envs.data") / f"{base}_goals.yaml"
    if not path.is_file():
        return None
    return parse(path.read_text(encoding="utf-8"), base)


def parse(text: str, env: str) -> GoalVocabulary:
    """A goal vocabulary from the YAML text of a ``<env>_goals.yaml`` (an env plugin ships its
    own file and returns this from ``EnvAdapter.goal_vocabulary``)."""
    data = yaml.safe_load(text)
    base = env
    ach = data["achievements"]
    return GoalVocabulary(
        env=data.get("env", base),
        describe={k: str(v["describe"]) for k, v in ach.items()},
        refuse=str(data.get("refuse", "none")),
        refuse_describe=str(data.get("refuse_describe", "none of these goals")),
        en={k: _keys(v.get("words"), stemmed=True) for k, v in ach.items()},
        ja={k: _keys(v.get("ja"), stemmed=False) for k, v in ach.items()},
        examples=tuple((str(g), str(t)) for g, t in data.get("examples", [])),
        kinds={
            str(k): tuple(stem(w) if w.isascii() else w for w in map(str, v))
            for k, v in (data.get("kinds") or {}).items()
        },
    )

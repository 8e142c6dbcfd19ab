"""Run context: what a run needs that is not state (live env, models, library, settings)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from langchain_core.language_models import BaseChatModel

from agents.llm import Scorer
from envs.registry import EnvSession


@dataclass(frozen=True, kw_only=True)
class RunSettings:
    """Settings of one run; the CLI builds this, the graph only reads it."""

    env_id: str = "crafter"
    """Environment the run acts in."""
    seed: int = 0
    """World seed; the env is rebuilt from it when a run is resumed."""
    llm: str = "embedded"
    """LLM backend spec string (see `agents.llm`)."""
    max_replans: int = 3
    """How many times the planner may replan after failed subgoals before the run gives up."""
    skill_budget: int = 400
    """Env steps a single skill execution may spend."""
    max_env_steps: int = 10_000
    """Env steps the whole run may spend."""
    write_skills: bool = False
    """When no skill scores well enough for a subgoal, let the coder write one (Voyager)."""
    write_threshold: float = 0.05
    """Best SayCan score below which the coder is called (with `write_skills`)."""
    write_rounds: int = 3
    """Write -> test -> feedback rounds the coder may spend on one subgoal."""
    ground_target: bool = True
    """Check that the goal's words support the achievement the LLM read it as."""
    world_model: Literal["rules", "learned", "off"] = "rules"
    """What plans are rolled through and skills' affordances come from: the env's rules
    (data.yaml), the learned world model (`agents.world_model`: LLM hypothesis corrected by
    experience), or nothing (the LLM's plan as is, affordance from history)."""
    reward: str = "programmatic"
    """Verifier mode, a name in the reward registry (`agents.rewards.reward_kinds()`): the
    env's own check, an LLM judge (RDLM), caption similarity (ELLM), manual-grounded bonuses
    (Read and Reap), CLIP (VLM-RMs), or a plugin's. Its reward is what RL skills get through
    `skill.feedback`."""
    clip_weights: str | None = None
    """Local Hugging Face CLIP folder for `reward="clip"` (weights are never downloaded)."""
    manual: str | None = None
    """Game manual for `reward="manual"`; default: the shipped `envs/data/crafter_manual.md`."""


class Library(Protocol):
    """What a run asks of the skill library (`skills.library.SkillLibrary`, or the runner's
    ledger around it)."""

    def get(self, name: str) -> Any:
        """The skill called `name` (KeyError if none)."""
        ...

    def record(self, name: str, success: bool, *, attempt: int | None = None) -> Any:
        """Add one attempt (the run's attempt index `attempt`) to the skill's success history."""
        ...

    def __iter__(self) -> Iterator[Any]: ...

    def __len__(self) -> int: ...


@dataclass(frozen=True, kw_only=True)
class RunContext:
    """Everything nodes need besides the state; the env is live (not serialisable), so here."""

    env: EnvSession
    """The live environment session (its adapter is the env's contract, `envs.contract`)."""
    llm: BaseChatModel
    """Chat model for planning (structured output) and judging."""
    scorer: Scorer
    """Log-likelihood scorer for SayCan usefulness."""
    library: Library
    """The skill library."""
    settings: RunSettings = field(default_factory=RunSettings)

"""The skill protocol: what every skill, RL policy or code, offers the graph."""

from __future__ import annotations

from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, Field

SkillKind = Literal["code", "rl"]


class SkillMeta(BaseModel):
    """A skill's `meta.json`: what it is, where it runs and how it has fared."""

    name: str
    description: str
    kind: SkillKind = "code"
    env: str = "crafter"
    achievement: str | None = None
    """The env achievement this skill is meant to unlock; preconditions come from the rules."""
    version: int = 1
    self_contained: bool = False
    """The skill gathers its own prerequisites (e.g. a composition written by the coder that
    collects wood, places a table, then makes the sword), so the rules' preconditions of
    `achievement` do not gate it: it is feasible from any state."""
    verified: bool = True
    """The skill was seen to do what it claims (its achievement unlocked in a test run). A
    code skill added whose dry run did not unlock its declared achievement is stored with
    `verified: false`; the SayCan affordance ranks such skills below verified ones."""
    successes: int = 0
    attempts: int = 0
    extra: dict[str, Any] = Field(default_factory=dict)
    """Anything else a skill kind records (training seed, reproduce command, ...)."""

    @property
    def success_rate(self) -> float:
        """Laplace-smoothed success rate: (s + 1) / (n + 2), so an untried skill reads 0.5."""
        return (self.successes + 1) / (self.attempts + 2)


class SkillResult(BaseModel):
    """What running a skill did: steps spent, how it stopped, and why if it failed."""

    steps: int = 0
    stopped: Literal["returned", "budget", "episode_over", "error"] = "returned"
    error: str | None = None
    transitions: list[dict[str, Any]] = Field(default_factory=list, exclude=True)
    """RL skills keep (obs, action, logprob, value) here so the verifier's reward can train them."""


@runtime_checkable
class Skill(Protocol):
    """A thing the agent can do in an environment, for up to a step budget."""

    meta: SkillMeta

    def affordance(self, env: Any) -> float | None:
        """Probability of success from the env's current state, or None if the skill can't say."""
        ...

    def run(self, env: Any, *, budget: int, need: dict[str, int]) -> SkillResult:
        """Act in `env` until done or `budget` steps are spent; `need` is the subgoal's target."""
        ...

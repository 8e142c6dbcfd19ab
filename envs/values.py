"""Value types shared by every layer: what a plan step, a skill's score, a verdict, a model
exchange and a decision are. They sit at the bottom (``envs``) so that skills and agents can
use them without importing the graph; ``graphs.state`` re-exports them (checkpoints written
before they moved name them ``graphs.state.X`` and still load)."""

from __future__ import annotations

from pydantic import BaseModel, Field

__all__ = [
    "Decision",
    "LLMExchange",
    "SkillScore",
    "StepRecord",
    "Subgoal",
    "Verdict",
    "subgoal_met",
]


class Subgoal(BaseModel):
    """One step of a plan: an achievement-level name and the inventory it should leave behind."""

    name: str
    """A known subgoal name of the env (for Crafter, an achievement such as `collect_wood`)."""
    need: dict[str, int] = Field(default_factory=dict)
    """Inventory levels that count as done (e.g. `{"wood": 4}`); empty means 'unlock it once'."""

    @property
    def instruction(self) -> str:
        """The subgoal in words without amounts: what SayCan scores skills against."""
        return self.name.replace("_", " ")

    @property
    def text(self) -> str:
        """The subgoal as an instruction, the way the LLM and the trace read it."""
        words = self.instruction
        if not self.need:
            return words
        amounts = ", ".join(f"{n} {item.replace('_', ' ')}" for item, n in self.need.items())
        return f"{words} (until you have {amounts})"


class SkillScore(BaseModel):
    """SayCan's factors for one candidate skill: usefulness (LLM) x affordance (state)."""

    skill: str
    kind: str
    usefulness: float
    affordance: float
    score: float
    why: str = ""
    """Where the affordance came from: unmet preconditions, V(s), success history."""


class Verdict(BaseModel):
    """The verifier's judgement of one subgoal attempt, and the reward it emits."""

    success: bool
    reward: float
    mode: str = "programmatic"
    critique: str = ""


class LLMExchange(BaseModel):
    """One prompt sent to the language model and what came back, kept for the trace."""

    role: str
    prompt: str
    reply: str
    method: str = ""
    """How the reply was obtained where that depends on the server: the structured-output
    method negotiated with it (``json_schema``, ``json_object``, ``tools``, ``prompted``;
    ``agents._llm_remote.STRUCTURED_METHODS``), or the scoring route; empty when fixed."""


class Decision(BaseModel):
    """One choice the agent made among the options the constraints left (DESIGN.md, "Who
    decides"): what was open, what the model said, what was chosen and who changed it."""

    role: str
    """Who decided: `curriculum` (next goal), `planner` (subgoals), `saycan` (skill)."""
    options: list[str]
    """What survived the constraints (for the planner: the model's proposed subgoals)."""
    scores: list[float] = Field(default_factory=list)
    """The model's score per option, in `options`' order (empty when forced or generated)."""
    choice: str | None = None
    """What was chosen (for the planner: the final plan, steps joined by ' > ')."""
    forced: bool = False
    """Only one option survived: no model call was made."""
    method: str = ""
    """How the model was asked: `loglik`, `structured`, `forced` or `none` (nothing left)."""
    overridden_by: str | None = None
    """Who changed the model's answer (`rules`, `learned`, `affordance`), None if it stood."""
    notes: list[str] = Field(default_factory=list)
    """Each disagreement: the model said X, the world model changed it to Y, and why."""
    env_steps: int = 0
    """Env steps taken when the decision was made."""


class StepRecord(BaseModel):
    """Everything one pass of affordance -> skill -> verify did, for the trace and replanning."""

    index: int
    subgoal: Subgoal
    skill: str
    candidates: list[SkillScore]
    steps: int
    stopped: str
    error: str | None = None
    verdict: Verdict


def subgoal_met(
    subgoal: Subgoal,
    baseline: dict[str, int],
    achievements: dict[str, int],
    inventory: dict[str, int],
) -> bool:
    """True when the subgoal's inventory need is met, or (with no need) its achievement rose
    above `baseline` (the programmatic verifier's check, ``agents.verifier.check``)."""
    if subgoal.need:
        return all(inventory.get(item, 0) >= n for item, n in subgoal.need.items())
    return achievements.get(subgoal.name, 0) > baseline.get(subgoal.name, 0)

"""Graph state: what flows between nodes (pydantic), and the reducers for keys that accumulate."""

from __future__ import annotations

import operator
from typing import Annotated, Literal

from pydantic import BaseModel, Field

Outcome = Literal["running", "achieved", "failed", "not_achievable", "episode_over"]


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


class InputState(BaseModel):
    """What a user gives a run: a goal in words."""

    goal: str


class AgentState(InputState):
    """The whole state of a run. Nodes return partial updates of it."""

    target: str | None = None
    """The achievement the goal was read as (None until planned, or when nothing matches)."""
    target_start: int = 0
    """How many times `target` was unlocked when the run began; the goal is met above it."""
    plan: list[Subgoal] = Field(default_factory=list)
    cursor: int = 0
    """Index of the current subgoal in `plan`."""
    replans: int = 0
    observation: str = ""
    """Text description of the env's current state (fair perception only)."""
    candidates: list[SkillScore] = Field(default_factory=list)
    chosen: str | None = None
    skills_written: list[str] = Field(default_factory=list)
    """Subgoals the coder was already asked to write a skill for (once each per run)."""
    baseline: dict[str, int] = Field(default_factory=dict)
    """Achievement counts when the current skill started, for the verifier."""
    start_inventory: dict[str, int] = Field(default_factory=dict)
    """Inventory when the current skill started, for the language verifier modes."""
    start_observation: str = ""
    """Text description when the current skill started, for the LLM judge."""
    last_steps: int = 0
    last_stopped: str = ""
    last_error: str | None = None
    verdict: Verdict | None = None
    env_steps: int = 0
    actions: Annotated[list[int], operator.add] = Field(default_factory=list)
    """Every env action taken, so a crashed run can be rebuilt by replay from its seed."""
    history: Annotated[list[StepRecord], operator.add] = Field(default_factory=list)
    llm_log: Annotated[list[LLMExchange], operator.add] = Field(default_factory=list)
    decisions: Annotated[list[Decision], operator.add] = Field(default_factory=list)
    """Every choice made in the run, in order (`mendako trace show` lists them)."""
    outcome: Outcome = "running"
    message: str = ""

    @property
    def subgoal(self) -> Subgoal | None:
        """The subgoal being worked on, if any."""
        return self.plan[self.cursor] if 0 <= self.cursor < len(self.plan) else None

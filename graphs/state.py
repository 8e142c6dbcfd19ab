"""Graph state: what flows between nodes (pydantic), and the reducers for keys that accumulate."""

from __future__ import annotations

import operator
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from agents.goal_spec import ConditionState, GoalSpec
from envs.values import Decision, LLMExchange, SkillScore, StepRecord, Subgoal, Verdict

__all__ = [
    "AgentState",
    "ConditionState",
    "Decision",
    "GoalSpec",
    "InputState",
    "LLMExchange",
    "Outcome",
    "SkillScore",
    "StepRecord",
    "Subgoal",
    "Verdict",
]

Outcome = Literal["running", "achieved", "failed", "not_achievable", "episode_over"]


class InputState(BaseModel):
    """What a user gives a run: a goal in words."""

    goal: str


class AgentState(InputState):
    """The whole state of a run. Nodes return partial updates of it."""

    target: str | None = None
    """The achievement the goal was read as (None until planned, or when nothing matches)."""
    target_start: int = 0
    """How many times `target` was unlocked when the run began; the goal is met above it."""
    spec: GoalSpec | None = None
    """A goal of several conditions, amounts or states (``agents.goal_spec``), read once by the
    first plan; None for a goal of one achievement (then `target` alone is the goal)."""
    spec_start: dict[str, Any] = Field(default_factory=dict)
    """Achievement counts and env steps when the spec was read (``goal_spec.check``'s start)."""
    condition: int = -1
    """Index in ``spec.conditions`` of the condition `target` pursues now (-1: no spec)."""
    conditions: list[ConditionState] = Field(default_factory=list)
    """Each condition's state at the last plan or verify (met or not, the value seen)."""
    progressed: bool = False
    """The last verify saw the pursued condition met, or the skill found a precondition
    (``envs.contract.NewPrecondition``): the next plan is not a replan."""
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

"""Exceptions that stop a code skill early (raised by the primitive APIs of the envs)."""

from __future__ import annotations

__all__ = ["BudgetExhausted", "EpisodeOver", "NewPrecondition", "SkillStop"]


class SkillStop(Exception):
    """A skill must stop now: not a bug in the skill, the run decides what follows."""


class BudgetExhausted(SkillStop):
    """The skill spent its step budget."""


class EpisodeOver(SkillStop):
    """The episode ended (the player died or the length limit was reached)."""


class NewPrecondition(SkillStop):
    """What the agent now sees reveals a step that must come before the one the skill works
    on (a locked door on the way needs its key): progress, not a failure. The run replans
    with the new step, and such a replan is not counted against ``--max-replans``."""

"""Exceptions that stop a code skill early (raised by the primitive APIs of the envs)."""

from __future__ import annotations

__all__ = ["BudgetExhausted", "EpisodeOver", "SkillStop"]


class SkillStop(Exception):
    """A skill must stop now: not a bug in the skill, the run decides what follows."""


class BudgetExhausted(SkillStop):
    """The skill spent its step budget."""


class EpisodeOver(SkillStop):
    """The episode ended (the player died or the length limit was reached)."""

"""RL skills: actor-critic policies trained with PPO on the verifier's reward (ELLM).

- :class:`ActorCritic` / :func:`load` — the policy and its critic (``success_probability``).
- :class:`PPOArgs` / :func:`train` — cleanrl-style PPO on one subgoal; writes a skill folder.
- :func:`update_from_experience` — online PPO update from an agent run's transitions.
- :func:`verifier_reward` / :func:`shaped_reward` / :func:`sparse_reward` — the ELLM reward,
  it plus shaping by the verifier's :func:`progress` measure, and the Crafter baseline.
- :func:`encode` — the fair observation encoding (9x7 semantic local view + inventory).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from skills.rl._obs import OBS_DIM, OBS_SPEC, encode
    from skills.rl.policy import ActorCritic, load
    from skills.rl.ppo import PPOArgs, train, update_from_experience
    from skills.rl.rewards import progress, shaped_reward, sparse_reward, verifier_reward

# Lazy (PEP 562): `python -m skills.rl.ppo` must not import ppo twice (runpy warns), and
# reading a policy should not pull in the trainer.
_WHERE = {
    "OBS_DIM": "_obs",
    "OBS_SPEC": "_obs",
    "encode": "_obs",
    "ActorCritic": "policy",
    "load": "policy",
    "PPOArgs": "ppo",
    "train": "ppo",
    "update_from_experience": "ppo",
    "progress": "rewards",
    "shaped_reward": "rewards",
    "sparse_reward": "rewards",
    "verifier_reward": "rewards",
}

__all__ = [
    "OBS_DIM",
    "OBS_SPEC",
    "ActorCritic",
    "PPOArgs",
    "encode",
    "load",
    "progress",
    "shaped_reward",
    "sparse_reward",
    "train",
    "update_from_experience",
    "verifier_reward",
]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'skills.rl' has no attribute {name!r}")
    return getattr(importlib.import_module(f"skills.rl.{_WHERE[name]}"), name)

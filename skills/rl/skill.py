"""An RL skill: a trained actor-critic policy acting in the env, with its critic as affordance.

While it runs it keeps its transitions (observation, action, log-prob, value); the verifier's
reward is attached to the last one afterwards (`feedback`), so `mendako run --learn` can
update the policy with PPO from what happened in real runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from skills.base import SkillMeta, SkillResult


class RLSkill:
    """A skill whose behaviour is a torch actor-critic policy (`policy.pt`)."""

    def __init__(self, meta: SkillMeta, folder: Path) -> None:
        self.meta = meta
        self.folder = folder
        self._policy: Any = None
        self.experience: list[dict[str, Any]] = []
        """Transitions from executions in this process, with the verifier's rewards."""

    @property
    def policy(self) -> Any:
        """The policy, loaded on first use (torch is only imported when an RL skill is used)."""
        if self._policy is None:
            import torch

            from skills.rl.policy import load

            # torch's default threads fight llama.cpp and the env for 2 cores: one step of a
            # small MLP does not need more than one.
            torch.set_num_threads(1)
            self._policy = load(self.folder)
        return self._policy

    def affordance(self, session: Any) -> float | None:
        """The critic's V(s), trained on 0/1 success so that it reads as P(success)."""
        return self.policy.success_probability(session.info)

    def run(self, session: Any, *, budget: int, need: dict[str, int]) -> SkillResult:
        """Sample actions from the policy until its goal is met or the budget is spent."""
        import torch

        from envs.crafter import defend_action
        from envs.values import Subgoal
        from envs.values import subgoal_met as check
        from skills.rl._obs import encode

        # Sampling from a generator of its own, seeded by where the run stands (world seed,
        # env steps so far): the same run takes the same actions whatever loaded before, so
        # runs that use RL skills resume and test the same way every time. torch's global
        # generator is never used: loading a policy lazily draws from it.
        generator = torch.Generator().manual_seed(session.seed * 100_003 + session.steps)
        env = session.env
        subgoal = Subgoal(name=self.meta.achievement or "", need=need)
        start = dict(session.achievements)
        steps = 0
        stopped: Literal["returned", "budget", "episode_over", "error"] = "budget"
        transitions: list[dict[str, Any]] = []
        while steps < budget:
            reflex = getattr(session, "reflex", None)
            if reflex is not None:  # the explorer's survival reflexes, as code skills get them
                reflex()
                if session.episode_over:
                    stopped = "episode_over"
                    break
            info = session.info
            guard = defend_action(info)
            if guard is not None:
                # The same guard code skills have: an adjacent zombie is fought, not left to
                # the policy, and the step is not the policy's, so it is not learned from.
                _, _, terminated, truncated, after = env.step(env.action_names.index(guard))
                steps += 1
                if terminated or truncated:
                    stopped = "episode_over"
                    break
                continue
            obs = encode(info)
            action, logprob, value = self.policy.act(obs, generator=generator)
            _, _, terminated, truncated, after = env.step(action)
            steps += 1
            transitions.append(
                {
                    "obs": obs,
                    "action": action,
                    "logprob": logprob,
                    "value": value,
                    "reward": 0.0,
                    "done": False,
                }
            )
            # The verifier's own check: with an inventory need (e.g. 4 wood) one unlock is not
            # enough, so the policy keeps going.
            if check(subgoal, start, after["achievements"], after["inventory"]):
                stopped = "returned"
                break
            if terminated or truncated:
                stopped = "episode_over"
                break
        if transitions:
            transitions[-1]["done"] = True
        self.experience.extend(transitions)
        return SkillResult(steps=steps, stopped=stopped, transitions=transitions)

    def feedback(self, reward: float) -> None:
        """Write the verifier's reward into the last execution's final transition."""
        if self.experience:
            self.experience[-1]["reward"] = reward

"""A new RL policy must earn its place: it becomes the active version of its skill only if it
does not do worse than the active one on the same fresh worlds.

Both policies play the same episodes: worlds from seeds `GATE_SEED_BASE ..` (generated fresh,
never the training worlds: training and PPO's own evaluation use seeds below 200,000), each
episode starting from the spawn point with up to `max_episode_steps`, actions sampled from a
generator seeded the same way for both. "Not worse" means at least as many successes. The
loser is kept too, as an inactive version (`SkillLibrary.add_version`), so nothing is lost and
`mendako skills activate` can switch by hand; `replace` makes the new one active regardless.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

GATE_SEED_BASE = 500_000
"""First world seed of the gate's episodes (fresh worlds nobody trains or tunes on)."""
GATE_EPISODES = 20
"""Episodes per policy by default."""


@dataclass(frozen=True)
class GateResult:
    """How a new policy compared with the active one, and whether it takes its place."""

    name: str
    achievement: str
    episodes: int
    seeds: str
    new: int
    """Successes of the new policy."""
    active: int | None
    """Successes of the active version (None: there was no active RL version to compare)."""
    active_version: int | None
    keep: bool
    """The new version becomes the active one."""
    replaced: bool
    """Kept because `replace` was asked, not because it did at least as well."""

    def as_extra(self) -> dict[str, Any]:
        """The figures, for the new version's `meta.json` (`extra.gate`)."""
        return dataclasses.asdict(self)

    def line(self, version: int) -> str:
        """One line for the user: the two figures, the seeds and what was decided."""
        mine = f"v{version} {self.new}/{self.episodes}"
        if self.active is None:
            return f"{self.name} {mine} on fresh worlds {self.seeds}: active (nothing to compare)"
        theirs = f"v{self.active_version} {self.active}/{self.episodes}"
        if self.keep and self.replaced and self.new < self.active:
            verdict = "active (--replace), though worse"
        elif self.keep:
            verdict = "active: not worse"
        else:
            verdict = (
                f"kept as v{version} but NOT active (worse); v{self.active_version} stays active "
                f"(`mendako skills activate {self.name} {version}` or --replace to switch)"
            )
        return f"{self.name} {mine} vs {theirs} on fresh worlds {self.seeds}: {verdict}"


def success_count(
    folder: Path,
    achievement: str,
    *,
    episodes: int = GATE_EPISODES,
    max_episode_steps: int = 200,
    env_id: str = "crafter",
) -> int:
    """Successes of the policy in `folder` over the gate's fresh worlds."""
    import torch

    from skills.rl.policy import load
    from skills.rl.ppo import PPOArgs, evaluate

    torch.set_num_threads(1)  # one small MLP step at a time: more threads only contend
    agent = load(folder)
    # evaluate() plays worlds args.seed + 100_000 + k with torch's global generator: seed it
    # the same for every policy, so both face the same worlds and the same draws.
    args = PPOArgs(
        achievement=achievement,
        env_id=env_id,
        seed=GATE_SEED_BASE - 100_000,
        max_episode_steps=max_episode_steps,
        eval_episodes=episodes,
    )
    state = torch.random.get_rng_state()
    try:
        torch.manual_seed(GATE_SEED_BASE)
        return int(evaluate(agent, args, episodes=episodes)["successes"])
    finally:
        torch.random.set_rng_state(state)


def gate(
    new_folder: Path,
    active: Any,
    *,
    name: str,
    achievement: str,
    episodes: int = GATE_EPISODES,
    replace: bool = False,
    max_episode_steps: int = 200,
) -> GateResult:
    """Compare the policy in `new_folder` with `active` (the library's active skill of that
    name, or None) on the same fresh worlds; `keep` says whether the new one takes its place."""
    from skills.rl.skill import RLSkill

    if episodes <= 0:
        raise ValueError(f"gate episodes must be positive (got {episodes})")
    seeds = f"{GATE_SEED_BASE}..{GATE_SEED_BASE + episodes - 1}"
    new = success_count(
        new_folder, achievement, episodes=episodes, max_episode_steps=max_episode_steps
    )
    if not isinstance(active, RLSkill) or active.meta.achievement != achievement:
        return GateResult(name, achievement, episodes, seeds, new, None, None, True, False)
    old = success_count(
        Path(active.folder), achievement, episodes=episodes, max_episode_steps=max_episode_steps
    )
    keep = replace or new >= old
    return GateResult(
        name, achievement, episodes, seeds, new, old, active.meta.version, keep, keep and new < old
    )


def record_figures(folder: Path, result: GateResult) -> None:
    """Make the gate's evaluation the new version's own record in its `meta.json`
    (successes/attempts and `extra.gate`), not its predecessor's or its training's figures."""
    import json

    path = folder / "meta.json"
    meta = json.loads(path.read_text())
    meta["successes"], meta["attempts"] = result.new, result.episodes
    meta.setdefault("extra", {})["gate"] = result.as_extra()
    path.write_text(json.dumps(meta, indent=2) + "\n")

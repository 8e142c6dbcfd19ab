"""Actor-critic policy for RL skills (cleanrl's ``Agent``, with a success-probability head).

The network reads :mod:`skills.rl._obs`'s encoding: the 19x9x7 one-hot local view goes
through two 3x3 convolutions, the inventory and facing join after flattening, and a shared
256-unit trunk feeds the actor (17 logits) and the critic (one value).

The critic is trained on the verifier's 0/1 success reward with episodes that end at
success, so ``V(s)`` estimates ``E[gamma^T * 1{success within the horizon}]``: a
probability of success, discounted by the steps it will take (with ``gamma = 0.99`` a
success 20 steps away reads ~0.82 of its probability). It is a regression output, not a
squashed one, so it can stray slightly outside [0, 1]; :meth:`ActorCritic.success_probability`
clamps it. Clamping rather than a sigmoid keeps the critic's scale: a sigmoid would map a
well-fitted 0.0 to 0.5.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.distributions import Categorical

from skills.rl import _obs

__all__ = ["ActorCritic", "load"]

ARCH = "conv2-mlp256-v1"


def layer_init(
    layer: nn.Linear | nn.Conv2d,
    std: float = float(np.sqrt(2)),
    bias: float = 0.0,
    *,
    init: bool = True,
) -> nn.Module:
    """cleanrl's orthogonal init (skipped when ``init`` is false: weights are about to be
    loaded, and the QR behind it took 8 s on 2 busy cores with torch's default threads)."""
    if init:
        nn.init.orthogonal_(layer.weight, std)
        if layer.bias is not None:
            nn.init.constant_(layer.bias, bias)
    return layer


class ActorCritic(nn.Module):
    """Shared-trunk actor-critic over the fair Crafter observation (see module docstring)."""

    def __init__(
        self,
        obs_spec: Mapping[str, Any] | None = None,
        n_actions: int = _obs.N_ACTIONS,
        hidden: int = 256,
        *,
        init: bool = True,
    ) -> None:
        super().__init__()
        self.obs_spec = dict(obs_spec or _obs.OBS_SPEC)
        self.n_actions = n_actions
        self.hidden = hidden
        self.num_ids = int(self.obs_spec["num_ids"])
        self.view = tuple(self.obs_spec["view"])
        self.grid_dim = self.num_ids * self.view[0] * self.view[1]
        extra = int(self.obs_spec["dim"]) - self.grid_dim
        self.conv = nn.Sequential(
            layer_init(nn.Conv2d(self.num_ids, 32, 3, padding=1), init=init),
            nn.ReLU(),
            layer_init(nn.Conv2d(32, 32, 3, padding=1), init=init),
            nn.ReLU(),
            nn.Flatten(),
        )
        self.trunk = nn.Sequential(
            layer_init(nn.Linear(32 * self.view[0] * self.view[1] + extra, hidden), init=init),
            nn.ReLU(),
        )
        self.actor = layer_init(nn.Linear(hidden, n_actions), std=0.01, init=init)
        self.critic = layer_init(nn.Linear(hidden, 1), std=1.0, init=init)

    def _features(self, obs: torch.Tensor) -> torch.Tensor:
        grid = obs[:, : self.grid_dim].reshape(-1, self.num_ids, *self.view)
        return self.trunk(torch.cat([self.conv(grid), obs[:, self.grid_dim :]], dim=1))

    def value(self, obs: torch.Tensor) -> torch.Tensor:
        """Critic value, shape (batch, 1)."""
        return self.critic(self._features(obs))

    def get_action_and_value(
        self, obs: torch.Tensor, action: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """cleanrl's contract: (action, log_prob(action), entropy, value); samples if no action."""
        hidden = self._features(obs)
        probs = Categorical(logits=self.actor(hidden))
        if action is None:
            action = probs.sample()
        return action, probs.log_prob(action), probs.entropy(), self.critic(hidden)

    def action_probs(self, obs: torch.Tensor) -> torch.Tensor:
        """Action probabilities, shape (batch, n_actions)."""
        return torch.softmax(self.actor(self._features(obs)), dim=-1)

    # ------------------------------------------------------------- single-observation helpers
    def as_tensor(self, obs: np.ndarray | torch.Tensor | Mapping[str, Any]) -> torch.Tensor:
        """A batch of one from an encoded observation or a raw Crafter info dict."""
        if isinstance(obs, Mapping):
            obs = _obs.encode(obs)
        t = torch.as_tensor(np.asarray(obs, np.float32) if not torch.is_tensor(obs) else obs)
        return t.float().reshape(1, -1) if t.dim() == 1 else t.float()

    @torch.no_grad()
    def success_probability(self, obs: np.ndarray | torch.Tensor | Mapping[str, Any]) -> float:
        """SayCan affordance: the critic's value clamped to [0, 1] (see module docstring)."""
        return float(self.value(self.as_tensor(obs))[0, 0].clamp(0.0, 1.0))

    @torch.no_grad()
    def act(
        self,
        obs: np.ndarray | torch.Tensor | Mapping[str, Any],
        *,
        greedy: bool = False,
        generator: torch.Generator | None = None,
    ) -> tuple[int, float, float]:
        """One step for an agent run: (action, log_prob, value); sampled unless ``greedy``.

        ``generator`` draws the sample from that generator alone (not torch's global one),
        so what else has used torch's randomness (a policy loaded lazily initialises its
        layers) cannot change the action."""
        x = self.as_tensor(obs)
        hidden = self._features(x)
        probs = Categorical(logits=self.actor(hidden))
        if greedy:
            action = probs.probs.argmax(-1)
        elif generator is not None:
            action = torch.multinomial(probs.probs, 1, generator=generator).view(-1)
        else:
            action = probs.sample()
        return int(action[0]), float(probs.log_prob(action)[0]), float(self.critic(hidden)[0, 0])

    # ------------------------------------------------------------------------- persistence
    def save(self, path_dir: str | Path, meta: Mapping[str, Any] | None = None) -> Path:
        """Write ``policy.pt`` (weights + obs spec) and merge ``meta`` into ``meta.json``."""
        folder = Path(path_dir)
        folder.mkdir(parents=True, exist_ok=True)
        torch.save(
            {
                "state_dict": self.state_dict(),
                "obs_spec": self.obs_spec,
                "n_actions": self.n_actions,
                "hidden": self.hidden,
                "arch": ARCH,
            },
            folder / "policy.pt",
        )
        meta_path = folder / "meta.json"
        current: dict[str, Any] = {}
        if meta_path.is_file():
            current = json.loads(meta_path.read_text())
        current.update(meta or {})
        current.setdefault("kind", "rl")
        tmp = meta_path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(current, indent=2, sort_keys=False) + "\n")
        tmp.replace(meta_path)
        return folder


def load(path_dir: str | Path, *, file: str = "policy.pt") -> ActorCritic:
    """Load a policy saved by :meth:`ActorCritic.save` (``file`` picks an older version)."""
    ckpt = torch.load(Path(path_dir) / file, map_location="cpu", weights_only=True)
    if ckpt.get("arch", ARCH) != ARCH:
        raise ValueError(f"{path_dir}: policy architecture {ckpt['arch']!r}, expected {ARCH!r}")
    spec = ckpt["obs_spec"]
    if spec.get("kind") != _obs.OBS_SPEC["kind"] or spec.get("dim") != _obs.OBS_DIM:
        raise ValueError(f"{path_dir}: observation spec {spec.get('kind')!r} does not match")
    model = ActorCritic(spec, n_actions=ckpt["n_actions"], hidden=ckpt["hidden"], init=False)
    model.load_state_dict(ckpt["state_dict"])
    model.eval()
    return model

"""PPO with its envs on Ray actors: the same training as the local path on the same seeds, and
a killed rollout worker replaced without counting anything twice."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import numpy as np
import pytest
import torch

ray = pytest.importorskip("ray")

from skills.rl.ppo import PPOArgs, make_vector_env, train  # noqa: E402

TINY = dict(
    env_id="crafter",
    achievement="collect_wood",
    seed=5,
    num_envs=4,
    num_steps=32,
    total_steps=256,
    max_episode_steps=20,
    eval_episodes=0,
)
TIMING = ("charts/SPS", "charts/env_SPS")


@pytest.fixture(scope="module")
def local_ray():
    """A real local Ray instance with 2 CPUs."""
    from skills import _ray

    if ray.is_initialized():
        ray.shutdown()
    _ray.init(num_cpus=2)
    yield ray
    ray.shutdown()


def _no_timing(curve: list[dict[str, float]]) -> list[dict[str, float]]:
    return [{k: v for k, v in m.items() if k not in TIMING} for m in curve]


@pytest.mark.slow
def test_ci_slow_ppo_on_ray_actors_trains_exactly_as_the_local_path(
    local_ray, tmp_path: Path
) -> None:
    local: list[dict[str, float]] = []
    remote: list[dict[str, float]] = []
    a = train(PPOArgs(**TINY, out_dir=str(tmp_path / "local")), progress=local.append)
    b = train(
        PPOArgs(**TINY, out_dir=str(tmp_path / "ray"), ray="", ray_workers=2),
        progress=remote.append,
    )
    assert len(local) == 2 and _no_timing(remote) == _no_timing(local)
    sa, sb = (torch.load(p / "policy.pt")["state_dict"] for p in (a, b))
    assert sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)
    meta = json.loads((b / "meta.json").read_text())
    assert meta["extra"]["ray"] == {"workers": 2, "restarts": [], "lost_steps": 0}
    assert (b / "curve.csv").is_file()
    assert "--ray ''" in meta["extra"]["command"]


@pytest.mark.slow
def test_a_killed_rollout_worker_is_replaced_and_its_episodes_end_uncounted(local_ray) -> None:
    envs = make_vector_env(PPOArgs(**TINY, ray="", ray_workers=2))
    try:
        envs.reset(seed=5)
        for _ in range(3):
            envs.step(np.zeros(4, dtype=np.int64))
        pid = ray.get(envs._actors[0].__ray_call__.remote(lambda self: os.getpid()))
        os.kill(pid, signal.SIGKILL)
        obs, reward, term, trunc, infos = envs.step(np.zeros(4, dtype=np.int64))
        assert obs.shape[0] == 4
        assert len(envs.restarts) == 1 and envs.restarts[0]["envs"] == [0, 1]
        assert envs.lost_steps == 2
        assert trunc[:2].all() and not term[:2].any() and (reward[:2] == 0).all()
        final = infos.get("final_info", {})
        assert not final.get("_ep_success", np.zeros(4, bool))[:2].any()  # nothing scored
        for _ in range(3):  # the replacement steps on
            envs.step(np.zeros(4, dtype=np.int64))
        assert len(envs.restarts) == 1
    finally:
        envs.close()

"""MineDojo adapter: a clear error without MineDojo; translation against the documented spaces."""

from __future__ import annotations

import numpy as np
import pytest

from envs import minedojo as md


def _obs() -> dict:
    """A dict shaped like MineDojo's documented observation (docs.minedojo.org)."""
    names = np.array(["air"] * 36, dtype=object)
    qty = np.zeros(36, dtype=np.float32)
    names[0], qty[0] = "oak log", 3
    names[5], qty[5] = "bucket", 1
    names[6], qty[6] = "oak log", 2
    blocks = np.full((3, 3, 3), "air", dtype=object)
    blocks[:, 0, :] = "grass"
    blocks[2, 1, 1] = "log"
    return {
        "rgb": np.zeros((3, 160, 256), dtype=np.uint8),
        "inventory": {"name": names, "quantity": qty},
        "voxels": {"block_name": blocks},
        "life_stats": {
            "life": np.array([20.0]),
            "food": np.array([18.0]),
            "oxygen": np.array([300.0]),
        },
        "location_stats": {
            "pos": np.array([10.2, 64.0, -3.7]),
            "yaw": np.array([90.0]),
            "pitch": np.array([0.0]),
            "biome_id": np.array([4]),
        },
        "nearby_tools": {"table": np.array(True), "furnace": np.array(False)},
    }


def test_make_fails_with_install_hint() -> None:
    with pytest.raises(md.MineDojoUnavailable, match="JDK 8.*pip install minedojo"):
        md.make("minedojo", seed=0)
    assert issubclass(md.MineDojoUnavailable, ValueError)


def test_cli_exits_with_one_line(tmp_path, monkeypatch) -> None:
    from typer.testing import CliRunner

    from agents.cli import app

    monkeypatch.setenv("MENDAKO_HOME", str(tmp_path))
    res = CliRunner().invoke(app, ["run", "harvest milk", "--env", "minedojo"])
    assert res.exit_code == 2 and res.exception is None or isinstance(res.exception, SystemExit)
    assert "Traceback" not in res.output


def test_observation_to_text() -> None:
    obs = _obs()
    assert md.inventory(obs) == {"oak_log": 5, "bucket": 1}
    text = md.describe(obs)
    assert "oak_log 5" in text and "bucket 1" in text
    assert "below: grass x9" in text and "level: log" in text
    assert "x=10 y=64 z=-4" in text and "life 20" in text and "Nearby: table." in text


def test_primitives_fit_the_multidiscrete_layout() -> None:
    nvec = np.array(md.ACTION_NVEC)
    assert len(nvec) == 8
    for name in (
        "noop",
        "forward",
        "back",
        "strafe_left",
        "jump",
        "sprint",
        "forward_jump",
        "look_up",
        "turn_right",
        *md.FUNCTIONAL,
    ):
        a = md.primitive(name)
        assert a.shape == (8,) and ((0 <= a) & (a < nvec)).all()
    assert md.primitive("noop").tolist() == [0, 0, 0, 12, 12, 0, 0, 0]
    assert md.primitive("forward")[0] == 1 and md.primitive("attack")[5] == 3
    assert md.primitive("craft", 17)[6] == 17 and md.primitive("place", 5)[7] == 5
    assert md.primitive("turn_left", 3)[4] == 9
    with pytest.raises(ValueError):
        md.primitive("place", 36)
    with pytest.raises(ValueError):
        md.primitive("fly")


class _FakeSim:
    """Stands in for ``minedojo.make(...)``: gym 0.21's 4-tuple step."""

    task_prompt = "harvest a log"

    def reset(self):
        return _obs()

    def step(self, action):
        assert np.asarray(action).shape == (8,)
        return _obs(), 1.0, True, {"success": True}


def test_wrapper_and_api_over_a_fake_sim() -> None:
    env = md.MineDojoEnv(_FakeSim())
    env.reset()
    assert env.mission == "harvest a log" and env.info["inventory"]["oak_log"] == 5
    api = md.make_api(env, budget=5)
    api.act("attack")
    assert env.info["achievements"]["task"] == 1 and env.episode_over
    with pytest.raises(md.EpisodeOver):
        api.act("forward")

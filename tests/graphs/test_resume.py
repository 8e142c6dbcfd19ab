"""Resume: a run killed with SIGKILL at random points goes on from its last checkpoint and ends
exactly as an uninterrupted run does (real Crafter env, real skills, real SQLite checkpoints,
a scripted planner).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from graph_fakes import ScriptedPlanner, WordScorer

from graphs.context import RunSettings
from graphs.runner import resume_run, run_goal
from graphs.trace import Run, find_run, list_runs
from skills.library import SkillLibrary

HERE = Path(__file__).parent
ROOT = HERE.parents[1]

# A subprocess that runs the goal with the scripted planner, exactly as the test's own runs do.
CHILD = textwrap.dedent(
    """
    import json, sys
    sys.path[:0] = [{root!r}, {here!r}]
    from graph_fakes import ScriptedPlanner, WordScorer
    from graphs.context import RunSettings
    from graphs.runner import run_goal
    from skills.library import SkillLibrary


    goal, reply, settings = json.loads(sys.argv[1])
    run_goal(goal, RunSettings(**settings), llm=ScriptedPlanner(replies=[reply]),
             scorer=WordScorer(), library=SkillLibrary("crafter", kinds=("code",)))
    """
)


WOOD_PICKAXE = (
    "make a wood pickaxe",
    {"target": "make_wood_pickaxe", "subgoals": ["make_wood_pickaxe"]},
    {"seed": 0},
)
STONE_PICKAXE = (
    "make a stone pickaxe",
    {"target": "make_stone_pickaxe", "subgoals": ["make_stone_pickaxe"]},
    {"seed": 1},
)


def _fakes(reply: dict) -> dict:
    return {
        "llm": ScriptedPlanner(replies=[reply]),
        "scorer": WordScorer(),
        "library": SkillLibrary("crafter", kinds=("code",)),
    }


def _outcome(run: Run) -> dict:
    """What must not depend on a crash: how it ended, what it did, and the node sequence."""
    meta = run.meta()
    final = run.checkpoints()[-1].values
    nodes = [e["node"] for e in run.events() if e["kind"] == "node"]
    return {
        "outcome": meta["outcome"],
        "env_steps": meta["env_steps"],
        "achievements": meta["achievements"],
        "actions": final["actions"],
        "nodes": nodes,
        "stats": SkillLibrary("crafter", home=run.path.parents[1]).stats_snapshot(),
    }


def _baseline(case: tuple, home: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    goal, reply, settings = case
    monkeypatch.setenv("MENDAKO_HOME", str(home))
    summary = run_goal(goal, RunSettings(**settings), **_fakes(reply))
    return _outcome(find_run(summary.run_id))


def _kill_and_resume(
    case: tuple, home: Path, after_events: int, delay: float, monkeypatch: pytest.MonkeyPatch
) -> tuple[dict, int]:
    """Start the run in a child process, SIGKILL it once trace.jsonl holds `after_events`
    node events (plus `delay` seconds), resume it here, and return its outcome."""
    goal, reply, settings = case
    env = os.environ | {"MENDAKO_HOME": str(home)}
    script = CHILD.format(root=str(ROOT), here=str(HERE))
    child = subprocess.Popen(
        [sys.executable, "-c", script, json.dumps([goal, reply, settings])],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    seen = 0
    deadline = time.monotonic() + 120
    try:
        while child.poll() is None and time.monotonic() < deadline:
            traces = list((home / "runs").glob("*/trace.jsonl"))
            if traces:
                seen = sum('"kind":"node"' in line for line in traces[0].open())
                if seen >= after_events:
                    time.sleep(delay)
                    break
            time.sleep(0.005)
    finally:
        if child.poll() is None:
            os.kill(child.pid, signal.SIGKILL)
        _, stderr = child.communicate(timeout=30)
    assert child.returncode in (0, -signal.SIGKILL), stderr.decode()[-2000:]
    monkeypatch.setenv("MENDAKO_HOME", str(home))
    (run,) = list_runs()
    resume_run(run.id, **_fakes(reply))
    return _outcome(run), child.returncode


def _check(case: tuple, points: list[tuple[int, float]], tmp: Path, monkeypatch) -> None:
    want = _baseline(case, tmp / "baseline", monkeypatch)
    assert want["outcome"] == "achieved", want
    for i, (after, delay) in enumerate(points):
        got, rc = _kill_and_resume(case, tmp / f"trial{i}", after, delay, monkeypatch)
        where = f"killed after {after} node events + {delay:.2f}s (rc={rc})"
        assert got == want, where
    # Resuming a run that had finished changes nothing; it only reports how it ended.
    monkeypatch.setenv("MENDAKO_HOME", str(tmp / "baseline"))
    (done,) = list_runs()
    again = resume_run(done.id, **_fakes(case[1]))
    assert again.outcome == want["outcome"] and again.env_steps == want["env_steps"]
    assert _outcome(done) == want
    assert [e["kind"] for e in done.events()][-2:] == ["resume", "end"]


def test_run_killed_then_resumed_ends_as_uninterrupted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random()
    # One kill early (during the first plan/SayCan) and one at a random later node.
    points = [(0, rng.uniform(0.0, 0.5)), (rng.randint(2, 14), rng.uniform(0.0, 0.2))]
    _check(WOOD_PICKAXE, points, tmp_path, monkeypatch)


@pytest.mark.slow
def test_ci_slow_resume_after_many_random_kills(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random()
    seed = rng.randrange(1 << 30)
    rng.seed(seed)
    points = [(rng.randint(0, 30), rng.uniform(0.0, 0.3)) for _ in range(5)]
    try:
        _check(STONE_PICKAXE, points, tmp_path, monkeypatch)
    except AssertionError as e:
        raise AssertionError(f"{e} [random seed {seed}, points {points}]") from e

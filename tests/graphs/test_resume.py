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


# The same run, killed by itself (SIGKILL) at a node boundary: mode "streamed" kills when the
# live view gets the K-th node event (that node's checkpoint may not be on disk yet), mode
# "saved" as soon as the K-th node event is in trace.jsonl (its checkpoint is on disk, so the
# resumed run starts right after that node).
CHILD_AT_BOUNDARY = textwrap.dedent(
    """
    import json, os, signal, sys, threading, time
    sys.path[:0] = [{root!r}, {here!r}]
    from graph_fakes import ScriptedPlanner, WordScorer
    from graphs.context import RunSettings
    from graphs.runner import run_goal
    from graphs.trace import list_runs
    from skills.library import SkillLibrary

    goal, reply, settings, kinds, kill_at, mode = json.loads(sys.argv[1])
    seen = []

    def kill_when_saved():
        trace = list_runs()[0].trace_path
        while sum('"kind":"node"' in line for line in trace.open()) < kill_at:
            time.sleep(0.001)
        os.kill(os.getpid(), signal.SIGKILL)

    def on_event(e):
        seen.append(e)
        if len(seen) == kill_at:
            if mode == "streamed":
                os.kill(os.getpid(), signal.SIGKILL)
            threading.Thread(target=kill_when_saved, daemon=True).start()

    run_goal(goal, RunSettings(**settings), llm=ScriptedPlanner(replies=[reply]),
             scorer=WordScorer(), library=SkillLibrary("crafter", kinds=tuple(kinds)),
             on_event=on_event)
    time.sleep(30)  # "saved" at the last node: the kill comes once the line is flushed
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


# Only RL skills: collect_wood then place_table, each by a PPO policy. The user's
# rl_collect_wood is an untrained policy (near-uniform actions: the shipped one is so sure of
# its actions that a shifted random stream rarely changes one), so any randomness that does not
# come from the run's position shows as different actions.
RL_TABLE = (
    "place a table",
    {"target": "place_table", "subgoals": ["collect_wood", "place_table"]},
    {"seed": 0, "skill_budget": 40, "max_env_steps": 160, "max_replans": 1},
)


def _untrained_rl_skill(home: Path) -> None:
    import torch

    from skills.rl.policy import ActorCritic

    torch.manual_seed(0)
    meta = {
        "name": "rl_collect_wood",
        "description": "Walk to a tree and collect wood from it (untrained RL policy)",
        "kind": "rl",
        "env": "crafter",
        "achievement": "collect_wood",
        "version": 2,
    }
    ActorCritic().save(home / "skills" / "rl_collect_wood", meta)


def _fakes(reply: dict, kinds: tuple[str, ...] = ("code",)) -> dict:
    return {
        "llm": ScriptedPlanner(replies=[reply]),
        "scorer": WordScorer(),
        "library": SkillLibrary("crafter", kinds=kinds),
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


def _kill_at_boundary(case: tuple, home: Path, kill_at: int, mode: str, monkeypatch) -> dict:
    goal, reply, settings = case
    _untrained_rl_skill(home)
    env = os.environ | {"MENDAKO_HOME": str(home)}
    script = CHILD_AT_BOUNDARY.format(root=str(ROOT), here=str(HERE))
    child = subprocess.run(
        [sys.executable, "-c", script, json.dumps([goal, reply, settings, ["rl"], kill_at, mode])],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        timeout=300,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr.decode()[-2000:]
    monkeypatch.setenv("MENDAKO_HOME", str(home))
    (run,) = list_runs()
    assert run.meta()["outcome"] == "crashed"  # its process is gone
    resume_run(run.id, **_fakes(reply, ("rl",)))
    return _outcome(run)


def _check_rl_boundaries(kill_points: list[tuple[int, str]], tmp: Path, monkeypatch) -> None:
    monkeypatch.setenv("MENDAKO_HOME", str(tmp / "baseline"))
    _untrained_rl_skill(tmp / "baseline")
    goal, reply, settings = RL_TABLE
    summary = run_goal(goal, RunSettings(**settings), **_fakes(reply, ("rl",)))
    want = _outcome(find_run(summary.run_id))
    chosen = {
        e["update"].get("chosen")
        for e in find_run(summary.run_id).events()
        if e.get("node") == "score_affordances"
    }
    assert "rl_collect_wood" in chosen  # the run does use RL skills
    kill_points = kill_points or [
        (k, mode) for k in range(1, len(want["nodes"]) + 1) for mode in ("streamed", "saved")
    ]
    for k, mode in kill_points:
        got = _kill_at_boundary(RL_TABLE, tmp / f"kill{k}{mode}", k, mode, monkeypatch)
        for key in ("actions", "env_steps", "achievements", "nodes", "outcome", "stats"):
            assert got[key] == want[key], f"{key} differs when killed at node event {k} ({mode})"


def test_rl_run_killed_after_scoring_resumes_step_for_step(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Killed once score_affordances has chosen rl_collect_wood (next: execute_skill): the
    # resumed process loads the policy inside execute_skill, where the uninterrupted run had
    # loaded it while scoring; the actions must not depend on that.
    _check_rl_boundaries([(2, "saved")], tmp_path, monkeypatch)


@pytest.mark.slow
def test_ci_slow_rl_run_killed_at_every_node_boundary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _check_rl_boundaries([], tmp_path, monkeypatch)  # [] = every node event of the run

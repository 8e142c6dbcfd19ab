"""The one run driver: reflexes protect a `run` as they protect the explorer, and a killed
explorer episode resumes (real Crafter, real skills, real SQLite checkpoints, real SIGKILL)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from graph_fakes import ScriptedPlanner, WordScorer

from graphs.context import RunSettings
from graphs.runner import resume_run, run_goal
from graphs.trace import find_run, list_runs
from skills.library import SkillLibrary

HERE = Path(__file__).parent
ROOT = HERE.parents[1]
DIAMOND = {
    "target": "collect_diamond",
    "subgoals": ["collect_wood", "place_table", "make_wood_pickaxe", "collect_diamond"],
}


def test_reflexes_keep_a_deep_goal_alive() -> None:
    """'collect a diamond' on seed 3 died at env step 189 when only the explorer had reflexes
    (thirst and a zombie at night); the run's skills now drink, eat and shelter on the way."""
    s = run_goal(
        "collect a diamond",
        RunSettings(seed=3, max_env_steps=320),
        llm=ScriptedPlanner(replies=[DIAMOND]),
        scorer=WordScorer(),
        library=SkillLibrary("crafter", kinds=("code",)),
    )
    assert s.outcome != "episode_over", s
    assert s.env_steps >= 300
    reflexes = [e for e in find_run(s.run_id).events() if e["kind"] == "reflex"]
    assert reflexes and all(e["urgent"] for e in reflexes)  # inside the skills' actions
    assert {"drink", "food"} & {e["stat"] for e in reflexes if e["after"] > e["before"]}


CHILD = textwrap.dedent(
    """
    import os, signal, sys, threading, time
    sys.path[:0] = [{root!r}, {agents!r}]
    from test_curriculum import FirstChoice, MatchScorer
    from graphs.context import RunSettings
    from graphs.explore import explore
    from graphs.trace import list_runs
    from skills.library import SkillLibrary

    kill_at = int(sys.argv[1])
    seen = []

    def kill_when_saved():
        trace = list_runs()[0].trace_path
        while sum('"kind":"node"' in line for line in trace.open()) < kill_at:
            time.sleep(0.001)
        os.kill(os.getpid(), signal.SIGKILL)

    def on_event(e):
        seen.append(e)
        if sum(x.get("kind") == "node" for x in seen) == kill_at:
            threading.Thread(target=kill_when_saved, daemon=True).start()

    explore(RunSettings(seed=2, max_env_steps=400), llm=FirstChoice(), scorer=MatchScorer(),
            library=SkillLibrary("crafter", kinds=("code",)), on_event=on_event)
    time.sleep(30)
    """
)


def _kill_explorer(home: Path, kill_at: int) -> int:
    env = os.environ | {"MENDAKO_HOME": str(home)}
    script = CHILD.format(root=str(ROOT), agents=str(ROOT / "tests" / "agents"))
    child = subprocess.run(
        [sys.executable, "-c", script, str(kill_at)], env=env, capture_output=True, timeout=300
    )
    assert child.returncode == -signal.SIGKILL, child.stderr.decode()[-2000:]
    return child.returncode


def _episode(run) -> dict:
    """What a kill must not change: how the episode ended, and its goals, reflexes, wanders."""
    meta = run.meta()
    story = [
        (e["kind"], e.get("goal") or e.get("skill"), e.get("env_steps"), e.get("outcome"))
        for e in run.events()
        if e["kind"] in ("goal", "goal_end", "reflex", "wander", "end")
    ]
    keep = ("outcome", "env_steps", "achievements", "goals")
    return {"meta": {k: meta.get(k) for k in keep}, "story": story}


def _fakes() -> dict:
    sys.path.insert(0, str(ROOT / "tests" / "agents"))
    from test_curriculum import FirstChoice, MatchScorer

    # Code skills only: an RL policy samples from torch's generator, which a fresh process
    # seeds differently (resume exactness with RL skills is the runner's own test).
    library = SkillLibrary("crafter", kinds=("code",))
    return {"llm": FirstChoice(), "scorer": MatchScorer(), "library": library}


def _kill_resume_compare(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, points: list[int]):
    from graphs.explore import explore

    monkeypatch.setenv("MENDAKO_HOME", str(tmp_path / "baseline"))
    base = explore(RunSettings(seed=2, max_env_steps=400), **_fakes())
    want = _episode(find_run(base.run_id))
    assert want["meta"]["goals"] >= 3  # the kills below fall in several goals
    for kill_at in points:
        home = tmp_path / f"killed_at_{kill_at}"
        _kill_explorer(home, kill_at)
        monkeypatch.setenv("MENDAKO_HOME", str(home))
        (run,) = list_runs()
        before = list(run.events())
        assert run.meta()["outcome"] in ("running", "crashed")  # crashed: its process is gone
        assert not any(e["kind"] == "end" for e in before)
        summary = resume_run(run.id, **_fakes())
        events = list(run.events())
        kinds = [e["kind"] for e in events]
        assert kinds.count("end") == 1 and kinds.count("resume") == 1 and kinds[-1] == "end"
        resume = events[kinds.index("resume")]
        assert resume["run_kind"] == "explore"
        assert all(g["goal"] != "explore" for g in events if g["kind"] == "goal")
        assert run.checkpoints() == []  # no thread of the run's own: nothing planned "explore"
        assert _episode(run) == want, f"killed at node event {kill_at}"
        assert summary.outcome == want["meta"]["outcome"]
        # Resuming the finished episode changes nothing: no second end, the outcome kept.
        again = resume_run(run.id, **_fakes())
        assert again.outcome == want["meta"]["outcome"] and _episode(run) == want


def test_killed_explorer_resumes_as_the_uninterrupted_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _kill_resume_compare(tmp_path, monkeypatch, [15])


@pytest.mark.slow
@pytest.mark.xfail(
    strict=False,
    reason=(
        "known bug, found at the end of round 2 session 2 (failed once in a clean-clone CI run, "
        "passed in 7 others). Most likely cause (not yet proven): a reflex event made inside "
        "a node is held in memory until that "
        "node's checkpoint is saved; a kill after the save but before the trace line is flushed "
        "loses it (recover_events rebuilds the node event from the checkpoints, but the reflex "
        "events were never stored). The env, outcome and achievements still match; only those "
        "reflex lines are missing. Fix: carry a node's side events in its checkpointed update."
    ),
)
def test_ci_slow_explorer_killed_at_many_points(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _kill_resume_compare(tmp_path, monkeypatch, [1, 6, 22, 30])


def test_explorer_events_carry_what_resume_replays() -> None:
    from graphs.explore import explore

    s = explore(RunSettings(seed=1, max_env_steps=250), **_fakes())
    run = find_run(s.run_id)
    total = 0
    for e in run.events():
        if e["kind"] in ("reflex", "wander") and "actions" in e:
            total += len(e["actions"])
        elif e["kind"] == "goal_end":
            values = _thread_values(run, e["index"])
            total += len(values.get("actions", []))
    assert total == s.env_steps
    assert json.loads(run.meta_path.read_text())["kind"] == "explore"


def _thread_values(run, index: int) -> dict:
    snaps = run.checkpoints(f"{run.id}:{index}")
    return snaps[-1].values if snaps else {}

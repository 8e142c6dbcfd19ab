"""Two `mendako run` processes at once in one $MENDAKO_HOME: neither run's success-history
updates are lost (real processes, real Crafter, real skills, the shared stats store)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from graphs.trace import list_runs
from skills.library import SkillLibrary

HERE = Path(__file__).parent
ROOT = HERE.parents[1]

CHILD = """
import json, sys
sys.path[:0] = [{root!r}, {here!r}]
from graph_fakes import ScriptedPlanner, WordScorer
from graphs.context import RunSettings
from graphs.runner import run_goal
from skills.library import SkillLibrary

seed = int(sys.argv[1])
reply = {{"target": "make_wood_pickaxe", "subgoals": ["make_wood_pickaxe"]}}
s = run_goal("make a wood pickaxe", RunSettings(seed=seed), llm=ScriptedPlanner(replies=[reply]),
             scorer=WordScorer(), library=SkillLibrary("crafter", kinds=("code",)))
print(json.dumps({{"run": s.run_id, "outcome": s.outcome}}))
"""


def test_two_runs_at_once_lose_no_statistics(mendako_home: Path) -> None:
    env = os.environ | {"MENDAKO_HOME": str(mendako_home)}
    script = CHILD.format(root=str(ROOT), here=str(HERE))
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(seed)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for seed in (0, 1)
    ]
    outs = [p.communicate(timeout=300) for p in procs]
    for p, (_, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err[-2000:]
    runs = list_runs()
    assert len(runs) == 2
    # Every verify of both runs counted one attempt of the skill it judged.
    expected: dict[str, list[int]] = {}
    for run in runs:
        final = run.checkpoints()[-1].values
        for step in final["history"]:
            counts = expected.setdefault(step.skill, [0, 0])
            counts[0] += int(step.verdict.success)
            counts[1] += 1
        assert json.loads(run.ledger_path.read_text().splitlines()[0])["skill"]
    snap = SkillLibrary("crafter").stats_snapshot()
    got = {
        k.split("/", 1)[1].split("@")[0]: [v["successes"], v["attempts"]] for k, v in snap.items()
    }
    assert got == expected and sum(a for _, a in got.values()) >= 2

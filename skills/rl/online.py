"""Online feedback: RL skills that ran inside a run are updated with PPO from what happened.

During `mendako run`, every RL skill keeps its transitions, and the verifier writes its
reward into them (`RLSkill.feedback`). With `--learn`, after the run each such skill gets one
PPO update from that experience, in a scratch folder; the updated policy then goes through
the gate (`skills.rl.gate`: the same fresh worlds for it and the active version) and is
stored as the skill's next version in the user's library, active only if it did not do worse
(or with `replace`). Shipped skills are package data, so their new versions land in
`$MENDAKO_HOME/skills/`.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from skills.rl.gate import GATE_EPISODES, GateResult, gate, record_figures


@dataclass(frozen=True)
class OnlineUpdate:
    """One skill's update after a run: how much it learned from, and what the gate said."""

    name: str
    transitions: int
    version: int
    gate: GateResult

    def line(self) -> str:
        """One line for the user."""
        return f"PPO update on {self.transitions} transitions; {self.gate.line(self.version)}"


def learn_from_run(
    library: Any, *, replace: bool = False, episodes: int = GATE_EPISODES
) -> list[OnlineUpdate]:
    """Update every RL skill of `library` that gathered experience, through the gate."""
    from skills.rl.ppo import update_from_experience
    from skills.rl.skill import RLSkill

    updated = []
    for skill in list(library):
        if not isinstance(skill, RLSkill) or not skill.experience:
            continue
        scratch = Path(tempfile.mkdtemp(prefix=f"learn-{skill.meta.name}-"))
        try:
            work = scratch / skill.meta.name
            work.mkdir()
            for f in Path(skill.folder).iterdir():  # the active version's files only
                if f.is_file() and not f.is_symlink() and not f.name.startswith("policy.v"):
                    shutil.copy2(f, work / f.name)
            update_from_experience(work, skill.experience)
            for old in work.glob("policy.v*.pt"):  # versions live in the library's folders
                old.unlink()
            result = gate(
                work,
                skill,
                name=skill.meta.name,
                achievement=skill.meta.achievement or "",
                episodes=episodes,
                replace=replace,
            )
            record_figures(work, result)
            stored = library.add_version(work, activate=result.keep)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        updated.append(OnlineUpdate(skill.meta.name, len(skill.experience), stored.version, result))
        skill.experience.clear()
    return updated

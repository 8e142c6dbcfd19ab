"""Online feedback: RL skills that ran inside a run are updated with PPO from what happened.

During `mendako run`, every RL skill keeps its transitions, and the verifier writes its
reward into them (`RLSkill.feedback`). With `--learn`, after the run each such skill gets one
PPO update from that experience and is saved as a new version in the user's library
(shipped skills are package data, so their updated copy lands in `$MENDAKO_HOME/skills/`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def learn_from_run(library: Any) -> list[tuple[str, int, Path]]:
    """Update every RL skill of `library` that gathered experience; (name, transitions, dir)."""
    from skills.rl.ppo import update_from_experience
    from skills.rl.skill import RLSkill

    updated = []
    for skill in list(library):
        if not isinstance(skill, RLSkill) or not skill.experience:
            continue
        out = library.user_root / skill.meta.name
        path = update_from_experience(skill.folder, skill.experience, out_dir=out)
        updated.append((skill.meta.name, len(skill.experience), path))
        skill.experience.clear()
    return updated

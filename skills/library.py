"""The skill library: folders on disk (`<name>/{skill.py | policy.pt, meta.json}`).

Skills come from two places: the ones mendako ships (`skills/builtin/<env>/`) and the user's
(`$MENDAKO_HOME/skills/<name>/`); a user skill of the same name overrides a shipped one. The
index is rebuilt from the folders every time the library is opened. A folder that does not
load (bad JSON, missing file, wrong fields) is reported in `problems` and skipped.
Success history is kept apart from the skills, in `$MENDAKO_HOME/skills/stats.json`, so that
shipped skills (read-only package data) learn from use like the user's own.
"""

from __future__ import annotations

import json
import logging
from importlib import resources
from pathlib import Path

from pydantic import ValidationError

from skills._home import mendako_home, write_json_atomic
from skills.base import Skill, SkillMeta

log = logging.getLogger(__name__)


class SkillNotFound(KeyError):
    """No skill of that name in the library."""


def builtin_root() -> Path:
    """The folder of skills shipped inside the mendako package."""
    return Path(str(resources.files("skills") / "builtin"))


def load_skill(folder: Path, *, trusted: bool) -> Skill:
    """Load one skill folder; raises ValueError with a one-line reason when it is broken."""
    meta_path = folder / "meta.json"
    if not meta_path.is_file():
        raise ValueError(f"{folder}: no meta.json")
    try:
        meta = SkillMeta.model_validate(json.loads(meta_path.read_text()))
    except (json.JSONDecodeError, ValidationError) as e:
        first = str(e).splitlines()[0]
        raise ValueError(f"{folder}: meta.json is invalid ({first})") from None
    if meta.kind == "code":
        from skills.code.skill import CodeSkill

        source_path = folder / "skill.py"
        if not source_path.is_file():
            raise ValueError(f"{folder}: code skill without skill.py")
        return CodeSkill(meta, source_path.read_text(), folder, trusted=trusted)
    from skills.rl.skill import RLSkill

    if not (folder / "policy.pt").is_file():
        raise ValueError(f"{folder}: RL skill without policy.pt")
    return RLSkill(meta, folder)


class SkillLibrary:
    """The skills available to an agent in one environment, loaded from their folders."""

    def __init__(self, env: str = "crafter", *, home: Path | None = None) -> None:
        self.env = env
        self.home = home or mendako_home()
        self.user_root = self.home / "skills"
        self.problems: list[str] = []
        self._skills: dict[str, Skill] = {}
        self.reload()

    def reload(self) -> None:
        """Rebuild the index from the folders (shipped first, then the user's on top)."""
        self._skills.clear()
        self.problems.clear()
        roots = [(builtin_root() / self.env, True), (self.user_root, False)]
        for root, trusted in roots:
            if not root.is_dir():
                continue
            for folder in sorted(p for p in root.iterdir() if p.is_dir()):
                if folder.name.startswith((".", "_")):
                    continue
                try:
                    skill = load_skill(folder, trusted=trusted)
                except ValueError as e:
                    self.problems.append(str(e))
                    log.warning("skipping skill: %s", e)
                    continue
                if skill.meta.env == self.env:
                    self._skills[skill.meta.name] = skill
        stats = self._read_stats()
        for name, skill in self._skills.items():
            s = stats.get(f"{self.env}/{name}")
            if s:
                skill.meta.successes, skill.meta.attempts = s["successes"], s["attempts"]

    def __iter__(self):
        return iter(self._skills.values())

    def __len__(self) -> int:
        return len(self._skills)

    def names(self) -> list[str]:
        """Names of all skills, sorted."""
        return sorted(self._skills)

    def get(self, name: str) -> Skill:
        """The skill called `name`; raises SkillNotFound."""
        try:
            return self._skills[name]
        except KeyError:
            raise SkillNotFound(f"no skill named {name!r} for env {self.env!r}") from None

    def record(self, name: str, success: bool) -> None:
        """Add one attempt to a skill's success history (persisted, atomically)."""
        skill = self.get(name)
        skill.meta.attempts += 1
        skill.meta.successes += int(success)
        stats = self._read_stats()
        stats[f"{self.env}/{name}"] = {
            "successes": skill.meta.successes,
            "attempts": skill.meta.attempts,
        }
        write_json_atomic(self.user_root / "stats.json", stats)

    def _read_stats(self) -> dict[str, dict[str, int]]:
        path = self.user_root / "stats.json"
        if not path.is_file():
            return {}
        try:
            return json.loads(path.read_text())
        except json.JSONDecodeError:
            self.problems.append(f"{path}: unreadable, success history starts afresh")
            return {}

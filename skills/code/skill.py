"""A code skill: `def run(api) -> None` over an env's primitive API.

Skills shipped with mendako are trusted and run in-process (fast, about the env's own step
rate). Anything else (user-added, LLM-written) runs in the sandbox, in a child process.
"""

from __future__ import annotations

import traceback
from pathlib import Path
from typing import Any, Literal

from envs.contract import BudgetExhausted, EpisodeOver
from skills.base import SkillMeta, SkillResult


class CodeSkill:
    """A skill whose behaviour is a Python `run(api)` function."""

    def __init__(self, meta: SkillMeta, source: str, folder: Path | None, *, trusted: bool) -> None:
        self.meta = meta
        self.source = source
        self.folder = folder
        self.trusted = trusted
        self._fn: Any = None

    def affordance(self, session: Any) -> float | None:
        """Code skills have no critic; the rules and the success history decide."""
        return None

    def run(self, session: Any, *, budget: int, need: dict[str, int]) -> SkillResult:
        """Run `run(api)` with a fresh API limited to `budget` steps."""
        api = session.api(budget, need)
        if not self.trusted:
            return self._run_sandboxed(api)
        try:
            self._function()(api)
        except BudgetExhausted:
            return SkillResult(steps=api.steps_used, stopped="budget")
        except EpisodeOver:
            return SkillResult(steps=api.steps_used, stopped="episode_over")
        except Exception as e:  # a skill's bug must not end the run; it becomes feedback
            tb = traceback.format_exception_only(type(e), e)[-1].strip()
            return SkillResult(steps=api.steps_used, stopped="error", error=tb)
        return SkillResult(steps=api.steps_used, stopped="returned")

    def _function(self) -> Any:
        if self._fn is None:
            namespace: dict[str, Any] = {"__name__": f"mendako_skill_{self.meta.name}"}
            exec(compile(self.source, f"<skill {self.meta.name}>", "exec"), namespace)
            self._fn = namespace["run"]
        return self._fn

    def _run_sandboxed(self, api: Any) -> SkillResult:
        from skills.code.sandbox import run_code_skill

        res = run_code_skill(self.source, api)
        stopped: Literal["returned", "budget", "episode_over", "error"]
        if res.error_kind in ("budget", "episode_over"):
            stopped = res.error_kind
        else:
            stopped = "returned" if res.ok else "error"
        return SkillResult(
            steps=api.steps_used, stopped=stopped, error=None if res.ok else res.error
        )

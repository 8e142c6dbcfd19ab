"""The skill library: folders on disk (`<name>/{skill.py | policy.pt, meta.json}`).

Skills come from two places: the ones mendako ships (`skills/builtin/<env>/`) and the user's
(`$MENDAKO_HOME/skills/<name>/`); a user skill of the same name overrides a shipped one. The
index is rebuilt from the folders every time the library is opened. A folder that does not
load (bad JSON, missing file, wrong fields, user code that fails the sandbox's static check)
is reported in `problems` and skipped; it never stops a run.

Writes are atomic per skill folder. `add` builds the complete new folder next to the library
(`.tmp-<name>-*`), then swaps it in with two renames (`<name>` -> `.old-<name>-*`, temp ->
`<name>`); folders whose names start with `.` are never loaded, so a crash at any point
leaves the old skill or the new one. If a crash falls between the two renames, the next
`reload` moves the `.old-` folder back.

Versions: a rewrite is a new version and the old one stays. The current version sits at the
top of the folder (`<name>/skill.py`, `<name>/meta.json`); every earlier one is kept whole in
`<name>/versions/v<N>/` (its own `skill.py` and `meta.json`).

Success history is kept apart from the skills, in `$MENDAKO_HOME/skills/stats.json`, so that
shipped skills (read-only package data) learn from use like the user's own.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from pydantic import ValidationError

from skills._home import mendako_home, write_json_atomic
from skills.base import Skill, SkillMeta

log = logging.getLogger(__name__)

VERSIONS_DIR = "versions"


class SkillNotFound(KeyError):
    """No skill of that name in the library."""

    def __str__(self) -> str:  # KeyError quotes its message; users read this one
        return str(self.args[0]) if self.args else "skill not found"


class SkillRefused(ValueError):
    """The library will not do that (remove a shipped skill, add invalid code, bad name)."""


def builtin_root() -> Path:
    """The folder of skills shipped inside the mendako package."""
    return Path(str(resources.files("skills") / "builtin"))


def valid_name(name: str) -> str:
    """`name` if it can be a skill folder name (lower-case letters, digits, `_`), else raise."""
    ok = name and name[0].isalpha() and all(c.isalnum() or c == "_" for c in name)
    if not ok or name != name.lower() or len(name) > 64:
        raise SkillRefused(
            f"bad skill name {name!r}: use lower-case letters, digits and '_' (e.g. place_furnace)"
        )
    return name


def load_skill(folder: Path, *, trusted: bool) -> Skill:
    """Load one skill folder; raises ValueError with a one-line reason when it is broken."""
    meta_path = folder / "meta.json"
    if not meta_path.is_file():
        raise ValueError(f"{folder}: no meta.json")
    try:
        meta = SkillMeta.model_validate(json.loads(meta_path.read_text()))
    except (json.JSONDecodeError, UnicodeDecodeError, ValidationError) as e:
        first = str(e).splitlines()[0]
        raise ValueError(f"{folder}: meta.json is invalid ({first})") from None
    if meta.kind == "code":
        from skills.code.skill import CodeSkill

        source_path = folder / "skill.py"
        if not source_path.is_file():
            raise ValueError(f"{folder}: code skill without skill.py")
        try:
            source = source_path.read_text()
        except UnicodeDecodeError:
            raise ValueError(f"{folder}: skill.py is not UTF-8 text") from None
        if not trusted:
            from skills.code.sandbox import SkillRejected, check_source

            try:
                check_source(source)
            except SkillRejected as e:
                raise ValueError(f"{folder}: skill.py is refused ({e})") from None
        return CodeSkill(meta, source, folder, trusted=trusted)
    from skills.rl.skill import RLSkill

    if not (folder / "policy.pt").is_file():
        raise ValueError(f"{folder}: RL skill without policy.pt")
    return RLSkill(meta, folder)


@dataclass(frozen=True)
class SkillInfo:
    """Everything `skills show` prints about one skill."""

    meta: SkillMeta
    folder: Path | None
    shipped: bool
    """True for a skill shipped with mendako (read-only; cannot be removed)."""
    source: str | None
    """The code of a code skill (None for an RL policy)."""
    versions: list[int] = field(default_factory=list)
    """All versions on disk, oldest first; the last is the current one."""


class SkillLibrary:
    """The skills available to an agent in one environment, loaded from their folders."""

    def __init__(
        self,
        env: str = "crafter",
        *,
        home: Path | None = None,
        kinds: tuple[str, ...] | None = None,
    ) -> None:
        self.env = env
        self.kinds = kinds
        """Load only skills of these kinds (e.g. `("code",)`); None loads every kind."""
        self.home = home or mendako_home()
        self.user_root = self.home / "skills"
        self.problems: list[str] = []
        self._skills: dict[str, Skill] = {}
        self._shipped: set[str] = set()
        self.reload()

    # ------------------------------------------------------------------ index
    def reload(self) -> None:
        """Rebuild the index from the folders (shipped first, then the user's on top)."""
        self._skills.clear()
        self._shipped.clear()
        self.problems.clear()
        self._recover_swaps()
        roots = [(builtin_root() / self.env, True), (self.user_root, False)]
        for root, trusted in roots:
            if not root.is_dir():
                continue
            for folder in sorted(p for p in root.iterdir() if p.is_dir()):
                if folder.name.startswith((".", "_")):
                    continue
                try:
                    skill = load_skill(folder, trusted=trusted)
                except (ValueError, OSError) as e:
                    self.problems.append(str(e))
                    log.warning("skipping skill: %s", e)
                    continue
                if skill.meta.env == self.env and (
                    self.kinds is None or skill.meta.kind in self.kinds
                ):
                    self._skills[skill.meta.name] = skill
                    if trusted:
                        self._shipped.add(skill.meta.name)
                    else:
                        self._shipped.discard(skill.meta.name)
        stats = self._read_stats()
        for name, skill in self._skills.items():
            s = stats.get(f"{self.env}/{name}")
            if s:
                skill.meta.successes, skill.meta.attempts = s["successes"], s["attempts"]

    def __iter__(self):
        return iter(self._skills.values())

    def __len__(self) -> int:
        return len(self._skills)

    def __contains__(self, name: object) -> bool:
        return name in self._skills

    def names(self) -> list[str]:
        """Names of all skills, sorted."""
        return sorted(self._skills)

    def get(self, name: str) -> Skill:
        """The skill called `name`; raises SkillNotFound."""
        try:
            return self._skills[name]
        except KeyError:
            raise SkillNotFound(f"no skill named {name!r} for env {self.env!r}") from None

    def is_shipped(self, name: str) -> bool:
        """Whether `name` is a skill shipped with mendako (not overridden by a user skill)."""
        return name in self._shipped

    # ------------------------------------------------------------------ show / add / remove
    def show(self, name: str) -> SkillInfo:
        """Meta, code and versions of one skill; raises SkillNotFound."""
        skill = self.get(name)
        folder = getattr(skill, "folder", None)
        versions = [skill.meta.version]
        if folder is not None and not self.is_shipped(name):
            versions = sorted({*self._old_versions(Path(folder)), skill.meta.version})
        return SkillInfo(
            meta=skill.meta,
            folder=Path(folder) if folder is not None else None,
            shipped=self.is_shipped(name),
            source=getattr(skill, "source", None),
            versions=versions,
        )

    def add(self, source: str, meta: SkillMeta) -> SkillMeta:
        """Write a code skill into the user's library (atomically) and return its stored meta.

        The source must pass the sandbox's static check and define `run(api)`. If a user skill
        of that name exists, this is a rewrite: the new code becomes version N+1 and the old
        version is kept under `versions/vN/`. Success history starts afresh for a new version.
        """
        from skills.code.sandbox import SkillRejected, check_source

        name = valid_name(meta.name)
        if meta.kind != "code":
            raise SkillRefused(f"{name}: only code skills can be added from source")
        try:
            check_source(source)
        except SkillRejected as e:
            raise SkillRefused(f"{name}: {e}") from None
        self.user_root.mkdir(parents=True, exist_ok=True)
        self._recover_swaps()
        final = self.user_root / name
        tmp = Path(tempfile.mkdtemp(dir=self.user_root, prefix=f".tmp-{name}-"))
        try:
            version = 1
            if final.is_dir():
                version = self._carry_versions(final, tmp) + 1
            stored = meta.model_copy(
                update={
                    "name": name,
                    "env": meta.env or self.env,
                    "version": version,
                    "successes": 0,
                    "attempts": 0,
                }
            )
            _write_text_synced(tmp / "skill.py", source)
            write_json_atomic(tmp / "meta.json", stored.model_dump(mode="json"))
            _fsync_dir(tmp)
            self._swap_in(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        self._forget_stats(name)
        self.reload()
        return stored

    def remove(self, name: str) -> None:
        """Delete a user skill folder (all its versions); shipped skills are refused."""
        if not (self.user_root / name).is_dir():
            if name in self._skills and self.is_shipped(name):
                raise SkillRefused(
                    f"{name!r} is shipped with mendako and cannot be removed; "
                    "add a user skill of the same name to override it"
                )
            raise SkillNotFound(f"no user skill named {name!r} in {self.user_root}")
        trash = self.user_root / f".old-{name}-removed"
        shutil.rmtree(trash, ignore_errors=True)
        os.rename(self.user_root / name, trash)  # atomic: the skill is gone in one step
        shutil.rmtree(trash, ignore_errors=True)
        self._forget_stats(name)
        self.reload()

    # ------------------------------------------------------------------ success history
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
            data = json.loads(path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError):
            self.problems.append(f"{path}: unreadable, success history starts afresh")
            return {}
        return data if isinstance(data, dict) else {}

    def _forget_stats(self, name: str) -> None:
        stats = self._read_stats()
        if stats.pop(f"{self.env}/{name}", None) is not None:
            write_json_atomic(self.user_root / "stats.json", stats)

    # ------------------------------------------------------------------ folder mechanics
    @staticmethod
    def _old_versions(folder: Path) -> list[int]:
        out = []
        vdir = folder / VERSIONS_DIR
        if vdir.is_dir():
            for p in vdir.iterdir():
                if p.is_dir() and p.name.startswith("v") and p.name[1:].isdigit():
                    out.append(int(p.name[1:]))
        return sorted(out)

    def _carry_versions(self, old: Path, new: Path) -> int:
        """Copy `old`'s history into `new` and archive `old`'s current files; return its version."""
        version = max(self._old_versions(old), default=0)
        try:
            version = max(version, int(json.loads((old / "meta.json").read_text())["version"]))
        except (OSError, ValueError, KeyError, TypeError):
            version += 1  # a broken current version is still archived, under the next number
        if (old / VERSIONS_DIR).is_dir():
            shutil.copytree(old / VERSIONS_DIR, new / VERSIONS_DIR)
        archive = new / VERSIONS_DIR / f"v{version}"
        archive.mkdir(parents=True, exist_ok=True)
        for f in old.iterdir():
            if f.is_file():
                shutil.copy2(f, archive / f.name)
        return version

    def _swap_in(self, tmp: Path, final: Path) -> None:
        if not final.exists():
            os.rename(tmp, final)
            return
        old = Path(tempfile.mkdtemp(dir=self.user_root, prefix=f".old-{final.name}-"))
        old.rmdir()
        os.rename(final, old)
        os.rename(tmp, final)
        _fsync_dir(self.user_root)
        shutil.rmtree(old, ignore_errors=True)

    def _recover_swaps(self) -> None:
        """Undo a swap cut short between its two renames; drop leftover temp folders."""
        if not self.user_root.is_dir():
            return
        for p in self.user_root.iterdir():
            if not p.is_dir():
                continue
            if p.name.startswith(".old-") and not p.name.endswith("-removed"):
                name = p.name[len(".old-") :].rsplit("-", 1)[0]
                if not (self.user_root / name).exists():
                    os.rename(p, self.user_root / name)
                    log.warning("restored skill %s after an interrupted rewrite", name)
                else:
                    shutil.rmtree(p, ignore_errors=True)
            elif p.name.endswith("-removed") or (
                # another process may be writing it right now: only old leftovers go
                p.name.startswith(".tmp-") and time.time() - p.stat().st_mtime > 600
            ):
                shutil.rmtree(p, ignore_errors=True)


def _write_text_synced(path: Path, text: str) -> None:
    with open(path, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)

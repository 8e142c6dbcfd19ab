"""The skill library: folders on disk (`<name>/{skill.py | policy.pt, meta.json}`).

Skills come from two places: the ones mendako ships (`skills/builtin/<env>/`) and the user's
(`$MENDAKO_HOME/skills/<name>/`); a user skill of the same name overrides a shipped one. The
index is rebuilt from the folders every time the library is opened. A folder that does not
load (bad JSON, missing file, wrong fields, user code that fails the sandbox's static check,
a symbolic link anywhere in it) is reported in `problems` and skipped; it never stops a run.

**Writes are serialised and atomic.** Every change to the user's folders takes the library's
lock (`skills/.lock`, an flock: processes sharing one home queue, and a killed process
releases it), computes the next version number under it, builds the complete new folder next
to the library (`.tmp-<name>-*`), then swaps it in with two renames (`<name>` ->
`.old-<name>-*`, temp -> `<name>`); folders whose names start with `.` are never loaded, so a
crash at any point leaves the old skill or the new one. If a crash falls between the two
renames, the next `reload` moves the `.old-` folder back.

**Versions.** A rewrite is a new version and the old one stays. The *active* version sits at
the top of the folder (`<name>/skill.py` or `policy.pt`, `<name>/meta.json`); every other
one is kept whole in `<name>/versions/v<N>/`. A version that did not earn its place (an RL
policy that evaluated worse than the active one, see `skills.rl.gate`) is stored under
`versions/` without becoming active; when the active one is shipped with mendako, the user's
folder then holds only `versions/`. Version numbers go on from the shipped version's, so a
user version never shares a number (or statistics) with the shipped one.

**Statistics** are kept per skill version apart from the skills (`skills._stats`), so that
shipped skills (read-only package data) learn from use like the user's own. With
`stats="frozen"` (or `MENDAKO_SKILL_STATS=frozen`, or a snapshot dict) they are read once
and never written: what one bench episode does cannot change what the next one reads.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from envs.registry import UnknownEnvError, adapter
from skills._home import file_lock, mendako_home, write_json_atomic
from skills._stats import Snapshot, StatsStore
from skills._stats import key as stats_key
from skills.base import Skill, SkillMeta

log = logging.getLogger(__name__)

VERSIONS_DIR = "versions"
STATS_ENV = "MENDAKO_SKILL_STATS"
"""Environment variable: `frozen` makes every library read statistics once, never write."""

StatsMode = Literal["live", "frozen"]


class SkillNotFound(KeyError):
    """No skill of that name in the library."""

    def __str__(self) -> str:  # KeyError quotes its message; users read this one
        return str(self.args[0]) if self.args else "skill not found"


class SkillRefused(ValueError):
    """The library will not do that (remove a shipped skill, add invalid code, bad name)."""


def builtin_root() -> Path:
    """The folder of skills shipped inside the mendako package."""
    return Path(str(resources.files("skills") / "builtin"))


def builtin_dir(env: str) -> Path:
    """The folder of `env`'s shipped skills: its adapter's own (an env plugin ships them in
    its package, ``EnvAdapter.skills_dir``), else mendako's ``skills/builtin/<env>/``."""
    try:
        own = adapter(env).skills_dir()
    except UnknownEnvError:
        own = None
    return own if own is not None else builtin_root() / env


def valid_name(name: str) -> str:
    """`name` if it can be a skill folder name (lower-case letters, digits, `_`), else raise."""
    ok = (
        isinstance(name, str)
        and name
        and name.isascii()
        and name[0].isalpha()
        and all(c.isalnum() or c == "_" for c in name)
    )
    if not ok or name != name.lower() or len(name) > 64:
        raise SkillRefused(
            f"bad skill name {name!r}: use lower-case letters, digits and '_' (e.g. place_furnace)"
        )
    return name


def symlinks_in(folder: Path) -> list[str]:
    """Paths (relative to `folder`) of the symbolic links in it, `.` for `folder` itself;
    never follows a link."""
    if folder.is_symlink():
        return ["."]
    found = []
    for top, dirs, files in os.walk(folder, followlinks=False):
        for n in (*dirs, *files):
            p = Path(top) / n
            if p.is_symlink():
                found.append(str(p.relative_to(folder)))
    return sorted(found)


def load_skill(folder: Path, *, trusted: bool) -> Skill:
    """Load one skill folder; raises ValueError with a one-line reason when it is broken."""
    if not trusted:
        links = symlinks_in(folder)
        if links:
            raise ValueError(
                f"{folder}: holds symbolic links ({', '.join(links[:3])}); skill folders are "
                "read without following links: remove them"
            )
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
class VersionInfo:
    """One version of a skill, with its own figures."""

    version: int
    meta: SkillMeta
    """Its meta.json, with `successes`/`attempts` = its own record plus what use added."""
    folder: Path
    active: bool
    shipped: bool


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
    """All versions on disk, oldest first."""
    history: list[VersionInfo] = field(default_factory=list)
    """Every version (shipped and the user's) with its own figures, oldest first."""


class SkillLibrary:
    """The skills available to an agent in one environment, loaded from their folders."""

    def __init__(
        self,
        env: str = "crafter",
        *,
        home: Path | None = None,
        kinds: tuple[str, ...] | None = None,
        stats: StatsMode | Mapping[str, Mapping[str, int]] | None = None,
    ) -> None:
        """`stats`: "live" (read and write the shared statistics), "frozen" (read them once,
        now, and never write them: `record` counts in memory only), or a snapshot from
        `stats_snapshot()` (start from it, never write). Default: $MENDAKO_SKILL_STATS, else
        "live"."""
        self.env = env
        self.kinds = kinds
        """Load only skills of these kinds (e.g. `("code",)`); None loads every kind."""
        self.home = home or mendako_home()
        self.user_root = self.home / "skills"
        self.problems: list[str] = []
        self._skills: dict[str, Skill] = {}
        self._shipped: set[str] = set()
        self._own: dict[str, tuple[int, int]] = {}  # name -> meta.json's own (s, n)
        self._store = StatsStore(self.user_root)
        if stats is None:
            stats = "frozen" if os.environ.get(STATS_ENV, "").lower() == "frozen" else "live"
        self._snapshot: Snapshot | None = None
        if isinstance(stats, Mapping):
            self._snapshot = {k: dict(v) for k, v in stats.items()}
        elif stats == "frozen":
            self._snapshot = self._store.read()
        elif stats != "live":
            raise ValueError(f"stats must be 'live', 'frozen' or a snapshot, not {stats!r}")
        self.unsaved: list[tuple[str, int, bool]] = []
        """(skill, version, success) of the attempts `record` did not save (frozen stats)."""
        self._counted: set[str] = set()  # record keys seen (frozen stats)
        self.reload()

    @property
    def frozen(self) -> bool:
        """Whether statistics are read from a fixed snapshot and never written."""
        return self._snapshot is not None

    def _lock(self) -> Any:
        return file_lock(self.user_root / ".lock")

    # ------------------------------------------------------------------ index
    def reload(self) -> None:
        """Rebuild the index from the folders (shipped first, then the user's on top)."""
        self._skills.clear()
        self._shipped.clear()
        self._own.clear()
        self.problems.clear()
        if not self.frozen and self.user_root.is_dir():
            with self._lock():
                self._recover_swaps()
        roots = [(builtin_dir(self.env), True), (self.user_root, False)]
        for root, trusted in roots:
            if not root.is_dir():
                continue
            for folder in sorted(root.iterdir()):
                if folder.name.startswith((".", "_")):
                    continue
                if not trusted and folder.is_symlink():
                    self.problems.append(f"{folder}: is a symbolic link; skipped")
                    continue
                if not folder.is_dir():
                    continue
                if not trusted and not (folder / "meta.json").exists() and not symlinks_in(folder):
                    if (folder / VERSIONS_DIR).is_dir():
                        continue  # only versions that are not active (the shipped one is)
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
        for name, skill in self._skills.items():
            self._own[name] = (skill.meta.successes, skill.meta.attempts)
        if not self.frozen and (self.user_root / "stats.json").is_file():
            with self._lock():
                active = {n: (s.meta.version, *self._own[n]) for n, s in self._skills.items()}
                self._store.import_legacy(self.env, active)
        stats = self._snapshot if self._snapshot is not None else self._store.read()
        for name, skill in self._skills.items():
            self._apply(skill.meta, self._own[name], stats)

    def _apply(self, meta: SkillMeta, own: tuple[int, int], stats: Snapshot) -> None:
        added = stats.get(stats_key(self.env, meta.name, meta.version), {})
        meta.successes = own[0] + int(added.get("successes", 0))
        meta.attempts = own[1] + int(added.get("attempts", 0))

    def __iter__(self) -> Iterator[Skill]:
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

    # ------------------------------------------------------------------ show
    def show(self, name: str) -> SkillInfo:
        """Meta, code and every version (with its own figures) of one skill."""
        skill = self.get(name)
        folder = getattr(skill, "folder", None)
        history = self.versions(name)
        return SkillInfo(
            meta=skill.meta,
            folder=Path(folder) if folder is not None else None,
            shipped=self.is_shipped(name),
            source=getattr(skill, "source", None),
            versions=[v.version for v in history],
            history=history,
        )

    def versions(self, name: str) -> list[VersionInfo]:
        """Every version of `name` on disk (the shipped one, the user's active one, the
        user's others), oldest first, each with its own figures."""
        valid_name(name)  # before any path is built from it
        stats = self._snapshot if self._snapshot is not None else self._store.read()
        active = self._skills.get(name)
        active_v = active.meta.version if active is not None else None
        out: dict[int, VersionInfo] = {}
        shipped = builtin_dir(self.env) / name
        candidates: list[tuple[Path, bool]] = [(shipped, True)]
        user = self.user_root / name
        if user.is_dir() and not symlinks_in(user):
            candidates.append((user, False))
            vdir = user / VERSIONS_DIR
            if vdir.is_dir():
                candidates += [(vdir / f"v{v}", False) for v in self._old_versions(user)]
        for folder, is_shipped in candidates:
            meta = _read_meta(folder)
            if meta is None or meta.env != self.env:
                continue
            own = (meta.successes, meta.attempts)
            self._apply(meta, own, stats)
            is_active = (
                active is not None
                and meta.version == active_v
                and Path(getattr(active, "folder", "")) == folder
            )
            out[meta.version] = VersionInfo(meta.version, meta, folder, is_active, is_shipped)
        return [out[v] for v in sorted(out)]

    # ------------------------------------------------------------------ add / remove
    def add(self, source: str, meta: SkillMeta) -> SkillMeta:
        """Write a code skill into the user's library as its new active version.

        The source must pass the sandbox's static check and define `run(api)`. If the skill
        exists (the user's or a shipped one), this is a rewrite: the new code becomes version
        N+1 (N the highest version on disk) and the old version is kept under
        `versions/vN/`. Success history starts afresh for a new version.
        """
        from skills.code.sandbox import SkillRejected, check_source

        name = valid_name(meta.name)
        if meta.kind != "code":
            raise SkillRefused(f"{name}: only code skills can be added from source")
        try:
            check_source(source)
        except SkillRejected as e:
            raise SkillRefused(f"{name}: {e}") from None

        def write(tmp: Path) -> None:
            _write_text_synced(tmp / "skill.py", source)

        return self._store_version(name, meta, write, activate=True)

    def add_version(self, built: Path, *, activate: bool) -> SkillMeta:
        """Store the skill built in folder `built` (its `meta.json` names it) as the next
        version of its name; `activate` makes it the active version, else it is kept under
        `versions/` and the active version stays. `built` is copied, never moved."""
        meta = _read_meta(built)
        if meta is None:
            raise SkillRefused(f"{built}: no valid meta.json")
        name = valid_name(meta.name)
        links = symlinks_in(built)
        if links:
            raise SkillRefused(f"{built}: holds symbolic links ({', '.join(links[:3])})")

        def write(tmp: Path) -> None:
            for f in built.iterdir():
                if f.is_file() and f.name != "meta.json":
                    shutil.copy2(f, tmp / f.name)

        return self._store_version(name, meta, write, activate=activate)

    def _store_version(
        self, name: str, meta: SkillMeta, write: Any, *, activate: bool
    ) -> SkillMeta:
        self.user_root.mkdir(parents=True, exist_ok=True)
        with self._lock():
            self._recover_swaps()
            final = self.user_root / name
            if final.is_symlink() or (final.exists() and symlinks_in(final)):
                raise SkillRefused(
                    f"{final}: holds symbolic links ({', '.join(symlinks_in(final)[:3])}); "
                    "remove them before writing a new version"
                )
            version = self._highest_version(name) + 1
            stored = meta.model_copy(
                update={"name": name, "env": meta.env or self.env, "version": version}
            )
            if meta.kind == "code":
                stored = stored.model_copy(update={"successes": 0, "attempts": 0})
            tmp = Path(tempfile.mkdtemp(dir=self.user_root, prefix=f".tmp-{name}-"))
            try:
                if final.is_dir():
                    self._carry_versions(final, tmp, keep_top=not activate)
                target = tmp if activate else tmp / VERSIONS_DIR / f"v{version}"
                target.mkdir(parents=True, exist_ok=True)
                write(target)
                write_json_atomic(target / "meta.json", stored.model_dump(mode="json"))
                _fsync_dir(target)
                _fsync_dir(tmp)
                self._swap_in(tmp, final)
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
        self.reload()
        return stored

    def activate(self, name: str, version: int) -> SkillMeta:
        """Make version `version` of `name` the active one (the shipped version included)."""
        name = valid_name(name)
        with self._lock():
            self._recover_swaps()
            found = {v.version: v for v in self.versions(name)}
            if version not in found:
                have = ", ".join(f"v{v}" for v in sorted(found)) or "none"
                raise SkillNotFound(f"{name} has no version v{version} (on disk: {have})")
            chosen = found[version]
            final = self.user_root / name
            if chosen.active:
                return chosen.meta
            tmp = Path(tempfile.mkdtemp(dir=self.user_root, prefix=f".tmp-{name}-"))
            try:
                if final.is_dir():
                    self._carry_versions(final, tmp, keep_top=False)
                if not chosen.shipped:
                    shutil.rmtree(tmp / VERSIONS_DIR / f"v{version}")
                    for f in chosen.folder.iterdir():
                        if f.is_file():
                            shutil.copy2(f, tmp / f.name)
                vdir = tmp / VERSIONS_DIR
                if vdir.is_dir() and not any(vdir.iterdir()):
                    vdir.rmdir()
                _fsync_dir(tmp)
                if any(tmp.iterdir()):
                    self._swap_in(tmp, final)
                else:  # back to the shipped version, nothing of the user's left
                    shutil.rmtree(tmp)
                    self._remove_folder(name)
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
        self.reload()
        return chosen.meta

    def remove(self, name: str) -> None:
        """Delete a user skill folder (all its versions); shipped skills are refused."""
        name = valid_name(name)
        with self._lock():
            folder = self.user_root / name
            if folder.is_symlink() or not folder.is_dir():
                if folder.is_symlink():
                    folder.unlink()  # the link only, never what it points to
                    self.reload()
                    return
                if name in self._skills and self.is_shipped(name):
                    raise SkillRefused(
                        f"{name!r} is shipped with mendako and cannot be removed; "
                        "add a user skill of the same name to override it"
                    )
                raise SkillNotFound(f"no user skill named {name!r} in {self.user_root}")
            gone = [v.version for v in self.versions(name) if not v.shipped]
            self._remove_folder(name)
            if not self.frozen:
                self._store.forget(self.env, name, gone)
        self.reload()

    def _remove_folder(self, name: str) -> None:
        trash = self.user_root / f".old-{name}-removed"
        shutil.rmtree(trash, ignore_errors=True)
        os.rename(self.user_root / name, trash)  # atomic: the skill is gone in one step
        shutil.rmtree(trash, ignore_errors=True)

    # ------------------------------------------------------------------ success history
    def record(
        self, name: str, success: bool, *, attempt: int | None = None, key: str | None = None
    ) -> bool:
        """Add one attempt to the active version's success history: persisted atomically, or
        with frozen statistics kept in memory only (the skill's meta, `stats_snapshot()` and
        `unsaved`), never written. `key` makes it count at most once (a resumed run repeating
        an attempt it had already counted); `attempt` alone (the caller's attempt index, no
        run to tie it to) does not. Returns whether it was counted."""
        del attempt  # only a run's ledger can make a key of it
        skill = self.get(name)
        if self._snapshot is not None:  # in memory only: this library's run learns within itself
            if key is not None:
                if key in self._counted:
                    return False
                self._counted.add(key)
            self.unsaved.append((name, skill.meta.version, bool(success)))
            row = self._snapshot.setdefault(
                stats_key(self.env, name, skill.meta.version), {"successes": 0, "attempts": 0}
            )
            row["attempts"] = row.get("attempts", 0) + 1
            row["successes"] = row.get("successes", 0) + int(success)
        elif not self._store.add(self.env, name, skill.meta.version, success, key=key):
            return False
        skill.meta.attempts += 1
        skill.meta.successes += int(success)
        return True

    def stats_snapshot(self) -> Snapshot:
        """The statistics as this library sees them: the shared store now (live), or the
        snapshot plus what this library recorded in memory (frozen). A JSON-able dict; pass
        it as `stats=` to open libraries that start from the same figures and never write."""
        if self._snapshot is not None:
            return {k: dict(v) for k, v in self._snapshot.items()}
        return self._store.read()

    # ------------------------------------------------------------------ folder mechanics
    def _highest_version(self, name: str) -> int:
        """The highest version of `name` on disk, shipped or the user's (0 if none)."""
        best = 0
        shipped = _read_meta(builtin_dir(self.env) / name)
        if shipped is not None:
            best = shipped.version
        folder = self.user_root / name
        if folder.is_dir():
            best = max(best, *self._old_versions(folder), 0)
            top = folder / "meta.json"
            if top.is_file():
                try:
                    best = max(best, int(json.loads(top.read_text())["version"]))
                except (OSError, ValueError, KeyError, TypeError):
                    best += 1  # a broken current version still takes a number
        return best

    @staticmethod
    def _old_versions(folder: Path) -> list[int]:
        out = []
        vdir = folder / VERSIONS_DIR
        if vdir.is_dir() and not vdir.is_symlink():
            for p in vdir.iterdir():
                if p.is_dir() and p.name.startswith("v") and p.name[1:].isdigit():
                    out.append(int(p.name[1:]))
        return sorted(out)

    def _carry_versions(self, old: Path, new: Path, *, keep_top: bool) -> None:
        """Copy `old`'s history into `new`; its top (active) files stay at the top with
        `keep_top`, else they are archived under `versions/v<their version>`."""
        if (old / VERSIONS_DIR).is_dir():
            shutil.copytree(old / VERSIONS_DIR, new / VERSIONS_DIR, symlinks=True)
        top = [f for f in old.iterdir() if f.is_file() and not f.is_symlink()]
        if not top:
            return
        if keep_top:
            for f in top:
                shutil.copy2(f, new / f.name, follow_symlinks=False)
            return
        version = max(self._old_versions(old), default=0) + 1
        try:
            version = int(json.loads((old / "meta.json").read_text())["version"])
        except (OSError, ValueError, KeyError, TypeError):
            pass  # a broken current version is archived under the next free number
        archive = new / VERSIONS_DIR / f"v{version}"
        archive.mkdir(parents=True, exist_ok=True)
        for f in top:
            shutil.copy2(f, archive / f.name, follow_symlinks=False)

    def _swap_in(self, tmp: Path, final: Path) -> None:
        if not final.exists():
            os.rename(tmp, final)
            _fsync_dir(self.user_root)
            return
        old = Path(tempfile.mkdtemp(dir=self.user_root, prefix=f".old-{final.name}-"))
        old.rmdir()
        os.rename(final, old)
        os.rename(tmp, final)
        _fsync_dir(self.user_root)
        shutil.rmtree(old, ignore_errors=True)

    def _recover_swaps(self) -> None:
        """Undo a swap cut short between its two renames; drop leftover temp folders.
        Called with the lock held, so no other process is between its renames now."""
        if not self.user_root.is_dir():
            return
        for p in self.user_root.iterdir():
            if not p.is_dir() or p.is_symlink():
                continue
            if p.name.startswith(".old-") and not p.name.endswith("-removed"):
                name = p.name[len(".old-") :].rsplit("-", 1)[0]
                if not (self.user_root / name).exists():
                    os.rename(p, self.user_root / name)
                    log.warning("restored skill %s after an interrupted rewrite", name)
                else:
                    shutil.rmtree(p, ignore_errors=True)
            elif p.name.endswith("-removed") or p.name.startswith(".tmp-"):
                # every writer holds the lock while its temp folder exists: this one is dead
                shutil.rmtree(p, ignore_errors=True)


def _read_meta(folder: Path) -> SkillMeta | None:
    """The meta.json of a version folder, or None if it has none (or a broken one)."""
    try:
        return SkillMeta.model_validate(json.loads((folder / "meta.json").read_text()))
    except (OSError, ValueError, ValidationError):
        return None


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

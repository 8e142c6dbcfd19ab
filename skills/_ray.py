"""Ray, the optional engine for spreading episodes and rollouts past one machine.

`pip install -e '.[ray]'` installs it; without it every `--ray` says so in one line
(:class:`RayMissing`). What lives here is what bench episodes and PPO rollouts share:

- :func:`init` starts a local Ray instance or joins a cluster (``address``), forwarding the
  environment variables that name a language-model backend's server or key, so a remote
  ``--llm openai:...`` works the same on every worker;
- :func:`map_tasks` runs one function over many items on ``parallel`` worker processes (Ray
  actors, so a model a worker loads serves all its items), and resubmits an item whose
  worker died (a killed process, a lost node) to a new worker, up to ``retries`` times;
  every item yields exactly one result, and each retry is recorded;
- :func:`pack_folder` / :func:`unpack_folder` carry a folder (a run's trace) from a worker's
  disk back to the driver's.
"""

from __future__ import annotations

import io
import os
import re
import tarfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

INSTALL_HINT = "Ray is not installed: pip install -e '.[ray]'"
FORWARDED_ENV = (
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "OPENAI_API_BASE",
    "ANTHROPIC_API_KEY",
    "OLLAMA_HOST",
    "MENDAKO_LLM_CACHE",
    "MENDAKO_LLM_THREADS",
)
"""Driver variables every worker gets (backends' servers and keys, mendako's LLM knobs)."""
RETRIES = 2
"""How many times an item whose worker died is resubmitted before the run gives up."""


class RayMissing(ValueError):
    """`--ray` was asked for but Ray is not installed (a user error: one line)."""


class RayTaskLost(RuntimeError):
    """An item's worker died more often than the retries allow."""


def require_ray() -> Any:
    """The `ray` module, or RayMissing with the one-line install hint."""
    try:
        import ray
    except ImportError:
        raise RayMissing(INSTALL_HINT) from None
    return ray


def init(address: str | None = None, *, num_cpus: int | None = None) -> Any:
    """Join the cluster at `address` (``"auto"``, ``"ray://host:10001"``, ...) or start a
    local instance with `num_cpus`; a no-op when Ray is already initialised here."""
    ray = require_ray()
    if not ray.is_initialized():
        env = {k: os.environ[k] for k in FORWARDED_ENV if k in os.environ}
        kw: dict[str, Any] = {
            "include_dashboard": False,
            "log_to_driver": False,
            "runtime_env": {"env_vars": env} if env else None,
        }
        if address:
            ray.init(address=address, **kw)
        else:
            ray.init(num_cpus=num_cpus, **kw)
    return ray


def cluster_cpus() -> int:
    """CPUs the Ray cluster this process joined offers (at least 1)."""
    ray = require_ray()
    return max(1, int(ray.cluster_resources().get("CPU", 1)))


@dataclass
class Retry:
    """One resubmission: which item, which attempt failed, and why."""

    index: int
    attempt: int
    error: str


def _lost_errors(ray: Any) -> tuple[type[BaseException], ...]:
    ex = ray.exceptions
    names = (
        "WorkerCrashedError",
        "NodeDiedError",
        "ObjectLostError",
        "OwnerDiedError",
        "LocalRayletDiedError",
        "ActorDiedError",
        "ActorUnavailableError",
    )
    return tuple(getattr(ex, n) for n in names if hasattr(ex, n))


def _one_line(e: BaseException) -> str:
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(e)).strip().splitlines()
    return f"{type(e).__name__}: {text[0][:160] if text else ''}"


class _Worker:
    """One worker process (a Ray actor): runs the functions it is given, one at a time, so
    what a function caches in its module (a loaded model) serves every later item here."""

    def run(self, fn: Callable[..., Any], item: Any, *shared: Any) -> Any:
        return fn(item, *shared)

    def pid(self) -> int:
        return os.getpid()


def map_tasks(
    fn: Callable[..., Any],
    items: Sequence[Any],
    *,
    parallel: int,
    shared: tuple[Any, ...] = (),
    retries: int = RETRIES,
    retried: list[Retry] | None = None,
) -> Iterator[tuple[int, Any]]:
    """Run ``fn(item, *shared)`` for every item on ``parallel`` Ray worker processes (actors);
    yield ``(index, result)`` as they finish. When a worker dies, it is replaced and its item
    resubmitted, up to ``retries`` times per item (each resubmission appended to `retried`);
    an exception raised by ``fn`` itself is a bug, not a lost worker, and propagates."""
    ray = require_ray()
    actor = ray.remote(num_cpus=1, max_restarts=0, max_task_retries=0)(_Worker)
    shared_refs = tuple(ray.put(s) for s in shared)
    lost = _lost_errors(ray)
    queue = list(range(len(items)))
    attempts = [0] * len(items)
    idle = [actor.remote() for _ in range(max(1, min(parallel, len(items))))]
    pending: dict[Any, tuple[int, Any]] = {}
    try:
        while queue or pending:
            while queue and idle:
                i, w = queue.pop(0), idle.pop()
                attempts[i] += 1
                pending[w.run.remote(fn, items[i], *shared_refs)] = (i, w)
            ready, _ = ray.wait(list(pending), num_returns=1)
            i, w = pending.pop(ready[0])
            try:
                out = ray.get(ready[0])
            except lost as e:
                ray.kill(w)
                if attempts[i] > retries:
                    raise RayTaskLost(
                        f"item {i}: its worker died {attempts[i]} times (last: {type(e).__name__})"
                    ) from e
                if retried is not None:
                    retried.append(Retry(i, attempts[i], _one_line(e)))
                idle.append(actor.remote())
                queue.insert(0, i)
                continue
            idle.append(w)
            yield i, out
    finally:
        for w in idle + [w for _, w in pending.values()]:
            ray.kill(w)


def pack_folder(folder: Path, *, skip: tuple[str, ...] = ()) -> bytes:
    """The folder as tar bytes (names relative to it), leaving out files named in `skip`."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for p in sorted(folder.rglob("*")):
            if p.is_file() and p.name not in skip:
                tar.add(p, arcname=str(p.relative_to(folder)))
    return buf.getvalue()


def unpack_folder(data: bytes, folder: Path) -> Path:
    """Write what :func:`pack_folder` packed into `folder` (refusing paths that leave it)."""
    folder.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r") as tar:
        tar.extractall(folder, filter="data")
    return folder

"""Run LLM-written code skills (Voyager-style ``def run(api)``) in a locked-down child process.

Security rests on the operating system (`_boundary`): the child runs under bubblewrap as
uid/gid 65534 in fresh user/pid/mount/net/ipc/uts/cgroup namespaces with a read-only view of
the interpreter, a private tmpfs and a seccomp allowlist. In front of it, two Python-level
filters keep honest mistakes readable and turn the usual escapes into clear messages:

1. `check_source` rejects escapes by shape before anything runs (imports outside a small
   allowlist, dunder/frame attributes, eval/exec/open, ``str.format`` on non-literals,
   class patterns, run-time-built names handed to typing/dataclasses/functools).
2. The child executes the skill with curated builtins, a guarded ``__import__`` that hands
   out public-only module facades, an ``api`` proxy that forwards calls over a pipe, and
   rlimits (address space, CPU, no file writes, no processes, few fds).

The parent serves api calls (public allowlisted names only, plain data both ways), treats
every frame from the child as hostile, enforces the wall clock, and turns every way a skill
can end into a `SandboxResult`. Where the machine cannot give the OS boundary, untrusted
code is refused (``error_kind="unavailable"``) unless ``MENDAKO_UNSAFE_SANDBOX=1``.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from skills.code._boundary import UNSAFE_ENV, boundary, problem, unsafe_allowed
from skills.code._runner import Session, manifest
from skills.code._static import ALLOWED_IMPORTS, SkillRejected, check_source

__all__ = [
    "ALLOWED_IMPORTS",
    "UNSAFE_ENV",
    "ErrorKind",
    "SandboxResult",
    "SkillRejected",
    "boundary_problem",
    "check_source",
    "run_code_skill",
]

ErrorKind = Literal[
    "rejected",
    "unavailable",
    "exception",
    "timeout",
    "memory",
    "crashed",
    "budget",
    "episode_over",
]


def boundary_problem() -> str | None:
    """Why this machine cannot sandbox untrusted code (one line), or None when it can."""
    return problem()


@dataclass(frozen=True)
class SandboxResult:
    """How one run of a code skill ended."""

    ok: bool
    """True when ``run(api)`` returned normally."""
    error: str | None
    """One line for the LLM (``ValueError: ... (line 7)``), None when ok."""
    error_kind: ErrorKind | None
    """Why it failed; ``budget``/``episode_over`` come from the api's own stop exceptions."""
    calls: int
    """Api calls and property reads served by the parent."""
    wall_s: float
    """Wall-clock seconds, child start included."""
    stdout: str
    """What the skill printed (and interpreter crash text), truncated to 64 KiB."""
    traceback: str = ""
    """The skill's own frames of the failing traceback (``line N, in f`` + the source line)."""
    hardening: tuple[str, ...] = ()
    """The OS-level limits the child managed to apply (e.g. ``RLIMIT_AS``, ``netns``)."""

    def feedback(self) -> str:
        """Error line plus traceback and output tail, the text a Voyager loop feeds back."""
        if self.ok:
            return "ok"
        parts = [f"[{self.error_kind}] {self.error}"]
        if self.traceback:
            parts.append("Traceback (skill code only):\n" + self.traceback)
        if self.stdout.strip():
            parts.append("Output (tail):\n" + self.stdout[-1500:])
        return "\n".join(parts)


def run_code_skill(
    source: str,
    api: object,
    *,
    time_limit_s: float = 30,
    memory_limit_mb: int = 512,
    allowed: frozenset[str] | None = None,
    scratch_dir: Path | None = None,
    func_name: str = "run",
    trusted: bool = False,
) -> SandboxResult:
    """Check `source`, then run its ``run(api)`` in a sandboxed child against `api`.

    `allowed` names the api attributes the skill may use (public names only; default: all
    public attributes of `api`). Never raises for anything the skill does; a rejected source
    is reported as ``error_kind="rejected"``. Untrusted code (the default) needs the OS
    boundary: without it the result is ``error_kind="unavailable"`` with what is missing,
    unless ``MENDAKO_UNSAFE_SANDBOX=1``; `trusted` code (mendako's shipped skills) runs
    inside the boundary when there is one and in a plain child when there is not.
    """
    start = time.perf_counter()
    try:
        check_source(source, func_name)
    except SkillRejected as exc:
        return SandboxResult(False, str(exc), "rejected", 0, time.perf_counter() - start, "")
    if not trusted and boundary() is None and not unsafe_allowed():
        return SandboxResult(
            False,
            f"refused to run untrusted code without an OS sandbox: {problem()}; set "
            f"{UNSAFE_ENV}=1 to run it with the Python-level checks only",
            "unavailable",
            0,
            time.perf_counter() - start,
            "",
        )
    return _run_unchecked(
        source,
        api,
        time_limit_s=time_limit_s,
        memory_limit_mb=memory_limit_mb,
        allowed=allowed,
        scratch_dir=scratch_dir,
        func_name=func_name,
        start=start,
    )


def _run_unchecked(
    source: str,
    api: object,
    *,
    time_limit_s: float,
    memory_limit_mb: int,
    allowed: frozenset[str] | None,
    scratch_dir: Path | None,
    func_name: str,
    start: float,
) -> SandboxResult:
    """Run without the static check; tests use it to probe the deeper layers alone."""
    methods, props = manifest(api, allowed)
    own_scratch = scratch_dir is None
    scratch = Path(tempfile.mkdtemp(prefix="mendako-skill-")) if own_scratch else scratch_dir
    assert scratch is not None
    session = Session(
        source=source,
        api=api,
        methods=methods,
        props=props,
        time_limit_s=time_limit_s,
        memory_limit_mb=memory_limit_mb,
        scratch=scratch,
        func_name=func_name,
        boundary=boundary(),
    )
    try:
        session.run()
    finally:
        if own_scratch:
            shutil.rmtree(scratch, ignore_errors=True)
    return _result(session, time.perf_counter() - start)


BOUNDARY_LAYERS = (
    "bwrap",
    "uid 65534",
    "userns",
    "pidns",
    "mountns",
    "netns",
    "ipcns",
    "utsns",
    "seccomp allowlist",
)


def _result(s: Session, wall_s: float) -> SandboxResult:
    out = s.output.decode("utf-8", "replace")
    if s.output_dropped:
        out += f"\n... [{s.output_dropped} more bytes of output dropped]"
    hardening = tuple(s.hardening) + (BOUNDARY_LAYERS if s.boundary is not None else ())
    kind: ErrorKind | None
    tb = ""
    # What the parent saw itself comes first; the child's own report only counts when the
    # child also ended in time and on its own.
    if s.stop is not None:
        kind, error = s.stop[0], s.stop[1]  # type: ignore[assignment]
    elif s.timed_out:
        kind, error = (
            "timeout",
            f"time limit of {s.time_limit_s:g} s exceeded ({s.calls} api calls)",
        )
    elif s.protocol_error is not None:
        kind, error = "crashed", f"sandbox protocol error: {s.protocol_error}"
    elif s.lingered:
        kind, error = "crashed", "the skill process did not exit after reporting (killed)"
    elif s.outcome is not None and s.outcome[0] == "ok" and s.returncode == 0:
        kind, error = None, None
    elif s.outcome is not None and s.outcome[0] in ("exception", "memory"):
        kind, error, tb = s.outcome[0], s.outcome[1], s.outcome[2]  # type: ignore[assignment]
    else:
        kind, error = _classify_exit(s.returncode, out, s.time_limit_s)
    return SandboxResult(
        ok=kind is None,
        error=error,
        error_kind=kind,
        calls=s.calls,
        wall_s=wall_s,
        stdout=out,
        traceback=tb,
        hardening=hardening,
    )


def _classify_exit(returncode: int | None, out: str, time_limit_s: float) -> tuple[ErrorKind, str]:
    import signal

    if returncode in (-signal.SIGXCPU, -signal.SIGKILL):
        return "timeout", f"CPU time limit of ~{time_limit_s:g} s exceeded"
    if "MemoryError" in out or "Cannot allocate memory" in out or "out of memory" in out:
        return "memory", "memory limit exceeded"
    tail = [line for line in out.strip().splitlines() if line.strip()][-1:] or [""]
    return "crashed", f"skill process exited with status {returncode} {tail[0][:200]}".strip()

"""Code-skill sandbox start-up: median start + first api call with the OS boundary, beside the
raw cost of the tool that gives it.

    python benchmarks/sandbox_start.py [--runs 30]

Runnable from any folder. Each figure is the median (and the 10th-90th percentile range) of
`--runs` runs, after two untimed warm-up runs (the boundary's one-off probe, page cache):

- ``sandbox start + first call``: `run_code_skill` of a skill whose first statement is
  ``api.noop()``, from the call until the parent serves that first api call (the static
  check, the bwrap+seccomp start, the child's interpreter and bootstrap, the init message).
- ``whole run``: the same call until it returns (the child exits and is reaped).
- ``same, no OS boundary``: the same child started plainly (what the sandbox cost before
  bubblewrap; ``MENDAKO_UNSAFE_SANDBOX=1`` runs untrusted code this way).
- raw tool costs: ``bwrap ... true`` (namespaces, mounts, seccomp; no interpreter), ``bwrap
  ... python -I -S -c pass`` and bare ``python -I -S -c pass`` with the same interpreter.

The load average is printed with the figures: on a shared, loaded machine every wall time
here includes waiting for a core (the plain child's figure is the yardstick: the issue
measured 18 ms for it on an idle machine). CPU time is not printed: the sandboxed processes
are reaped inside their pid namespace, so `getrusage` of this process does not see them all.

The target (issue #16) is a median start + first call of at most 50 ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from skills.code import _boundary  # noqa: E402
from skills.code._runner import Session, manifest  # noqa: E402
from skills.code.sandbox import run_code_skill  # noqa: E402

SKILL = "def run(api):\n    api.noop()\n"


class Api:
    """A one-method api that notes when the first call reached the parent."""

    def __init__(self) -> None:
        self.first: float | None = None

    def noop(self) -> None:
        if self.first is None:
            self.first = time.perf_counter()


def _sandboxed() -> tuple[float, float]:
    api = Api()
    t0 = time.perf_counter()
    res = run_code_skill(SKILL, api, time_limit_s=10)
    t1 = time.perf_counter()
    assert res.ok and api.first is not None, res.feedback()
    return api.first - t0, t1 - t0


def _plain() -> tuple[float, float]:
    import tempfile

    api = Api()
    methods, props = manifest(api, None)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as scratch:
        s = Session(SKILL, api, methods, props, 10, 512, Path(scratch), boundary=None)
        s.run()
    t1 = time.perf_counter()
    assert s.outcome is not None and s.outcome[0] == "ok" and api.first is not None
    return api.first - t0, t1 - t0


def _raw(program: list[str], boxed: bool) -> float:
    t0 = time.perf_counter()
    if boxed:
        b = _boundary.boundary()
        assert b is not None
        p = b.spawn(program, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    else:
        p = subprocess.Popen(program, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    assert p.wait() == 0
    return time.perf_counter() - t0


def _stats(xs: list[float]) -> str:
    q = statistics.quantiles(xs, n=10) if len(xs) >= 2 else [xs[0]] * 9
    return f"{statistics.median(xs) * 1e3:7.1f} ms  (p10 {q[0] * 1e3:.1f}, p90 {q[8] * 1e3:.1f})"


def main(argv: list[str] | None = None) -> None:
    """Print the figures (see the module docstring)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument(
        "--torch",
        action="store_true",
        help="import torch first, as `mendako run` does (a big parent makes fork slow)",
    )
    args = ap.parse_args(argv)
    if args.torch:
        import torch  # noqa: F401
    b = _boundary.boundary()
    if b is None:
        print(f"no OS boundary on this machine: {_boundary.problem()}")
        return
    print(f"bwrap: {b.bwrap}\ninterpreter in the sandbox: {b.python}; runs: {args.runs}")
    print(f"parent holds torch: {args.torch}; drops to uid 65534 with: {b.setpriv or 'Popen'}")
    rows: list[tuple[str, Callable[[], object]]] = [
        ("sandbox start + first call", _sandboxed),
        ("same, no OS boundary (before)", _plain),
        ("raw: bwrap ... true", lambda: _raw(["/usr/bin/true"], True)),
        (
            "raw: bwrap ... python -I -S -c pass",
            lambda: _raw([b.python, "-I", "-S", "-c", "pass"], True),
        ),
        (
            "raw: python -I -S -c pass (no bwrap)",
            lambda: _raw([b.python, "-I", "-S", "-c", "pass"], False),
        ),
    ]
    for _ in range(2):
        for _, fn in rows:
            fn()
    results: dict[str, list] = {name: [] for name, _ in rows}
    load0 = os.getloadavg()[0]
    for _ in range(args.runs):  # interleaved, so that load on a shared machine hits all alike
        for name, fn in rows:
            results[name].append(fn())
    print(f"load average {load0:.1f} -> {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    for name, xs in results.items():
        if xs and isinstance(xs[0], tuple):
            print(f"{name:<40}{_stats([x[0] for x in xs])}")
            label = "  whole run (child exited, reaped)"
            print(f"{label:<40}{_stats([x[1] for x in xs])}")
        else:
            print(f"{name:<40}{_stats(xs)}")
    met = statistics.median(x[0] for x in results["sandbox start + first call"]) <= 0.050
    print(f"target: median start + first call <= 50 ms: {'met' if met else 'NOT met'}")


if __name__ == "__main__":
    main()

"""Tests for the code-skill sandbox: benign skills work, hostile ones are refused or contained.

The hostile corpus lives in ``hostile/*.py``; each file's header says what must happen
(``# expect: rejected|exception|timeout|memory|budget|crashed|ok``), with what message
(``# message: REGEX``) or output (``# stdout: REGEX``), under ``# limit: SECONDS`` (1.5 by
default); ``# mode: unchecked`` files skip the
static check and escape the Python layers on purpose, to probe the OS boundary. Every run
is checked for containment: marker files outside the sandbox keep mode, owner, times,
xattrs and contents, no secret comes back, and the parent keeps its pid, cwd and rlimits.
"""

from __future__ import annotations

import io
import os
import re
import resource
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from rich.console import Console

from agents._render import live_event
from envs.untrusted import text
from skills.code._boundary import boundary
from skills.code.sandbox import (
    BOUNDARY_LAYERS,
    SandboxResult,
    SkillRejected,
    _run_unchecked,
    boundary_problem,
    check_source,
    run_code_skill,
)

HOSTILE = sorted((Path(__file__).parent / "hostile").glob("*.py"))
ALLOWED = frozenset(
    {"move_toward", "do", "noop", "inventory", "get_object", "need", "collect", "stop_episode"}
)


class BudgetExhausted(Exception):
    """Named like envs' stop exception; the sandbox matches by class name."""


class EpisodeOver(Exception):
    """Named like envs' stop exception; the sandbox matches by class name."""


class FakeApi:
    """A tiny primitive api: records calls; `do` spends a step budget."""

    def __init__(self, budget: int = 50) -> None:
        self.log: list[tuple[str, tuple]] = []
        self.budget = budget
        self._env = "the real env, never reachable"

    def move_toward(self, kind: str) -> bool:
        self.log.append(("move_toward", (kind,)))
        return True

    def do(self) -> dict[str, int]:
        if self.budget <= 0:
            raise BudgetExhausted("step budget of the skill is spent")
        self.budget -= 1
        self.log.append(("do", ()))
        return {"wood": 1}

    def noop(self) -> None:
        return None

    def collect(self, kind: str, until: int = 1) -> tuple[str, int]:
        self.log.append(("collect", (kind, until)))
        return (kind, until)

    def stop_episode(self) -> None:
        raise EpisodeOver("the player died")

    def get_object(self) -> object:
        return object()

    def secret(self) -> str:
        return "not in the allowlist"

    @property
    def inventory(self) -> dict[str, int]:
        return {"wood": sum(1 for name, _ in self.log if name == "do")}

    @property
    def need(self) -> list[str]:
        raise ValueError("need is not known yet")


def _run(source: str, api: FakeApi | None = None, **kw: object) -> SandboxResult:
    kw.setdefault("time_limit_s", 2.0)
    kw.setdefault("memory_limit_mb", 256)
    kw.setdefault("allowed", ALLOWED)
    return run_code_skill(source, api or FakeApi(), **kw)  # type: ignore[arg-type]


def _pwned() -> list[str]:
    return sorted(p for p in os.listdir("/tmp") if p.startswith("mendako_pwned"))


def _header(source: str) -> dict[str, str]:
    """The ``# key: value`` lines at the top of a corpus file (expect, message, stdout, mode)."""
    out = {}
    for line in source.splitlines()[:8]:
        key, sep, value = line.removeprefix("# ").partition(": ")
        if (
            line.startswith("# ")
            and sep
            and key in ("expect", "message", "stdout", "mode", "limit")
        ):
            out[key] = value.strip()
    return out


@dataclass
class Markers:
    """Files outside the sandbox that no skill may change or learn anything about."""

    folder: Path
    marker: Path
    hidden: Path

    def snapshot(self) -> list[tuple[object, ...]]:
        out = []
        for p in (self.folder, self.marker, self.hidden):
            st = p.stat()
            xattrs = {k: os.getxattr(p, k) for k in os.listxattr(p)}
            data = p.read_bytes() if p.is_file() else sorted(os.listdir(p))
            out.append((st.st_mode, st.st_uid, st.st_gid, st.st_mtime_ns, st.st_ino, xattrs, data))
        return out


@pytest.fixture
def markers() -> Iterator[Markers]:
    folder = Path(tempfile.mkdtemp(prefix="mendako-marker-"))
    folder.chmod(0o755)
    marker, hidden = folder / "marker.txt", folder / "hidden-secret"
    marker.write_text("marker: do not touch\n")
    hidden.write_text(f"TOPSECRET-{os.getpid()}\n")
    marker.chmod(0o640)
    for p in (marker, hidden):
        os.setxattr(p, "user.mendako", b"marker")
        os.utime(p, ns=(1_000_000_000_000_000_000, 1_000_000_000_000_000_000))
    yield Markers(folder, marker, hidden)
    shutil.rmtree(folder, ignore_errors=True)


KNOWN_LAYERS = {*BOUNDARY_LAYERS} | {
    "RLIMIT_AS",
    "RLIMIT_CPU",
    "RLIMIT_FSIZE",
    "RLIMIT_CORE",
    "RLIMIT_NPROC",
    "RLIMIT_NOFILE",
    "RLIMIT_MEMLOCK",
}


def test_corpus_is_big_enough() -> None:
    assert len(HOSTILE) >= 60


@pytest.mark.parametrize("path", HOSTILE, ids=[p.stem for p in HOSTILE])
def test_hostile_skill_is_refused_or_contained(path: Path, markers: Markers) -> None:
    head = _header(path.read_text())
    expect = head["expect"]
    source = (
        path.read_text()
        .replace("MARKER_DIR", str(markers.folder))
        .replace("MARKER", str(markers.marker))
        .replace("HIDDEN", str(markers.hidden))
        .replace("PARENT_PID", str(os.getpid()))
    )
    unchecked = head.get("mode") == "unchecked"
    limit = float(head.get("limit", 1.5))  # filling memory takes seconds on a loaded machine
    if unchecked and boundary() is None:
        pytest.skip(f"probes the OS boundary, which this machine lacks: {boundary_problem()}")
    before, pid, cwd = _pwned(), os.getpid(), os.getcwd()
    limits = [resource.getrlimit(r) for r in (resource.RLIMIT_NOFILE, resource.RLIMIT_AS)]
    files = markers.snapshot()
    api = FakeApi(budget=5)
    if expect == "rejected":
        with pytest.raises(SkillRejected, match=r"line \d+|no top-level"):
            check_source(source)
    if unchecked:
        result = _run_unchecked(
            source,
            api,
            time_limit_s=limit,
            memory_limit_mb=256,
            allowed=ALLOWED,
            scratch_dir=None,
            func_name="run",
            start=time.perf_counter(),
        )
    else:
        result = _run(source, api, time_limit_s=limit)
    assert result.error_kind == (None if expect == "ok" else expect), result.feedback()
    assert result.ok is (expect == "ok")
    if not result.ok:
        assert result.error and "\n" not in result.error
    if "message" in head:
        assert re.search(head["message"], result.error or ""), result.feedback()
    if "stdout" in head:
        assert re.search(head["stdout"], result.stdout), result.stdout
    assert set(result.hardening) <= KNOWN_LAYERS, result.hardening
    assert result.wall_s < limit + 3.5
    # contained: nothing outside changed, nothing secret came back, the parent is untouched
    assert markers.snapshot() == files
    shown = result.feedback() + result.stdout
    assert "TOPSECRET" not in shown and str(markers.hidden.stat().st_ino) not in shown
    assert _pwned() == before and os.getpid() == pid and os.getcwd() == cwd
    assert [resource.getrlimit(r) for r in (resource.RLIMIT_NOFILE, resource.RLIMIT_AS)] == limits
    assert api._env == "the real env, never reachable"
    # and whatever the skill printed or raised is shown as text, never as terminal control
    out = io.StringIO()
    console = Console(file=out, width=120, force_terminal=False)
    live_event(
        console,
        {"node": "execute_skill", "update": {"last_error": result.error, "last_stopped": "x"}},
    )
    console.print(text(result.stdout, newlines=True))
    assert "\x1b" not in out.getvalue() and "\x07" not in out.getvalue()


def test_benign_skill_drives_the_api() -> None:
    source = (
        "import math\n"
        "from collections import Counter\n\n"
        "def run(api):\n"
        "    print('start', math.floor(2.5), Counter('aab')['a'])\n"
        "    api.move_toward('tree')\n"
        "    for _ in range(3):\n"
        "        api.do()\n"
        "    kind, n = api.collect('tree', until=3)\n"
        "    assert (kind, n) == ('tree', 3)\n"
        "    print('inventory', api.inventory)\n"
    )
    api = FakeApi()
    result = _run(source, api)
    assert result.ok, result.feedback()
    assert result.error is None and result.error_kind is None
    assert result.calls == 6
    assert api.log == [
        ("move_toward", ("tree",)),
        ("do", ()),
        ("do", ()),
        ("do", ()),
        ("collect", ("tree", 3)),
    ]
    assert result.stdout == "start 2 2\ninventory {'wood': 3}\n"


def test_skill_may_catch_ordinary_api_errors() -> None:
    source = (
        "def run(api):\n"
        "    try:\n"
        "        api.need\n"
        "    except ValueError as e:\n"
        "        print('caught', e)\n"
    )
    result = _run(source)
    assert result.ok, result.feedback()
    assert result.stdout == "caught need is not known yet\n"


def test_budget_exhausted_gives_budget() -> None:
    result = _run("def run(api):\n    while True:\n        api.do()\n", FakeApi(budget=3))
    assert (result.ok, result.error_kind) == (False, "budget")
    assert "BudgetExhausted" in (result.error or "")
    assert result.calls == 4


def test_episode_over_gives_episode_over() -> None:
    result = _run("def run(api):\n    api.stop_episode()\n")
    assert result.error_kind == "episode_over"


def test_exception_reports_skill_line_and_traceback() -> None:
    source = "def helper(x):\n    return x[5]\n\ndef run(api):\n    helper([1])\n"
    result = _run(source)
    assert result.error_kind == "exception"
    assert result.error == "IndexError: list index out of range (line 2)"
    assert "line 5, in run" in result.traceback and "return x[5]" in result.traceback
    assert "_child" not in result.feedback()


def test_rejected_is_reported_not_raised() -> None:
    result = _run("import os\n\ndef run(api):\n    pass\n")
    assert result.error_kind == "rejected" and "line 1" in (result.error or "")
    assert _run("def go(api):\n    pass\n").error_kind == "rejected"
    assert _run("def run(:\n").error_kind == "rejected"


@pytest.mark.parametrize(
    "source",
    [
        "from dataclasses import dataclass\n\n@dataclass\nclass P:\n    x: int = 0\n\n"
        "def run(api):\n    assert P(3).x == 3\n",
        "import heapq, itertools, functools, random, typing\n\n"
        "def run(api):\n    h = [3, 1]\n    heapq.heapify(h)\n    random.seed(0)\n"
        "    assert list(itertools.islice(itertools.count(), 2)) == [0, 1]\n",
        "class Walker:\n    def __init__(self, api):\n        self.api = api\n\n"
        "def run(api):\n    w = Walker(api)\n"
        "    print(f'{w.api!r} {getattr(api, \"inventory\")}')\n",
    ],
    ids=["dataclass", "allowed-imports", "class"],
)
def test_ordinary_skill_code_is_allowed(source: str) -> None:
    result = _run(source)
    assert result.ok, result.feedback()


def test_os_layers_contain_an_escaped_skill(tmp_path: Path) -> None:
    """Skip the static check and escape the restricted builtins: the OS layers still hold."""
    if boundary() is None:  # without it this escape would really create a file
        pytest.skip(f"no OS boundary here: {boundary_problem()}")
    source = (
        "def run(api):\n"
        "    g = [c for c in ().__class__.__base__.__subclasses__()\n"
        "         if c.__name__ == '_wrap_close'][0].__init__.__globals__\n"
        "    posix = g['sys'].modules['posix']\n"
        "    out = []\n"
        "    for name, f in [\n"
        "        ('fork', lambda: posix.fork()),\n"
        "        ('create', lambda: posix.open('/tmp/mendako_pwned_escape', 65)),\n"
        "        ('read', lambda: posix.open('/etc/hostname', 0)),\n"
        "        ('write', lambda: posix.write(posix.open('f', 65), b'x')),\n"
        "        ('signal', lambda: posix.kill(posix.getppid(), 0)),\n"
        "    ]:\n"
        "        try:\n"
        "            f()\n"
        "            out.append(name + ':allowed')\n"
        "        except Exception:\n"
        "            out.append(name + ':blocked')\n"
        "    print(' '.join(out))\n"
    )
    result = _run_unchecked(
        source,
        FakeApi(),
        time_limit_s=5,
        memory_limit_mb=256,
        allowed=ALLOWED,
        scratch_dir=tmp_path,
        func_name="run",
        start=time.perf_counter(),
    )
    assert result.ok, result.feedback()
    assert "write:blocked" in result.stdout  # RLIMIT_FSIZE=0, always there
    assert {"bwrap", "seccomp allowlist", "uid 65534"} <= set(result.hardening)
    assert result.stdout.split() == [
        "fork:blocked",
        "create:blocked",
        "read:blocked",
        "write:blocked",
        "signal:blocked",
    ]
    assert not _pwned()


def test_startup_and_round_trip_are_fast() -> None:
    api = FakeApi()
    empty = min(_run("def run(api):\n    pass\n", api).wall_s for _ in range(3))
    n = 2000
    many = _run(f"def run(api):\n    for _ in range({n}):\n        api.noop()\n", api)
    per_call = (many.wall_s - empty) / n
    print(f"startup+exit {empty * 1e3:.1f} ms, round trip {per_call * 1e6:.0f} us")
    assert many.ok and many.calls == n
    assert empty < 0.5 and per_call < 500e-6

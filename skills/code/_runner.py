"""Parent side of the sandbox: start the child, serve its api calls, enforce the wall clock.

One `Session` per skill run. It is single-threaded: a selector waits on the child's RPC pipe
and its output pipe with the remaining time as timeout, so a child that stops reading, floods
output or loops forever can never block the parent past the deadline. The child is treated
as hostile: frames are capped at `MAX_FRAME_BYTES`, decoded as JSON into plain data only
(str-keyed dicts, lists, tuples, bounded ints, finite floats: nothing that hashes a value the
child chose), checked against the deadline one by one, and a child that is past its limit,
or that does not exit after reporting, is killed and its run is a failure whatever it said.
"""

from __future__ import annotations

import inspect
import json
import marshal
import math
import os
import select
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from skills.code._boundary import SCRATCH, Boundary
from skills.code._static import ALLOWED_IMPORTS

CHILD_SCRIPT = Path(__file__).with_name("_child.py")
MAX_FRAME_BYTES = 1 << 18
"""Largest child -> parent frame; decoding one costs well under 0.1 s even on a loaded machine."""
MAX_OUTPUT_BYTES = 64 * 1024
STOP_GRACE_S = 0.5
EXIT_GRACE_S = 1.0
"""How long a child that reported its result may take to exit before it is killed."""
_INT_BOUND = 1 << 63
MAX_DEPTH = 32

# Matched by class name (anywhere in the MRO) because the classes live in envs/ and the
# sandbox must not depend on them.
STOP_KINDS = {"BudgetExhausted": "budget", "EpisodeOver": "episode_over", "SkillStop": "budget"}


class ProtocolError(Exception):
    """The child sent something that is not a well-formed message."""


class DeadlineExceeded(Exception):
    """The wall-clock limit passed while the parent waited on the child."""


STUB = (
    "import marshal, os\n"
    "def _take(n):\n"
    "    b = b''\n"
    "    while len(b) < n:\n"
    "        c = os.read(0, n - len(b))\n"
    "        if not c:\n"
    "            os._exit(3)\n"
    "        b += c\n"
    "    return b\n"
    "exec(marshal.loads(_take(int.from_bytes(_take(4), 'big'))))\n"
)
"""What ``python -c`` runs in the child: read the bootstrap's code object from stdin, run it.
No file of mendako's is bound into the sandbox, and nothing is compiled at each start."""


@cache
def bootstrap(python: str) -> bytes:
    """`_child.py` compiled by (and marshalled for) the interpreter `python`, once."""
    source = CHILD_SCRIPT.read_text()
    if os.path.realpath(python) == os.path.realpath(sys.executable):
        return marshal.dumps(compile(source, "<sandbox child>", "exec"))
    compiler = (
        "import marshal, sys\n"
        "code = compile(sys.stdin.read(), '<sandbox child>', 'exec')\n"
        "sys.stdout.buffer.write(marshal.dumps(code))\n"
    )
    return subprocess.run(
        [python, "-I", "-S", "-c", compiler],
        input=source.encode(),
        capture_output=True,
        timeout=60,
        check=True,
        env={},
    ).stdout


def _no_constant(text: str) -> Any:
    raise ValueError(f"{text} is not plain data")


def _unwire(value: Any, depth: int = 0) -> Any:
    """Child JSON -> plain data: ``{"t": [...]}`` is a tuple, ``{"d": [[k, v]]}`` a dict."""
    if depth > MAX_DEPTH:
        raise ValueError("nested too deeply")
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return value
    if kind is int:
        if not -_INT_BOUND <= value < _INT_BOUND:
            raise ValueError("int too long")
        return value
    if kind is float:
        if not math.isfinite(value):
            raise ValueError("non-finite float")
        return value
    if kind is list:
        return [_unwire(v, depth + 1) for v in value]
    if type(value) is dict and len(value) == 1:
        tag, items = next(iter(value.items()))
        if tag == "t" and type(items) is list:
            return tuple(_unwire(v, depth + 1) for v in items)
        if tag == "d" and type(items) is list:
            out: dict[str, Any] = {}
            for pair in items:
                if not (type(pair) is list and len(pair) == 2 and type(pair[0]) is str):
                    raise ValueError("dict entries must be [str, value] pairs")
                out[pair[0]] = _unwire(pair[1], depth + 1)
            return out
    raise ValueError("not a tagged value")


def decode_frame(payload: bytes) -> list[Any]:
    """One child frame -> ``[tag, value, ...]`` of plain data; `ProtocolError` otherwise."""
    try:
        # ints over 4300 digits are refused by int() itself (sys.int_info), in microseconds
        raw = json.loads(payload.decode("ascii"), parse_constant=_no_constant)
        if not (type(raw) is list and raw and type(raw[0]) is str):
            raise ValueError("message is not a tagged list")
        return [raw[0], *(_unwire(v) for v in raw[1:])]
    except (ValueError, TypeError, RecursionError, MemoryError, UnicodeDecodeError) as exc:
        raise ProtocolError(f"undecodable message ({type(exc).__name__}: {exc})"[:200]) from None


def manifest(api: object, allowed: Iterable[str] | None) -> tuple[list[str], list[str]]:
    """Split the api's public allowed names into methods (called) and properties (read)."""
    names = [n for n in dir(api) if not n.startswith("_")] if allowed is None else list(allowed)
    methods, props = [], []
    for name in sorted(set(names)):
        if not isinstance(name, str) or name.startswith("_"):
            continue
        try:
            static = inspect.getattr_static(api, name)
        except AttributeError:
            continue
        if isinstance(static, property) or not callable(static):
            props.append(name)
        else:
            methods.append(name)
    return methods, props


def to_plain(value: Any, depth: int = 0) -> Any:
    """Copy an api result as builtin plain data, or raise TypeError if it is not data."""
    if depth > 32:
        raise TypeError("value is nested too deeply")
    if value is None or type(value) in (str, int, float, bool):
        return value
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, (list, set, frozenset)):
        return [to_plain(v, depth + 1) for v in value]
    if isinstance(value, tuple):
        return tuple(to_plain(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return {to_plain(k, depth + 1): to_plain(v, depth + 1) for k, v in value.items()}
    if type(value).__module__ == "numpy" and hasattr(value, "tolist"):
        return to_plain(value.tolist(), depth + 1)
    raise TypeError(f"{type(value).__name__} is not plain data")


def stop_kind(exc: BaseException) -> str | None:
    """The error kind of an api exception that ends the skill, matched by class name."""
    for cls in type(exc).__mro__:
        if cls.__name__ in STOP_KINDS:
            return STOP_KINDS[cls.__name__]
    return None


def one_line(exc: BaseException, limit: int = 300) -> str:
    """``Name: message`` on one line, truncated."""
    try:
        text = " ".join(str(exc).split())
    except Exception:  # noqa: BLE001 - an exception that cannot print itself
        text = "<unprintable>"
    if len(text) > limit:
        text = text[:limit] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


@dataclass
class Session:
    """One run of one skill in one child process; `run()` returns how it ended."""

    source: str
    api: object
    methods: list[str]
    props: list[str]
    time_limit_s: float
    memory_limit_mb: int
    scratch: Path
    func_name: str = "run"
    boundary: Boundary | None = None
    """Run inside this OS boundary; None runs a plain child (trusted or explicitly unsafe)."""
    calls: int = 0
    outcome: tuple[str, str, str] | None = None  # (kind, message, traceback) from the child
    stop: tuple[str, str] | None = None  # (error kind, message) of an api stop
    timed_out: bool = False
    protocol_error: str | None = None
    lingered: bool = False  # reported a result, then did not exit in time (killed)
    hardening: list[str] = field(default_factory=list)
    output: bytearray = field(default_factory=bytearray)
    output_dropped: int = 0
    returncode: int | None = None
    deadline: float = field(default=0.0, init=False, repr=False)
    _stop_name: str = field(default="", init=False, repr=False)
    _wfd: int = field(default=-1, init=False, repr=False)

    def run(self) -> None:
        """Start the child and serve it until it ends, fails or runs out of time."""
        start = time.perf_counter()
        self.deadline = start + self.time_limit_s
        b = self.boundary
        python = b.python if b is not None else sys.executable
        program = [python, "-I", "-S", "-B", "-u", "-c", STUB]
        pipes: dict[str, Any] = {
            "stdin": subprocess.PIPE,
            "stdout": subprocess.PIPE,
            "stderr": subprocess.PIPE,
            "start_new_session": True,
            "close_fds": True,
        }
        try:
            if b is not None:
                proc = b.spawn(program, **pipes)
            else:
                proc = subprocess.Popen(program, cwd=self.scratch, env={}, **pipes)
        except OSError as exc:
            self.protocol_error = f"cannot start the sandbox child: {exc}"
            return
        self._methods, self._props = frozenset(self.methods), frozenset(self.props)
        try:
            self._serve(proc)
        except DeadlineExceeded:
            if self.outcome is not None:
                self.lingered = True  # reported in time, then held its pipes open
            else:
                self.timed_out = True
        except ProtocolError as exc:
            self.protocol_error = str(exc)
        finally:
            self._finish(proc)

    def _serve(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdin and proc.stdout and proc.stderr
        self._wfd, rfd, efd = proc.stdin.fileno(), proc.stdout.fileno(), proc.stderr.fileno()
        for fd in (self._wfd, rfd, efd):
            os.set_blocking(fd, False)
        code = bootstrap(self.boundary.python if self.boundary is not None else sys.executable)
        self._write(len(code).to_bytes(4, "big") + code)
        init = {
            "source": self.source,
            "func_name": self.func_name,
            "methods": self.methods,
            "props": self.props,
            "imports": sorted(ALLOWED_IMPORTS),
            "scratch": SCRATCH if self.boundary is not None else str(self.scratch),
            "memory_limit_mb": int(self.memory_limit_mb),
            "cpu_limit_s": int(math.ceil(self.time_limit_s)) + 1,
        }
        self._send(init)
        buf = bytearray()
        with selectors.DefaultSelector() as sel:
            sel.register(rfd, selectors.EVENT_READ, "rpc")
            sel.register(efd, selectors.EVENT_READ, "out")
            while sel.get_map():
                remaining = self.deadline - time.perf_counter()
                if remaining <= 0:
                    raise DeadlineExceeded
                for key, _ in sel.select(remaining):
                    chunk = self._read(key.fd)
                    if chunk is None:
                        continue
                    if not chunk:
                        sel.unregister(key.fd)
                    elif key.data == "out":
                        self._capture(chunk)
                    else:
                        buf += chunk
                        self._handle_frames(buf)
                if self.outcome is not None and rfd in sel.get_map():
                    # Done (in time): keep draining its output only briefly, then stop
                    # waiting; a child still holding its pipes open then is lingering.
                    sel.unregister(rfd)
                    self.deadline = time.perf_counter() + EXIT_GRACE_S

    @staticmethod
    def _read(fd: int) -> bytes | None:
        """Bytes read, ``b""`` at end of file, None when nothing is ready after all."""
        try:
            return os.read(fd, 1 << 16)
        except BlockingIOError:
            return None
        except OSError:
            return b""

    def _capture(self, chunk: bytes) -> None:
        room = MAX_OUTPUT_BYTES - len(self.output)
        self.output += chunk[:room]
        self.output_dropped += max(0, len(chunk) - room)

    def _handle_frames(self, buf: bytearray) -> None:
        while len(buf) >= 4:
            if self.outcome is not None:
                raise ProtocolError("message after the final report")
            size = int.from_bytes(buf[:4], "big")
            if size > MAX_FRAME_BYTES:
                raise ProtocolError(f"message of {size} bytes exceeds the limit")
            if len(buf) < 4 + size:
                return
            if time.perf_counter() >= self.deadline:
                raise DeadlineExceeded  # nothing that arrives late counts, a "done" least of all
            payload = bytes(buf[4 : 4 + size])
            del buf[: 4 + size]
            message = decode_frame(payload)
            if time.perf_counter() >= self.deadline:
                raise DeadlineExceeded
            self._handle(message)

    def _handle(self, message: list[Any]) -> None:
        tag = message[0]
        if tag in ("call", "get"):
            self._send(self._dispatch(message))
        elif tag == "hello" and len(message) == 2 and type(message[1]) is list:
            self.hardening = [x for x in message[1] if type(x) is str and x.startswith("RLIMIT_")][
                :16
            ]
        elif tag == "done" and len(message) == 4 and all(type(x) is str for x in message[1:]):
            if message[1] not in ("ok", "exception", "memory", "stop"):
                raise ProtocolError(f"unknown outcome {message[1][:40]!r}")
            self.outcome = (message[1], message[2][:2000], message[3][:4000])
        else:
            raise ProtocolError(f"unexpected message {str(tag)[:40]!r}")

    def _dispatch(self, message: list[Any]) -> tuple[Any, ...]:
        self.calls += 1
        if self.stop is not None:
            return ("stop", self._stop_name, self.stop[1])
        tag, name = message[0], message[1] if len(message) > 1 else None
        table = self._methods if tag == "call" else self._props
        if not isinstance(name, str) or name not in table:
            return ("err", "AttributeError", f"api has no public attribute {name!r}")
        if tag == "call":
            if not (len(message) == 4 and type(message[2]) is tuple and type(message[3]) is dict):
                raise ProtocolError("malformed call")
        try:
            target = getattr(self.api, name)
            value = target(*message[2], **message[3]) if tag == "call" else target
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # noqa: BLE001 - reported to the skill, not raised here
            kind = stop_kind(exc)
            if kind is None:
                return ("err", type(exc).__name__, one_line(exc).partition(": ")[2])
            self.stop = (kind, one_line(exc))
            self._stop_name = type(exc).__name__
            self.deadline = min(self.deadline, time.perf_counter() + STOP_GRACE_S)
            return ("stop", self._stop_name, self.stop[1])
        try:
            return ("ok", to_plain(value))
        except TypeError as exc:
            return ("err", "TypeError", f"api.{name} returned non-data: {exc}")

    def _send(self, message: Any) -> None:
        data = marshal.dumps(message)
        self._write(len(data).to_bytes(4, "big") + data)

    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            try:
                view = view[os.write(self._wfd, view) :]
            except BlockingIOError:
                pass
            except (BrokenPipeError, ConnectionResetError):
                return  # the child is gone; its exit status tells why
            if view:
                remaining = self.deadline - time.perf_counter()
                if remaining <= 0:
                    raise DeadlineExceeded
                select.select([], [self._wfd], [], remaining)

    def _finish(self, proc: subprocess.Popen[bytes]) -> None:
        if not (self.timed_out or self.protocol_error):
            try:
                self.returncode = proc.wait(timeout=EXIT_GRACE_S)
            except subprocess.TimeoutExpired:
                self.lingered = self.outcome is not None
        if self.returncode is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.returncode = proc.wait()
        assert proc.stderr
        try:
            while chunk := os.read(proc.stderr.fileno(), 1 << 16):
                self._capture(chunk)
        except OSError:
            pass
        for pipe in (proc.stdin, proc.stdout, proc.stderr):
            try:
                if pipe:
                    pipe.close()
            except OSError:
                pass

"""Bootstrap of the sandbox child, never imported by mendako: compiled once per process by
the interpreter that runs it, and sent as a marshalled code object to a ``python -I -S -B -u
-c STUB`` started inside bubblewrap (see `_boundary` and `_runner.STUB`).

It stays import-light (no site, no numpy/torch) so a skill starts in a few milliseconds.
Order matters: read the init message, apply rlimits and poison modules, then execute the
skill with curated builtins and call ``run(api)`` where ``api`` forwards to the parent over
stdin/stdout. The skill's own prints go to fd 2. None of this is the security boundary (a
skill that escapes the Python layers is still inside the namespaces and seccomp filter);
it keeps honest mistakes readable.

Wire format: 4-byte big-endian length + payload. Parent -> child payloads are ``marshal``
(trusted); child -> parent payloads are JSON of plain data (tuples as ``{"t": [...]}``,
dicts as ``{"d": [[key, value], ...]}`` with str keys), which the parent decodes itself.
"""

# No `from __future__ import annotations` and `_signal`, not `signal` (which imports enum):
# every module imported here is start-up time of every skill run.
import _signal
import builtins
import marshal
import os
import resource
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:  # names for the type checker only (typing would be start-up time)
    from types import ModuleType
    from typing import Any

_RPC_IN = 0
_RPC_OUT = os.dup(1)
os.dup2(2, 1)  # print() and any stray write to fd 1 now land in the captured output pipe

_MAX_MESSAGE_BYTES = (1 << 18) - 64  # the parent refuses frames over 256 KiB

_BUILTIN_ERRORS = {
    name: getattr(builtins, name)
    for name in (
        "ValueError",
        "TypeError",
        "KeyError",
        "IndexError",
        "LookupError",
        "RuntimeError",
        "AttributeError",
        "NotImplementedError",
        "ArithmeticError",
        "ZeroDivisionError",
        "AssertionError",
        "StopIteration",
    )
}


class ApiError(RuntimeError):
    """An exception the parent's api raised, re-raised in the skill by name and message."""


class SkillStop(BaseException):
    """The parent's api stopped the skill (budget spent, episode over); later calls re-raise."""


def _read_exact(n: int) -> bytes:
    chunks = []
    while n:
        chunk = os.read(_RPC_IN, n)
        if not chunk:
            os._exit(3)  # parent went away
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def _recv() -> "Any":  # the parent's marshalled message: a tuple or dict by protocol
    size = int.from_bytes(_read_exact(4), "big")
    return marshal.loads(_read_exact(size))


try:  # the C string escaper alone: importing json would pull in re (~10 ms of start-up)
    from _json import encode_basestring_ascii as _quote
except ImportError:  # pragma: no cover - a Python built without _json
    from json import dumps as _quote


def _json(value: object, out: list) -> None:
    """Append the JSON of `_plain` data; tuples as ``{"t": [...]}``, dicts as ``{"d": ...}``."""
    kind = type(value)
    if kind is str:
        out.append(_quote(value))  # type: ignore[arg-type]  # kind is str: mypy cannot narrow
    elif value is None:
        out.append("null")
    elif kind is bool:
        out.append("true" if value else "false")
    elif kind is int or kind is float:
        out.append(repr(value))  # finite, checked by _plain
    elif kind is list or kind is tuple:
        out.append("[" if kind is list else '{"t":[')
        for i, item in enumerate(value):  # type: ignore[arg-type, var-annotated]
            if i:
                out.append(",")
            _json(item, out)
        out.append("]" if kind is list else "]}")
    elif kind is dict:
        out.append('{"d":[')
        for i, (key, item) in enumerate(value.items()):  # type: ignore[attr-defined]
            out += [",[" if i else "[", _quote(key), ","]
            _json(item, out)
            out.append("]")
        out.append("]}")
    else:
        raise TypeError(f"{kind.__name__} is not plain data")


def _send(message: tuple) -> None:
    out = ["[", _quote(message[0])]
    for value in message[1:]:
        out.append(",")
        _json(value, out)
    out.append("]")
    data = "".join(out).encode("ascii")
    if len(data) > _MAX_MESSAGE_BYTES:
        raise ValueError("api call arguments are too large (over 256 KiB)")
    data = len(data).to_bytes(4, "big") + data
    while data:
        data = data[os.write(_RPC_OUT, data) :]


_PLAIN_SCALARS = (str, int, float, bool, type(None))


def _plain(value: object, depth: int = 0) -> object:
    """Copy `value` as exact builtin plain data (str dict keys, 64-bit ints, finite floats)."""
    kind = type(value)
    if depth > 20:
        raise TypeError("api argument is nested too deeply")
    if kind in _PLAIN_SCALARS:
        if kind is float and (value != value or value in (float("inf"), float("-inf"))):
            raise TypeError("api arguments must be finite floats")
        if kind is int and not -(1 << 63) <= value < (1 << 63):  # type: ignore[operator]
            raise TypeError("api arguments must be 64-bit ints")
        return value
    if kind is list or kind is tuple:
        items = [_plain(v, depth + 1) for v in value]  # type: ignore[attr-defined]
        return items if kind is list else tuple(items)
    if kind is dict:
        if not all(type(k) is str for k in value):  # type: ignore[attr-defined]
            raise TypeError("api argument dicts must have str keys")
        return {k: _plain(v, depth + 1) for k, v in value.items()}  # type: ignore[attr-defined]
    raise TypeError(
        f"api arguments must be plain data (str/int/float/bool/None/list/tuple/dict), "
        f"not {kind.__name__}"
    )


_stopped: SkillStop | None = None


def _rpc(message: tuple) -> object:
    global _stopped
    if _stopped is not None:
        raise _stopped
    _send(message)
    reply = _recv()
    status = reply[0]
    if status == "ok":
        return reply[1]
    if status == "err":
        cls = _BUILTIN_ERRORS.get(reply[1], ApiError)
        raise cls(reply[2] if cls is not ApiError else f"{reply[1]}: {reply[2]}")
    cls = type(reply[1], (SkillStop,), {})
    _stopped = cls(reply[2])
    raise _stopped


def _make_api(methods: frozenset, props: frozenset) -> object:
    names = sorted(methods | props)
    cache: dict = {}

    def method(name: str):  # noqa: ANN202 - private factory
        def call(*args, **kwargs):
            return _rpc(("call", name, _plain(args), _plain(kwargs)))

        call.__name__ = call.__qualname__ = name
        return call

    class Api:
        """The environment's primitive api; calls are forwarded to the parent process."""

        __slots__ = ()

        def __getattr__(self, name: str) -> object:
            if name in methods:
                if name not in cache:
                    cache[name] = method(name)
                return cache[name]
            if name in props:
                return _rpc(("get", name))
            raise AttributeError(f"api has no attribute {name!r}; available: {', '.join(names)}")

        def __setattr__(self, name: str, value: object) -> None:
            raise AttributeError("the api is read-only")

        def __dir__(self) -> list:
            return list(names)

        def __repr__(self) -> str:
            return "<api>"

    return Api()


# Helpers that evaluate text or set attributes named at run time (the static check refuses
# them by name too; a facade without them leaves nothing to reach by a computed name).
_HIDDEN = frozenset({"get_type_hints", "ForwardRef", "make_dataclass", "update_wrapper"})


class _Module:
    """What `import x` gives a skill: the module's public, non-module attributes."""

    _name: str

    def __init__(self, module: "ModuleType") -> None:
        for key, value in vars(module).items():
            if key in _HIDDEN:
                continue
            if not key.startswith("_") and type(value) is not type(sys):
                object.__setattr__(self, key, value)
        object.__setattr__(self, "_name", module.__name__)

    def __repr__(self) -> str:
        return f"<module {self._name!r}>"


def _make_import(allowed: frozenset):
    real_import = builtins.__import__
    facades: dict = {}

    def guarded_import(name, globals=None, locals=None, fromlist=(), level=0):  # noqa: A002
        if level or name not in allowed:
            raise ImportError(f"import of {name!r} is not allowed")
        if name not in facades:
            facades[name] = _Module(real_import(name))
        return facades[name]

    return guarded_import


# fmt: off
_POISONED_MODULES = (
    "socket", "_socket", "ssl", "_ssl", "subprocess", "_posixsubprocess", "ctypes", "_ctypes",
    "multiprocessing", "_multiprocessing", "pty", "mmap", "select", "selectors", "shutil",
    "signal", "resource", "fcntl", "termios", "http", "urllib", "ftplib", "smtplib",
)
# fmt: on

# fmt: off
_SAFE_BUILTINS = (
    "abs", "all", "any", "ascii", "bin", "bool", "bytearray", "bytes", "callable", "chr",
    "classmethod", "complex", "dict", "dir", "divmod", "enumerate", "filter", "float", "format",
    "frozenset", "hash", "hex", "id", "int", "isinstance", "issubclass", "iter", "len", "list",
    "map", "max", "min", "next", "object", "oct", "ord", "pow", "print", "property", "range",
    "repr", "reversed", "round", "set", "slice", "sorted", "staticmethod", "str", "sum", "super",
    "tuple", "type", "zip", "BaseException", "Exception", "ArithmeticError", "AssertionError",
    "AttributeError", "ImportError", "IndexError", "KeyError", "LookupError", "MemoryError",
    "NameError", "NotImplementedError", "OverflowError", "RecursionError", "RuntimeError",
    "StopIteration", "TypeError", "ValueError", "ZeroDivisionError", "NotImplemented",
    "Ellipsis", "True", "False", "None",
)
# fmt: on


def _safe_getattr(obj, name, *default):
    if not isinstance(name, str) or name.startswith("_"):
        raise AttributeError(f"attribute {name!r} is not accessible from a skill")
    return getattr(obj, name, *default)


def _safe_hasattr(obj, name):
    if not isinstance(name, str) or name.startswith("_"):
        raise AttributeError(f"attribute {name!r} is not accessible from a skill")
    return hasattr(obj, name)


def _restricted_builtins(allowed_imports: frozenset) -> dict:
    safe = {name: getattr(builtins, name) for name in _SAFE_BUILTINS}
    safe["__build_class__"] = builtins.__build_class__  # class statements need it
    safe["__import__"] = _make_import(allowed_imports)
    safe["getattr"] = _safe_getattr
    safe["hasattr"] = _safe_hasattr
    safe["ApiError"] = ApiError
    return safe


def _lock_down(init: dict) -> list:
    """Apply the rlimits that are available; return the names of those applied."""
    applied = []
    _signal.signal(_signal.SIGXFSZ, _signal.SIG_IGN)  # over-size writes fail with EFBIG instead
    mem = init["memory_limit_mb"] * 1024 * 1024
    cpu = init["cpu_limit_s"]
    for name, limit in (
        ("RLIMIT_AS", (mem, mem)),
        ("RLIMIT_CPU", (cpu, cpu + 1)),
        ("RLIMIT_FSIZE", (0, 0)),
        ("RLIMIT_CORE", (0, 0)),
        ("RLIMIT_NPROC", (0, 0)),
        ("RLIMIT_NOFILE", (16, 16)),
        ("RLIMIT_MEMLOCK", (0, 0)),
    ):
        res = getattr(resource, name, None)
        if res is None:
            continue
        try:
            resource.setrlimit(res, limit)
            applied.append(name)
        except (ValueError, OSError):
            pass
    os.chdir(init["scratch"])
    for mod in _POISONED_MODULES:
        sys.modules[mod] = None  # type: ignore[assignment]  # later imports fail
    return applied


def _skill_frames(tb, lines: list) -> tuple:
    """The skill's own frames as text, and the line number of the innermost one."""
    out, last = [], 0
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_filename == "<skill>":
            last = tb.tb_lineno
            text = lines[last - 1].strip() if 0 < last <= len(lines) else ""
            out.append(f"  line {last}, in {code.co_name}\n    {text}")
        tb = tb.tb_next
    if len(out) > 8:
        out = out[:3] + [f"  ... {len(out) - 6} more frames ..."] + out[-3:]
    return "\n".join(out), last


def _report(kind: str, exc: BaseException, lines: list) -> None:
    text, line = _skill_frames(exc.__traceback__, lines)
    message = _describe(exc) + (f" (line {line})" if line else "")
    _send(("done", kind, message, text))


def _describe(exc: BaseException) -> str:
    try:
        text = str(exc)
    except BaseException:  # noqa: BLE001 - a skill's own exception may fail to print
        text = "<unprintable>"
    text = " ".join(text.split())
    if len(text) > 300:
        text = text[:300] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def main() -> None:
    """Read the init message, lock down, run the skill, report how it ended."""
    init = _recv()
    applied = _lock_down(init)
    reserve = bytearray(1 << 20)  # freed on MemoryError so reporting it still works
    source = init["source"]
    lines = source.splitlines()
    module = type(sys)("skill")  # a real module, so dataclasses & co. can find its globals
    sys.modules["skill"] = module
    glb = module.__dict__
    glb["__builtins__"] = _restricted_builtins(frozenset(init["imports"]))
    api = _make_api(frozenset(init["methods"]), frozenset(init["props"]))
    _send(("hello", applied))
    try:
        exec(compile(source, "<skill>", "exec"), glb)
        glb[init["func_name"]](api)
    except SkillStop as exc:
        _send(("done", "stop", _describe(exc), ""))
    except MemoryError as exc:
        del reserve
        _report("memory", exc, lines)
    except BaseException as exc:  # noqa: BLE001 - every way a skill fails is reported
        _report("exception", exc, lines)
    else:
        _send(("done", "ok", "", ""))
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()

"""Static validation of a code skill's source, run in the parent before anything executes.

A first filter with clear messages, not the security boundary (that is the OS sandbox in
`_boundary`). It rejects the well-known Python sandbox escapes by shape: imports outside a
small allowlist, dunder and frame-walking attributes (also as match keyword patterns), the
names that evaluate or open things, ``str.format`` on strings that are not literals, and the
ways of building a class or an attribute name at run time that the standard library then
trusts: three-argument ``type()``, metaclasses, class patterns on classes the skill did not
define, ``typing.get_type_hints`` (evaluates text), ``dataclasses.make_dataclass`` and
``functools.update_wrapper`` (set computed attribute names).
"""

from __future__ import annotations

import ast
import re
import string

ALLOWED_IMPORTS: frozenset[str] = frozenset(
    {"math", "random", "itertools", "collections", "functools", "dataclasses", "typing", "heapq"}
)
"""Top-level modules a skill may import; the child hands out a facade with public names only."""

MAX_SOURCE_CHARS = 100_000

# fmt: off
_FORBIDDEN_NAMES = frozenset(
    {
        "eval", "exec", "compile", "open", "globals", "locals", "vars", "breakpoint", "input",
        "setattr", "delattr", "__import__", "__builtins__", "__loader__", "__spec__",
        "memoryview", "exit", "quit", "help", "copyright", "credits", "license",
    }
)
# fmt: on
# getattr/hasattr are fine with a literal, public attribute name, which is what LLM code uses.
_LITERAL_NAME_ONLY = frozenset({"getattr", "hasattr"})
# Attributes that reach frames, code or globals without a dunder (generator/frame/traceback).
# fmt: off
_FORBIDDEN_ATTRS = frozenset(
    {
        "gi_frame", "gi_code", "gi_yieldfrom", "cr_frame", "cr_code", "cr_await", "ag_frame",
        "ag_code", "ag_await", "f_back", "f_globals", "f_locals", "f_builtins", "f_code",
        "f_trace", "tb_frame", "tb_next", "func_globals", "func_code", "im_func", "im_self",
        "mro", "format_map",
        # standard-library helpers that evaluate text or set attributes named at run time
        "get_type_hints", "ForwardRef", "make_dataclass", "update_wrapper", "new_class",
    }
)
# Types whose positional class pattern (`case int(x)`) binds the subject itself.
_PATTERN_TYPES = frozenset(
    {"bool", "bytearray", "bytes", "dict", "float", "frozenset", "int", "list", "set", "str",
     "tuple"}
)
# fmt: on
# Dunder methods a skill may define on its own classes (defining them reaches nothing).
# fmt: off
_DEFINABLE_DUNDERS = frozenset(
    {
        "__init__", "__post_init__", "__repr__", "__str__", "__eq__", "__ne__", "__lt__",
        "__le__", "__gt__", "__ge__", "__hash__", "__len__", "__iter__", "__next__",
        "__contains__", "__getitem__", "__bool__", "__add__", "__sub__", "__mul__",
    }
)
# fmt: on
_DUNDER_IN_STRING = re.compile(r"__\w+__")


class SkillRejected(ValueError):
    """The skill's source failed static validation; the message is one line for the LLM."""


def _where(node: ast.AST) -> str:
    return f"line {getattr(node, 'lineno', '?')}"


def _reject(node: ast.AST, what: str) -> SkillRejected:
    return SkillRejected(f"{_where(node)}: {what}")


def _check_format_literal(node: ast.AST, text: str) -> None:
    """A literal format string may index fields but not reach private attributes."""
    try:
        fields = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise _reject(node, f"malformed format string ({exc})") from None
    for _, field, spec, _ in fields:
        for part in (field or "", spec or ""):
            if "{" in part:
                _check_format_literal(node, part)
            if re.search(r"\.\s*_|\[\s*_", part):
                raise _reject(node, "format string reaches a private attribute")


def check_source(source: str, func_name: str = "run") -> None:
    """Validate a code skill before it runs; raise `SkillRejected` with a one-line reason.

    The source must parse, define ``def <func_name>(api)`` at top level, import only
    `ALLOWED_IMPORTS`, and avoid dunder access, frame attributes and evaluating builtins.
    """
    if not isinstance(source, str):
        raise SkillRejected(f"source must be str, not {type(source).__name__}")
    if len(source) > MAX_SOURCE_CHARS:
        raise SkillRejected(f"source is {len(source)} chars; the limit is {MAX_SOURCE_CHARS}")
    try:
        tree = ast.parse(source, filename="<skill>")
    except SyntaxError as exc:
        raise SkillRejected(f"line {exc.lineno}: syntax error: {exc.msg}") from None
    except (RecursionError, MemoryError, ValueError) as exc:
        raise SkillRejected(f"source cannot be parsed: {type(exc).__name__}") from None

    entry = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == func_name]
    if not entry:
        raise SkillRejected(f"no top-level `def {func_name}(api)` found")
    args = entry[-1].args
    positional = args.posonlyargs + args.args
    if (
        len(positional) < 1
        or len(positional) - len(args.defaults) > 1
        or args.kwonlyargs
        and (len(args.kw_defaults) != len(args.kwonlyargs) or None in args.kw_defaults)
    ):
        raise SkillRejected(
            f"{_where(entry[-1])}: `{func_name}` must take exactly one argument, `api`"
        )

    parents: dict[ast.AST, ast.AST] = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            parents[child] = node
    classes = frozenset(n.name for n in ast.walk(tree) if isinstance(n, ast.ClassDef))

    for node in ast.walk(tree):
        _check_node(node, parents, classes)


def _check_node(node: ast.AST, parents: dict[ast.AST, ast.AST], classes: frozenset[str]) -> None:
    if isinstance(node, ast.Import):
        for alias in node.names:
            if alias.name not in ALLOWED_IMPORTS:
                raise _reject(
                    node,
                    f"import of {alias.name!r} is not allowed "
                    f"(allowed: {', '.join(sorted(ALLOWED_IMPORTS))})",
                )
    elif isinstance(node, ast.ImportFrom):
        if node.level or node.module not in ALLOWED_IMPORTS:
            raise _reject(
                node,
                f"import from {node.module!r} is not allowed "
                f"(allowed: {', '.join(sorted(ALLOWED_IMPORTS))})",
            )
        for alias in node.names:
            if alias.name == "*" or alias.name.startswith("_") or alias.name in _FORBIDDEN_ATTRS:
                raise _reject(node, f"`from {node.module} import {alias.name}` is not allowed")
    elif isinstance(node, ast.Name):
        if node.id in _FORBIDDEN_NAMES:
            raise _reject(node, f"use of {node.id!r} is not allowed")
        if node.id.startswith("__"):
            raise _reject(node, f"dunder name {node.id!r} is not allowed")
        if node.id in _LITERAL_NAME_ONLY:
            _check_literal_name_call(node, parents)
        if node.id in _FORBIDDEN_ATTRS:
            raise _reject(node, f"use of {node.id!r} is not allowed")
        if node.id == "type":
            call = parents.get(node)
            if isinstance(call, ast.Call) and call.func is node and len(call.args) != 1:
                raise _reject(node, "`type(...)` with other than one argument is not allowed")
    elif isinstance(node, ast.Attribute):
        _check_attribute(node, parents)
    elif isinstance(node, ast.Call):
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
        if name == "wraps" and (len(node.args) != 1 or node.keywords):
            # wraps(f, assigned=..., updated=...) sets attributes named at run time
            raise _reject(node, "`wraps` takes only the wrapped function")
    elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        if isinstance(node, ast.ClassDef):
            if node.keywords:
                raise _reject(
                    node, f"class {node.name!r}: metaclasses and class keywords are not allowed"
                )
            if any(isinstance(b, ast.Name) and b.id == "type" for b in node.bases):
                raise _reject(node, f"class {node.name!r}: subclassing `type` is not allowed")
        if node.name.startswith("__"):
            in_class = isinstance(parents.get(node), ast.ClassDef)
            if not (in_class and node.name in _DEFINABLE_DUNDERS):
                raise _reject(node, f"defining {node.name!r} is not allowed")
    elif isinstance(node, ast.arg):
        if node.arg.startswith("__"):
            raise _reject(node, f"dunder argument name {node.arg!r} is not allowed")
    elif isinstance(node, ast.Global):
        if any(n.startswith("__") for n in node.names):
            raise _reject(node, "global dunder name is not allowed")
    elif isinstance(node, ast.MatchClass):
        for attr in node.kwd_attrs:
            if attr.startswith("_") or attr in _FORBIDDEN_ATTRS:
                raise _reject(node, f"match on attribute {attr!r} is not allowed")
        if node.patterns:
            # Positional patterns read the attributes named by the class's __match_args__;
            # only classes whose __match_args__ comes from this source (or none) are safe.
            cls = node.cls
            if not (isinstance(cls, ast.Name) and (cls.id in _PATTERN_TYPES or cls.id in classes)):
                raise _reject(
                    node,
                    "positional class patterns are only allowed on builtin types and on "
                    "classes defined in the skill",
                )
    elif isinstance(node, ast.Constant) and isinstance(node.value, str):
        if _DUNDER_IN_STRING.search(node.value):
            raise _reject(node, "string constants naming dunders are not allowed")


def _check_literal_name_call(node: ast.Name, parents: dict[ast.AST, ast.AST]) -> None:
    call = parents.get(node)
    if not (isinstance(call, ast.Call) and call.func is node and len(call.args) >= 2):
        raise _reject(node, f"{node.id!r} may only be called with a literal attribute name")
    name = call.args[1]
    if not (isinstance(name, ast.Constant) and isinstance(name.value, str)):
        raise _reject(node, f"{node.id!r} needs a string literal attribute name")
    if name.value.startswith("_") or name.value in _FORBIDDEN_ATTRS or name.value == "format":
        raise _reject(node, f"{node.id!r} of attribute {name.value!r} is not allowed")


def _check_attribute(node: ast.Attribute, parents: dict[ast.AST, ast.AST]) -> None:
    attr = node.attr
    if attr.startswith("__"):
        # `super().__init__(...)` is the one dunder access ordinary class code needs.
        receiver = node.value
        is_super = (
            isinstance(receiver, ast.Call)
            and isinstance(receiver.func, ast.Name)
            and receiver.func.id == "super"
        )
        if not (is_super and attr in _DEFINABLE_DUNDERS):
            raise _reject(node, f"access to dunder attribute {attr!r} is not allowed")
    elif attr.startswith("_"):
        # Modules re-export their imports privately (random._os); a skill never needs them.
        raise _reject(node, f"access to private attribute {attr!r} is not allowed")
    elif attr in _FORBIDDEN_ATTRS:
        raise _reject(node, f"access to attribute {attr!r} is not allowed")
    elif attr == "format":
        receiver = node.value
        if not (isinstance(receiver, ast.Constant) and isinstance(receiver.value, str)):
            raise _reject(node, "`.format` is only allowed on a string literal; use an f-string")
        _check_format_literal(node, receiver.value)

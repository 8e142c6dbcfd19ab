"""Schemas for structured output: pydantic class or JSON-schema dict -> JSON schema + validator.

Grammar-constrained decoding makes output *well-formed*; validation still runs because
generation can be cut off by ``max_tokens`` and because llama.cpp's schema-to-grammar
conversion does not cover every keyword (e.g. numeric bounds).
"""

from __future__ import annotations

import json
from typing import Any, TypeGuard

from pydantic import BaseModel, ValidationError

_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "null": (type(None),),
}


def is_pydantic_class(schema: Any) -> TypeGuard[type[BaseModel]]:
    """True for a pydantic model class (not an instance)."""
    return isinstance(schema, type) and issubclass(schema, BaseModel)


def to_json_schema(schema: dict[str, Any] | type) -> dict[str, Any]:
    """The JSON schema of a pydantic class, or a copy of a JSON-schema dict."""
    if is_pydantic_class(schema):
        return schema.model_json_schema()
    if isinstance(schema, dict):
        return json.loads(json.dumps(schema))
    raise TypeError(f"schema must be a pydantic model class or a JSON-schema dict, not {schema!r}")


def parse_and_validate(text: str, schema: dict[str, Any] | type) -> tuple[Any, str | None]:
    """Parse ``text`` as JSON and validate it: ``(value, None)`` or ``(None, error)``."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        return None, f"not valid JSON ({e.msg} at char {e.pos})"
    if is_pydantic_class(schema):
        try:
            return schema.model_validate(data), None
        except ValidationError as e:
            return None, _one_line(str(e))
    if not isinstance(schema, dict):
        raise TypeError(f"schema must be a pydantic model class or a JSON-schema dict: {schema!r}")
    errors = validate_json(data, schema)
    return (data, None) if not errors else (None, "; ".join(errors[:3]))


def validate_json(value: Any, schema: dict[str, Any], path: str = "$") -> list[str]:
    """Errors of ``value`` against the JSON-schema subset used for plans (empty when valid).

    Covers type, enum, const, properties/required/additionalProperties, items,
    min/maxItems, anyOf/oneOf and local ``$ref`` to ``$defs``/``definitions``.
    """
    return _validate(value, schema, path, schema)


def _validate(value: Any, schema: dict[str, Any], path: str, root: dict[str, Any]) -> list[str]:
    if "$ref" in schema:
        schema = _resolve(schema["$ref"], root)
    errors: list[str] = []
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{path}: {value!r} not one of {schema['enum']}")
    if "const" in schema and value != schema["const"]:
        errors.append(f"{path}: {value!r} != {schema['const']!r}")
    for key in ("anyOf", "oneOf"):
        if key in schema and not any(not _validate(value, sub, path, root) for sub in schema[key]):
            errors.append(f"{path}: matches none of {key}")
    kind = schema.get("type")
    if kind is not None:
        kinds = kind if isinstance(kind, list) else [kind]
        ok = any(
            isinstance(value, _TYPES.get(k, (object,)))
            and not (k in ("integer", "number") and isinstance(value, bool))
            for k in kinds
        )
        if not ok:
            return errors + [f"{path}: expected {kind}, got {type(value).__name__}"]
    if isinstance(value, dict):
        props = schema.get("properties", {})
        for name in schema.get("required", []):
            if name not in value:
                errors.append(f"{path}: missing {name!r}")
        for name, item in value.items():
            if name in props:
                errors += _validate(item, props[name], f"{path}.{name}", root)
            elif schema.get("additionalProperties") is False:
                errors.append(f"{path}: unexpected {name!r}")
    if isinstance(value, list):
        if "minItems" in schema and len(value) < schema["minItems"]:
            errors.append(f"{path}: fewer than {schema['minItems']} items")
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            errors.append(f"{path}: more than {schema['maxItems']} items")
        if isinstance(schema.get("items"), dict):
            for i, item in enumerate(value):
                errors += _validate(item, schema["items"], f"{path}[{i}]", root)
    return errors


def _resolve(ref: str, root: dict[str, Any]) -> dict[str, Any]:
    if not ref.startswith("#/"):
        raise ValueError(f"only local $ref is supported, got {ref!r}")
    node: Any = root
    for part in ref[2:].split("/"):
        node = node[part]
    return node


def _one_line(text: str) -> str:
    return " ".join(line.strip() for line in text.splitlines() if line.strip())


def schema_instruction(json_schema: dict[str, Any]) -> str:
    """The system instruction that carries a schema in the prompt (for servers that cannot
    constrain decoding to one): reply with one JSON object valid against it."""
    return (
        "Reply with one JSON object and nothing else. It must be valid against this JSON "
        f"schema:\n{json.dumps(json_schema, separators=(',', ':'))}"
    )


def extract_json(text: str) -> str:
    """The first balanced ``{...}`` in ``text`` (a model asked for JSON may wrap it in prose
    or a code fence); ``text`` itself when there is none."""
    start = text.find("{")
    while start != -1:
        depth, in_str, escaped = 0, False, False
        for i in range(start, len(text)):
            ch = text[i]
            if in_str:
                if escaped:
                    escaped = False
                elif ch == "\\":
                    escaped = True
                elif ch == '"':
                    in_str = False
            elif ch == '"':
                in_str = True
            elif ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
                if depth == 0:
                    candidate = text[start : i + 1]
                    try:
                        json.loads(candidate)
                        return candidate
                    except json.JSONDecodeError:
                        break
        start = text.find("{", start + 1)
    return text


def schema_name(schema: dict[str, Any] | type, json_schema: dict[str, Any]) -> str:
    """A name for the schema that OpenAI's ``json_schema.name`` and tool names accept."""
    raw = getattr(schema, "__name__", None) or json_schema.get("title") or "output"
    name = "".join(c if c.isalnum() or c in "_-" else "_" for c in str(raw))
    return name[:64] or "output"

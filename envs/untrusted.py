"""Strings from outside (goals, skill names and descriptions, errors, LLM replies, trace
fields) turned into safe display text. The one helper every view uses.

Outside text is never interpreted: in the terminal it becomes a rich `Text` (never parsed as
markup, so ``[/]`` or ``[link=file:///etc/passwd]`` print as themselves), and control
characters (ESC, other C0/C1 codes, DEL, bidi overrides, line separators, lone surrogates)
are shown escaped (``\\x1b``), so nothing can move the cursor, colour the screen, open an
OSC-8 link or fake a status line. In HTML it is `html` (escaped, quotes too).

The bottom layer (``envs``): it depends on nothing of mendako's, so every package may use it.
"""

from __future__ import annotations

import html as _html
from collections.abc import Iterable
from typing import Any

from rich.text import Text

__all__ = ["assemble", "html", "join", "safe", "text"]

# Characters that are shown escaped: C0 (but tab and, where asked, newline), DEL, C1 (CSI
# 0x9b is ESC[ in one byte), bidi embeddings/overrides/isolates, line/paragraph separators.
_BIDI = {*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C}
_UNSAFE = frozenset({*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0), *_BIDI, 0x2028, 0x2029})


def _escape_char(ch: str) -> str:
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}"


def safe(value: Any, *, limit: int | None = None, newlines: bool = False) -> str:
    """`value` as a printable one-line string: control characters escaped (``\\x1b``).

    `newlines` keeps ``\\n`` (multi-line fields such as a traceback or a prompt); `limit`
    truncates to that many characters (with ``...``) before escaping.
    """
    if isinstance(value, bytes):
        value = value.decode("utf-8", "backslashreplace")
    try:
        s = value if isinstance(value, str) else str(value)
    except Exception:  # noqa: BLE001 - an outside object that cannot print itself
        s = "<unprintable>"
    if limit is not None and len(s) > limit:
        s = s[:limit] + "..."
    out = []
    for ch in s:
        code = ord(ch)
        if code in _UNSAFE and not (ch == "\t" or (newlines and ch == "\n")):
            out.append(_escape_char(ch))
        elif 0xD800 <= code <= 0xDFFF:  # lone surrogate (from backslashreplace'd bytes)
            out.append(f"\\u{code:04x}")
        else:
            out.append(ch)
    return "".join(out)


def text(value: Any, style: str = "", *, limit: int | None = None, newlines: bool = False) -> Text:
    """`value` as a rich `Text` (never parsed as markup), control characters escaped."""
    return Text(safe(value, limit=limit, newlines=newlines), style=style)


def assemble(*parts: str | Text | tuple[Any, str] | None) -> Text:
    """One `Text` from parts: a str is outside text (escaped), a ``(value, style)`` pair is
    escaped then styled, a `Text` is kept as it is (already safe), None is skipped."""
    out = Text()
    for part in parts:
        if part is None:
            continue
        if isinstance(part, Text):
            out.append_text(part)
        elif isinstance(part, tuple):
            out.append(safe(part[0]), style=part[1])
        else:
            out.append(safe(part))
    return out


def join(parts: Iterable[Text | str], sep: str = ", ") -> Text:
    """`parts` joined by `sep` into one `Text` (str parts escaped)."""
    return Text(sep).join(p if isinstance(p, Text) else text(p) for p in parts)


def html(value: Any, *, limit: int | None = None, newlines: bool = True) -> str:
    """`value` as HTML text: control characters escaped, then ``& < > " '`` escaped."""
    return _html.escape(safe(value, limit=limit, newlines=newlines), quote=True)

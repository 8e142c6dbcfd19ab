"""Words for Crafter events: captions of transitions ("you collected wood") and gerunds.

Captions come from the achievement counters of two consecutive infos (crafter counts every
unlock, not only the first), so they use only what the player itself knows.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_PAST = {
    "collect": "collected",
    "place": "placed",
    "make": "made",
    "eat": "ate",
    "defeat": "defeated",
}
_ING = {
    "collect": "collecting",
    "place": "placing",
    "make": "making",
    "eat": "eating",
    "defeat": "defeating",
}
_MASS = {"wood", "stone", "coal", "iron", "diamond"}
_SPECIAL = {
    "collect_drink": ("you drank water", "drinking water"),
    "wake_up": ("you woke up", "waking up"),
}


def _object(words: str) -> str:
    if words in _MASS:
        return words
    return ("an " if words[0] in "aeiou" else "a ") + words


def caption(event: str) -> str:
    """``"collect_wood"`` -> ``"you collected wood"``; ``"place_table"`` -> ``"you placed a
    table"``."""
    if event in _SPECIAL:
        return _SPECIAL[event][0]
    verb, _, obj = event.partition("_")
    return f"you {_PAST.get(verb, verb)} {_object(obj.replace('_', ' '))}"


def gerund(event: str) -> str:
    """``"collect_wood"`` -> ``"collecting wood"``, the form questions about events use."""
    if event in _SPECIAL:
        return _SPECIAL[event][1]
    verb, _, obj = event.partition("_")
    return f"{_ING.get(verb, verb)} {_object(obj.replace('_', ' '))}"


def events(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """Achievements whose counter rose between two infos, in name order."""
    b, a = before.get("achievements", {}) or {}, after.get("achievements", {}) or {}
    return sorted(k for k, v in a.items() if v > b.get(k, 0))


def describe_transition(before: Mapping[str, Any], after: Mapping[str, Any]) -> str:
    """The transition as one caption sentence; ``"nothing happened"`` when no event."""
    found = events(before, after)
    return "; ".join(caption(e) for e in found) if found else "nothing happened"


def inventory_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> str:
    """``"wood 0 -> 1, sapling 1 -> 0"`` over non-vital items; empty when nothing changed."""
    b, a = before.get("inventory", {}) or {}, after.get("inventory", {}) or {}
    vitals = {"health", "food", "drink", "energy"}
    parts = [
        f"{k.replace('_', ' ')} {b.get(k, 0)} -> {a.get(k, 0)}"
        for k in sorted(set(a) | set(b))
        if k not in vitals and a.get(k, 0) != b.get(k, 0)
    ]
    return ", ".join(parts)


def state_text(info: Mapping[str, Any]) -> str:
    """A compact text of what the player holds and has done (for judges and caches)."""
    inv = info.get("inventory", {}) or {}
    items = [
        f"{k.replace('_', ' ')} {v}"
        for k, v in inv.items()
        if v and k not in {"health", "food", "drink", "energy"}
    ]
    done = [k.replace("_", " ") for k, v in (info.get("achievements", {}) or {}).items() if v]
    return (
        "Inventory: " + (", ".join(items) if items else "nothing") + ". "
        "Achievements so far: " + (", ".join(done) if done else "none") + "."
    )

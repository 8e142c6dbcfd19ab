"""BabyAI missions as data: read a goal in words into BabyAI's own instruction objects, name
the subgoals of an instruction tree, and build a level whose mission is a given instruction.

The instruction objects are minigrid's (``minigrid.envs.babyai.core.verifier``): their
``verify(action)`` is the success check, so a mission built here is judged exactly as BabyAI
judges its own levels.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml
from minigrid.core.constants import COLOR_NAMES
from minigrid.envs.babyai.core.roomgrid_level import RejectSampling, RoomGridLevel
from minigrid.envs.babyai.core.verifier import (
    AfterInstr,
    AndInstr,
    BeforeInstr,
    GoToInstr,
    Instr,
    ObjDesc,
    OpenInstr,
    PickupInstr,
    PutNextInstr,
)

__all__ = [
    "GoalLevel",
    "Leaf",
    "descs",
    "from_japanese",
    "MissionError",
    "leaf_name",
    "leaves",
    "mission_name",
    "parse_goal",
]

Clause = GoToInstr | PickupInstr | OpenInstr | PutNextInstr
"""One action clause: minigrid's ActionInstr kinds (all but PutNext name one object, ``desc``)."""

TYPES = ("ball", "box", "key", "door")
_LOCS = {
    "in front of you": "front",
    "behind you": "behind",
    "on your left": "left",
    "on your right": "right",
}
_OBJ = re.compile(
    r"^(?:the|a|an)?\s*(?:(?P<color>" + "|".join(COLOR_NAMES) + r")\s+)?"
    r"(?P<type>ball|box|key|door|object)s?"
    r"(?:\s+(?P<loc>" + "|".join(_LOCS) + r"))?$"
)


class MissionError(ValueError):
    """The goal cannot be read as a BabyAI mission."""


@dataclass(frozen=True)
class Leaf:
    """One action clause of a mission and whether BabyAI's verifier counts it done."""

    name: str
    """Subgoal name, e.g. ``pick_up_red_ball`` (the words of the clause, no stop words)."""
    instr: Clause
    done: bool


# ---------------------------------------------------------------------- reading a goal
def _obj(text: str) -> ObjDesc:
    m = _OBJ.match(text.strip())
    if m is None:
        raise MissionError(
            f"cannot read {text!r} as a BabyAI object: say e.g. 'the red ball', 'a key', "
            f"'the blue door' (colours: {', '.join(COLOR_NAMES)}; things: ball, box, key, door)"
        )
    kind = None if m["type"] == "object" else m["type"]
    return ObjDesc(kind, m["color"], _LOCS.get(m["loc"] or ""))


def _clause(text: str) -> Clause:
    text = text.strip()
    if m := re.match(r"^put (.+?) next to (.+)$", text):
        move, fixed = _obj(m[1]), _obj(m[2])
        if move.type == "door":
            raise MissionError("a door cannot be moved")
        return PutNextInstr(move, fixed)
    if m := re.match(r"^(?:go to|go next to|reach) (.+)$", text):
        return GoToInstr(_obj(m[1]))
    if m := re.match(r"^(?:pick up|pickup|grab|take) (.+)$", text):
        desc = _obj(m[1])
        if desc.type == "door":
            raise MissionError("a door cannot be picked up")
        return PickupInstr(desc)
    if m := re.match(r"^open (.+)$", text):
        desc = _obj(m[1])
        if desc.type not in (None, "door"):
            raise MissionError(f"only doors open, not a {desc.type}")
        return OpenInstr(ObjDesc("door", desc.color, desc.loc))
    raise MissionError(
        f"cannot read {text!r} as a BabyAI instruction: use 'go to X', 'pick up X', "
        "'open the D door', 'put X next to Y', joined by ', then', 'after you' or 'and'"
    )


def _and(text: str) -> Instr:
    parts = [p for p in re.split(r"\s+and\s+", text) if p.strip()]
    if len(parts) == 1:
        return _clause(parts[0])
    if len(parts) == 2:
        return AndInstr(_clause(parts[0]), _clause(parts[1]))
    raise MissionError("BabyAI joins at most two clauses with 'and'")


# ---------------------------------------------------------------------- Japanese
_KANA_KANJI = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


@cache
def _ja() -> dict[str, Any]:
    """The Japanese words of ``envs/data/babyai_ja.yaml``."""
    text = resources.files("envs.data").joinpath("babyai_ja.yaml").read_text("utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def _alt(words: Any) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


@cache
def _ja_object() -> re.Pattern[str]:
    ja = _ja()
    return re.compile(
        rf"(?:(?P<loc>{_alt(ja['locs'])})(?:の|にある)?)?"
        rf"(?:(?P<color>{_alt(ja['colors'])})色?(?:い|の)?)?"
        rf"(?P<thing>{_alt(ja['things'])})"
    )


def _ja_phrase(m: re.Match[str]) -> str:
    ja = _ja()
    words = ["the", ja["colors"].get(m["color"] or "", ""), ja["things"][m["thing"]]]
    if m["loc"]:
        words.append(ja["locs"][m["loc"]])
    return " ".join(w for w in words if w)


def _ja_clause(text: str) -> str:
    """One Japanese clause ("赤いボールを拾って") in BabyAI's English ("pick up the red ball")."""
    ja = _ja()
    verb = next((v for v, keys in ja["verbs"].items() if any(k in text for k in keys)), None)
    objs = list(_ja_object().finditer(text))
    if verb is None or not objs:
        raise MissionError(
            f"cannot read {text!r} as a BabyAI instruction: say e.g. 赤いボールを拾って, "
            "青いドアを開けて, 緑の鍵へ行って, 青い箱の隣に赤いボールを置いて"
        )
    if verb == "put":
        at = min((text.find(k) for k in ja["next_to"] if k in text), default=-1)
        fixed = [m for m in objs if at >= 0 and m.end() <= at]
        if not fixed or len(objs) < 2:
            raise MissionError(f"cannot read {text!r}: say 'Y の隣に X を置いて'")
        moved = next(m for m in objs if m is not fixed[-1])
        return f"put {_ja_phrase(moved)} next to {_ja_phrase(fixed[-1])}"
    gap = text[objs[0].end() : objs[1].start()] if len(objs) > 1 else ""
    if len(objs) == 2 and any(k in gap for k in ja["and"]):
        return f"{verb} {_ja_phrase(objs[0])} and {verb} {_ja_phrase(objs[1])}"
    return f"{verb} {_ja_phrase(objs[0])}"


def from_japanese(goal: str) -> str:
    """A BabyAI mission in Japanese read into BabyAI's English: clauses split where the
    words of ``then`` stand ("拾ってから", "、"), each read by its verb and objects."""
    parts = re.split(_alt(_ja()["then"]), goal.strip().rstrip("。.!！"))
    return ", then ".join(_ja_clause(p) for p in parts if p.strip())


def parse_goal(goal: str) -> Instr:
    """Read a goal such as "open the door, then pick up the key" into a BabyAI instruction.

    Grammar (BabyAI's own): clause := go to X | pick up X | open X | put X next to Y;
    joined by ``and``, then ``, then`` / ``then`` (BeforeInstr) or ``after you``
    (AfterInstr). A goal in Japanese is read into that grammar first (:func:`from_japanese`).
    Raises :class:`MissionError` with what is understood.
    """
    if _KANA_KANJI.search(goal):
        goal = from_japanese(goal)
    text = re.sub(r"[.!]+$", "", " ".join(goal.lower().split())).strip()
    if m := re.match(r"^(.+?)\s+after you\s+(.+)$", text):
        return AfterInstr(_and(m[1]), _and(m[2]))
    parts = [p for p in re.split(r",?\s*\b(?:and )?then\b,?\s*", text) if p.strip()]
    if len(parts) == 1:
        return _and(parts[0])
    if len(parts) == 2:
        return BeforeInstr(_and(parts[0]), _and(parts[1]))
    raise MissionError("BabyAI sequences at most two steps ('A, then B')")


# ---------------------------------------------------------------------- naming subgoals
def _desc_words(desc: ObjDesc) -> list[str]:
    return [w for w in (desc.color, desc.type or "object", desc.loc) if w]


def leaf_name(instr: Clause) -> str:
    """The subgoal name of one clause, built from its words without stop words (so the
    planner's word grounding finds it in the goal): ``put_red_ball_next_blue_box``."""
    if isinstance(instr, PutNextInstr):
        words = ["put", *_desc_words(instr.desc_move), "next", *_desc_words(instr.desc_fixed)]
    else:
        verb = {GoToInstr: ["go"], PickupInstr: ["pick", "up"], OpenInstr: ["open"]}
        words = [*verb[type(instr)], *_desc_words(instr.desc)]
    return "_".join(words)


def _done(flag: Any) -> bool:
    return flag == "success"


def leaves(instr: Instr, done: bool = False) -> list[Leaf]:
    """The action clauses of a mission in the order they must be done, each marked done
    from the state of BabyAI's own (stateful) verifier objects."""
    if isinstance(instr, Clause):
        return [Leaf(leaf_name(instr), instr, done)]
    a_done = done or _done(getattr(instr, "a_done", False))
    b_done = done or _done(getattr(instr, "b_done", False))
    if isinstance(instr, AfterInstr):  # "A after you B": B first
        return leaves(instr.instr_b, b_done) + leaves(instr.instr_a, a_done)
    if isinstance(instr, BeforeInstr | AndInstr):
        return leaves(instr.instr_a, a_done) + leaves(instr.instr_b, b_done)
    raise TypeError(f"unknown BabyAI instruction {type(instr).__name__}")


def mission_name(instr: Instr) -> str:
    """The subgoal name of the whole mission: its clause names joined (one clause: its name)."""
    return "_".join(leaf.name for leaf in leaves(instr))


def kind_of(desc: ObjDesc) -> tuple[str | None, str | None]:
    """``(color, type)`` of an object description (None = any)."""
    return desc.color, desc.type


# ---------------------------------------------------------------------- a level for a goal
def descs(instr: Instr) -> list[ObjDesc]:
    """Every object description of a mission's clauses, in order."""
    out: list[ObjDesc] = []
    for leaf in leaves(instr):
        i = leaf.instr
        out += [i.desc_move, i.desc_fixed] if isinstance(i, PutNextInstr) else [i.desc]
    return out


class GoalLevel(RoomGridLevel):
    """A BabyAI level built around a given instruction.

    ## Mission Space
    The given instruction's surface form (e.g. "put the red ball next to the blue box").

    ## Layout
    One ``room_size`` room holding one object for each description in the instruction plus
    ``num_dists`` distractors that match none of them; when the instruction names a door,
    a second room to the right joined by that (unlocked, closed) door. The agent starts in
    the first room at a random place and heading. Levels that fail BabyAI's own validation
    (e.g. the objects of a "put next to" already touch) are re-sampled, as BabyAI does.
    """

    def __init__(
        self, instr: Instr, *, room_size: int = 7, num_dists: int = 3, **kwargs: Any
    ) -> None:
        self._template = instr
        self.num_dists = num_dists
        has_door = any(d.type == "door" for d in descs(instr))
        super().__init__(num_rows=1, num_cols=2 if has_door else 1, room_size=room_size, **kwargs)

    def gen_mission(self) -> None:
        """Place the described objects, distractors and the agent; set the instruction."""
        self.place_agent(0, 0)
        placed: list[tuple[str, str]] = []
        for desc in descs(self._template):
            if any(desc.color in (None, c) and desc.type in (None, t) for c, t in placed):
                continue  # an object already placed answers this description
            color = desc.color or self._rand_elem(COLOR_NAMES)
            if desc.type == "door":
                self.add_door(0, 0, door_idx=0, color=color, locked=False)
                placed.append((color, "door"))
                continue
            kind = desc.type or self._rand_elem(["ball", "box", "key"])
            self.add_object(0, 0, kind, color)
            placed.append((color, kind))
        named = descs(self._template)
        for _ in range(self.num_dists):
            for _try in range(50):
                kind = self._rand_elem(["ball", "box", "key"])
                color = self._rand_elem(COLOR_NAMES)
                clash = (
                    any(d.color in (None, color) and d.type in (None, kind) for d in named)
                    or (color, kind) in placed
                )
                if not clash:
                    self.add_object(0, 0, kind, color)
                    placed.append((color, kind))
                    break
        self.check_objs_reachable()
        self.instrs = _fresh(self._template)
        if isinstance(self.instrs, PutNextInstr | BeforeInstr | AfterInstr | AndInstr):
            for leaf in leaves(self.instrs):
                if isinstance(leaf.instr, PutNextInstr):
                    leaf.instr.reset_verifier(self)
                    if leaf.instr.objs_next():
                        raise RejectSampling("objects of 'put next to' already touch")


def _fresh(instr: Instr) -> Instr:
    """A copy of an instruction tree with fresh (unresolved) object descriptions."""
    if isinstance(instr, Clause):
        if isinstance(instr, PutNextInstr):
            return PutNextInstr(_copy(instr.desc_move), _copy(instr.desc_fixed))
        return type(instr)(_copy(instr.desc))
    if not isinstance(instr, BeforeInstr | AfterInstr | AndInstr):
        raise TypeError(f"unknown BabyAI instruction {type(instr).__name__}")
    return type(instr)(_fresh(instr.instr_a), _fresh(instr.instr_b))


def _copy(desc: ObjDesc) -> ObjDesc:
    return ObjDesc(desc.type, desc.color, desc.loc)

"""Gymnasium's Taxi as a mendako environment (an example of an env plugin).

The taxi drives a 5x5 grid with walls, picks a passenger up at one of four stands (R, G, Y,
B) and drops them at their destination. Registered under the entry-point group
``mendako.envs`` as ``taxi`` (see ``pyproject.toml``); everything mendako needs is the
:class:`TaxiAdapter` below and the skills in ``skills/``.
"""

from __future__ import annotations

from collections import deque
from pathlib import Path
from typing import Any

import gymnasium

from envs import goal_vocab
from envs.contract import BudgetExhausted, EnvAdapter, EpisodeOver, Vocabulary
from envs.goal_vocab import GoalVocabulary

__all__ = ["ADAPTER", "TaxiAPI", "TaxiAdapter", "TaxiEnv", "TaxiRules", "describe"]

DEFAULT_ID = "Taxi-v4"
STANDS = ("red", "green", "yellow", "blue")
"""Taxi's four stands, in its own order (``env.locs``: R, G, Y, B)."""
MOVES = {"south": 0, "north": 1, "east": 2, "west": 3}
PICKUP, DROPOFF = 4, 5
ACHIEVEMENTS = ("pick_up_passenger", "deliver_passenger")


class TaxiEnv(gymnasium.Env):
    """Taxi (Dietterich 2000) with a text face and achievement counters.

    ## Mission Space
    Always the same task: pick the passenger up at their stand and drop them at their
    destination (``deliver_passenger``).

    ## Action Space
    ``Discrete(6)``: 0 south, 1 north, 2 east, 3 west, 4 pick up, 5 drop off.

    ## Observation
    Taxi's own ``Discrete(500)`` state (taxi row, column, passenger place, destination).
    ``info``: ``taxi`` ``(row, col)``, ``passenger`` (a stand's name or ``"taxi"``),
    ``destination`` (a stand's name), ``inventory`` (``{"passenger": 1}`` while carried),
    ``achievements`` (``pick_up_passenger``, ``deliver_passenger`` counts), ``step``. Taxi is
    fully observed: the observation is the whole state, so nothing here is privileged.

    ## Rewards
    Taxi's: -1 per step, +20 for delivering (then ``terminated``), -10 for an illegal pick up
    or drop off; ``truncated`` after 200 steps.
    """

    metadata = {"render_modes": ["ansi"]}

    def __init__(self, env_id: str = DEFAULT_ID) -> None:
        self._env = gymnasium.make(env_id)
        self._taxi: Any = self._env.unwrapped  # gymnasium's TaxiEnv: decode, encode, P, locs
        self.action_space = self._env.action_space
        self.observation_space = self._env.observation_space
        self.render_mode = "ansi"
        self.action_log: list[int] = []
        self.episode_over = False
        self._state: int | None = None
        self._info: dict[str, Any] = {}
        self._achievements = dict.fromkeys(ACHIEVEMENTS, 0)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[int, dict[str, Any]]:
        """Start an episode; the same seed gives the same taxi, passenger and destination."""
        super().reset(seed=seed)
        state, _ = self._env.reset(seed=seed)
        self._state = int(state)
        self.action_log, self.episode_over = [], False
        self._achievements = dict.fromkeys(ACHIEVEMENTS, 0)
        self._info = self._make_info()
        return self._state, dict(self._info)

    def step(self, action: int) -> tuple[int, float, bool, bool, dict[str, Any]]:
        """One action; a pick up that puts the passenger in the taxi or a delivery counts."""
        if self._state is None:
            raise RuntimeError("call reset() before step()")
        before = self.decode()
        state, reward, terminated, truncated, _ = self._env.step(int(action))
        self._state = int(state)
        self.action_log.append(int(action))
        after = self.decode()
        if before[2] != 4 and after[2] == 4:
            self._achievements["pick_up_passenger"] += 1
        if terminated:
            self._achievements["deliver_passenger"] += 1
        self.episode_over = bool(terminated or truncated)
        self._info = self._make_info()
        return self._state, float(reward), bool(terminated), bool(truncated), dict(self._info)

    def render(self) -> str:
        """Taxi's own text map."""
        return str(self._taxi._render_text())

    @property
    def info(self) -> dict[str, Any]:
        """The info of the last reset/step (a shallow copy)."""
        return dict(self._info)

    def decode(self) -> tuple[int, int, int, int]:
        """(taxi row, taxi column, passenger place 0-4 (4: in the taxi), destination 0-3)."""
        assert self._state is not None
        row, col, passenger, dest = self._taxi.decode(self._state)
        return int(row), int(col), int(passenger), int(dest)

    def stand(self, name: str) -> tuple[int, int]:
        """The (row, col) of a stand."""
        return tuple(self._taxi.locs[STANDS.index(name)])

    def moves_from(self, cell: tuple[int, int]) -> dict[str, tuple[int, int]]:
        """Where each move leads from `cell` (Taxi's own transition table: walls are data)."""
        row, col, passenger, dest = self.decode()
        state = self._taxi.encode(cell[0], cell[1], passenger, dest)
        out = {}
        for name, action in MOVES.items():
            (_, nxt, _, _), *_ = self._taxi.P[state][action]
            r, c, _, _ = self._taxi.decode(nxt)
            if (r, c) != cell:
                out[name] = (int(r), int(c))
        return out

    def _make_info(self) -> dict[str, Any]:
        row, col, passenger, dest = self.decode()
        return {
            "taxi": (row, col),
            "passenger": "taxi" if passenger == 4 else STANDS[passenger],
            "destination": STANDS[dest],
            "inventory": {"passenger": 1} if passenger == 4 else {},
            "achievements": dict(self._achievements),
            "step": len(self.action_log),
        }


class TaxiRules:
    """Taxi's task as rules: delivering needs the passenger in the taxi."""

    achievements = list(ACHIEVEMENTS)

    def missing(self, name: str, inventory: dict[str, int], known_kinds: set[str]) -> list[str]:
        """Delivering needs the passenger aboard; picking up needs them still at a stand."""
        aboard = inventory.get("passenger", 0) > 0
        if name == "deliver_passenger" and not aboard:
            return ["the passenger is not in the taxi"]
        if name == "pick_up_passenger" and aboard:
            return ["the passenger is already in the taxi"]
        return []

    def prerequisites(
        self, target: str, inventory: dict[str, int], known: Any = frozenset()
    ) -> list[tuple[str, dict[str, int]]]:
        """Pick up first unless the passenger is aboard, then the target."""
        if target == "deliver_passenger" and not inventory.get("passenger", 0):
            return [("pick_up_passenger", {}), ("deliver_passenger", {})]
        return [(target, {})]


class TaxiAPI:
    """The primitives code skills act through, each step counted against a budget."""

    def __init__(self, env: TaxiEnv, budget: int, need: dict[str, int] | None = None) -> None:
        self._env = env
        self.budget = int(budget)
        self.need = dict(need or {})
        self.steps_used = 0

    @property
    def info(self) -> dict[str, Any]:
        """What the driver sees: taxi, passenger, destination, inventory, achievements."""
        return self._env.info

    def act(self, action: int) -> None:
        """Take one of Taxi's six actions (see :class:`TaxiEnv`)."""
        if self._env.episode_over:
            raise EpisodeOver("the episode is over")
        if self.steps_used >= self.budget:
            raise BudgetExhausted(f"spent the budget of {self.budget} steps")
        self.steps_used += 1
        self._env.step(int(action))

    def move(self, direction: str) -> None:
        """Drive one cell south, north, east or west (into a wall: the taxi stays)."""
        self.act(MOVES[direction])

    def pick_up(self) -> None:
        """Pick the passenger up (only works on their stand)."""
        self.act(PICKUP)

    def drop_off(self) -> None:
        """Drop the passenger off (only delivers on their destination)."""
        self.act(DROPOFF)

    def drive_to(self, stand: str) -> None:
        """Drive the shortest way to a stand (red, green, yellow, blue), around the walls."""
        goal = self._env.stand(stand)
        for direction in self.route(goal):
            self.move(direction)

    def route(self, goal: tuple[int, int]) -> list[str]:
        """The moves of a shortest path from the taxi to `goal` (breadth-first search)."""
        start = self._env.info["taxi"]
        back: dict[tuple[int, int], tuple[tuple[int, int], str] | None] = {start: None}
        queue = deque([start])
        while queue:
            cell = queue.popleft()
            if cell == goal:
                break
            for direction, nxt in self._env.moves_from(cell).items():
                if nxt not in back:
                    back[nxt] = (cell, direction)
                    queue.append(nxt)
        path: list[str] = []
        cell = goal
        while back.get(cell) is not None:
            cell, direction = back[cell]  # type: ignore[misc]
            path.append(direction)
        return path[::-1]


def describe(info: dict[str, Any]) -> str:
    """The state in words: where the taxi, the passenger and the destination are."""
    row, col = info["taxi"]
    where = "in the taxi" if info["passenger"] == "taxi" else f"at the {info['passenger']} stand"
    return (
        f"The taxi is at row {row}, column {col}. The passenger is {where}; "
        f"they want to go to the {info['destination']} stand."
    )


class TaxiAdapter(EnvAdapter):
    """Taxi behind mendako's env contract."""

    name = "taxi"
    summary = "Taxi (gymnasium): pick a passenger up, drive them to their stand"
    kinds = tuple(f"{s}_stand" for s in STANDS)
    view_cells = None  # fully observed by design: the observation is the whole state

    def make(self, env_id: str = "taxi", *, seed: int = 0, goal: str | None = None) -> TaxiEnv:
        """``taxi`` (Taxi-v4) or ``taxi:<gymnasium id>``."""
        del seed, goal  # seeded by reset; the planner reads the goal
        _, _, suffix = env_id.partition(":")
        return TaxiEnv(suffix or DEFAULT_ID)

    def describe(self, env: TaxiEnv) -> str:
        """See :func:`describe`."""
        return describe(env.info)

    def make_api(self, env: TaxiEnv, *, budget: int, need: dict[str, int] | None = None) -> TaxiAPI:
        """A :class:`TaxiAPI` of at most `budget` steps."""
        return TaxiAPI(env, budget, need)

    @property
    def api_class(self) -> type:
        """:class:`TaxiAPI`."""
        return TaxiAPI

    def rules(self, env: TaxiEnv | None = None) -> TaxiRules:
        """The same rules for every episode."""
        return TaxiRules()

    def vocabulary(self) -> Vocabulary:
        """One item (the passenger), the stands, the two achievements."""
        return Vocabulary(items=("passenger",), kinds=self.kinds, achievements=ACHIEVEMENTS)

    def goal_vocabulary(self) -> GoalVocabulary:
        """``taxi_goals.yaml``: the words of Taxi's goals (English and Japanese)."""
        return goal_vocab.parse(Path(__file__).with_name("taxi_goals.yaml").read_text(), "taxi")

    def skill_description(self, achievement: str) -> str:
        """What a skill for each achievement does."""
        return {
            "pick_up_passenger": "Drive to the passenger's stand and pick them up.",
            "deliver_passenger": "Drive the passenger to their destination and drop them off.",
        }.get(achievement, super().skill_description(achievement))

    def skills_dir(self) -> Path:
        """``mendako_taxi/skills/``."""
        return Path(__file__).with_name("skills")


ADAPTER = TaxiAdapter()
"""What the entry point ``mendako.envs: taxi`` names."""

"""The planner: the LLM reads the goal and proposes subgoals; the env's rules repair the plan.

A 135M model reads goals well enough but cannot judge (DESIGN.md), so its proposal is
validated twice: the target must be supported by the goal's own words (grounding), and the
subgoal list is rolled through the rules (`rules.prerequisites`): what the target needs and
the proposal lacks is inserted where it is needed, and a proposed step is dropped only when
the rules show it impossible, done or past the target; the model's order stands where the
rules leave it free. Both the raw proposal and the repaired plan go to the trace.
"""

from __future__ import annotations

from typing import Any, Literal

from langchain_core.language_models import BaseChatModel
from pydantic import BaseModel, Field, create_model

from agents._prompts import render
from agents.llm import method_of
from envs import goal_vocab
from envs.registry import adapter
from envs.values import LLMExchange, Subgoal

NONE = "none"
MAX_SUBGOALS = 6
# Achievement words that are verbs or filler: a target is supported when its other words
# (the things it is about) all appear in the goal.
_VERBS = {"collect", "make", "place", "eat", "defeat", "wake"}
# Goal words the achievement names do not contain; data, not logic.
_SYNONYMS = {
    "wake_up": {"sleep", "rest", "wake"},
    "collect_drink": {"water", "drink", "thirst"},
    "eat_cow": {"cow", "beef", "meat"},
    "defeat_zombie": {"zombie"},
    "defeat_skeleton": {"skeleton"},
}


class PlanProposal(BaseModel):
    """What the LLM proposes: the achievement the goal asks for and the subgoals to get there."""

    target: str
    subgoals: list[str]


def supports(goal: str, target: str) -> bool:
    """Whether the goal's words name what `target` is about (e.g. 'stone pickaxe')."""
    words = goal_vocab.words(goal)
    if target in _SYNONYMS and words & _SYNONYMS[target]:
        return True
    nouns = {goal_vocab.stem(w) for w in target.split("_")} - _VERBS
    return bool(nouns) and nouns <= words


def ground_target(goal: str, proposed: str, targets: list[str]) -> tuple[str | None, str]:
    """Accept the LLM's target if the goal supports it, else the best supported one, else None.

    Returns the target and where it came from ("llm", "words" or "none").
    """
    if proposed in targets and supports(goal, proposed):
        return proposed, "llm"
    words = goal_vocab.words(goal)
    supported = [t for t in targets if supports(goal, t)]
    if not supported:
        return None, "none"
    # Prefer the most specific match, then the one whose verb the goal also uses.
    best = max(supported, key=lambda t: (len(set(t.split("_")) & words), -len(t)))
    return best, "words"


def _proposal_schema(names: list[str]) -> type[BaseModel]:
    choice: Any = Literal[tuple(names)]  # types built at run time: Any to the type checker
    target: Any = Literal[tuple([*names, NONE])]
    # A bound on the list keeps a small model from enumerating achievements until max_tokens.
    subgoals = (list[choice], Field(min_length=1, max_length=MAX_SUBGOALS))
    return create_model("PlanProposal", target=(target, ...), subgoals=subgoals)


def propose(
    llm: BaseChatModel,
    goal: str,
    observation: str,
    names: list[str],
    failure: str = "",
    env_id: str | None = None,
) -> tuple[PlanProposal, LLMExchange]:
    """Ask the LLM for a target and subgoals, constrained to known subgoal names.

    The prompt holds the goal (and the last failure), not the observation: the model
    proposes a plan for the goal, the world model grounds it in the state (what is held or
    known is dropped, what is missing inserted: `repair`), and the same goal asked again
    is the same prompt, answered from the LLM cache. `observation` is kept for callers.
    The prompt names the env and what it calls its goals as its contract says (`env_id`'s
    adapter: ``title``, ``goal_words``); without one, plain "goal"."""
    env, (kind, kinds) = "", ("goal", "goals")
    if env_id is not None:
        spec = adapter(env_id)
        env, (kind, kinds) = f"{spec.title or spec.name} ", spec.goal_words
    prompt = render(
        "planner",
        env=env,
        kind=kind,
        kinds=kinds,
        Kinds=kinds[:1].upper() + kinds[1:],
        subgoals=", ".join(names),
        observation=observation,
        failure=failure,
        goal=goal,
    )
    structured = llm.with_structured_output(_proposal_schema(names))
    raw: Any = structured.invoke(prompt)
    data = raw.model_dump() if isinstance(raw, BaseModel) else dict(raw)
    proposal = PlanProposal(target=data["target"], subgoals=list(data["subgoals"]))
    method = method_of(llm)  # negotiated with a server, or the backend's own
    reply = proposal.model_dump_json()
    return proposal, LLMExchange(role="planner", prompt=prompt, reply=reply, method=method)


def repair(
    proposal: PlanProposal,
    target: str,
    rules: Any,
    inventory: dict[str, int],
    known: set[str] = frozenset(),  # type: ignore[assignment]
) -> tuple[list[Subgoal], list[str]]:
    """Roll the model's subgoals through the rules, keeping its order wherever it is free.

    The constraints prune, the model chooses (DESIGN.md, "Who decides"): the rules' chain
    (`rules.prerequisites`) says what `target` needs from here; the plan is that chain plus
    the model's other feasible subgoals, in the model's order. What the target needs and
    the model left out is inserted right before the first step that needs it; a step the
    model put before something it needs moves after it; a proposed step is dropped only
    when the rules show it impossible from here, already done, or after the target (the
    goal ends there). Where the order is free (two prerequisites that do not need each
    other) the model's order stands. `known` are kinds the agent has seen (a remembered
    table needs no new one).

    Returns the plan and one note per disagreement (the model said X, the rules changed it
    to Y, and why); an empty list when the model's plan stood as proposed.
    """
    steps = rules.prerequisites(target, inventory, known)
    chain = [Subgoal(name=n, need=dict(need)) for n, need in steps]
    if not chain or chain[-1].name != target:
        chain.append(Subgoal(name=target))
    in_chain = {s.name for s in chain}
    proposed = list(dict.fromkeys(proposal.subgoals))
    notes: list[str] = []
    nodes = list(chain)
    cut = proposed.index(target) if target in proposed else len(proposed)
    for name in proposed[cut + 1 :]:
        if name not in in_chain:
            notes.append(f"dropped {name}: the model put it after {target}, where the goal ends")
    for name in proposed[:cut]:
        if name in in_chain:
            continue
        why = _infeasible_extra(rules, name, inventory, known, in_chain - {target})
        if why:
            notes.append(f"dropped {name}: {why}")
            continue
        nodes.append(Subgoal(name=name))
        _add_consumption(rules, name, chain)
    order = _model_order(rules, nodes, target, proposed[:cut], inventory, known, notes)
    plan = [nodes[i] for i in order]
    return plan, notes


def forced(
    target: str,
    names: list[str],
    rules: Any,
    inventory: dict[str, int],
    known: set[str] = frozenset(),  # type: ignore[assignment]
) -> bool:
    """Whether no proposal the model could make changes what `repair` plans for `target`.

    One option left (DESIGN.md, "Who decides"): the step is forced and no model is called.
    So it is when none of `names` besides the rules' chain to `target` is feasible from here
    (`repair` would drop every extra step), and the chain's order is fixed by what each step
    needs wherever the model could name one of its steps (no two named steps ever ready at
    once). BabyAI, whose only name is the mission, is always forced; a Crafter target with
    a feasible extra step (a sapling to collect on the way) never is.
    """
    try:
        chain = list(dict.fromkeys(n for n, _ in rules.prerequisites(target, inventory, known)))
    except (ValueError, RecursionError):
        return False  # `repair` reports it
    if not chain or chain[-1] != target:
        chain.append(target)
    in_chain = set(chain)
    for name in names:
        if name not in in_chain and not _infeasible_extra(
            rules, name, inventory, known, in_chain - {target}
        ):
            return False  # a step the model may add
    if not any(n in names and n != target for n in chain):
        return True  # the model can name no step of the chain: its order is the rules'
    needs: dict[str, set[str]] = {}
    for name in chain:
        try:
            own = _own_needs(rules, name, inventory, known)
        except (ValueError, RecursionError):
            own = []
        needs[name] = {n for n in own if n in in_chain and n != name}
    done: set[str] = set()
    while len(done) < len(chain):
        ready = [n for n in chain if n not in done and needs[n] <= done]
        steps = [n for n in ready if n != target] or ready
        if len(steps) != 1:  # two steps ready at once (the model's order decides) or a cycle
            return False
        done.add(steps[0])
    return True


def _own_needs(rules: Any, name: str, inventory: dict[str, int], known: set[str]) -> list[str]:
    """The steps `name` itself needs first, from here (its own rules chain, without it)."""
    return [n for n, _ in rules.prerequisites(name, inventory, known) if n != name]


def _infeasible_extra(
    rules: Any, name: str, inventory: dict[str, int], known: set[str], planned: set[str]
) -> str:
    """Why a proposed step the target does not need cannot stay (empty when it can)."""
    requirement = getattr(rules, "requirement", None)
    if requirement is not None:
        req = requirement(name)
        held = [item for item in req.gives if name.startswith("make_") and inventory.get(item)]
        if held:
            return f"already done: {held[0].replace('_', ' ')} is held"
        placed = name.removeprefix("place_")
        if name.startswith("place_") and placed in known and placed in ("table", "furnace"):
            return f"already done: a {placed} is known"
        items = getattr(rules, "items", {})
        full = [
            item
            for item in req.gives
            if name.startswith("collect_")
            and isinstance(items.get(item), dict)
            and inventory.get(item, 0) >= int(items[item].get("max", 1 << 30))
        ]
        if full:  # nothing more can be collected: the step could never succeed
            return f"impossible now: {full[0].replace('_', ' ')} is at its maximum"
    try:
        needs = _own_needs(rules, name, inventory, known)
    except (ValueError, RecursionError) as e:
        return f"impossible by the rules ({e})"
    unmet = [n for n in needs if n not in planned]
    if unmet:  # (the target is not among `planned`: the goal ends when it is reached)
        return f"not feasible where the model put it: it needs {unmet[0]} first"
    missing = getattr(rules, "missing", None)
    if not needs and missing is not None:  # nothing before it in the plan: feasible now?
        blocked = missing(name, inventory, known)
        if blocked:
            return f"impossible now: {blocked[0]}"
    return ""


def _add_consumption(rules: Any, name: str, chain: list[Subgoal]) -> None:
    """A kept extra step uses up items the chain collects: collect that much more."""
    requirement = getattr(rules, "requirement", None)
    if requirement is None:
        return
    for item, amount in requirement(name).consumes.items():
        for step in chain:
            if item in step.need and step.name.startswith("collect_"):
                step.need[item] += int(amount)
                break


def _model_order(
    rules: Any,
    nodes: list[Subgoal],
    target: str,
    proposed: list[str],
    inventory: dict[str, int],
    known: set[str],
    notes: list[str],
) -> list[int]:
    """Indices of `nodes` in the model's order, as far as what each needs allows.

    A topological order of the steps by the rules' needs, taking among the steps that are
    ready the one the model named first; a step the model left out takes the place of the
    earliest step that needs it, the target comes last.
    """
    index = {s.name: i for i, s in enumerate(nodes)}
    needs: list[set[int]] = []
    for s in nodes:
        try:
            own = _own_needs(rules, s.name, inventory, known)
        except (ValueError, RecursionError):
            own = []
        needs.append({index[n] for n in own if n in index and index[n] != index[s.name]})
    position = {n: i for i, n in enumerate(proposed)}
    inf = float(len(proposed) + 1)
    key = [inf if s.name == target else float(position.get(s.name, inf)) for s in nodes]
    # A step takes the earliest place of anything that needs it (needs point backwards in
    # the rules' chain, so one pass from the end settles every key).
    for i in sorted(range(len(nodes)), key=lambda i: -_depth(i, needs)):
        for j in needs[i]:
            key[j] = min(key[j], key[i])
    placed: list[int] = []
    done: set[int] = set()
    while len(placed) < len(nodes):
        ready = [i for i in range(len(nodes)) if i not in done and needs[i] <= done]
        if not ready:  # a cycle in the rules: fall back on the chain's order
            ready = [i for i in range(len(nodes)) if i not in done][:1]
        i = min(ready, key=lambda i: (key[i], i))
        placed.append(i)
        done.add(i)
    named = [i for i in placed if nodes[i].name in position and nodes[i].name != target]
    for i in named:
        later = [j for j in named if position[nodes[j].name] < position[nodes[i].name]]
        later = [j for j in later if placed.index(j) > placed.index(i)]
        if later:
            first = min(later, key=lambda j: position[nodes[j].name])
            notes.append(
                f"moved {nodes[i].name} before {nodes[first].name}: the rules say it comes "
                f"first ({_needer(i, placed, needs, nodes)} needs it)"
            )
    for i in placed:
        if nodes[i].name not in position and nodes[i].name != target:
            needer = _needer(i, placed, needs, nodes)
            notes.append(f"inserted {nodes[i].name}: {needer} needs it, the model left it out")
    return placed


def _depth(i: int, needs: list[set[int]]) -> int:
    """How many steps deep `i` sits in the needs graph (0: needs nothing)."""
    seen: dict[int, int] = {}

    def depth(k: int) -> int:
        if k not in seen:
            seen[k] = 0
            seen[k] = 1 + max((depth(j) for j in needs[k]), default=-1)
        return seen[k]

    return depth(i)


def _needer(i: int, placed: list[int], needs: list[set[int]], nodes: list[Subgoal]) -> str:
    """The first step of the plan that needs step `i`."""
    for j in placed:
        if i in needs[j]:
            return nodes[j].name
    return nodes[placed[-1]].name


def repair_imagined(
    proposal: PlanProposal,
    target: str,
    model: Any,
    inventory: dict[str, int],
    known: set[str],
    achievements: list[str],
) -> tuple[list[Subgoal], list[str]]:
    """`--world-model learned`: roll the proposal through the learned model, not the rules.

    The target's chain comes from the model (missing prerequisites inserted); a proposed step
    with a verified unmet need that nothing yields is dropped as impossible; other proposed
    steps are dropped as unneeded only when the chain rests on verified edges alone, and are
    otherwise kept first, as exploration the model can learn from. Raises
    `world_model.OutOfReach` when the model says the target cannot be reached.
    """
    from agents import world_model as wm

    chain, notes = wm.prerequisites(model, target, inventory, known, achievements)
    plan = [Subgoal(name=n, need=need) for n, need in chain]
    in_chain = {s.name for s in plan}
    sure = all(e.status == "verified" for name in in_chain for e in model.needs(name)) and all(
        name in model.stats for name in in_chain
    )
    explore: list[Subgoal] = []
    for name in dict.fromkeys(proposal.subgoals):
        if name in in_chain:
            continue
        blocked = [
            e
            for e in model.missing(name, inventory, known)
            if e.status == "verified"
            and e.kind != "nearby"
            and model.producer(e.thing, achievements) is None
        ]
        if blocked:
            notes.append(f"dropped {name}: impossible, {blocked[0].text} and nothing yields it")
        elif sure:
            notes.append(f"dropped {name}: the verified model says {target} does not need it")
        else:
            explore.append(Subgoal(name=name))
            notes.append(f"kept {name} to explore: the model is not sure yet")
    proposed = set(proposal.subgoals)
    notes += [
        f"inserted {s.name}: imagined {target} needs it" for s in plan if s.name not in proposed
    ]
    return explore + plan, notes


def validate_only(proposal: PlanProposal, target: str) -> tuple[list[Subgoal], list[str]]:
    """`--world-model off`: the LLM's plan as is (names were schema-validated), target last."""
    names = list(dict.fromkeys(n for n in proposal.subgoals if n != target))
    return [Subgoal(name=n) for n in [*names, target]], ["world model off: the LLM's plan as is"]

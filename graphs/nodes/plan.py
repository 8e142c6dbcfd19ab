"""Node `plan`: read the goal into a target and a subgoal list; replan after a failure."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from agents import goal_reader, goal_spec, planner, spec_reader
from agents.prompts import render
from graphs.context import RunContext
from graphs.nodes._view import NodeView, subgoal_text, update_of
from graphs.state import AgentState, Decision

ATTEMPT = "outside"
"""Where this node stands in an attempt (``graphs.nodes.Node.attempt``)."""

NOT_ACHIEVABLE = "not achievable with the current skills"


def plan(state: AgentState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    """Propose (LLM), ground and repair (rules) a plan; give up after too many replans."""
    ctx = runtime.context
    session = ctx.env
    # Any verdict means we are back here after an attempt: a failure, or a plan used up.
    replanning = state.verdict is not None and not state.progressed
    replans = state.replans + int(replanning)
    if replans > ctx.settings.max_replans:
        states = _states(state, session)
        return {
            "replans": replans,
            "outcome": "failed",
            "message": f"gave up after {ctx.settings.max_replans} replans: {NOT_ACHIEVABLE}"
            + (f"; {goal_spec.summary(states)}" if states else ""),
            **({"conditions": states} if states else {}),
        }
    failure = ""
    if replanning and state.history:
        last = state.history[-1]
        failure = render(
            "planner_failure",
            subgoal=last.subgoal.text,
            skill=last.skill,
            critique=last.verdict.critique,
        )
    pursued = _pursue(state, ctx)
    if "outcome" in pursued:  # a goal of several conditions, refused or already met
        reading = pursued.pop("reading", [])
        return pursued | {"decisions": [*reading, *pursued.get("decisions", [])]}
    forced = pursued.pop("forced", None)
    if forced is not None:  # a span or state the run driver holds: forced steps, no model call
        first = str(pursued.pop("target"))
        return pursued | {
            "decisions": [*pursued.pop("reading", []), pursued.pop("decision")],
            "target": first,
            "target_start": session.achievements.get(first, 0),
            "plan": forced,
            "cursor": 0,
            "replans": replans,
            "verdict": None,
            "progressed": False,
            "message": f"{forced[-1].text}: held by the run driver's survival reflexes"
            + (f", after {first} (what its night shelter needs)" if len(forced) > 1 else ""),
        }
    observation = session.describe()
    names = list(session.rules.achievements)
    mode = ctx.settings.world_model
    target: str | None = None
    source = "llm"
    read: list[Decision] = []
    early = bool(pursued) or (
        ctx.settings.ground_target and (len(names) == 1 or state.target in names)
    )
    if pursued:  # the spec's next unmet condition is the target (agents.goal_spec)
        target, source = pursued["target"], "spec"
        read = [*pursued.pop("reading", []), pursued.pop("decision")]
    elif early:
        # One name to read the goal as, or the target of an earlier plan: the reading does
        # not depend on the model's proposed target, so it comes first (a forced plan, or a
        # goal nothing matches, then needs no planner call).
        reading = goal_reader.read(
            session.env_id, _said(state, session), ctx.scorer, names, None, state.target
        )
        target, source = reading.target, reading.method
        read = [goal_reader.decision(reading, session.steps)]
    forced = target is not None and (
        planner.forced(target, names, session.rules, session.inventory, session.known_kinds())
        if mode == "rules"
        else mode == "off" and set(names) <= {target}
    )
    exchanges: list[Any] = []
    if forced or (early and target is None):  # one option left, or no plan at all: no call
        proposal = planner.PlanProposal(target=str(target or planner.NONE), subgoals=[])
    else:
        proposal, exchange = planner.propose(
            ctx.llm, state.goal, observation, names, failure, session.env_id
        )
        exchanges = [exchange]
        if not early:
            target = proposal.target
    if not early and ctx.settings.ground_target:
        # The model reads the goal (agents.goal_reader); the env's word match is its fallback.
        reading = goal_reader.read(
            session.env_id, _said(state, session), ctx.scorer, names, proposal.target, state.target
        )
        target, source = reading.target, reading.method
        read = [goal_reader.decision(reading, session.steps)]
    update: dict[str, Any] = {"llm_log": exchanges, "observation": observation}
    if target is None:
        why = f" ({read[0].notes[0]})" if read else ""
        return update | {
            "decisions": read,
            "target": None,
            "outcome": "not_achievable",
            "message": f"{NOT_ACHIEVABLE}: no known achievement matches {state.goal!r}{why}",
        }
    if mode == "off":
        steps, notes = planner.validate_only(proposal, target)
    elif mode == "learned":
        imagined = _imagine(ctx, state, proposal, target, names, failure)
        if isinstance(imagined, str):
            return update | {"target": target, "outcome": "not_achievable", "message": imagined}
        steps, notes, more = imagined
        update["llm_log"] = [*exchanges, *more]
    else:
        steps, notes = planner.repair(
            proposal, target, session.rules, session.inventory, session.known_kinds()
        )
    chosen = " > ".join(s.name for s in steps)
    if forced:  # the rules' chain is the only plan left: nothing for the model to choose
        notes = [f"forced: {chosen} (no other plan survives the rules, no model call)"]
    decision = Decision(
        role="planner",
        options=[chosen] if forced else list(proposal.subgoals),
        choice=chosen,
        forced=forced,
        method="forced" if forced else "structured",
        overridden_by=(
            None if forced or not notes else {"rules": "rules", "learned": "learned"}.get(mode)
        ),
        notes=list(notes),
        env_steps=session.steps,
    )
    said = "no model call" if forced else f"LLM said {proposal.target}"
    notes.insert(0, f"target {target} (read by {source}; {said})")
    update |= {
        "decisions": [*read, decision],
        "target": target,
        "plan": steps,
        "cursor": 0,
        "replans": replans,
        "verdict": None,
        "progressed": False,  # a found precondition's free replan is this one, not the next
        "message": "; ".join(notes),
    }
    if state.target is None or pursued:
        update["target_start"] = session.achievements.get(target, 0)
    if pursued:
        need = pursued.pop("need")
        if need and steps and steps[-1].name == target:
            steps[-1] = steps[-1].model_copy(update={"need": {**steps[-1].need, **need}})
        swap = pursued.pop("swap", None)
        if swap is not None:  # the placement, next to its object (the driver's own skill)
            if steps and steps[-1].name == target:
                steps.pop()
            steps.append(swap)
        update |= {k: v for k, v in pursued.items() if k != "target"} | {"progressed": False}
    return update


def _said(state: AgentState, session: Any) -> str:
    """The goal as the reader reads it: an env that takes the goal as its mission (BabyAI)
    has read it already (``make(goal=...)`` builds the mission from it, in any language it
    speaks, or refuses it), so its mission is read; else the goal as given."""
    mission = session.mission if getattr(session.adapter, "takes_goal", False) else None
    return mission or state.goal


def _states(state: AgentState, session: Any) -> list[goal_spec.ConditionState]:
    """Each condition's state now (empty without a spec)."""
    if state.spec is None:
        return []
    return goal_spec.check(state.spec, session, state.spec_start, state.conditions)


def _pursue(state: AgentState, ctx: RunContext) -> dict[str, Any]:
    """For a goal of several conditions, amounts or states (``agents.goal_spec``): read it
    once (first plan), refuse it naming what cannot be pursued, or pick the next unmet
    condition's achievement as the target. Empty for a goal of one achievement."""
    session = ctx.env
    spec, start = state.spec, state.spec_start
    update: dict[str, Any] = {}
    if spec is None and state.target is None and ctx.settings.ground_target:
        # The model reads it under the env's schema, the words are its fallback; the reading
        # (both readers, the rule applied) is the first decision of the run (agents.spec_reader).
        reading = spec_reader.spec_for_run(
            state.goal, session.env_id, session.rules, ctx.llm, ctx.scorer
        )
        if reading is None:
            return {}
        spec, read = reading.spec, spec_reader.decision(reading, session.steps)
        start = _start(spec, session)
        update = {"spec": spec, "spec_start": start, "reading": [read]}
        why = goal_spec.refusal(spec, session.rules, session)
        if why:
            decision = _spec_decision(spec, None, [why], session.steps)
            return {k: v for k, v in update.items() if k != "reading"} | {
                "decisions": [read, decision],
                "outcome": "not_achievable",
                "message": f"{NOT_ACHIEVABLE}: {state.goal!r} {spec.message()} ({why})",
            }
    if spec is None:
        return {}
    states = goal_spec.check(spec, session, start, state.conditions)
    index = goal_spec.next_unmet(spec, states)
    if index is None:
        return update | {
            "conditions": states,
            "outcome": "achieved",
            "message": f"every condition met: {goal_spec.summary(states)}",
        }
    condition = spec.conditions[index]
    got = goal_spec.pursuit(condition, session.rules, session)
    assert not isinstance(got, str), got  # refusal() let only pursuable conditions through
    target, need = got
    notes = [spec.message(), goal_spec.summary(states)]
    update |= {"condition": index, "conditions": states}
    if target == goal_spec.HOLD or target.startswith("next_to_"):
        held = goal_spec.held_subgoal(
            condition, session, goal_spec.baseline(spec, index, states, start)
        )
        prep = _preparation(session, held)
        steps = [held]
        if prep is not None:  # the rules' chain to it: forced, as the hold itself is
            chain, _ = planner.repair(
                planner.PlanProposal(target=prep, subgoals=[]),
                prep,
                session.rules,
                session.inventory,
                session.known_kinds(),
            )
            steps = [*chain, held]
            notes.append(f"{held.text} first needs {prep} (the survival reflexes' shelter)")
        notes.append("forced: " + " > ".join(s.name for s in steps) + " (no model call)")
        target = prep or held.name
        return update | {
            "forced": steps,
            "target": target,
            "decision": _spec_decision(spec, target, notes, session.steps),
        }
    elif isinstance(condition, goal_spec.Near):
        update["swap"] = goal_spec.held_subgoal(condition, session, start)
    return update | {
        "target": target,
        "need": need,
        "decision": _spec_decision(spec, target, notes, session.steps),
    }


def _start(spec: goal_spec.GoalSpec, session: Any) -> dict[str, Any]:
    """Where the spec counts from: achievement counts, env steps, and the cells of each kind
    a condition will place that the player knows now (``goal_spec.check``'s start)."""
    start: dict[str, Any] = {"achievements": dict(session.achievements), "steps": session.steps}
    known = getattr(session.adapter, "known_cells", None)
    placed = {c.placed for c in spec.conditions if isinstance(c, goal_spec.Near) and c.placed}
    if placed and callable(known):
        start["cells"] = {k: [list(p) for p in known(session.env, k)] for k in sorted(placed)}
    return start


def _preparation(session: Any, held: Any) -> str | None:
    """The achievement a span to live through needs first, by the env's survival contract
    (Crafter: a pickaxe, when a night falls in the span; its shelter is dug into rock)."""
    survival = session.adapter.survival()
    prepare = getattr(survival, "prepare", None)
    steps = held.need.get("steps")
    if not steps or not callable(prepare):
        return None
    prep = prepare(session, session.env, session.steps + steps, session.steps)
    return prep if prep in session.rules.achievements else None


def _spec_decision(
    spec: goal_spec.GoalSpec, target: str | None, notes: list[str], env_steps: int
) -> Decision:
    """The goal's reading as a decision: its conditions, the one pursued now."""
    return Decision(
        role="goal",
        options=[goal_spec.condition_text(c) for c in spec.conditions],
        choice=target,
        method=spec.method,
        notes=notes,
        env_steps=env_steps,
    )


def _imagine(
    ctx: RunContext,
    state: AgentState,
    proposal: planner.PlanProposal,
    target: str,
    names: list[str],
    failure: str,
) -> tuple[list[Any], list[str], list[Any]] | str:
    """`--world-model learned`: hypothesise (LLM, once per achievement), then roll the plan
    through the learned model; when it says the target is out of reach, replan once."""
    from agents import world_model as wm

    session = ctx.env
    model = wm.shared(session.env_id)
    exchanges = wm.hypothesise(
        ctx.llm, model, target, wm.vocab_for(session.env_id), scorer=ctx.scorer
    )
    if exchanges:
        wm.save(model)
    known = session.known_kinds()
    for attempt in range(2):
        try:
            steps, notes = planner.repair_imagined(
                proposal, target, model, session.inventory, known, names
            )
            return steps, notes, exchanges
        except wm.OutOfReach as e:
            if attempt:
                return f"{NOT_ACHIEVABLE}: the world model says {target} is out of reach ({e})"
            reason = f"\nThe world model says {target} is out of reach: {e}."
            proposal, exchange = planner.propose(
                ctx.llm, state.goal, session.describe(), names, failure + reason, session.env_id
            )
            exchanges.append(exchange)
            if ctx.settings.ground_target:
                target = planner.ground_target(state.goal, proposal.target, names)[0] or target
    raise AssertionError("unreachable")


def view(event: dict[str, Any]) -> NodeView:
    """The plan: its target and subgoals, and the planner's notes."""
    up = update_of(event)
    steps = " → ".join(subgoal_text(s) for s in up.get("plan") or [])
    label = "replan" if up.get("replans") else "plan"
    summary = f"target={up.get('target')}" + (f": {steps}" if steps else "")
    if up.get("outcome"):
        summary += f" ({up['outcome']})"
    return NodeView(
        label=label,
        style="bold cyan",
        summary=summary,
        details=(str(up["message"]),) if up.get("message") else (),
    )

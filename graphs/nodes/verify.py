"""Node `verify`: judge the subgoal, reward the skill, and decide what comes next."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from agents import goal_spec, verifier
from envs.contract import NewPrecondition
from graphs.context import RunContext
from graphs.nodes._view import NodeView, conditions_text, update_of
from graphs.state import AgentState, StepRecord, Verdict

ATTEMPT = "closes"
"""Where this node stands in an attempt (``graphs.nodes.Node.attempt``)."""

MAX_FOUND = 12
"""Replans after a precondition found mid-skill (``envs.contract.NewPrecondition``) that do not
count against ``--max-replans`` in one run; past this many they count like any failure."""


def verify(state: AgentState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    """Check the env; write the verdict into history and the skill's success record."""
    ctx = runtime.context
    session = ctx.env
    subgoal = state.subgoal
    assert subgoal is not None, "routed to verify without a subgoal"
    achievements = session.achievements
    verdict = verifier.verify(
        subgoal,
        state.baseline,
        achievements,
        session.inventory,
        steps=state.last_steps,
        stopped=state.last_stopped,
        error=state.last_error,
    )
    if state.spec is not None and _held(ctx, subgoal.name):
        verdict = _held_verdict(state, ctx, subgoal)
    elif ctx.settings.reward != "programmatic":
        verdict = _language_verdict(verdict, state, ctx)
    found = _found(state.last_error)
    if found:  # the skill stopped on a need the view revealed: progress, the plan grows
        verdict = verdict.model_copy(update={"critique": f"new precondition found: {found}"})
    if state.chosen is not None and not _held(ctx, state.chosen) and not found:
        ctx.library.record(state.chosen, verdict.success, attempt=len(state.history))
        skill = ctx.library.get(state.chosen)
        feedback = getattr(skill, "feedback", None)
        if feedback is not None:
            feedback(verdict.reward)
    record = StepRecord(
        index=len(state.history),
        subgoal=subgoal,
        skill=state.chosen or "-",
        candidates=state.candidates,
        steps=state.last_steps,
        stopped=state.last_stopped,
        error=state.last_error,
        verdict=verdict,
    )
    update: dict[str, Any] = {"verdict": verdict, "history": [record]}
    # A found precondition replans without counting a replan, MAX_FOUND times in a run.
    free = bool(found) and 1 + sum(bool(_found(r.error)) for r in state.history) <= MAX_FOUND
    if state.spec is not None:
        return update | _spec_next(state, ctx, verdict) | ({"progressed": True} if free else {})
    goal_met = state.target is not None and achievements.get(state.target, 0) > state.target_start
    if goal_met:
        return update | {"outcome": "achieved", "message": f"{state.target} achieved"}
    if session.episode_over:
        return update | {"outcome": "episode_over", "message": "the episode ended"}
    if state.env_steps >= ctx.settings.max_env_steps:
        return update | {"outcome": "failed", "message": "env step budget spent"}
    if verdict.success:
        update["cursor"] = state.cursor + 1
    if free:
        update["progressed"] = True
    return update


def _found(error: str | None) -> str:
    """The new step's message when the skill stopped on a precondition it found (the
    error names ``NewPrecondition``, in process or from the sandbox), else empty."""
    mark = f"{NewPrecondition.__name__}: "
    if not error or mark not in error:
        return ""
    return error.split(mark, 1)[1].strip()


def _spec_next(state: AgentState, ctx: RunContext, verdict: Verdict) -> dict[str, Any]:
    """A goal of several conditions: achieved only when every condition holds; when the one
    pursued now holds (or its achievement rose, for one wanted N times), plan the next."""
    assert state.spec is not None
    session = ctx.env
    states = goal_spec.check(state.spec, session, state.spec_start, state.conditions)
    line = goal_spec.summary(states)
    update: dict[str, Any] = {"conditions": states, "progressed": False}
    if goal_spec.next_unmet(state.spec, states) is None:
        return update | {"outcome": "achieved", "message": f"every condition met: {line}"}
    if session.episode_over:
        return update | {"outcome": "episode_over", "message": f"the episode ended; {line}"}
    if state.env_steps >= ctx.settings.max_env_steps:
        return update | {"outcome": "failed", "message": f"env step budget spent; {line}"}
    i = state.condition
    pursued = state.spec.conditions[i] if 0 <= i < len(states) else None
    rose = state.target is not None and session.achievements.get(state.target, 0) > (
        state.target_start
    )
    # Progress, so the next plan is no replan: the pursued condition met; its achievement
    # rose (one wanted N times), or a preparation's or placement's did (plan it afresh); a
    # span held for a while (the driver holds the rest next).
    stepped = not isinstance(pursued, goal_spec.Have | goal_spec.Vital) and rose
    held = _held(ctx, state.subgoal.name if state.subgoal else "") and state.last_steps > 0
    if pursued is not None and (states[i].met or stepped or held):
        return update | {"cursor": len(state.plan), "progressed": True}
    if verdict.success:
        update["cursor"] = state.cursor + 1
    return update


def _held(ctx: RunContext, name: str) -> bool:
    """Whether the run driver holds this subgoal itself (``goal_spec.HOLD``, placements next
    to an object): its own skill, no library history."""
    held = getattr(ctx.library, "held", None)
    return callable(held) and held(name) is not None


def _held_verdict(state: AgentState, ctx: RunContext, subgoal: Any) -> Verdict:
    """A held subgoal succeeded when the player is alive and the hold reached its end (its
    span lived through, its stat reached, the thing placed next to its object)."""
    session = ctx.env
    alive = not session.episode_over
    ok = alive and state.last_stopped == "returned" and not state.last_error
    why = f"{subgoal.text}: {'done' if ok else 'not done'} after {state.last_steps} steps"
    if not alive:
        why += "; the episode ended"
    elif state.last_error:
        why += f"; {state.last_error}"
    elif state.last_stopped == "budget":
        why += "; the skill's step budget ran out first"
    return Verdict(success=ok, reward=float(ok), critique=why)


_MODELS: dict[tuple[Any, ...], Any] = {}


def _language_verdict(programmatic: Verdict, state: AgentState, ctx: RunContext) -> Verdict:
    """The verdict of the run's language reward model (`agents.rewards`), one per settings."""
    from agents.rewards import make_reward_model, reward_kinds

    s = ctx.settings
    key = (s.reward, s.manual, s.clip_weights, id(ctx.llm))
    if key not in _MODELS:
        _MODELS[key] = make_reward_model(
            s.reward, llm=ctx.llm, manual=s.manual, clip_weights=s.clip_weights
        )
    session = ctx.env
    before = {
        "achievements": state.baseline,
        "inventory": state.start_inventory,
        "description": state.start_observation,
    }
    after = {
        "achievements": session.achievements,
        "inventory": session.inventory,
        "description": session.describe(),
    }
    if "frame" in reward_kinds()[s.reward].needs:  # the kind says it reads the frame
        after["frame"] = session.env.render()
    assert state.subgoal is not None
    return verifier.verify_with_model(programmatic, _MODELS[key], state.subgoal, before, after)


def view(event: dict[str, Any]) -> NodeView:
    """The verdict: success, progress (a failed attempt that moved the run on: a precondition
    found, a condition met) or failure, reward, critique."""
    up = update_of(event)
    v = up.get("verdict") or {}
    ok, moved = bool(v.get("success")), bool(up.get("progressed"))
    mark = "✓ success" if ok else "→ progress" if moved else "✗ failure"
    return NodeView(
        label="verify",
        style="bold green" if ok else "bold yellow" if moved else "bold red",
        summary=f"{mark} reward={v.get('reward')} — {v.get('critique', '')}",
        details=(str(up["message"]),)
        if up.get("outcome") and up.get("message")
        else ((f"goal: {conditions_text(up['conditions'])}",) if up.get("conditions") else ()),
    )

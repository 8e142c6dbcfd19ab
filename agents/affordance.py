"""SayCan scoring: for one instruction, every skill's usefulness (LLM) times affordance (state).

usefulness = the LLM's probability of the skill's phrase after the instruction, normalised
over the candidates (log-likelihood scoring). affordance = the probability the skill can
succeed from here: the env's rules (preconditions from its own data) times the skill's
success history, or an RL skill's critic value V(s) in place of the history.
"""

from __future__ import annotations

from typing import Any

from agents._prompts import render
from graphs.state import LLMExchange, SkillScore


def skill_phrase(meta: Any) -> str:
    """How a skill reads as an option to the LLM: what it achieves ('collect wood'), else its name.

    An RL and a code skill for the same achievement read alike, so the affordance decides.
    """
    return (meta.achievement or meta.name).replace("_", " ")


def usefulness(scorer: Any, instruction: str, skills: list[Any]) -> tuple[list[float], LLMExchange]:
    """The LLM's normalised probability of each skill phrase given the instruction."""
    phrases = [skill_phrase(s.meta) for s in skills]
    prompt = render("affordance", instruction=instruction)
    probs = list(scorer.distribution(prompt, [" " + p for p in phrases]))
    best = max(range(len(phrases)), key=probs.__getitem__)
    reply = f"most likely: {phrases[best]} (p={probs[best]:.2f})"
    return probs, LLMExchange(role="affordance", prompt=prompt, reply=reply)


def affordance(
    skill: Any,
    session: Any,
    *,
    world_model: str = "rules",
    scorer: Any = None,
    subgoal: str | None = None,
) -> tuple[float, str]:
    """Probability that `skill` can succeed from the session's state, and why.

    With the rules as world model, a skill whose achievement is another one of the rules'
    achievements than `subgoal` cannot bring the subgoal about: 0 (a small LLM's usefulness
    once sent a 'collect coal' subgoal to the sleeping skill, asleep in the open at dusk).
    With `world_model` "learned" or "off" the env's rules are not read: the learned model's
    prediction (or, off, the history alone; the LLM for a skill never tried) stands in.
    """
    if world_model != "rules":
        return _predicted(skill, session, world_model, scorer)
    meta = skill.meta
    feasible, why = 1.0, []
    known = getattr(session.rules, "achievements", ())
    if subgoal in known and meta.achievement in known and meta.achievement != subgoal:
        return 0.0, f"achieves {meta.achievement}, not {subgoal}"
    if meta.achievement and not getattr(meta, "self_contained", False):
        missing = session.rules.missing(meta.achievement, session.inventory, session.known_kinds())
        if missing:
            feasible = 0.0
            why.extend(missing)
    try:
        value = skill.affordance(session)
    except Exception as e:  # a broken policy file must cost this skill its turn, not the run
        return 0.0, f"affordance failed: {type(e).__name__}: {e}"
    if value is not None:
        why.append(f"V(s)={value:.2f}")
        return feasible * value, ", ".join(why)
    why.append(f"history {meta.successes}/{meta.attempts}")
    return feasible * meta.success_rate, ", ".join(why)


def _predicted(skill: Any, session: Any, mode: str, scorer: Any) -> tuple[float, str]:
    """Affordance from `agents.world_model.predict`; a critic's V(s) replaces the history."""
    from agents import world_model as wm

    model = wm.shared(session.env_id) if mode == "learned" else None
    try:
        value = skill.affordance(session)
    except Exception as e:  # a broken policy file must cost this skill its turn, not the run
        return 0.0, f"affordance failed: {type(e).__name__}: {e}"
    pred = wm.predict(
        model,
        skill.meta,
        session.inventory,
        session.known_kinds(),
        scorer=scorer if value is None else None,
        observation=session.describe() if scorer is not None else "",
    )
    if value is not None:
        return pred.feasible * value, f"{pred.why}, V(s)={value:.2f}"
    return pred.p_success, pred.why


def rank(
    scorer: Any,
    instruction: str,
    skills: list[Any],
    session: Any,
    *,
    world_model: str = "rules",
    subgoal: str | None = None,
) -> tuple[list[SkillScore], LLMExchange]:
    """Score every candidate skill for the instruction (whose achievement is `subgoal`),
    best first; every factor is kept for the trace."""
    probs, exchange = usefulness(scorer, instruction, skills)
    scores = []
    for skill, p in zip(skills, probs, strict=True):
        a, why = affordance(skill, session, world_model=world_model, scorer=scorer, subgoal=subgoal)
        scores.append(
            SkillScore(
                skill=skill.meta.name,
                kind=skill.meta.kind,
                usefulness=p,
                affordance=a,
                score=p * a,
                why=why,
            )
        )
    scores.sort(key=lambda s: s.score, reverse=True)
    return scores, exchange

"""SayCan scoring: for one instruction, every skill's usefulness (LLM) times affordance (state).

affordance = the probability the skill can succeed from here: the env's rules
(preconditions from its own data) times the skill's success history, or an RL skill's
critic value V(s) in place of the history. usefulness = the LLM's probability of the
skill's own description after the instruction, normalised over the candidates that can
succeed (log-likelihood scoring, calibrated by the same prompt without the instruction).
Each skill says how it goes about the task (an RL policy on the local view, hand-written
code with a map), so two skills for one achievement can differ in usefulness.

The constraints prune, the model chooses: skills with affordance 0 are out; with one left
the choice is forced and no model is called; among two or more the product decides, ties
drawn from the run's seed (`agents.decide`).
"""

from __future__ import annotations

from typing import Any

from agents._prompts import render
from agents.llm import method_of
from envs.values import Decision, LLMExchange, SkillScore


def skill_phrase(meta: Any) -> str:
    """How a skill reads as an option to the LLM: what it achieves, then its own description
    of how ('collect wood: walk to the nearest tree ...'); the name when it has neither."""
    what = (meta.achievement or meta.name).replace("_", " ").strip()
    desc = (meta.description or "").strip()
    if not desc:
        return what
    desc = desc[:1].lower() + desc[1:]
    return desc if desc.startswith(what) else f"{what}: {desc}"


def usefulness(scorer: Any, instruction: str, skills: list[Any]) -> tuple[list[float], LLMExchange]:
    """The LLM's normalised probability of each skill's description given the instruction,
    calibrated by the same prompt without it (pointwise mutual information)."""
    phrases = [skill_phrase(s.meta) for s in skills]
    prompt = render("affordance", instruction=instruction)
    baseline = render("affordance", instruction="")
    options = [" " + p for p in phrases]
    probs = list(scorer.distribution(prompt, options, baseline=baseline))
    best = max(range(len(phrases)), key=probs.__getitem__)
    reply = "; ".join(f"{s.meta.name}={p:.3f}" for s, p in zip(skills, probs, strict=True))
    reply = f"most likely: {phrases[best]} (p={probs[best]:.2f}); {reply}"
    exchange = LLMExchange(role="affordance", prompt=prompt, reply=reply, method=method_of(scorer))
    return probs, exchange


UNVERIFIED_FACTOR = 0.5
"""Affordance factor of a skill stored unverified (`SkillMeta.verified`: its dry run did not
unlock the achievement it claims), so it ranks below an equally scored verified one."""


def affordance(
    skill: Any,
    session: Any,
    *,
    world_model: str = "rules",
    scorer: Any = None,
    subgoal: str | None = None,
) -> tuple[float, str]:
    """`_affordance`, times `UNVERIFIED_FACTOR` for a skill whose claim was never seen."""
    value, why = _affordance(
        skill, session, world_model=world_model, scorer=scorer, subgoal=subgoal
    )
    if value > 0 and not getattr(skill.meta, "verified", True):
        return value * UNVERIFIED_FACTOR, f"{why}, unverified x{UNVERIFIED_FACTOR}"
    return value, why


def _affordance(
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
    seed: int = 0,
    key: Any = (),
) -> tuple[list[SkillScore], LLMExchange | None, Decision]:
    """Score every candidate skill for the instruction (whose achievement is `subgoal`) and
    choose one; the chosen skill comes first, then the rest best first.

    The affordances are computed first; the model is asked only when two or more skills
    can succeed (affordance > 0), and only about those. `seed` and `key` (what identifies
    the decision in the run) draw among tied scores. Every factor is kept for the trace.
    """
    from agents import decide

    factors = [
        affordance(skill, session, world_model=world_model, scorer=scorer, subgoal=subgoal)
        for skill in skills
    ]
    feasible = [i for i, (a, _) in enumerate(factors) if a > 0]
    use = [0.0] * len(skills)
    exchange = None
    if len(feasible) >= 2:
        probs, exchange = usefulness(scorer, instruction, [skills[i] for i in feasible])
        for i, p in zip(feasible, probs, strict=True):
            use[i] = p
        method = "loglik"
    else:
        for i in feasible:
            use[i] = 1.0
        method = "forced" if feasible else "none"
    scores = [
        SkillScore(
            skill=skill.meta.name,
            kind=skill.meta.kind,
            usefulness=u,
            affordance=a,
            score=u * a,
            why=why if a > 0 or len(feasible) < 2 else f"{why}; not scored (cannot succeed)",
        )
        for skill, u, (a, why) in zip(skills, use, factors, strict=True)
    ]
    chosen = None
    if feasible:
        names = [scores[i].skill for i in feasible]
        pick = decide.choose(
            [scores[i].score for i in feasible], seed=seed, key=("saycan", key, names)
        )
        chosen = feasible[pick]
    order = sorted(range(len(scores)), key=lambda i: (i != chosen, -scores[i].score))
    notes = [f"{scores[i].skill}: affordance {scores[i].affordance:.3f}" for i in feasible]
    overridden = None
    if method == "loglik" and chosen is not None:
        liked = max(feasible, key=lambda i: use[i])
        if use[liked] > use[chosen]:  # the state's factor outweighed the model's preference
            overridden = "affordance"
            notes.insert(
                0,
                f"the model preferred {scores[liked].skill} (usefulness {use[liked]:.3f}); "
                f"{scores[chosen].skill} has the best usefulness x affordance",
            )
    decision = Decision(
        role="saycan",
        options=[scores[i].skill for i in feasible],
        scores=[round(use[i], 6) for i in feasible] if method == "loglik" else [],
        choice=scores[chosen].skill if chosen is not None else None,
        forced=method != "loglik",
        method=method,
        overridden_by=overridden,
        notes=notes,
        env_steps=int(getattr(session, "steps", 0)),
    )
    return [scores[i] for i in order], exchange, decision

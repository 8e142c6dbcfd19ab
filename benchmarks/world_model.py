"""How well the learned world model learns Crafter's tech tree, predicts outcomes, and helps.

    python -m benchmarks.world_model [--quick] [--llm embedded,none] [--png PATH]

Prints three tables:

1. Edge precision / recall against crafter's ``data.yaml`` (the answer key, read only here)
   after the LLM's hypothesis alone and after 1, 5 and 20 episodes of experience.
   Experience = random chains of the built-in skills through the API (no LLM in the loop),
   up to ``--episode-steps`` env steps each. A key edge is (achievement, kind, thing) for the
   ``collect``/``place``/``make`` achievements: items used, tools required, ``make.nearby``,
   and the faced source when there is exactly one (tree for wood, water for drink...).
2. Outcome-prediction accuracy of ``predict`` on held-out skill executions (other seeds, not
   learned from): success (p >= 0.5) and, for successes, the exact inventory change; next to
   the majority class and to the rules of ``data.yaml`` as a reference.
3. Env steps to the first stone pickaxe, seeds 0-9: the agent that plans with the learned
   model (``prerequisites``, learning online from the hypothesis alone), the same agent
   starting from the model after the experience episodes, and ``off`` (no world model:
   random skill chains, what an agent does without a model of which things need which).
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from dataclasses import dataclass, field
from typing import Any

from agents import world_model as wm
from envs.registry import EnvSession
from skills.base import SkillMeta
from skills.library import SkillLibrary

ENV = "crafter"
TARGET = "make_stone_pickaxe"


# ---------------------------------------------------------------------- answer key
def answer_key() -> set[tuple[str, str, str]]:
    """Crafter's need edges from ``data.yaml``: the benchmark's answer key (never an input)."""
    from envs.crafter import load_rules

    rules = load_rules()
    key = set()
    for a in rules.achievements:
        if not a.startswith(("collect_", "place_", "make_")):
            continue
        r = rules.requirement(a)
        key |= {(a, "consumes", i) for i in r.consumes}
        key |= {(a, "tool", i) for i in r.tools}
        key |= {(a, "nearby", k) for k in r.nearby}
        if len(r.face) == 1:
            key.add((a, "nearby", r.face[0]))
    return key


def split(key: set[tuple[str, str, str]]) -> tuple[set[str], set[str]]:
    """The key's achievements in name order: even-indexed ones tune ``wm.NEED_Z``, odd ones
    report it."""
    names = sorted({a for a, _, _ in key})
    return set(names[0::2]), set(names[1::2])


def score_edges(model: wm.WorldModel, key: set[tuple[str, str, str]]) -> tuple[float, float, int]:
    """Precision and recall of the model's active edges (on the key's achievements), edges."""
    scored = {a for a, _, _ in key}
    have = {(e.achievement, e.kind, e.thing) for e in model.edges if e.active}
    have = {e for e in have if e[0] in scored}
    tp = len(have & key)
    precision = tp / len(have) if have else 0.0
    return precision, tp / len(key), len(have)


# ---------------------------------------------------------------------- acting
@dataclass
class Record:
    """One skill execution, for outcome prediction."""

    skill: str
    achievement: str
    inventory: dict[str, int]
    known: set[str]
    success: bool
    delta: dict[str, int]
    steps: int


@dataclass
class Agent:
    """Runs built-in skills in one episode, learning into ``model`` when ``learn``."""

    model: wm.WorldModel
    skills: list[Any]
    rng: random.Random
    learn: bool = True
    budget: int = 30
    records: list[Record] = field(default_factory=list)

    def execute(self, session: EnvSession, skill: Any, need: dict[str, int]) -> bool:
        """Run one skill; record and (optionally) learn from what happened."""
        meta = skill.meta
        before, known = session.inventory, session.known_kinds()
        base = session.achievements
        start = session.steps
        clear = not self.model.missing(meta.achievement, before, known)
        with wm.recording(session.env) as rec:
            skill.run(session, budget=self.budget, need=need)
        after = session.inventory
        if need:
            ok = all(after.get(i, 0) >= n for i, n in need.items())
        else:
            ok = session.achievements.get(meta.achievement, 0) > base.get(meta.achievement, 0)
        delta = {i: after.get(i, 0) - before.get(i, 0) for i in set(after) | set(before)}
        delta = {i: n for i, n in delta.items() if n and i not in self.model.vitals}
        steps = session.steps - start
        self.records.append(Record(meta.name, meta.achievement, before, known, ok, delta, steps))
        if self.learn:
            wm.learn_from_execution(
                self.model,
                rec,
                skill=meta.name,
                achievement=meta.achievement,
                success=ok,
                steps=steps,
                before=before,
                after_info=session.info,
                clear=clear,
            )
        return ok

    def random_episode(self, seed: int, max_steps: int, max_calls: int = 400) -> None:
        """Random chains of skills for one episode: half the calls uniform, half drawn in
        proportion to the model's predicted success (epsilon-greedy exploration)."""
        session = EnvSession.open(ENV, seed)
        for _ in range(max_calls):
            if session.steps >= max_steps or session.episode_over:
                break
            self.execute(session, self.pick(session), {})

    def pick(self, session: EnvSession) -> Any:
        """A uniform skill half the time, else one weighted by its predicted success."""
        if self.rng.random() < 0.5:
            return self.rng.choice(self.skills)
        inv, known = session.inventory, session.known_kinds()
        # Curiosity: a skill never seen to succeed keeps a fair chance to be tried.
        weights = [
            wm.predict(self.model, s.meta, inv, known).p_success ** 2
            if self.model.skills.get(s.meta.name, wm.SkillStats()).successes
            else 0.3
            for s in self.skills
        ]
        return self.rng.choices(self.skills, weights=[w + 1e-6 for w in weights])[0]

    def steps_to(self, seed: int, target: str, *, use_model: bool, cap: int) -> int | None:
        """Env steps until ``target`` is unlocked (None past ``cap``): plan with the model
        and explore one random skill after each failure, or (no model) random skills only."""
        session = EnvSession.open(ENV, seed)
        by_name = {s.meta.achievement: s for s in self.skills}
        names = list(by_name)
        for _ in range(2000):
            if session.achievements.get(target, 0) > 0:
                return session.steps
            if session.steps >= cap or session.episode_over:
                return None
            step = None
            if use_model:
                try:
                    chain, _ = wm.prerequisites(
                        self.model, target, session.inventory, session.known_kinds(), names
                    )
                    step = chain[0]
                except wm.OutOfReach:
                    step = None
            if step is None:
                self.execute(session, self.pick(session), {})
                continue
            if not self.execute(session, by_name[step[0]], step[1]):
                self.execute(session, self.pick(session), {})
        return None


def builtin_skills() -> list[Any]:
    """The shipped code skills with an achievement (RL skills left out: the benchmark is fast)."""
    lib = SkillLibrary(ENV)
    return [
        s
        for s in lib
        if s.meta.kind == "code" and s.meta.achievement and lib.is_shipped(s.meta.name)
    ]


# ---------------------------------------------------------------------- prediction
def prediction_accuracy(model: wm.WorldModel, records: list[Record]) -> dict[str, float]:
    """Success accuracy of ``predict`` (p >= 0.5), of the majority class, of the rules; and the
    exact-inventory-change accuracy of ``predict`` on successes."""
    from envs.crafter import load_rules

    rules = load_rules()
    hits = rule_hits = delta_hits = n_ok = 0
    for r in records:
        meta = SkillMeta(name=r.skill, description=r.skill, achievement=r.achievement)
        pred = wm.predict(model, meta, r.inventory, r.known)
        hits += (pred.p_success >= 0.5) == r.success
        rule_ok = not rules.missing(r.achievement, r.inventory, r.known)
        rule_hits += rule_ok == r.success
        if r.success:
            n_ok += 1
            delta_hits += pred.delta == r.delta
    n = len(records)
    share = sum(r.success for r in records) / n
    return {
        "n": n,
        "accuracy": hits / n,
        "majority": max(share, 1 - share),
        "rules": rule_hits / n,
        "delta": delta_hits / n_ok if n_ok else 0.0,
        "successes": n_ok,
    }


# ---------------------------------------------------------------------- main
def _hypothesis(llm_spec: str) -> tuple[wm.WorldModel, float]:
    """The model's hypothesis of every achievement's needs (one question each), and its time.

    ``none`` goes through the real ``none`` backend (random valid answers, uniform scores),
    so the lift printed beside it is what the model's knowledge adds."""
    from agents.llm import make_chat_model, make_scorer

    vocab = wm.vocab_for(ENV)
    model = wm.WorldModel(env=ENV, vitals=list(vocab.vitals))
    llm = make_chat_model(llm_spec)
    scorer = make_scorer(llm_spec)
    t0 = time.perf_counter()
    for a in vocab.achievements:
        wm.hypothesise(llm, model, a, vocab, max_calls=1, scorer=scorer)
    return model, time.perf_counter() - t0


@dataclass
class Run:
    """Everything measured for one backend."""

    spec: str
    hyp_s: float
    rows: list[tuple[Any, ...]]
    acc: dict[str, float]
    steps: dict[str, list[int | None]]
    held_episodes: int
    halves: list[tuple[float, float, int]] = field(default_factory=list)
    """Hypothesis precision, recall, edges on the tune and the report achievements."""


def measure(spec: str, key: set[tuple[str, str, str]], skills: list[Any], args: Any) -> Run:
    """The three measurements for one backend's hypothesis."""
    marks = [1, 5] if args.quick else [1, 5, 20]
    held_out = 300 if args.quick else 1000
    seeds = range(5) if args.quick else range(10)
    cap = 1500 if args.quick else 3000
    hypothesis, hyp_s = _hypothesis(spec)
    halves = [score_edges(hypothesis, {e for e in key if e[0] in part}) for part in split(key)]
    model = hypothesis.model_copy(deep=True)
    rows = [("hypothesis", 0, *score_edges(model, key))]
    if args.hypothesis_only:
        return Run(spec, hyp_s, rows, {}, {}, 0, halves)
    agent = Agent(model=model, skills=skills, rng=random.Random(0))
    for ep in range(1, marks[-1] + 1):
        agent.random_episode(100 + ep, args.episode_steps)
        if ep in marks:
            rows.append((f"{ep} episodes", ep, *score_edges(model, key)))
    evaluator = Agent(model=model, skills=skills, rng=random.Random(1), learn=False)
    seed = 500
    while len(evaluator.records) < held_out:
        evaluator.random_episode(seed, args.episode_steps)
        seed += 1
    acc = prediction_accuracy(model, evaluator.records)
    steps: dict[str, list[int | None]] = {"learned (online)": [], "learned (trained)": []}
    for s in seeds:
        fresh = Agent(model=hypothesis.model_copy(deep=True), skills=skills, rng=random.Random(s))
        steps["learned (online)"].append(fresh.steps_to(s, TARGET, use_model=True, cap=cap))
        trained = Agent(model=model.model_copy(deep=True), skills=skills, rng=random.Random(s))
        steps["learned (trained)"].append(trained.steps_to(s, TARGET, use_model=True, cap=cap))
    return Run(spec, hyp_s, rows, acc, steps, seed - 500, halves)


def main() -> None:
    """Run the three measurements for each backend and print them side by side."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--quick", action="store_true", help="fewer episodes, seeds and transitions")
    p.add_argument(
        "--llm",
        default="embedded,none",
        help="comma list of backends for the hypothesis, side by side (default embedded,none)",
    )
    p.add_argument("--episode-steps", type=int, default=1000)
    p.add_argument("--png", default="world_model_curve.png")
    p.add_argument(
        "--hypothesis-only", action="store_true", help="only the edges of the hypothesis"
    )
    args = p.parse_args()
    specs = [s.strip() for s in args.llm.split(",") if s.strip()]
    seeds = range(5) if args.quick else range(10)
    cap = 1500 if args.quick else 3000
    key = answer_key()
    skills = builtin_skills()
    t0 = time.perf_counter()
    runs = [measure(spec, key, skills, args) for spec in specs]
    base = next((r for r in runs if r.spec.split(":")[0] == "none"), None)

    times = ", ".join(f"{r.spec} {r.hyp_s:.0f}s" for r in runs)
    print(f"\nEdges vs data.yaml ({len(key)} key edges; hypothesis time: {times})")
    head = "".join(f"{r.spec[:22]:>24}" for r in runs)
    print(f"{'':<14}{head}")
    print(f"{'after':<14}" + "".join(f"{'precision':>10}{'recall':>8}{'edges':>6}" for _ in runs))
    for i, (name, *_rest) in enumerate(runs[0].rows):
        cells = "".join(f"{r.rows[i][2]:>10.2f}{r.rows[i][3]:>8.2f}{r.rows[i][4]:>6}" for r in runs)
        print(f"{name:<14}{cells}")
    if base is not None:
        for r in runs:
            if r is base:
                continue
            for i, (name, *_rest) in enumerate(r.rows):
                dp, dr = r.rows[i][2] - base.rows[i][2], r.rows[i][3] - base.rows[i][3]
                print(
                    f"lift {r.spec} - {base.spec} after {name}: precision {dp:+.2f}, "
                    f"recall {dr:+.2f}"
                )
    print("\nHypothesis alone, by half of the key's achievements (even-indexed tune wm.NEED_Z)")
    for r in runs:
        (tp, tr, tn), (rp, rr, rn) = r.halves
        print(
            f"{r.spec:<24} tune: precision {tp:.2f} recall {tr:.2f} ({tn} edges)   "
            f"report: precision {rp:.2f} recall {rr:.2f} ({rn} edges)"
        )
    if args.hypothesis_only:
        print(f"\n(total {time.perf_counter() - t0:.0f}s)")
        return
    _plot(runs[0].rows, args.png)

    print("\nOutcome prediction on held-out skill executions")
    for r in runs:
        acc = r.acc
        print(
            f"{r.spec:<24} n={acc['n']:.0f} ({r.held_episodes} episodes)  success accuracy "
            f"{acc['accuracy']:.3f}  (majority {acc['majority']:.3f}, data.yaml rules "
            f"{acc['rules']:.3f})  exact change on {acc['successes']:.0f} successes "
            f"{acc['delta']:.3f}"
        )

    print(f"\nEnv steps to the first stone pickaxe (cap {cap}; '-' = not reached)")
    off_agent = [
        Agent(model=wm.WorldModel(env=ENV), skills=skills, rng=random.Random(s)) for s in seeds
    ]
    results: dict[str, list[int | None]] = {}
    for r in runs:
        for mode, vals in r.steps.items():
            results[f"{mode} {r.spec}"] = vals
    results["off (no model)"] = [
        a.steps_to(s, TARGET, use_model=False, cap=cap)
        for a, s in zip(off_agent, seeds, strict=True)
    ]
    width = max(len(n) for n in results) + 2
    print(f"{'mode':<{width}}" + "".join(f"{s:>6}" for s in seeds) + f"{'reached':>9}{'median':>8}")
    for name, vals in results.items():
        got = [v for v in vals if v is not None]
        med = f"{statistics.median(got):.0f}" if got else "-"
        cells = "".join(f"{v if v is not None else '-':>6}" for v in vals)
        print(f"{name:<{width}}{cells}{len(got):>6}/{len(vals):<2}{med:>8}")
    print(f"\n(total {time.perf_counter() - t0:.0f}s)")


def _plot(rows: list[tuple[Any, ...]], path: str) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("(matplotlib not installed: no PNG)")
        return
    xs = [r[1] for r in rows]
    fig, ax = plt.subplots(figsize=(5, 3.2))
    ax.plot(xs, [r[2] for r in rows], "o-", label="precision")
    ax.plot(xs, [r[3] for r in rows], "s-", label="recall")
    ax.set_xlabel("episodes of experience (0 = LLM hypothesis)")
    ax.set_ylim(0, 1.05)
    ax.set_title("Crafter world model vs data.yaml")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    print(f"curve written to {path}")


if __name__ == "__main__":
    main()

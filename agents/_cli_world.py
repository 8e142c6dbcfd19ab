"""`mendako imagine GOAL` and `mendako world-model show`: the learned world model, in words."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table
from rich.tree import Tree

from agents._cli_common import EnvOpt, LLMOpt, console, fail, user_errors

world_app = typer.Typer(help="The learned world model (LLM hypothesis + experience).")

_STYLE = {"verified": "green", "hypothesis": "yellow", "removed": "red strike"}


def imagine(
    goal: Annotated[str, typer.Argument(help="What the agent should do, in words.")],
    env: EnvOpt = "crafter",
    llm: LLMOpt = "embedded",
    hypothesise: Annotated[
        bool, typer.Option(help="Ask the LLM about achievements the model has never asked about.")
    ] = True,
) -> None:
    """Hypothesise GOAL's tree with the LLM, then roll the plan through the world model."""
    from agents import planner
    from agents import world_model as wm

    vocab = wm.vocab_for(env)
    if not vocab.achievements:
        fail(f"env {env!r} has no item vocabulary: its world model learns from history only")
    target, _ = planner.ground_target(goal, planner.NONE, list(vocab.achievements))
    if target is None:
        fail(f"no known achievement matches {goal!r}")
    model = wm.load(env)
    if hypothesise:
        try:
            from agents.llm import make_chat_model, make_scorer

            asked = wm.hypothesise(
                make_chat_model(llm), model, target, vocab, scorer=make_scorer(llm)
            )
        except user_errors() as e:
            fail(str(e))
        if asked:
            wm.save(model)
            console.print(f"asked the LLM ({llm}) about {len(asked)} achievement(s)")
    try:
        chain, notes = wm.prerequisites(model, target, {}, (), vocab.achievements)
    except wm.OutOfReach as e:
        fail(f"the world model says {target} is out of reach: {e}")
    tree = Tree(f"[bold]{target}[/]")
    _grow(tree, model, target, set(), vocab.achievements)
    console.print(tree)
    steps = wm.rollout(model, chain, {}, ())
    table = Table(title=f"imagined rollout for {goal!r}", title_justify="left")
    for col in ("#", "subgoal", "p(success)", "steps", "may fail because"):
        table.add_column(col)
    total, p_all = 0, 1.0
    for i, s in enumerate(steps, 1):
        name = s.name + (f" (until {s.need})" if s.need else "")
        table.add_row(str(i), name, f"{s.p_success:.2f}", str(s.steps), s.risk or "-")
        total, p_all = total + s.steps, p_all * s.p_success
    console.print(table)
    console.print(f"expected {total} env steps; chance the whole plan works {p_all:.2f}")
    for n in notes:
        console.print(f"note: {n}", highlight=False)


def _grow(tree: Tree, model: object, name: str, seen: set[str], names: tuple[str, ...]) -> None:
    """Add `name`'s needs (and, below each, what yields it) to the tree, once per node."""
    from agents import world_model as wm

    assert isinstance(model, wm.WorldModel)
    seen.add(name)
    for e in model.needs(name):
        branch = tree.add(f"[{_STYLE[e.status]}]{e.text}[/] ({e.status}, {e.source})")
        producer = (
            model.placer(e.thing, names) if e.kind == "nearby" else model.producer(e.thing, names)
        )
        if producer and producer not in seen:
            sub = branch.add(f"[bold]{producer}[/]")
            _grow(sub, model, producer, seen, names)


@world_app.command("show")
def show(env: EnvOpt = "crafter") -> None:
    """What was learned: every edge, which are verified, where experience overruled the LLM."""
    from agents import world_model as wm

    model = wm.load(env)
    path = wm.model_path(env)
    if not model.edges and not model.stats:
        console.print(f"no world model for {env} yet ({path}); run with --world-model learned")
        return
    table = Table(title=f"world model of {env} ({path})", title_justify="left")
    for col in ("achievement", "need", "status", "from", "held", "failed", "note"):
        table.add_column(col)
    for e in sorted(model.edges, key=lambda e: (e.achievement, e.kind, e.thing)):
        table.add_row(
            e.achievement, e.text, f"[{_STYLE[e.status]}]{e.status}[/]", e.source,
            str(e.seen), str(e.violated), e.note,
        )  # fmt: skip
    console.print(table)
    verified = sum(e.status == "verified" for e in model.edges)
    console.print(
        f"{len(model.edges)} edges: {verified} verified, "
        f"{sum(e.status == 'hypothesis' for e in model.edges)} hypotheses, "
        f"{sum(e.status == 'removed' for e in model.edges)} removed; "
        f"{model.base.steps} env steps observed"
    )
    over = model.overruled()
    if over:
        console.print("[bold]where experience overruled the LLM:[/]")
        for e in over:
            verb = "removed" if e.status == "removed" else "added"
            console.print(f"  {e.achievement}: {verb} '{e.text}' ({e.note})", highlight=False)
    if model.skills:
        console.print("[bold]skills:[/] " + ", ".join(
            f"{k} {s.successes}/{s.attempts}" for k, s in sorted(model.skills.items())
        ))  # fmt: skip

"""`mendako explore` and `mendako bench crafter`: open-ended episodes and the Crafter score."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from agents._cli_common import LLMOpt, console, fail, user_errors

bench_app = typer.Typer(help="Benchmarks that print the field's figures.", no_args_is_help=True)


def explore(
    env: Annotated[str, typer.Option("--env", help="Environment (crafter).")] = "crafter",
    seed: Annotated[int, typer.Option(help="World seed.")] = 0,
    llm: LLMOpt = "embedded",
    max_steps: Annotated[int, typer.Option(help="Env steps for the episode.")] = 10_000,
) -> None:
    """Run one episode of Voyager-style exploration: the curriculum proposes, the graph acts."""
    from graphs.context import RunSettings
    from graphs.explore import explore as run_explore

    def show(e: dict) -> None:
        if e["kind"] == "goal":
            console.print(
                f"[bold cyan]goal[/] {e['goal']} ({e['reason']}) env steps={e['env_steps']}"
                f"  unlocked {len(e.get('unlocked', []))}/22",
                highlight=False,
            )
        elif e["kind"] == "reflex":
            console.print(
                f"[yellow]reflex[/] {e['skill']}: {e['stat']} "
                f"{e['before']}→{e['after']} ({e['steps']} steps)",
                highlight=False,
            )
        elif e["kind"] == "wander":
            console.print(
                f"[yellow]wander[/] every goal left failed recently: explored {e['steps']} steps",
                highlight=False,
            )
        elif e["kind"] == "node" and e["node"] == "verify":
            v = e["update"].get("verdict") or {}
            mark = "[green]✓[/]" if v.get("success") else "[red]✗[/]"
            console.print(f"   {mark} {v.get('critique', '')}", highlight=False)

    try:
        s = run_explore(
            RunSettings(env_id=env, seed=seed, llm=llm, max_env_steps=max_steps), on_event=show
        )
    except user_errors() as e:
        fail(str(e))
    console.print(
        f"[bold]{s.ended}[/] after {s.env_steps} env steps, {s.goals} goals, {s.wall_s:.0f}s",
        highlight=False,
    )
    console.print(
        f"achievements ({len(s.achievements)}/22): " + ", ".join(sorted(s.achievements)),
        highlight=False,
    )
    console.print(f"run id: [bold]{s.run_id}[/]", highlight=False)


@bench_app.command("crafter")
def bench_crafter(
    episodes: Annotated[int, typer.Option(help="Episodes (seeds 0..N-1 from --seed).")] = 10,
    llm: LLMOpt = "embedded",
    seed: Annotated[int, typer.Option(help="First seed.")] = 0,
    workers: Annotated[int, typer.Option(help="Parallel processes (default: cores).")] = 0,
    max_steps: Annotated[int, typer.Option(help="Env steps per episode.")] = 10_000,
    out: Annotated[Path, typer.Option(help="Folder for the JSON result and the PNG.")] = Path(
        "bench_out"
    ),
) -> None:
    """Run N explorer episodes and print the per-achievement success rates and Crafter score."""
    from agents.bench import run_bench
    from graphs.context import RunSettings

    if episodes < 1:
        fail("--episodes must be at least 1")
    settings = RunSettings(seed=seed, llm=llm, max_env_steps=max_steps)

    def done(r: dict) -> None:
        console.print(
            f"episode seed {r['seed']}: {len(r['achievements'])} achievements, "
            f"{r['env_steps']} steps, {r['ended']}, {r['wall_s']}s",
            highlight=False,
        )

    try:
        report = run_bench(
            settings, episodes, workers=workers or None, out_dir=out, on_episode=done
        )
    except user_errors() as e:
        fail(str(e))
    table = Table(title=f"Crafter success rates over {episodes} episodes (llm={llm})")
    table.add_column("achievement")
    table.add_column("success %", justify="right")
    for name, rate in report["success_rates"].items():
        table.add_row(name, f"{rate:.0f}")
    console.print(table)
    base = Table(title="Crafter score")
    base.add_column("agent")
    base.add_column("score %", justify="right")
    rows = [*report["baselines"].items(), ("mendako (this run)", report["score"])]
    for name, score in sorted(rows, key=lambda r: r[1]):
        base.add_row(name, f"{score:.1f}")
    console.print(base)
    console.print(
        f"wall {report['wall_s']}s with {report['workers']} workers; "
        f"wrote {out / 'crafter_bench.json'} and {out / 'crafter_bench.png'}",
        highlight=False,
    )

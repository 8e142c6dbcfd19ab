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
    episodes: Annotated[
        int, typer.Option(help="Episodes (seeds N..N+episodes-1 from --seed).")
    ] = 10,
    llm: LLMOpt = "embedded",
    seed: Annotated[
        int, typer.Option(help="First seed (report on 1000+: seeds 0-99 were tuned on).")
    ] = 0,
    workers: Annotated[int, typer.Option(help="Parallel processes (default: cores).")] = 0,
    max_steps: Annotated[int, typer.Option(help="Env steps per episode.")] = 10_000,
    compare: Annotated[
        str,
        typer.Option(help="Backend run on the same seeds beside --llm, for the lift (model - it)."),
    ] = "none",
    no_compare: Annotated[
        bool, typer.Option("--no-compare", help="Run --llm alone (no side-by-side arm).")
    ] = False,
    learn_across: Annotated[
        bool,
        typer.Option(
            "--learn-across",
            help="Carry skills' success history from one episode to the next (in seed order); "
            "default: every episode starts from the same snapshot.",
        ),
    ] = False,
    out: Annotated[Path, typer.Option(help="Folder for the JSON results and the PNG.")] = Path(
        "bench_out"
    ),
    ray: Annotated[
        bool,
        typer.Option(
            "--ray",
            help="Run each episode as a Ray task (a local Ray instance unless --ray-address); "
            "needs pip install -e '.\\[ray]'.",
        ),
    ] = False,
    ray_address: Annotated[
        str | None,
        typer.Option(help="Ray cluster to join (e.g. auto, ray://head:10001); implies --ray."),
    ] = None,
) -> None:
    """Run N explorer episodes per arm; print success rates, Crafter score and BALROG's metric
    with 95% bootstrap intervals, the protocol, and the lift over --compare (default none)."""
    from agents.bench import run_bench
    from graphs.context import RunSettings

    if episodes < 1:
        fail("--episodes must be at least 1")
    settings = RunSettings(seed=seed, llm=llm, max_env_steps=max_steps)

    def done(r: dict) -> None:
        console.print(
            f"episode seed {r['seed']} (--llm {r['arm']}): {len(r['achievements'])} achievements"
            f" ({r['balrog_progress']:.1f}% by step 2000), {r['env_steps']} steps, "
            f"{r['ended']}, {r['wall_s']}s, run {r['run_id']}",
            highlight=False,
        )

    try:
        report = run_bench(
            settings,
            episodes,
            workers=workers or None,
            out_dir=out,
            on_episode=done,
            compare=None if no_compare else compare,
            learn_across=learn_across,
            ray=ray_address if ray_address else ("" if ray else None),
        )
    except user_errors() as e:
        fail(str(e))
    print_report(report, out)


def print_report(report: dict, out: Path) -> None:
    """Render a `run_bench` report: rates per arm, protocol, scores beside the baselines, lift."""
    arms = list(report["arms"])
    per = report["arms"]
    table = Table(title=f"Crafter success rates over {report['episodes']} episodes per arm")
    table.add_column("achievement")
    for arm in arms:
        table.add_column(f"--llm {arm} %", justify="right")
    for name in per[arms[0]]["success_rates"]:
        table.add_row(name, *(f"{per[arm]['success_rates'][name]:.0f}" for arm in arms))
    console.print(table)
    p = report["protocol"]
    console.print("[bold]protocol[/]", highlight=False)
    for key in ("category", "knowledge", "stats", "seeds", "tuned_seeds", "bootstrap", "balrog"):
        console.print(f"  {key}: {p[key]}", highlight=False)
    console.print(
        f"  max env steps per episode: {p['max_env_steps']}; stats snapshot: "
        f"{p['stats_snapshot']['entries']} entries, sha256 {p['stats_snapshot']['sha256_16']}",
        highlight=False,
    )
    base = Table(title="Crafter score (geometric mean of success rates)")
    base.add_column("agent")
    base.add_column("score %", justify="right")
    base.add_column("95% CI", justify="right")
    rows = [(name, score, "") for name, score in report["baselines"].items()]
    for arm in arms:
        lo, hi = per[arm]["score_ci95"]
        rows.append((f"mendako --llm {arm} (this run)", per[arm]["score"], f"{lo:.1f}-{hi:.1f}"))
    for name, score, ci in sorted(rows, key=lambda r: r[1]):
        base.add_row(name, f"{score:.1f}", ci)
    console.print(base)
    bal = Table(title="BALROG Crafter progression (% of 22 achievements by step 2000)")
    bal.add_column("agent")
    bal.add_column("progress %", justify="right")
    bal.add_column("95% CI", justify="right")
    rows = [
        (f"{name} (BALROG, LLM agent)", v, "") for name, v in report["balrog_baselines"].items()
    ]
    for arm in arms:
        lo, hi = per[arm]["balrog_ci95"]
        rows.append((f"mendako --llm {arm} (this run)", per[arm]["balrog"], f"{lo:.1f}-{hi:.1f}"))
    for name, v, ci in sorted(rows, key=lambda r: r[1]):
        bal.add_row(name, f"{v:.1f}", ci)
    console.print(bal)
    if report.get("stopped"):
        console.print(f"[bold yellow]{report['stopped']}[/]", highlight=False)
    if report.get("ray"):
        info = report["ray"]
        retried = info["retried"]
        console.print(
            f"ray: {info['address']}; "
            + (
                f"{len(retried)} episodes retried after a lost worker: "
                + ", ".join(f"{x['arm']} seed {x['seed']} ({x['error'][:60]})" for x in retried)
                if retried
                else "no episode retried"
            ),
            highlight=False,
        )
    if "lift" in report:
        s, b = report["lift"]["score"], report["lift"]["balrog"]
        console.print(
            f"[bold]lift[/] (--llm {arms[0]} - --llm {arms[1]}, same seeds, paired bootstrap): "
            f"Crafter score {s['lift']:+.1f} points (95% CI {s['lo']:+.1f} to {s['hi']:+.1f}); "
            f"BALROG progress {b['lift']:+.1f} points (95% CI {b['lo']:+.1f} to {b['hi']:+.1f})",
            highlight=False,
        )
    console.print(
        f"wall {report['wall_s']}s with {report['workers']} workers; "
        f"wrote {out / 'crafter_bench.json'}, {out / 'crafter_bench.png'} and "
        f"{out / 'episodes'}/<arm>/seed_<n>.json",
        highlight=False,
    )

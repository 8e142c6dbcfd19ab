"""Rich rendering for the CLI: live run progress, tables of skills and runs, trace trees."""

from __future__ import annotations

import datetime as dt
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.tree import Tree

TOP = 4  # candidates shown per step in live output


def _scores_line(c: dict[str, Any]) -> str:
    return (
        f"{c['skill']:<20} use={c['usefulness']:.3f} aff={c['affordance']:.2f} "
        f"score={c['score']:.4f}  [dim]{c.get('why', '')}[/]"
    )


def live_event(console: Console, event: dict[str, Any]) -> None:
    """Print one node update of a running graph as a progress line."""
    node, up = event.get("node"), event.get("update", {})
    ms = f"[dim]{event.get('wall_s', 0) * 1000:.0f} ms[/]"
    if node == "plan":
        if up.get("plan"):
            steps = " → ".join(_subgoal_text(s) for s in up["plan"])
            console.print(f"[bold cyan]plan[/] {steps} {ms}")
        if up.get("message"):
            console.print(f"  [dim]{up['message']}[/]")
    elif node == "score_affordances":
        cands = up.get("candidates", [])
        console.print(f"[bold magenta]choose[/] {up.get('chosen') or '(nothing feasible)'} {ms}")
        for c in cands[:TOP]:
            console.print("   " + _scores_line(c))
    elif node == "execute_skill":
        err = f" error: {up['last_error']}" if up.get("last_error") else ""
        console.print(
            f"[bold yellow]act[/] {up.get('last_steps', 0)} steps ({up.get('last_stopped')})"
            f" env steps={up.get('env_steps', '?')}{err} {ms}"
        )
    elif node == "verify":
        v = up.get("verdict") or {}
        mark = "[green]✓[/]" if v.get("success") else "[red]✗[/]"
        console.print(f"[bold]verify[/] {mark} {v.get('critique', '')} reward={v.get('reward')}")


def _subgoal_text(s: dict[str, Any]) -> str:
    need = ", ".join(f"{k}≥{v}" for k, v in s.get("need", {}).items())
    return s["name"] + (f" ({need})" if need else "")


def summary(console: Console, s: Any) -> None:
    """The end of a run: outcome, steps, time, run id."""
    colour = "green" if s.outcome == "achieved" else "red"
    console.print(
        f"[bold {colour}]{s.outcome}[/]: {s.message}  env steps={s.env_steps} wall={s.wall_s:.1f}s",
        highlight=False,
    )
    if s.achievements:
        console.print("achievements: " + ", ".join(sorted(s.achievements)), highlight=False)
    console.print(f"run id: [bold]{s.run_id}[/]  (mendako trace show {s.run_id})", highlight=False)


def skills_table(console: Console, library: Any) -> None:
    """A table of the library's skills."""
    table = Table(title=f"skills for {library.env} ({len(library)})")
    for col in ("name", "kind", "v", "success", "description"):
        table.add_column(col)
    for skill in sorted(library, key=lambda s: s.meta.name):
        m = skill.meta
        table.add_row(m.name, m.kind, str(m.version), f"{m.successes}/{m.attempts}", m.description)
    console.print(table)
    for problem in library.problems:
        console.print(f"[yellow]skipped:[/] {problem}", highlight=False)


def runs_table(console: Console, runs: list[Any]) -> None:
    """A table of recorded runs."""
    table = Table(title=f"runs ({len(runs)})")
    for col in ("run id", "goal", "outcome", "steps", "time", "started"):
        table.add_column(col)
    for r in runs:
        m = r.meta()
        started = m.get("started")
        when = dt.datetime.fromtimestamp(started).strftime("%Y-%m-%d %H:%M") if started else ""
        wall = f"{m['wall_s']:.1f}s" if "wall_s" in m else ""
        table.add_row(
            r.id, m.get("goal", ""), m.get("outcome", "?"), str(m.get("env_steps", "")), wall, when
        )
    console.print(table)


def trace(console: Console, run: Any, *, full: bool = False) -> None:
    """A run as a tree: plan(s), then each subgoal attempt with its SayCan table and verdict."""
    meta = run.meta()
    root = Tree(
        f"[bold]{run.id}[/]  goal={meta.get('goal')!r} outcome={meta.get('outcome')} "
        f"steps={meta.get('env_steps')} wall={meta.get('wall_s')}s llm={meta.get('llm')}"
    )
    step = None
    for ev in run.events():
        if ev["kind"] == "start":
            root.add(f"[dim]start: {ev.get('observation', '')}[/]")
            continue
        if ev["kind"] == "end":
            root.add(f"[bold]end[/]: {ev.get('outcome')} — {ev.get('message')}")
            continue
        node, up, ms = ev["node"], ev.get("update", {}), ev.get("wall_s", 0) * 1000
        branch = root
        if node == "plan":
            label = "replan" if up.get("replans") else "plan"
            branch = root.add(f"[bold cyan]{label}[/] ({ms:.0f} ms) target={up.get('target')}")
            if up.get("plan"):
                branch.add(" → ".join(_subgoal_text(s) for s in up["plan"]))
            if up.get("message"):
                branch.add(f"[dim]{up['message']}[/]")
        elif node == "score_affordances":
            step = branch = root.add(
                f"[bold magenta]step[/]: chose {up.get('chosen')} ({ms:.0f} ms)"
            )
            table = Table("skill", "kind", "use", "aff", "score", "why")
            table.columns[0].no_wrap = True
            for c in up.get("candidates", []):
                table.add_row(
                    c["skill"],
                    c["kind"],
                    f"{c['usefulness']:.3f}",
                    f"{c['affordance']:.3f}",
                    f"{c['score']:.4f}",
                    c.get("why", ""),
                )
            step.add(table)
        elif node == "execute_skill" and step is not None:
            extra = f" error: {up['last_error']}" if up.get("last_error") else ""
            step.add(
                f"[yellow]execute[/]: {up.get('last_steps')} env steps, stopped "
                f"{up.get('last_stopped')} ({ms:.0f} ms){extra}"
            )
        elif node == "verify" and step is not None:
            v = up.get("verdict") or {}
            mark = "[green]✓ success[/]" if v.get("success") else "[red]✗ failure[/]"
            step.add(f"verify: {mark} reward={v.get('reward')} — {v.get('critique', '')}")
        for x in up.get("llm_log", []):
            lines = [ln for ln in x["prompt"].strip().splitlines() if ln.strip()]
            prompt = x["prompt"] if full else " / ".join(lines[-2:])[:160]
            llm = branch.add(f"[blue]LLM {x['role']}[/]")
            llm.add(f"prompt: {prompt}", highlight=False)
            llm.add(f"reply: {x['reply']}", highlight=False)
    console.print(root)

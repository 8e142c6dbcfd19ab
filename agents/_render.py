"""Rich rendering for the CLI: live run progress, tables of skills and runs, trace trees."""

from __future__ import annotations

import datetime as dt
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from envs.untrusted import assemble, safe, text
from graphs.nodes import view_of

TOP = 4  # candidates shown per step in live output


def live_event(console: Console, event: dict[str, Any]) -> None:
    """Print one event of a running graph as a progress line (outside text escaped): a node
    through its own view (``graphs.nodes``), a survival reflex as a dim line."""
    kind = event.get("kind", "node")
    if kind == "reflex":
        console.print(text(_reflex_line(event), style="dim"))
        return
    if kind == "goal":  # an explorer's goal (a resumed explorer run shows through here)
        console.print(
            assemble(
                ("goal", "bold cyan"),
                f" {event.get('goal')} ({event.get('reason')}) env steps={event.get('env_steps')}",
            )
        )
        return
    if kind != "node":
        return
    view = view_of(event)
    ms = (f"{event.get('wall_s', 0) * 1000:.0f} ms", "dim")
    console.print(assemble((view.label, view.style), " ", view.summary, " ", ms))
    for line in view.details:
        console.print(assemble("  ", (line, "dim")))
    for row in view.table[1 : 1 + view.top]:
        console.print(assemble("   ", _row_line(view.table[0], row)))


def _row_line(header: tuple[str, ...], row: tuple[str, ...]) -> Text:
    """A table row as one line: the first cell padded, the middle ones `name=value`, the last
    dim (SayCan: skill use= aff= score= why)."""
    middle = " ".join(f"{h}={v}" for h, v in zip(header[2:-1], row[2:-1], strict=False))
    return assemble(f"{row[0]:<20} {middle}  ", (row[-1] if len(row) > 1 else "", "dim"))


def _reflex_line(ev: dict[str, Any]) -> str:
    return (
        f"reflex {ev.get('skill')}: {ev.get('stat')} "
        f"{ev.get('before')} → {ev.get('after')} in {ev.get('steps')} steps"
    )


def _subgoal_text(s: dict[str, Any]) -> str:
    """A subgoal as plain text (callers escape it: it holds LLM and user words)."""
    need = ", ".join(f"{k}≥{v}" for k, v in s.get("need", {}).items())
    return str(s["name"]) + (f" ({need})" if need else "")


def summary(console: Console, s: Any) -> None:
    """The end of a run: outcome, steps, time, run id."""
    colour = "green" if s.outcome == "achieved" else "red"
    console.print(
        assemble(
            (s.outcome, f"bold {colour}"),
            f": {s.message}  env steps={s.env_steps} wall={s.wall_s:.1f}s",
        ),
        highlight=False,
    )
    if s.achievements:
        console.print(text("achievements: " + ", ".join(sorted(s.achievements))), highlight=False)
    console.print(
        assemble("run id: ", (s.run_id, "bold"), f"  (mendako trace show {s.run_id})"),
        highlight=False,
    )


def skills_table(console: Console, library: Any) -> None:
    """A table of the library's skills."""
    table = Table(title=text(f"skills for {library.env} ({len(library)})"))
    for col in ("name", "kind", "v", "success", "description"):
        table.add_column(col)
    for skill in sorted(library, key=lambda s: s.meta.name):
        m = skill.meta
        kind = m.kind if getattr(m, "verified", True) else f"{m.kind}, unverified"
        table.add_row(
            *(text(x) for x in (m.name, kind, m.version, f"{m.successes}/{m.attempts}")),
            text(m.description),
        )
    console.print(table)
    for problem in library.problems:
        console.print(assemble(("skipped:", "yellow"), " ", problem), highlight=False)


RICH_ROWS = 100  # past this many runs, plain aligned lines: rich tables cost ~1 ms a row


def runs_table(console: Console, runs: list[Any], *, total: int | None = None) -> None:
    """A table of recorded runs (run id, goal, outcome, env steps, wall time, start)."""
    total = len(runs) if total is None else total
    rows = []
    for r in runs:
        m = r.meta()
        started = m.get("started")
        when = dt.datetime.fromtimestamp(started).strftime("%Y-%m-%d %H:%M") if started else ""
        wall = f"{m['wall_s']:.1f}s" if "wall_s" in m else ""
        steps = str(m.get("env_steps", ""))
        row = (r.id, m.get("goal", ""), m.get("outcome", "?"), steps, wall, when)
        rows.append(tuple(safe(v) for v in row))
    cols = ("run id", "goal", "outcome", "steps", "time", "started")
    title = f"runs ({len(runs)} of {total})" if total > len(runs) else f"runs ({total})"
    if len(rows) <= RICH_ROWS:
        table = Table(title=title)
        for col in cols:
            table.add_column(col)
        for cells in rows:
            table.add_row(*(Text(v) for v in cells))
        console.print(table)
    else:
        widths = [max(len(c), *(len(row[i]) for row in rows)) for i, c in enumerate(cols)]
        lines = [title, "  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True))]
        lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in rows]
        console.print("\n".join(lines), highlight=False, markup=False, soft_wrap=True)
    if total > len(runs):
        console.print(text(f"{total - len(runs)} older runs not shown (--limit)", style="dim"))


def trace(
    console: Console,
    run: Any,
    *,
    full: bool = False,
    node: str | None = None,
    step: int | None = None,
) -> None:
    """A run as a tree: plan(s), then each step (subgoal attempt) with its SayCan table, the
    skill's execution and the verdict. `node` and `step` keep only matching node events."""
    meta = run.meta()
    root = Tree(
        assemble(
            (run.id, "bold"),
            f"  goal={meta.get('goal')!r} outcome={meta.get('outcome')} "
            f"steps={meta.get('env_steps')} wall={meta.get('wall_s')}s llm={meta.get('llm')}",
        )
    )
    filtered = node is not None or step is not None
    branches: dict[Any, Any] = {}
    for ev in run.events():
        kind = ev["kind"]
        if kind == "damaged":  # a line of trace.jsonl that is not an event: marked, not hidden
            mark = f"trace.jsonl line {ev['line']} skipped, not an event ({ev['error']}): "
            root.add(text(mark + repr(ev["text"]), style="bold red"))
            continue
        if kind in ("start", "end", "resume"):
            if not filtered:
                _lifecycle(root, ev)
            continue
        if kind != "node":  # the explorer's goal, reflex and wander events
            if not filtered:
                _episode_event(root, branches, ev, full=full)
            continue
        if node is not None and ev.get("node") != node:
            continue
        if step is not None and ev.get("attempt") != step:
            continue
        _node_event(root, branches, ev, full=full)
    console.print(root)


SHOWN_OPTIONS = 6  # options listed per decision without --full


def decision_text(d: dict[str, Any], *, full: bool = False) -> str:
    """One decision as a line: who chose what among which options, with the model's scores,
    and whether it was forced or overridden (``full``: every option and every note)."""
    role, choice = d.get("role", "?"), d.get("choice")
    options, scores = list(d.get("options") or []), list(d.get("scores") or [])
    if d.get("forced"):
        if choice is None:
            why = "nothing feasible"
        elif len(options) == 1:
            why = "the only option"
        else:
            why = str(d.get("method") or "no choice left")
        return f"decision {role}: forced {choice} ({why}, no model call)"
    if scores and len(scores) == len(options):
        ranked = sorted(zip(options, scores, strict=True), key=lambda x: -x[1])
        listed = [f"{o}={p:.3f}" for o, p in ranked]
    else:
        listed = list(options)
    more = ""
    if not full and len(listed) > SHOWN_OPTIONS:
        more = f", +{len(listed) - SHOWN_OPTIONS} more"
        listed = listed[:SHOWN_OPTIONS]
    what = "scores" if scores else "model said"
    line = f"decision {role} ({d.get('method', '')}): chose {choice}; "
    line += f"{what}: {', '.join(listed)}{more}"
    if d.get("overridden_by"):
        notes = list(d.get("notes") or [])
        shown = notes if full else notes[:2]
        rest = f" (+{len(notes) - len(shown)} more)" if len(notes) > len(shown) else ""
        line += f"; changed by {d['overridden_by']}: {'; '.join(shown)}{rest}"
    elif full and d.get("notes"):
        line += f"; {'; '.join(d['notes'])}"
    return line


def _decisions(branch: Tree, up: dict[str, Any], *, full: bool) -> None:
    for d in up.get("decisions") or []:
        colour = "dim" if d.get("forced") else "green"
        branch.add(text(decision_text(d, full=full), style=colour))


def _episode_event(root: Tree, branches: dict[Any, Any], ev: dict[str, Any], *, full: bool) -> None:
    """The explorer's own events: a goal proposed (with its decision), a reflex, a wander."""
    kind = ev["kind"]
    if kind == "goal":
        branch = root.add(
            assemble(("goal", "bold green"), f" {ev.get('goal')} at env step {ev.get('env_steps')}")
        )
        _decisions(branch, ev, full=full)
        branches.clear()  # each goal's steps are numbered from 0 again
    elif kind == "reflex":
        root.add(
            text(
                f"reflex {ev.get('skill')}: {ev.get('stat')} "
                f"{ev.get('before')} → {ev.get('after')} in {ev.get('steps')} steps",
                style="dim",
            )
        )
    elif kind == "wander":
        root.add(text(f"wander {ev.get('steps')} steps", style="dim"))
    elif kind == "goal_end":
        root.add(
            text(
                f"goal {ev.get('goal')}: {ev.get('outcome')} at env step {ev.get('env_steps')}",
                style="dim",
            )
        )
    else:
        root.add(text(f"{kind}: {ev.get('error') or ''}", style="dim"))


def _lifecycle(root: Tree, ev: dict[str, Any]) -> None:
    if ev["kind"] == "start":
        root.add(text(f"start: {ev.get('observation', '')}", style="dim"), highlight=False)
    elif ev["kind"] == "resume":
        cp = str(ev.get("checkpoint") or "-")[:23]
        root.add(
            assemble(
                ("resumed", "bold yellow"),
                f" from checkpoint {cp}: replayed {ev.get('replayed_steps')} "
                f"env steps, next {ev.get('next')}",
            ),
            highlight=False,
        )
    else:
        root.add(
            assemble(("end", "bold"), f": {ev.get('outcome')} — {ev.get('message')}"),
            highlight=False,
        )


def _node_event(root: Tree, branches: dict[Any, Any], ev: dict[str, Any], *, full: bool) -> None:
    node, up, ms = ev["node"], ev.get("update", {}), ev.get("wall_s", 0) * 1000
    cp = text(f"@{ev['superstep']}", style="dim") if ev.get("superstep") is not None else None
    attempt = ev.get("attempt")
    view = view_of(ev)  # the node's own rendering, as in the live view and the HTML report
    if node == "plan":
        branch = root.add(
            assemble((view.label, view.style), f" ({ms:.0f} ms) ", view.summary, " ", cp)
        )
    else:
        step = branches.get(attempt)
        if step is None:
            subgoal = ev.get("subgoal") or "?"
            step = branches[attempt] = root.add(
                assemble((f"step {attempt}", "bold magenta"), f": {subgoal}")
            )
        branch = step.add(assemble((node, view.style), ": ", view.summary, f" ({ms:.0f} ms) ", cp))
    for line in view.details:
        branch.add(text(line, style="dim"), highlight=False)
    if view.table:
        table = Table(*view.table[0])
        table.columns[0].no_wrap = True
        for row in view.table[1:]:
            table.add_row(*(text(cell) for cell in row))
        branch.add(table)
    _decisions(branch, up, full=full)
    for x in up.get("llm_log", []):
        lines = [ln for ln in x["prompt"].strip().splitlines() if ln.strip()]
        prompt = x["prompt"] if full else " / ".join(lines[-2:])[:160]
        how = f" ({x['method']})" if x.get("method") else ""
        llm = branch.add(text(f"LLM {x['role']}{how}", style="blue"))
        llm.add(assemble("prompt: ", text(prompt, newlines=full)), highlight=False)
        llm.add(assemble("reply: ", text(x["reply"], newlines=full)), highlight=False)


def checkpoints_table(console: Console, run: Any, snapshots: list[Any]) -> None:
    """The run's checkpoints, oldest first: index, id, step, next node, env steps."""
    table = Table(title=f"checkpoints of {run.id} ({len(snapshots)})")
    for col in ("#", "checkpoint", "superstep", "next", "env steps", "outcome"):
        table.add_column(col)
    for i, s in enumerate(snapshots):
        values = s.values or {}
        row = (
            i,
            s.config["configurable"]["checkpoint_id"],
            (s.metadata or {}).get("step"),
            ", ".join(s.next) or "(end)",
            values.get("env_steps", 0),
            values.get("outcome", ""),
        )
        table.add_row(*(text(v) for v in row))
    console.print(table)


def state_at(console: Console, run: Any, snapshot: Any, *, full: bool = False) -> None:
    """The graph's state at one checkpoint (time travel): where it stood and what it knew."""
    values = snapshot.values or {}
    cid = snapshot.config["configurable"]["checkpoint_id"]
    root = Tree(
        assemble(
            (run.id, "bold"),
            " at checkpoint ",
            (cid, "bold"),
            f" (superstep {(snapshot.metadata or {}).get('step')}), next: "
            f"{', '.join(snapshot.next) or 'END'}",
        ),
        highlight=False,
    )
    root.add(
        text(
            f"goal={values.get('goal')!r} target={values.get('target')} outcome="
            f"{values.get('outcome') or 'running'} env steps={values.get('env_steps', 0)} "
            f"replans={values.get('replans', 0)}"
        ),
        highlight=False,
    )
    plan = values.get("plan") or []
    cursor = values.get("cursor", 0)
    if plan:
        branch = root.add("plan")
        for i, s in enumerate(plan):
            here = "▶ " if i == cursor else "  "
            branch.add(text(f"{here}{s.text}"), highlight=False)
    if values.get("candidates"):
        table = Table("skill", "kind", "use", "aff", "score", "why")
        for c in values["candidates"]:
            table.add_row(
                text(c.skill),
                text(c.kind),
                f"{c.usefulness:.3f}",
                f"{c.affordance:.3f}",
                f"{c.score:.4f}",
                text(c.why),
            )
        root.add(text(f"candidates (chosen: {values.get('chosen')})")).add(table)
    history = values.get("history") or []
    if history:
        branch = root.add(f"history ({len(history)} steps)")
        for r in history:
            mark = ("✓", "green") if r.verdict.success else ("✗", "red")
            branch.add(
                assemble(
                    f"step {r.index}: {r.subgoal.text} ← {r.skill} ", mark, f" ({r.steps} steps)"
                )
            )
    if values.get("verdict") is not None:
        root.add(text(f"last verdict: {values['verdict'].critique}"), highlight=False)
    if values.get("message"):
        root.add(text(values["message"], style="dim"), highlight=False)
    llm_log = values.get("llm_log") or []
    if llm_log:
        x = llm_log[-1]
        lines = [ln for ln in x.prompt.strip().splitlines() if ln.strip()]
        prompt = x.prompt if full else " / ".join(lines[-2:])[:160]
        how = f", {x.method}" if x.method else ""
        last = root.add(text(f"last LLM call ({x.role}{how}, {len(llm_log)} so far)", style="blue"))
        last.add(assemble("prompt: ", text(prompt, newlines=full)), highlight=False)
        last.add(assemble("reply: ", text(x.reply, newlines=full)), highlight=False)
    if values.get("observation"):
        root.add(text(f"observation: {values['observation']}", style="dim"), highlight=False)
    console.print(root)

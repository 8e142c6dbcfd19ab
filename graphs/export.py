"""Export a recorded run: JSON (meta, events, graph, checkpoints) or one self-contained HTML
report (the graph, the timeline of nodes, the SayCan table per step, the episode GIF).

The report loads nothing from the network. The graph is LangGraph's own `draw_mermaid()`;
mermaid's JavaScript is inlined when an installed copy is found (`$MENDAKO_MERMAID_JS`, or
the npm package `mermaid` in a `node_modules` folder), else the graph is drawn as an inline
SVG from `get_graph()`'s nodes and edges, with the mermaid source beside it.
"""

from __future__ import annotations

import base64
import json
import math
import os
import shutil
import subprocess
import tempfile
from collections import defaultdict
from importlib import resources
from pathlib import Path
from string import Template
from typing import Any

from envs.untrusted import html as esc
from graphs.nodes import view_of
from graphs.nodes._view import conditions_text
from graphs.trace import Run

__all__ = ["export_html", "export_json", "find_mermaid_js", "graph_svg"]


def _graph() -> Any:
    from graphs.build import build_graph

    return build_graph().get_graph()


def export_json(run: Run) -> dict[str, Any]:
    """The whole run as one JSON-able object."""
    return {
        "id": run.id,
        "meta": run.meta(),
        "graph": {"mermaid": _graph().draw_mermaid()},
        "events": list(run.events()),
        "episode_gif": run.gif_path.name if run.gif_path.is_file() else None,
    }


# ---------------------------------------------------------------------------- graph drawing
def find_mermaid_js() -> Path | None:
    """An installed `mermaid.min.js`, if any (never downloaded)."""
    env = os.environ.get("MENDAKO_MERMAID_JS")
    if env:
        return Path(env) if Path(env).is_file() else None
    roots = [Path.cwd() / "node_modules", Path("/usr/local/lib/node_modules")]
    roots.append(Path("/usr/lib/node_modules"))
    npm = shutil.which("npm")
    if npm:
        try:
            out = subprocess.run(
                [npm, "root", "-g"], capture_output=True, text=True, timeout=10, check=False
            )
            if out.stdout.strip():
                roots.insert(0, Path(out.stdout.strip()))
        except (OSError, subprocess.SubprocessError):
            pass
    for root in roots:
        candidate = root / "mermaid" / "dist" / "mermaid.min.js"
        if candidate.is_file():
            return candidate
    return None


def _layers(nodes: list[str], edges: list[tuple[str, str]]) -> dict[str, int]:
    """Longest-path layer of each node from the start, ignoring edges that go back."""
    out: dict[str, list[str]] = defaultdict(list)
    for a, b in edges:
        out[a].append(b)
    order: dict[str, int] = {}

    def visit(n: str, depth: int, path: set[str]) -> None:
        if order.get(n, -1) >= depth:
            return
        order[n] = depth
        for m in out[n]:
            if m not in path:
                visit(m, depth + 1, path | {m})

    visit(nodes[0], 0, {nodes[0]})
    for n in nodes:
        order.setdefault(n, max(order.values(), default=0) + 1)
    end = [n for n in nodes if n == "__end__"]
    if end:  # the end sits below everything
        order[end[0]] = max(order.values()) + (0 if order[end[0]] == max(order.values()) else 1)
    return order


def graph_svg(graph: Any = None) -> str:
    """The graph as an inline SVG: one box per node, top to bottom; conditional edges dashed,
    edges that go back drawn as arcs on the right."""
    graph = graph if graph is not None else _graph()
    nodes = list(graph.nodes)
    edges = [(e.source, e.target, bool(e.conditional)) for e in graph.edges]
    layer = _layers(nodes, [(a, b) for a, b, _ in edges])
    w, h, gap, x0 = 200, 36, 34, 40
    pos = {n: (x0, 20 + layer[n] * (h + gap)) for n in nodes}
    height = 40 + (max(layer.values()) + 1) * (h + gap)
    parts = [
        f'<svg id="graph-svg" xmlns="http://www.w3.org/2000/svg" width="420" height="{height}" '
        f'viewBox="0 0 420 {height}" role="img" aria-label="mendako state machine">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        'fill="#555"/></marker></defs>',
    ]
    back = 0
    for a, b, cond in edges:
        (ax, ay), (bx, by) = pos[a], pos[b]
        dash = ' stroke-dasharray="5,4"' if cond else ""
        style = f'stroke="#555" fill="none" marker-end="url(#arrow)"{dash}'
        if layer[b] > layer[a]:
            skip = layer[b] - layer[a] > 1
            if skip:  # around the left side, past the nodes in between
                path = (
                    f"M{ax},{ay + h / 2} C{ax - 35},{ay + h / 2} {bx - 35},{by + h / 2} "
                    f"{bx},{by + h / 2}"
                )
            else:
                path = f"M{ax + w / 2},{ay + h} L{bx + w / 2},{by}"
        else:
            back += 1
            bend = ax + w + 25 + 30 * back
            path = (
                f"M{ax + w},{ay + h / 2} C{bend},{ay + h / 2} {bend},{by + h / 2} "
                f"{bx + w},{by + h / 2}"
            )
        parts.append(f'<path d="{path}" {style}><title>{a} → {b}</title></path>')
    for n in nodes:
        x, y = pos[n]
        terminal = n in ("__start__", "__end__")
        fill = "#bfb6fc" if n == "__end__" else ("#ffffff" if terminal else "#f2f0ff")
        rx = 18 if terminal else 6
        parts.append(
            f'<g class="node" data-node="{esc(n)}"><rect x="{x}" y="{y}" width="{w}" '
            f'height="{h}" rx="{rx}" fill="{fill}" stroke="#6c5ce7"/><text x="{x + w / 2}" '
            f'y="{y + h / 2 + 5}" text-anchor="middle" font-family="sans-serif" '
            f'font-size="14">{esc(n)}</text></g>'
        )
    parts.append("</svg>")
    return "\n".join(parts)


def _graph_section() -> tuple[str, str]:
    """(HTML of the graph figure, how it was drawn)."""
    graph = _graph()
    source = esc(graph.draw_mermaid())
    js = find_mermaid_js()
    if js is not None:
        script = js.read_text().replace("</script", "<\\/script")
        body = (
            f'<pre class="mermaid">{source}</pre>\n<script>{script}</script>\n'
            "<script>mermaid.initialize({startOnLoad: true});</script>"
        )
        return body, f"mermaid {js.parent.parent.name}"
    body = (
        f"{graph_svg(graph)}\n<details><summary>mermaid source (LangGraph "
        f"<code>draw_mermaid()</code>)</summary><pre>{source}</pre></details>"
    )
    return body, "inline SVG from get_graph()"


# ---------------------------------------------------------------------------- report parts
def _seconds(value: Any) -> float:
    """A recorded duration; anything that is not a finite number (a damaged trace) is 0."""
    return float(value) if type(value) in (int, float) and math.isfinite(value) else 0.0


def _num(value: Any, digits: int) -> str:
    """A recorded score with `digits` decimals, or the escaped value if it is not a number."""
    if type(value) in (int, float):
        return f"{value:.{digits}f}"
    return esc(value)


def _timeline(events: list[dict[str, Any]]) -> str:
    nodes = [e for e in events if e.get("kind") in ("node", "resume")]
    longest = max((_seconds(e.get("wall_s")) for e in nodes), default=0) or 1
    rows = []
    for i, e in enumerate(nodes):
        if e["kind"] == "resume":
            rows.append(
                f'<tr class="resume"><td>{i}</td><td colspan="7">resumed from checkpoint '
                f"{esc(str(e.get('checkpoint')))}: {esc(e.get('replayed_steps'))} actions "
                "replayed</td></tr>"
            )
            continue
        wall = _seconds(e.get("wall_s"))
        bar = max(1, round(300 * wall / longest))
        attempt = "" if e.get("attempt") is None else e["attempt"]
        rows.append(
            f'<tr class="node-{esc(e.get("node"))}"><td>{i}</td><td>{esc(e.get("node"))}'
            f"</td><td>{esc(attempt)}</td><td>{esc(str(e.get('subgoal') or ''))}</td>"
            f"<td>{esc(view_of(e).summary)}</td>"
            f"<td>{esc(e.get('env_steps', ''))}</td><td class=num>{wall * 1000:.0f}</td>"
            f'<td><span class="bar" style="width:{bar}px"></span></td></tr>'
        )
    head = (
        "<tr><th>#</th><th>node</th><th>step</th><th>subgoal</th><th>what</th><th>env steps</th>"
        "<th>ms</th><th>time</th></tr>"
    )
    return f'<table id="timeline">{head}{"".join(rows)}</table>'


def _saycan(events: list[dict[str, Any]]) -> str:
    verdicts = {
        e.get("attempt"): (e.get("update") or {}).get("verdict") or {}
        for e in events
        if e.get("node") == "verify"
    }
    executed = {
        e.get("attempt"): e.get("update") or {} for e in events if e.get("node") == "execute_skill"
    }
    out = []
    for e in events:
        if e.get("node") != "score_affordances":
            continue
        up, n = e.get("update") or {}, e.get("attempt")
        chosen = up.get("chosen")
        v, x = verdicts.get(n, {}), executed.get(n, {})
        mark = "✓" if v.get("success") else ("✗" if v else "…")
        table = view_of(e).table  # the node's own rendering: header, then one row per skill
        rows = "".join(
            f'<tr class="{"chosen" if row[0] == chosen else ""}">'
            + "".join(
                f"<td class=num>{esc(cell)}</td>" if 2 <= j <= 4 else f"<td>{esc(cell)}</td>"
                for j, cell in enumerate(row)
            )
            + "</tr>"
            for row in table[1:]
        )
        out.append(
            f'<section class="step" data-step="{esc(n)}"><h3>step {esc(n)}: '
            f"{esc(str(e.get('subgoal') or ''))} — chose {esc(str(chosen))} "
            f'<span class="verdict">{mark} {esc(v.get("critique", ""))}</span></h3>'
            f"<p>{esc(x.get('last_steps', 0))} env steps, stopped "
            f"{esc(str(x.get('last_stopped')))}"
            f"{' — error: ' + esc(x['last_error']) if x.get('last_error') else ''}</p>"
            '<table class="saycan"><tr><th>skill</th><th>kind</th><th>usefulness (LLM)</th>'
            f"<th>affordance</th><th>score</th><th>why</th></tr>{rows}</table></section>"
        )
    return "\n".join(out) or "<p>No step was scored.</p>"


def _llm_calls(events: list[dict[str, Any]]) -> str:
    out = []
    for i, e in enumerate(events):
        for x in (e.get("update") or {}).get("llm_log", []):
            out.append(
                f"<details><summary>event {i} · {esc(e.get('node', ''))} · "
                f"{esc(x['role'])}: {esc(x['reply'][:120])}</summary>"
                f"<pre>{esc(x['prompt'])}</pre><p><b>reply:</b> "
                f"{esc(x['reply'])}</p></details>"
            )
    return "\n".join(out) or "<p>No LLM calls.</p>"


def _episode(run: Run) -> str:
    if not run.gif_path.is_file():
        return (
            "<p>No frames: this run was not recorded. Run with <code>mendako run --record</code>"
            " to keep the episode.</p>"
        )
    data = base64.b64encode(run.gif_path.read_bytes()).decode()
    return (
        f'<img id="episode" alt="the episode, one frame per env step" '
        f'src="data:image/gif;base64,{data}" width="320" height="320">'
    )


def export_html(run: Run) -> str:
    """The run as one self-contained HTML page."""
    meta = run.meta()
    events = list(run.events())
    graph_html, drawn_by = _graph_section()
    # Nothing in the page may load or send anything; scripts only where mermaid is inlined.
    scripts = "'unsafe-inline'" if "<script>" in graph_html else "'none'"
    end: dict[str, Any] = next((e for e in reversed(events) if e.get("kind") == "end"), {})
    facts = {
        "goal": meta.get("goal"),
        "outcome": meta.get("outcome"),
        "message": meta.get("message"),
        **({"conditions": conditions_text(end["conditions"])} if end.get("conditions") else {}),
        "env": meta.get("env"),
        "seed": meta.get("seed"),
        "llm": meta.get("llm"),
        "env steps": meta.get("env_steps"),
        "wall": f"{_num(meta.get('wall_s', 0), 2)} s",
        "achievements": ", ".join(sorted(meta.get("achievements") or {})),
        "resumes": meta.get("resumes", 0),
        "mendako": meta.get("mendako_version"),
    }
    facts_html = "".join(
        f"<tr><th>{esc(k)}</th><td>{esc(str(v))}</td></tr>" for k, v in facts.items()
    )
    template = Template(resources.files("graphs").joinpath("report.html").read_text())
    return template.substitute(
        csp=f"default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src {scripts}",
        title=esc(f"mendako run {run.id}"),
        run_id=esc(run.id),
        facts=facts_html,
        graph=graph_html,
        drawn_by=esc(drawn_by),
        timeline=_timeline(events),
        saycan=_saycan(events),
        episode=_episode(run),
        llm=_llm_calls(events),
    )


def write_export(run: Run, fmt: str, out: Path | None = None) -> Path:
    """Write the export next to the run (or to `out`) and return its path."""
    if fmt not in ("json", "html"):
        raise ValueError(f"unknown export format {fmt!r}; choose json or html")
    out = _export_target(run, fmt, out)
    text = json.dumps(export_json(run), indent=1) if fmt == "json" else export_html(run)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, out)  # replaces a link at `out` itself, never writes through one
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out


def _export_target(run: Run, fmt: str, out: Path | None) -> Path:
    """Where the export goes: `report.<fmt>` in the run's own folder (checked to be one),
    or the file the user named: a folder gets `<run id>.<fmt>` in it; a missing folder, or a
    symbolic link where the file would go, is refused with one line."""
    from graphs.trace import runs_root, valid_run_id

    if out is None:
        valid_run_id(run.id)
        folder = run.path
        if folder.is_symlink() or folder.resolve().parent != runs_root().resolve():
            raise ValueError(f"{folder} is not a run folder under {runs_root()}")
        return folder / f"report.{fmt}"
    out = Path(out).expanduser()
    if out.is_dir() and not out.is_symlink():
        out = out / f"{run.id}.{fmt}"
    if out.is_symlink():
        raise ValueError(f"{out} is a symbolic link: name a plain file to write the report to")
    if not out.parent.is_dir():
        raise ValueError(f"{out.parent}: no such folder to write the report in")
    return out

"""The node registry: every node renders through its own view, and the live view, the trace
tree and the HTML report all print that one rendering."""

from __future__ import annotations

import io
import re

from graph_fakes import ScriptedPlanner, WordScorer
from rich.console import Console

from agents import _render as render
from graphs.build import build_graph
from graphs.context import RunSettings
from graphs.export import export_html
from graphs.nodes import generic, nodes, view_of
from graphs.runner import run_goal
from graphs.trace import find_run
from skills.library import SkillLibrary


def test_every_graph_node_is_registered_with_its_own_view() -> None:
    registered = nodes()
    graph_nodes = set(build_graph().get_graph().nodes) - {"__start__", "__end__"}
    assert graph_nodes == set(registered)
    for node in registered.values():
        assert node.view is not generic, f"{node.name} has no view of its own"


def test_write_skill_is_shown_live() -> None:
    event = {
        "kind": "node",
        "node": "write_skill",
        "wall_s": 0.5,
        "update": {"skills_written": ["place_table"], "message": "coder: nothing verified"},
    }
    out = io.StringIO()
    render.live_event(Console(file=out, width=200), event)
    assert "write coder for place_table" in out.getvalue()
    assert "coder: nothing verified" in out.getvalue()


def test_unknown_or_damaged_node_events_render_generically() -> None:
    assert view_of({"node": "new_node", "update": {"x": 1}}).summary == "updated x"
    assert view_of({"node": "verify", "update": "garbage"}).label == "verify"


def _plain(s: str) -> str:
    return re.sub(r"\s+", " ", s)


def test_live_view_tree_and_report_share_each_nodes_rendering(tmp_path) -> None:
    live = io.StringIO()
    console = Console(file=live, width=400)
    s = run_goal(
        "collect wood",
        RunSettings(seed=0),
        llm=ScriptedPlanner(replies=[{"target": "collect_wood", "subgoals": ["collect_wood"]}]),
        scorer=WordScorer(),
        library=SkillLibrary("crafter", kinds=("code",)),
        on_event=lambda e: render.live_event(console, e),
    )
    run = find_run(s.run_id)
    tree = io.StringIO()
    render.trace(Console(file=tree, width=400), run)
    page = export_html(run)
    for ev in (e for e in run.events() if e["kind"] == "node"):
        summary = view_of(ev).summary
        assert summary in _plain(live.getvalue()), (ev["node"], summary)
        assert summary in _plain(tree.getvalue()), (ev["node"], summary)
        assert summary.replace("—", "&mdash;") in page or summary in page, (ev["node"], summary)


def test_nodes_say_where_they_stand_in_an_attempt() -> None:
    """The trace's attempt numbers come from the nodes' own declarations, not a node list."""
    places = {name: node.attempt for name, node in nodes().items()}
    assert places["plan"] == "outside" and places["verify"] == "closes"
    assert {places[n] for n in ("score_affordances", "execute_skill", "write_skill")} == {"within"}

"""The run store, `mendako trace` (list, show filters, time travel, export) and the HTML report
in a real headless Chromium when one is installed."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from graph_fakes import ScriptedPlanner, WordScorer
from typer.testing import CliRunner

from agents.cli import app
from graphs.context import RunSettings
from graphs.export import export_html, export_json, graph_svg
from graphs.runner import run_goal
from graphs.trace import Run, find_run, list_runs
from skills.library import SkillLibrary

REPLY = {"target": "make_wood_pickaxe", "subgoals": ["make_wood_pickaxe"]}


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """One recorded run (with episode.gif), shared by the tests of this file."""
    home = tmp_path_factory.mktemp("home")
    old = os.environ.get("MENDAKO_HOME")
    os.environ["MENDAKO_HOME"] = str(home)
    try:
        summary = run_goal(
            "make a wood pickaxe",
            RunSettings(seed=0),
            llm=ScriptedPlanner(replies=[REPLY]),
            scorer=WordScorer(),
            library=SkillLibrary("crafter"),
            record=True,
        )
    finally:
        if old is None:
            del os.environ["MENDAKO_HOME"]
        else:
            os.environ["MENDAKO_HOME"] = old
    return home, summary.run_id


@pytest.fixture
def run(recorded: tuple[Path, str], monkeypatch: pytest.MonkeyPatch) -> Run:
    home, run_id = recorded
    monkeypatch.setenv("MENDAKO_HOME", str(home))
    return find_run(run_id)


def _cli(*args: str) -> str:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.output


def test_events_carry_node_checkpoint_env_steps_and_llm_calls(run: Run) -> None:
    events = list(run.events())
    assert events[0]["kind"] == "start" and events[-1]["kind"] == "end"
    nodes = [e for e in events if e["kind"] == "node"]
    ids = {run.checkpoints()[i].config["configurable"]["checkpoint_id"] for i in range(-3, 0)}
    assert nodes[-1]["checkpoint"] in ids
    for e in nodes:
        assert {"node", "wall_s", "checkpoint", "env_steps", "attempt", "update"} <= set(e)
    execs = [e for e in nodes if e["node"] == "execute_skill"]
    assert execs[-1]["env_steps"] == run.meta()["env_steps"] == events[-1]["env_steps"]
    assert sum(len(e["update"]["actions"]) for e in execs) == run.meta()["env_steps"]
    llm = [x for e in nodes for x in e["update"].get("llm_log", [])]
    assert {"planner", "affordance"} <= {x["role"] for x in llm}
    assert all(x["prompt"] and x["reply"] for x in llm)
    meta = run.meta()
    for key in ("goal", "env", "seed", "llm", "mendako_version", "outcome", "settings"):
        assert key in meta
    assert meta["outcome"] == "achieved" and run.gif_path.stat().st_size > 1000


def test_show_filters_and_time_travel(run: Run) -> None:
    whole = _cli("trace", "show", run.id)
    assert "step 0" in whole and "score_affordances" in whole and "end" in whole
    only_verify = _cli("trace", "show", run.id, "--node", "verify")
    assert "verify:" in only_verify and "score_affordances" not in only_verify
    step1 = _cli("trace", "show", run.id, "--step", "1")
    assert "step 1" in step1 and "step 0" not in step1 and "step 2" not in step1
    listing = _cli("trace", "show", run.id, "--at", "list")
    assert "__start__" in listing and "(end)" in listing
    snaps = run.checkpoints()
    i, snap = next((i, s) for i, s in enumerate(snaps) if s.next == ("verify",))
    at = _cli("trace", "show", run.id, "--at", str(i))
    assert snap.config["configurable"]["checkpoint_id"] in at and "next: verify" in at
    cid = snap.config["configurable"]["checkpoint_id"]
    assert "next: verify" in _cli("trace", "show", run.id, "--at", cid)
    bad = CliRunner().invoke(app, ["trace", "show", run.id, "--at", "zzz"])
    assert bad.exit_code == 2 and "no checkpoint" in bad.output


def test_list_and_export_json(run: Run, tmp_path: Path) -> None:
    out = _cli("trace", "list")
    assert run.id in out and "achieved" in out
    path = tmp_path / "r.json"
    _cli("trace", "export", run.id, "--format", "json", "-o", str(path))
    data = json.loads(path.read_text())
    assert data == json.loads(json.dumps(export_json(run)))
    assert "graph TD" in data["graph"]["mermaid"] and data["episode_gif"] == "episode.gif"


def test_list_runs_reads_only_the_folders(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    for i in range(5):
        (root / f"crafter__g__0__{1000 + i}").mkdir(parents=True)
    assert [r.id[-4:] for r in list_runs(tmp_path)] == ["1004", "1003", "1002", "1001", "1000"]


def test_graph_svg_has_every_node_and_edge() -> None:
    from graphs.build import build_graph

    g = build_graph().get_graph()
    svg = graph_svg(g)
    for node in g.nodes:
        assert f'data-node="{node}"' in svg
    assert svg.count("</title></path>") == len(g.edges)


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _chromium_args(profile: str) -> list[str]:
    return [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        f"--user-data-dir={profile}",
    ]


@pytest.mark.skipif(_chromium() is None, reason="chromium is not installed")
def test_html_report_renders_in_chromium(run: Run, tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    page.write_text(export_html(run))
    chromium = _chromium()
    assert chromium is not None
    with tempfile.TemporaryDirectory() as profile:
        dom = subprocess.run(
            [chromium, *_chromium_args(profile), "--dump-dom", page.as_uri()],
            capture_output=True,
            text=True,
            timeout=90,
        ).stdout
    assert 'id="timeline"' in dom and 'class="saycan"' in dom
    assert dom.count('class="step"') == len(
        [e for e in run.events() if e.get("node") == "score_affordances"]
    )
    assert 'id="graph-svg"' in dom or 'class="mermaid"' in dom
    assert '<img id="episode"' in dom and 'src="data:image/gif;base64,' in dom
    gif = dom.split('src="data:image/gif;base64,', 1)[1].split('"', 1)[0]
    assert base64.b64decode(gif) == run.gif_path.read_bytes()
    shot = tmp_path / "shot.png"
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [
                chromium,
                *_chromium_args(profile),
                f"--screenshot={shot}",
                "--window-size=1280,1600",
                page.as_uri(),
            ],
            capture_output=True,
            timeout=90,
        )
    import imageio.v3 as iio

    pixels = iio.imread(shot)
    assert pixels.shape[:2] == (1600, 1280)
    # The page drew something: many distinct colours (graph, bars, the GIF's first frame).
    assert len({tuple(p) for p in pixels[::8, ::8, :3].reshape(-1, 3)}) > 20


def test_a_torn_last_line_is_cut_before_a_resumed_run_appends(tmp_path: Path) -> None:
    from graphs.trace import TraceWriter, create_run

    run = create_run("crafter", "collect wood", 0, home=tmp_path)
    writer = TraceWriter(run)
    writer.write("start", goal="collect wood")
    writer.write("node", node="plan", update={"note": "x" * 20_000})  # past any buffer size
    writer.close()
    whole = run.trace_path.read_bytes()
    run.trace_path.write_bytes(whole + b'{"t": 1, "kind": "node", "upd')  # killed mid-line
    writer = TraceWriter(run)  # the resumed run
    writer.write("resume", next=["verify"])
    writer.close()
    kinds = [e["kind"] for e in run.events()]
    assert kinds == ["start", "node", "resume"]
    assert run.trace_path.read_bytes().startswith(whole)

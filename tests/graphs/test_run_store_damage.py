"""Damaged run stores are reported, dead runs read `crashed`, ids and numbers are checked
before anything is built from them (real runs, real SQLite, real processes)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from graph_fakes import ScriptedPlanner, WordScorer
from typer.testing import CliRunner

from agents.cli import app
from agents.llm import LLMError
from graphs.context import RunSettings
from graphs.runner import resume_run, run_goal
from graphs.trace import Run, RunBusy, RunDamaged, RunNotFound, find_run, list_runs
from skills.library import SkillLibrary

REPLY = {"target": "collect_wood", "subgoals": ["collect_wood"]}


def _fakes() -> dict:
    return {
        "llm": ScriptedPlanner(replies=[REPLY]),
        "scorer": WordScorer(),
        "library": SkillLibrary("crafter", kinds=("code",)),
    }


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder of one finished real run, copied by each test that damages it."""
    home = tmp_path_factory.mktemp("home")
    old = os.environ.get("MENDAKO_HOME")
    os.environ["MENDAKO_HOME"] = str(home)
    try:
        summary = run_goal("collect wood", RunSettings(seed=0), **_fakes())
    finally:
        if old is None:
            del os.environ["MENDAKO_HOME"]
        else:
            os.environ["MENDAKO_HOME"] = old
    assert summary.outcome == "achieved"
    return home / "runs" / summary.run_id


@pytest.fixture
def copy(finished: Path, mendako_home: Path) -> Run:
    dst = mendako_home / "runs" / finished.name
    shutil.copytree(finished, dst)
    return find_run(finished.name)


def _cli(*args: str) -> tuple[int, str]:
    res = CliRunner().invoke(app, list(args), env={"COLUMNS": "250"})
    return res.exit_code, res.output


def _one_line_error(code: int, out: str) -> str:
    assert code == 2, out
    assert "Traceback" not in out and out.strip().startswith("error:"), out
    assert len(out.strip().splitlines()) == 1 or out.count("error:") == 1, out
    return out


def test_truncated_checkpoint_database_is_one_line_naming_the_file(copy: Run) -> None:
    db = copy.db_path
    data = db.read_bytes()
    db.write_bytes(data[: len(data) // 2])
    for args in (
        ["trace", "show", copy.id, "--at", "list"],
        ["trace", "show", copy.id, "--at", "0"],
    ):
        out = _one_line_error(*_cli(*args))
        assert "checkpoints.sqlite" in out and "damaged" in out
        assert "trace show" in out  # says what can still be read
    code, out = _cli("run", "--resume", copy.id)
    _one_line_error(code, out.split("\n", 1)[1])  # after the "resuming ..." line
    assert "checkpoints.sqlite" in out
    with pytest.raises(RunDamaged, match="still read its trace"):
        copy.checkpoints()
    # The trace itself still reads, and the damage is named in `trace list`.
    code, out = _cli("trace", "show", copy.id)
    assert code == 0 and "collect_wood" in out
    assert any("truncated" in d for d in copy.damage())


def test_garbage_trace_line_is_marked_and_reported(copy: Run) -> None:
    lines = copy.trace_path.read_bytes().splitlines(keepends=True)
    lines.insert(3, b"\x00garbage {not json\n")
    copy.trace_path.write_bytes(b"".join(lines))
    marked = [e for e in copy.events() if e["kind"] == "damaged"]
    assert [e["line"] for e in marked] == [4]
    code, out = _cli("trace", "show", copy.id)
    assert code == 0 and "line 4 skipped" in out
    res = CliRunner().invoke(app, ["trace", "list"])
    assert res.exit_code == 0 and "trace.jsonl: line 4 is not an event" in res.output
    code, out = _cli("trace", "export", copy.id, "--format", "json")
    assert code == 0 and "line 4 is not an event" in out
    exported = json.loads((copy.path / "report.json").read_text())
    assert [e["line"] for e in exported["events"] if e["kind"] == "damaged"] == [4]
    resume_run(copy.id, **_fakes())  # a finished run: only reports how it ended
    (resumed,) = [e for e in copy.events() if e["kind"] == "resume"]
    assert any("line 4" in d for d in resumed["damage"])


class _Broken(ScriptedPlanner):
    def with_structured_output(self, schema, **kw):
        raise LLMError("the endpoint is unreachable")


def test_a_run_that_raises_or_whose_process_died_reads_crashed(mendako_home: Path) -> None:
    with pytest.raises(LLMError):
        run_goal(
            "collect wood",
            RunSettings(seed=0),
            llm=_Broken(replies=[REPLY]),
            scorer=WordScorer(),
            library=SkillLibrary("crafter", kinds=("code",)),
        )
    (run,) = list_runs()
    assert run.meta()["outcome"] == "crashed" and "unreachable" in run.meta()["message"]
    # A process that holds a run and is killed: `running` while alive, `crashed` after.
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                """
                import sys, time
                from graphs.trace import create_run
                run = create_run("crafter", "wait", 0)
                hold = run.hold()
                run.write_meta(goal="wait", outcome="running")
                print(run.id, flush=True)
                time.sleep(120)
                """
            ),
        ],
        stdout=subprocess.PIPE,
        text=True,
        env=os.environ | {"PYTHONPATH": str(Path(__file__).parents[2])},
    )
    try:
        run_id = child.stdout.readline().strip()
        live = find_run(run_id)
        assert live.meta()["outcome"] == "running" and live.is_live()
        with pytest.raises(RunBusy, match=str(child.pid)):
            resume_run(run_id, **_fakes())
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(30)
    assert live.raw_meta()["outcome"] == "running"  # what it wrote; what is shown:
    assert live.meta()["outcome"] == "crashed"
    res = CliRunner().invoke(app, ["trace", "list"], env={"COLUMNS": "250"})
    assert "crashed" in res.output and "running" not in res.output


def test_run_ids_are_checked_before_any_path(mendako_home: Path, tmp_path: Path) -> None:
    runs = mendako_home / "runs"
    runs.mkdir(parents=True)
    outside = runs / ".." / ".." / "x"
    outside.mkdir(parents=True)  # a folder the id's path would reach
    for bad in ("../../x", "../../../x", "/etc", "a/b", ".."):
        code, out = _cli("trace", "export", bad)
        assert "is not a run id" in _one_line_error(code, out)
    assert list(outside.iterdir()) == []
    code, out = _cli("trace", "show", "no_such_run")
    assert "no run 'no_such_run'" in _one_line_error(code, out)
    with pytest.raises(RunNotFound):
        find_run("../x")


def test_export_target_is_checked(copy: Run, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("keep me")
    link = tmp_path / "report.html"
    link.symlink_to(secret)
    code, out = _cli("trace", "export", copy.id, "-o", str(link))
    assert "symbolic link" in _one_line_error(code, out)
    assert secret.read_text() == "keep me"
    code, out = _cli("trace", "export", copy.id, "-o", str(tmp_path / "nowhere" / "r.html"))
    assert "no such folder" in _one_line_error(code, out)
    code, out = _cli("trace", "export", copy.id, "-f", "json", "-o", str(tmp_path))
    assert code == 0 and (tmp_path / f"{copy.id}.json").is_file()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--max-steps", "0"], "--max-steps must be a positive"),
        (["--max-steps", "-5"], "--max-steps must be a positive"),
        (["--skill-budget", "0"], "--skill-budget must be a positive"),
        (["--max-replans", "-1"], "--max-replans must be 0 or more"),
        (["--seed", "-1"], "outside what crafter takes: 0..4294967295"),
        (["--seed", str(2**32)], "outside what crafter takes"),
    ],
)
def test_bad_numbers_are_refused_before_a_run_starts(
    args: list[str], message: str, mendako_home: Path
) -> None:
    code, out = _cli("run", "collect wood", *args)
    assert code == 2 and message in out and "Traceback" not in out, out
    assert not (mendako_home / "runs").is_dir() or not list((mendako_home / "runs").iterdir())


def test_a_checkpoint_value_that_does_not_decode_is_one_line(copy: Run) -> None:
    import sqlite3

    conn = sqlite3.connect(copy.db_path)
    conn.execute("UPDATE blobs SET blob = ? WHERE channel = 'history'", (b"\xc1\xff\x00junk",))
    conn.commit()
    conn.close()
    for args in (["trace", "show", copy.id, "--at", "list"], ["run", "--resume", copy.id]):
        code, out = _cli(*args)
        assert code == 2 and "Traceback" not in out, out
        assert "checkpoints.sqlite" in out and "does not decode" in out, out

"""Outside strings through every CLI view: markup and terminal control print as text.

Goals, skill descriptions and errors holding rich markup (``[/]`` used to crash with
``MarkupError``), an OSC-8 link to a local file, and ESC sequences (a fake green
"achieved") go through `mendako run`, `trace list`, `trace show` (plain and ``--full``),
`trace export`, `skills add/list/show` and the live view, and must come out escaped.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from typer.testing import CliRunner

from agents import _render as render
from agents.cli import app
from envs.untrusted import assemble, html, safe, text

ESC = "\x1b"
OSC8 = f"{ESC}]8;;file:///etc/passwd{ESC}\\secret{ESC}]8;;{ESC}\\"
HOSTILE = (
    f"[/] [link=file:///etc/passwd]x[/link] {ESC}[32machieved{ESC}[0m {OSC8} "
    "<script>alert(1)</script>\u202e\x07"
)


def _cli(*args: str, ok: tuple[int, ...] = (0,)) -> str:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "250"})
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert result.exit_code in ok, result.output
    return result.output


def _assert_escaped(out: str) -> None:
    """No terminal control got through; the markup is shown as written."""
    assert ESC not in out and "\x07" not in out and "\u202e" not in out, repr(out)
    assert "\\x1b[32machieved" in out


def test_safe_escapes_control_characters_and_keeps_text() -> None:
    assert safe("a\x1b[31mb\x07\tc") == "a\\x1b[31mb\\x07\tc"
    assert safe("one\ntwo") == "one\\x0atwo" and safe("one\ntwo", newlines=True) == "one\ntwo"
    assert safe("\x9b2J \u202e \u2028 \udc80") == "\\x9b2J \\u202e \\u2028 \\udc80"
    assert safe("ünïcode 日本語 ✓") == "ünïcode 日本語 ✓"
    assert safe("x" * 10, limit=4) == "xxxx..."
    t = assemble(("ok", "bold"), " [/] ", text("[link=file:///etc/passwd]x[/link]"))
    assert t.plain == "ok [/] [link=file:///etc/passwd]x[/link]" and not t.plain.count(ESC)
    assert html('<a href="x">&\x1b') == "&lt;a href=&quot;x&quot;&gt;&amp;\\x1b"


def test_live_view_and_trace_tree_escape_every_field() -> None:
    out = io.StringIO()
    console = Console(file=out, width=200, force_terminal=True)  # styles on: ours may be ESC
    for node, update in (
        ("plan", {"plan": [{"name": HOSTILE, "need": {HOSTILE: 1}}], "message": HOSTILE}),
        (
            "score_affordances",
            {
                "chosen": HOSTILE,
                "candidates": [
                    {
                        "skill": HOSTILE,
                        "usefulness": 0.5,
                        "affordance": 1,
                        "score": 0.5,
                        "why": HOSTILE,
                    }
                ],
            },
        ),
        ("execute_skill", {"last_error": HOSTILE, "last_stopped": HOSTILE, "last_steps": 3}),
        ("verify", {"verdict": {"success": True, "critique": HOSTILE, "reward": HOSTILE}}),
    ):
        render.live_event(console, {"node": node, "update": update, "wall_s": 0.01})
    shown = out.getvalue()
    assert "]8;;file:///etc/passwd" not in shown.replace("\\x1b]8;;file:///etc/passwd", "")
    assert "[link=file:///etc/passwd]x[/link]" in shown and "[/]" in shown

    class FakeRun:
        id = "run-" + HOSTILE

        def meta(self) -> dict[str, Any]:
            return {"goal": HOSTILE, "outcome": HOSTILE, "llm": HOSTILE}

        def events(self) -> list[dict[str, Any]]:
            up = {"llm_log": [{"role": HOSTILE, "prompt": HOSTILE, "reply": HOSTILE}]}
            return [
                {"kind": "start", "observation": HOSTILE},
                {"kind": "node", "node": "plan", "update": {"plan": [{"name": HOSTILE}], **up}},
                {
                    "kind": "node",
                    "node": "execute_skill",
                    "attempt": 0,
                    "subgoal": HOSTILE,
                    "update": {"last_error": HOSTILE, "last_stopped": HOSTILE},
                },
                {
                    "kind": "node",
                    "node": "verify",
                    "attempt": 0,
                    "update": {"verdict": {"critique": HOSTILE}},
                },
                {"kind": "goal", "goal": HOSTILE},
                {"kind": "reflex", "skill": HOSTILE},
                {"kind": HOSTILE, "error": HOSTILE},
                {"kind": "damaged", "line": 3, "error": HOSTILE, "text": HOSTILE},
                {"kind": "end", "outcome": HOSTILE, "message": HOSTILE},
            ]

    for full in (False, True):
        out = io.StringIO()
        render.trace(Console(file=out, width=250), FakeRun(), full=full)
        _assert_escaped(out.getvalue())
        assert "[/]" in out.getvalue()


@pytest.mark.parametrize("full", [False, True], ids=["show", "show-full"])
def test_run_and_trace_views_print_a_hostile_goal_as_text(full: bool, tmp_path: Path) -> None:
    out = _cli("run", HOSTILE, "--llm", "none", "--max-steps", "40", ok=(0, 1))
    _assert_escaped(out)
    assert "[/] [link=file:///etc/passwd]x[/link]" in out
    listed = _cli("trace", "list")
    _assert_escaped(listed)
    shown = _cli("trace", "show", "last", *(["--full"] if full else []))
    _assert_escaped(shown)
    assert "[link=file:///etc/passwd]x[/link]" in shown
    report = tmp_path / "report.html"
    _cli("trace", "export", "last", "-o", str(report))
    page = report.read_text()
    assert ESC not in page and "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "default-src 'none'" in page


def test_skills_views_print_a_hostile_description_and_error(tmp_path: Path) -> None:
    good = tmp_path / "calm.py"
    good.write_text('"""Waits a step."""\n\ndef run(api):\n    api.noop()\n')
    out = _cli("skills", "add", str(good), "--description", HOSTILE)
    assert ESC not in out and "added calm v1" in out
    listed = _cli("skills", "list")
    _assert_escaped(listed)
    assert "[/] [link=file:///etc/passwd]x[/link]" in listed.replace("\n", "")
    _assert_escaped(_cli("skills", "show", "calm"))
    bad = tmp_path / "loud.py"
    bad.write_text(
        "def run(api):\n"
        "    e = chr(27)\n"
        "    raise ValueError('[/] [link=file:///etc/passwd]x[/link] ' + e + '[32machieved' "
        "+ e + ']8;;file:///etc/passwd' + e + chr(92))\n"
    )
    refused = _cli("skills", "add", str(bad), ok=(2,))
    assert (
        "the dry run" in refused and "ValueError: [/] [link=file:///etc/passwd]x[/link]" in refused
    )
    _assert_escaped(refused)


def test_skills_add_refuses_a_skill_that_never_returns() -> None:
    from agents._cli_skills import dry_run

    seen = dry_run("def run(api):\n    while True:\n        pass\n", "crafter", time_limit_s=2)
    assert seen.error.startswith("[timeout] time limit of 2 s exceeded")


def test_html_report_escapes_every_recorded_field(tmp_path: Path) -> None:
    """A tampered trace: the timeline's attempt (unescaped before), env steps, step ids and
    scores that are not numbers all come out as text in the report."""
    from graphs.export import export_html

    tag = "<img src=x onerror=alert(1)>"
    cand = {"skill": tag, "kind": tag, "usefulness": tag, "affordance": 1, "score": 1, "why": tag}

    class FakeRun:
        id = "run-" + tag
        gif_path = tmp_path / "none.gif"

        def meta(self) -> dict[str, Any]:
            return {"goal": HOSTILE + tag, "outcome": tag, "wall_s": tag, "llm": tag}

        def events(self) -> list[dict[str, Any]]:
            return [
                {
                    "kind": "node",
                    "node": "plan",
                    "attempt": tag,
                    "env_steps": tag,
                    "wall_s": tag,
                    "update": {"llm_log": [{"role": tag, "prompt": tag, "reply": tag}]},
                },
                {
                    "kind": "node",
                    "node": "score_affordances",
                    "attempt": tag,
                    "subgoal": tag,
                    "update": {"chosen": tag, "candidates": [cand]},
                },
                {
                    "kind": "node",
                    "node": "execute_skill",
                    "attempt": tag,
                    "update": {"last_error": HOSTILE, "last_steps": tag, "last_stopped": tag},
                },
                {"kind": "resume", "checkpoint": tag, "replayed_steps": tag},
            ]

    page = export_html(FakeRun())  # type: ignore[arg-type]
    assert tag not in page and "onerror=alert(1)&gt;" in page
    assert ESC not in page and "\x07" not in page and "<script>alert(1)</script>" not in page

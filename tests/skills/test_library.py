"""The on-disk skill library: atomic writes, versions, corrupt folders, retrieval, the CLI."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agents.cli import app
from skills.base import SkillMeta
from skills.library import SkillLibrary, SkillNotFound, SkillRefused

CHOP = '"""Collect two wood."""\n\n\ndef run(api):\n    api.collect("wood", until=2)\n'
CHOP_V2 = '"""Collect three wood."""\n\n\ndef run(api):\n    api.collect("wood", until=3)\n'


def _meta(name: str = "chop_wood", **kw) -> SkillMeta:
    return SkillMeta(name=name, description="chop some wood", achievement="collect_wood", **kw)


def test_add_show_and_a_rewrite_is_a_new_version(mendako_home: Path) -> None:
    lib = SkillLibrary()
    shipped = len(lib)
    assert lib.add(CHOP, _meta()).version == 1
    assert len(lib) == shipped + 1 and not lib.is_shipped("chop_wood")
    lib.record("chop_wood", True)
    assert lib.add(CHOP_V2, _meta()).version == 2
    info = SkillLibrary().show("chop_wood")
    assert info.versions == [1, 2] and info.source == CHOP_V2 and not info.shipped
    assert info.meta.attempts == 0  # a new version starts its own history
    folder = mendako_home / "skills" / "chop_wood"
    assert (folder / "versions" / "v1" / "skill.py").read_text() == CHOP
    assert json.loads((folder / "versions" / "v1" / "meta.json").read_text())["version"] == 1
    assert lib.add(CHOP, _meta()).version == 3
    assert SkillLibrary().show("chop_wood").versions == [1, 2, 3]
    leftovers = [p for p in (mendako_home / "skills").iterdir() if p.name.startswith(".")]
    assert [p.name for p in leftovers] == [".lock"]  # no half-written folder


def test_add_refuses_bad_code_and_bad_names() -> None:
    lib = SkillLibrary()
    with pytest.raises(SkillRefused, match="import of 'os'"):
        lib.add("import os\n\ndef run(api):\n    os.system('x')\n", _meta())
    with pytest.raises(SkillRefused, match="run"):
        lib.add("def walk(api):\n    pass\n", _meta())
    with pytest.raises(SkillRefused, match="bad skill name"):
        lib.add(CHOP, _meta("../escape"))


def test_corrupt_and_half_written_folders_are_reported_and_skipped(mendako_home: Path) -> None:
    lib = SkillLibrary()
    lib.add(CHOP, _meta())
    root = mendako_home / "skills"
    (root / "bad_json").mkdir()
    (root / "bad_json" / "meta.json").write_text("{ not json")
    (root / "no_code").mkdir()
    (root / "no_code" / "meta.json").write_text(json.dumps(_meta("no_code").model_dump()))
    (root / "hostile").mkdir()
    (root / "hostile" / "meta.json").write_text(json.dumps(_meta("hostile").model_dump()))
    (root / "hostile" / "skill.py").write_text("import socket\n\ndef run(api):\n    pass\n")
    (root / "binary").mkdir()
    (root / "binary" / "meta.json").write_bytes(b"\xff\xfe\x00garbage")
    (root / ".tmp-half-abc123").mkdir()  # an add cut short: never loaded
    (root / ".tmp-half-abc123" / "meta.json").write_text("{")
    lib = SkillLibrary()
    assert "chop_wood" in lib and "place_table" in lib
    assert not {"bad_json", "no_code", "hostile", "binary", "half"} & set(lib.names())
    text = "\n".join(lib.problems)
    for name in ("bad_json", "no_code", "hostile", "binary"):
        assert name in text
    assert ".tmp-half" not in text


def test_interrupted_rewrite_is_recovered(mendako_home: Path) -> None:
    lib = SkillLibrary()
    lib.add(CHOP, _meta())
    root = mendako_home / "skills"
    # A crash between the swap's two renames leaves only the old folder, under a dot name.
    (root / "chop_wood").rename(root / ".old-chop_wood-x1y2z3")
    lib = SkillLibrary()
    assert "chop_wood" in lib and lib.show("chop_wood").source == CHOP


def test_a_failed_write_leaves_the_old_version(monkeypatch: pytest.MonkeyPatch) -> None:
    lib = SkillLibrary()
    lib.add(CHOP, _meta())

    def boom(*a, **k):
        raise OSError("disk full")

    with monkeypatch.context() as m, pytest.raises(OSError):
        m.setattr("skills.library.write_json_atomic", boom)
        lib.add(CHOP_V2, _meta())
    info = SkillLibrary().show("chop_wood")
    assert info.source == CHOP and info.versions == [1]


def test_remove_user_skill_refuses_shipped() -> None:
    lib = SkillLibrary()
    lib.add(CHOP, _meta())
    lib.remove("chop_wood")
    assert "chop_wood" not in lib and "chop_wood" not in SkillLibrary()
    with pytest.raises(SkillRefused, match="shipped with mendako"):
        lib.remove("place_table")
    with pytest.raises(SkillNotFound):
        lib.remove("nothing_here")
    # A user skill may override a shipped one; removing it brings the shipped one back.
    lib.add(CHOP, SkillMeta(name="place_table", description="mine", achievement="place_table"))
    assert not lib.is_shipped("place_table")
    lib.remove("place_table")
    assert lib.is_shipped("place_table")


@pytest.mark.slow  # loads the embedded GGUF and embeds every skill (~9 s on 2 cores)
def test_retrieval_ranks_related_skills_first() -> None:
    from agents.retrieval import SkillRetriever

    lib = SkillLibrary()
    r = SkillRetriever()
    assert r.rank("make a wood sword", lib, 1)[0].name == "make_wood_sword"
    assert r.rank("place a furnace", lib, 1)[0].name == "place_furnace"
    assert r.rank("get some water to drink", lib, 1)[0].name == "collect_drink"
    assert r.method == "embedding"
    assert r.cache_path.is_file()  # vectors cached: the next ranking embeds only the query


# --------------------------------------------------------------------------- CLI
def test_cli_add_show_list_remove(tmp_path: Path) -> None:
    runner = CliRunner()
    src = tmp_path / "chop_two.py"
    src.write_text(CHOP)
    res = runner.invoke(app, ["skills", "add", str(src), "--achievement", "collect_wood"])
    assert res.exit_code == 0, res.output
    assert "added chop_two v1" in res.output
    res = runner.invoke(app, ["skills", "show", "chop_two"])
    assert res.exit_code == 0 and "Collect two wood." in res.output and "v1" in res.output
    assert "chop_two" in runner.invoke(app, ["skills", "list"]).output
    res = runner.invoke(app, ["skills", "remove", "place_table"])
    assert res.exit_code == 2 and "shipped" in res.output
    res = runner.invoke(app, ["skills", "remove", "chop_two"])
    assert res.exit_code == 0
    assert runner.invoke(app, ["skills", "show", "chop_two"]).exit_code == 2


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("import os\n\ndef run(api):\n    os.system('ls')\n", "import of 'os'"),
        ("def walk(api):\n    pass\n", "run"),
        ("def run(api):\n    api.collect('unobtainium')\n", "dry run"),
    ],
)
def test_cli_add_refuses(tmp_path: Path, code: str, message: str, mendako_home: Path) -> None:
    src = tmp_path / "bad_skill.py"
    src.write_text(code)
    res = CliRunner().invoke(app, ["skills", "add", str(src)])
    assert res.exit_code == 2 and message in res.output, res.output
    assert not (mendako_home / "skills" / "bad_skill").exists()


def test_added_skill_is_considered_by_the_next_run(tmp_path: Path) -> None:
    sys.path.insert(0, str(Path(__file__).parents[1] / "graphs"))
    from graph_fakes import ScriptedPlanner, WordScorer

    from graphs.context import RunSettings
    from graphs.runner import run_goal
    from graphs.trace import find_run

    src = tmp_path / "chop_two.py"
    src.write_text(CHOP)
    res = CliRunner().invoke(app, ["skills", "add", str(src), "--achievement", "collect_wood"])
    assert res.exit_code == 0, res.output
    llm = ScriptedPlanner(replies=[{"target": "collect_wood", "subgoals": ["collect_wood"]}])
    summary = run_goal(
        "collect wood",
        RunSettings(seed=0),
        llm=llm,
        scorer=WordScorer(),
        library=SkillLibrary("crafter"),
    )
    assert summary.outcome == "achieved"
    scored = next(
        e for e in find_run(summary.run_id).events() if e.get("node") == "score_affordances"
    )
    names = [c["skill"] for c in scored["update"]["candidates"]]
    assert "chop_two" in names

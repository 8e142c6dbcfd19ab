"""A new version must earn its place: RL policies go through the gate (same fresh worlds as
the active version), code skills added by hand are verified by their dry run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from agents.cli import app
from skills.library import SkillLibrary, builtin_root
from skills.rl.gate import GATE_SEED_BASE, gate, record_figures
from skills.rl.policy import ActorCritic

NOOP = '"""Place a furnace (it does not)."""\n\n\ndef run(api):\n    pass\n'
CHOP = '"""Collect two wood."""\n\n\ndef run(api):\n    api.collect("wood", until=2)\n'


def _untrained(folder: Path, name: str = "rl_collect_wood") -> Path:
    torch.manual_seed(0)
    meta = {
        "name": name,
        "description": "an untrained policy",
        "kind": "rl",
        "env": "crafter",
        "achievement": "collect_wood",
        "version": 1,
    }
    return ActorCritic().save(folder, meta)


def _cli(*args: str) -> tuple[int, str]:
    res = CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})
    return res.exit_code, res.output


def test_a_worse_policy_is_stored_but_does_not_replace_the_active(
    tmp_path: Path, mendako_home: Path
) -> None:
    lib = SkillLibrary("crafter")
    shipped = lib.get("rl_collect_wood")
    new = _untrained(tmp_path / "new")
    result = gate(new, shipped, name="rl_collect_wood", achievement="collect_wood", episodes=6)
    assert result.seeds == f"{GATE_SEED_BASE}..{GATE_SEED_BASE + 5}"
    assert result.active is not None and result.new < result.active and not result.keep
    again = gate(new, shipped, name="rl_collect_wood", achievement="collect_wood", episodes=6)
    assert again == result  # same worlds, same draws: the comparison is reproducible
    record_figures(new, result)
    stored = lib.add_version(new, activate=result.keep)
    assert stored.version == 2  # numbered on from the shipped v1
    assert lib.get("rl_collect_wood").meta.version == 1 and lib.is_shipped("rl_collect_wood")
    figures = {
        v.version: (v.active, v.meta.successes, v.meta.attempts)
        for v in lib.versions("rl_collect_wood")
    }
    own = json.loads((builtin_root() / "crafter/rl_collect_wood/meta.json").read_text())
    assert figures == {
        1: (True, own["successes"], own["attempts"]),
        2: (False, result.new, 6),  # its own figures, not the active one's
    }
    code, out = _cli("skills", "show", "rl_collect_wood")
    assert code == 0 and "inactive" in out and f"gate {result.new}/6" in out, out
    # With --replace semantics (or by hand) the new one becomes active; both stay.
    lib.activate("rl_collect_wood", 2)
    assert lib.get("rl_collect_wood").meta.version == 2
    assert (
        lib.get("rl_collect_wood").meta.successes,
        lib.get("rl_collect_wood").meta.attempts,
    ) == (
        result.new,
        6,
    )
    code, out = _cli("skills", "list")
    assert f"{result.new}/6" in out
    lib.activate("rl_collect_wood", 1)  # back to the shipped one: the user's v2 stays stored
    assert lib.is_shipped("rl_collect_wood") and [
        v.version for v in lib.versions("rl_collect_wood")
    ] == [1, 2]
    code, out = _cli("skills", "activate", "rl_collect_wood", "7")
    assert code == 2 and "no version v7" in out


def test_a_not_worse_policy_becomes_active(tmp_path: Path) -> None:
    lib = SkillLibrary("crafter")
    shipped = lib.get("rl_collect_wood")
    # The same weights as the active version: equal, so not worse.
    same = tmp_path / "same"
    same.mkdir()
    for f in Path(shipped.folder).iterdir():
        if f.is_file():
            (same / f.name).write_bytes(f.read_bytes())
    result = gate(same, shipped, name="rl_collect_wood", achievement="collect_wood", episodes=4)
    assert result.keep and result.new == result.active and not result.replaced
    lib.add_version(same, activate=result.keep)
    assert lib.get("rl_collect_wood").meta.version == 2 and not lib.is_shipped("rl_collect_wood")


@pytest.mark.slow
def test_ci_slow_skills_learn_tiny_budget_against_the_shipped_skill(mendako_home: Path) -> None:
    code, out = _cli("skills", "learn", "collect wood", "--steps", "512", "--gate-episodes", "6")
    assert code == 0, out
    lib = SkillLibrary("crafter")
    (v2,) = [v for v in lib.versions("rl_collect_wood") if v.version == 2]
    gate_ = v2.meta.extra["gate"]
    assert gate_["active"] is not None and gate_["episodes"] == 6
    # What it says is what the library did: active only if not worse.
    assert v2.active == (gate_["new"] >= gate_["active"])
    assert ("NOT active" in out) == (not v2.active)
    assert not list((mendako_home / "training").iterdir())  # the scratch folder is gone
    code, out = _cli(
        "skills", "learn", "collect wood", "--steps", "512", "--gate-episodes", "6", "--replace"
    )
    assert code == 0 and SkillLibrary("crafter").get("rl_collect_wood").meta.version == 3, out


# --------------------------------------------------------------------------- skills add
def test_skills_add_verifies_the_declared_achievement(tmp_path: Path, mendako_home: Path) -> None:
    noop = tmp_path / "fake_furnace.py"
    noop.write_text(NOOP)
    code, out = _cli("skills", "add", str(noop), "--achievement", "place_furnace")
    assert code == 0 and "UNVERIFIED" in out and "place_furnace was not unlocked" in out, out
    chop = tmp_path / "chop_two.py"
    chop.write_text(CHOP)
    code, out = _cli("skills", "add", str(chop), "--achievement", "collect_wood")
    assert code == 0 and "verified: it unlocked collect_wood on seed 0" in out, out
    lib = SkillLibrary("crafter")
    assert not lib.get("fake_furnace").meta.verified and lib.get("chop_two").meta.verified
    code, out = _cli("skills", "list")
    line = next(ln for ln in out.splitlines() if "fake_furnace" in ln)
    assert "unverified" in line
    assert "unverified" not in next(ln for ln in out.splitlines() if "chop_two" in ln)
    code, out = _cli("skills", "show", "fake_furnace")
    assert "UNVERIFIED" in out
    # SayCan reads the flag: the same skill scores lower when its claim was never seen.
    from agents.affordance import UNVERIFIED_FACTOR, affordance
    from envs.registry import EnvSession

    session = EnvSession.open("crafter", 0)
    chop_skill = lib.get("chop_two")
    a, why = affordance(chop_skill, session, subgoal="collect_wood")
    chop_skill.meta.verified = False
    b, why_b = affordance(chop_skill, session, subgoal="collect_wood")
    assert a > 0 and b == pytest.approx(a * UNVERIFIED_FACTOR) and "unverified" in why_b


# --------------------------------------------------------------------------- paths (#16.5)
def test_skill_folders_with_symlinks_are_reported_and_skipped(
    tmp_path: Path, mendako_home: Path
) -> None:
    from skills.base import SkillMeta
    from skills.library import SkillRefused

    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET")
    lib = SkillLibrary("crafter")
    meta = SkillMeta(name="chop_wood", description="chop", achievement="collect_wood")
    lib.add(CHOP, meta)
    folder = mendako_home / "skills" / "chop_wood"
    (folder / "notes.txt").symlink_to(secret)
    lib = SkillLibrary("crafter")
    assert "chop_wood" not in lib
    assert any("chop_wood" in p and "symbolic links (notes.txt)" in p for p in lib.problems)
    with pytest.raises(SkillRefused, match="symbolic links"):
        lib.add(CHOP, meta)  # a rewrite would copy the link's target into versions/
    assert not any(
        "TOP SECRET" in p.read_text()
        for p in folder.rglob("*")
        if p.is_file() and not p.is_symlink()
    )
    # A `versions` folder that is a link, and a skill folder that is a link, likewise.
    (folder / "notes.txt").unlink()
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "v9").mkdir()
    (folder / "versions").symlink_to(outside, target_is_directory=True)
    lib = SkillLibrary("crafter")
    assert "chop_wood" not in lib and any("versions" in p for p in lib.problems)
    (mendako_home / "skills" / "linked").symlink_to(outside, target_is_directory=True)
    lib = SkillLibrary("crafter")
    assert any("linked" in p and "symbolic link" in p for p in lib.problems)


@pytest.mark.parametrize("name", ["..", "../x", "/etc", "a/b", "."])
def test_remove_and_show_bad_names_are_one_line(name: str) -> None:
    for cmd in ("remove", "show", "activate"):
        args = ["skills", cmd, name] + (["1"] if cmd == "activate" else [])
        code, out = _cli(*args)
        assert code == 2 and "Traceback" not in out and out.count("error:") == 1, out


@pytest.mark.slow
def test_ci_slow_run_learn_updates_go_through_the_gate(mendako_home: Path) -> None:
    import sys

    sys.path.insert(0, str(Path(__file__).parents[1] / "graphs"))
    from graph_fakes import ScriptedPlanner, WordScorer

    from graphs.context import RunSettings
    from graphs.runner import run_goal
    from skills.rl.online import learn_from_run

    lib = SkillLibrary("crafter", kinds=("rl",))
    reply = {"target": "collect_wood", "subgoals": ["collect_wood"]}
    run_goal(
        "collect wood",
        RunSettings(seed=0),
        llm=ScriptedPlanner(replies=[reply]),
        scorer=WordScorer(),
        library=lib,
    )
    (update,) = learn_from_run(lib, episodes=4)
    assert update.name == "rl_collect_wood" and update.transitions > 0 and update.version == 2
    assert update.gate.active is not None and update.gate.seeds.startswith(str(GATE_SEED_BASE))
    fresh = SkillLibrary("crafter")
    assert fresh.get("rl_collect_wood").meta.version == (2 if update.gate.keep else 1)
    (v2,) = [v for v in fresh.versions("rl_collect_wood") if v.version == 2]
    assert (v2.meta.successes, v2.meta.attempts) == (update.gate.new, 4)
    assert "online_updates" in v2.meta.extra  # the PPO update's own record is kept

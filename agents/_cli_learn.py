"""`mendako skills learn`: train an RL skill for a subgoal on the verifier's reward (ELLM)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from agents._cli_common import EnvOpt, LLMOpt, console, fail, user_errors
from agents._cli_skills import skills_app


@skills_app.command("learn")
def learn(
    subgoal: Annotated[str, typer.Argument(help="What the skill should achieve, in words.")] = "",
    env: EnvOpt = "crafter",
    steps: Annotated[
        int | None,
        typer.Option(help="Env steps of PPO training (default 200000; --policy llm: 1024)."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Training seed (written in meta.json).")] = 1,
    reward: Annotated[
        str,
        typer.Option(
            help="verifier (ELLM, the default: the critic reads as P(success)) | shaped "
            "(verifier + potential-based shaping by progress) | sparse (Crafter's own) | "
            "judge (the --llm says yes/no to each change, RDLM) | similarity (caption vs "
            "subgoal embedding, ELLM) | manual (bonuses the --llm reads from a game manual, "
            "Read and Reap) | clip (CLIP frame reward, VLM-RMs; needs --clip-weights)"
        ),
    ] = "verifier",
    llm: LLMOpt = "embedded",
    behaviour: Annotated[
        str | None,
        typer.Option(help="--reward judge/clip: the words of good behaviour (default: subgoal)."),
    ] = None,
    manual: Annotated[
        str | None, typer.Option(help="--reward manual: a manual file (default: Crafter's).")
    ] = None,
    clip_weights: Annotated[
        str | None, typer.Option(help="--reward clip: a local Hugging Face CLIP folder.")
    ] = None,
    policy: Annotated[str, typer.Option(help="mlp (actor-critic) | llm (GLAM, BabyAI)")] = "mlp",
    level: Annotated[str, typer.Option(help="BabyAI level for --policy llm.")] = (
        "BabyAI-GoToObjS4-v0"
    ),
    eval_episodes: Annotated[
        int,
        typer.Option(help="--policy llm: held-out episodes played before and after training."),
    ] = 30,
    horizon: Annotated[
        int, typer.Option(help="--policy llm: steps per episode before it is cut.")
    ] = 8,
    replace: Annotated[
        bool,
        typer.Option(
            help="Make the new version active even if it evaluates worse than the active."
        ),
    ] = False,
    gate_episodes: Annotated[
        int, typer.Option(help="Fresh-world episodes each version plays in the comparison.")
    ] = 20,
    ray: Annotated[
        bool,
        typer.Option(
            "--ray",
            help="Step the envs on Ray actors, the learner here (a local Ray instance unless "
            "--ray-address); needs pip install -e '.\\[ray]'.",
        ),
    ] = False,
    ray_address: Annotated[
        str | None,
        typer.Option(help="Ray cluster to join (e.g. auto, ray://head:10001); implies --ray."),
    ] = None,
    ray_workers: Annotated[
        int, typer.Option(help="With --ray: rollout workers, each holding 8/N of the 8 envs.")
    ] = 2,
) -> None:
    """Train an RL skill with PPO; the new version becomes active only if it does at least as
    well as the active one on the same fresh worlds (or with --replace); both versions stay."""
    if steps is not None and steps <= 0:
        fail(f"--steps must be a positive number of env steps (got {steps})")
    if gate_episodes <= 0:
        fail(f"--gate-episodes must be positive (got {gate_episodes})")
    if not 0 <= seed <= 2**32 - 1:
        fail(f"--seed {seed} is outside 0..{2**32 - 1}")
    if policy == "llm":
        if eval_episodes <= 0 or horizon <= 0:
            fail(f"--eval-episodes and --horizon must be positive ({eval_episodes}, {horizon})")
        _learn_llm(level, steps, seed, eval_episodes, horizon)
        return
    steps = 200_000 if steps is None else steps
    if policy != "mlp":
        fail(f"unknown policy {policy!r}: choose mlp or llm")
    if env != "crafter":
        fail("RL skills with --policy mlp are trained on crafter; use --policy llm for babyai")
    from skills.rl.rewards import KINDS, LANGUAGE_KINDS

    if reward not in KINDS + LANGUAGE_KINDS:
        fail(f"unknown reward {reward!r}: choose {', '.join(KINDS + LANGUAGE_KINDS)}")
    if reward == "clip":
        from agents.rewards.clip import ClipWeightsError, check_weights

        try:
            check_weights(clip_weights)
        except ClipWeightsError as e:
            fail(str(e))
    options = {"llm": llm, "behaviour": behaviour, "manual": manual, "clip_weights": clip_weights}
    reward_options = tuple((k, v) for k, v in options.items() if v and reward in LANGUAGE_KINDS)
    if not subgoal.strip():
        fail("say which subgoal to learn, e.g. mendako skills learn 'collect wood'")
    from agents.planner import ground_target
    from agents.rewards import transition_reward
    from envs.crafter import load_rules
    from skills.library import SkillLibrary
    from skills.rl.ppo import PPOArgs, train

    achievement, _ = ground_target(subgoal, "", list(load_rules().achievements))
    if achievement is None:
        fail(f"no Crafter achievement matches {subgoal!r}")
    library = SkillLibrary("crafter")
    name = f"rl_{achievement}"
    # Trained outside the library's folders; it joins them through the gate below.
    out = library.home / "training" / f"{name}-{int(time.time() * 1000)}"
    use_ray = ray or bool(ray_address)
    if use_ray:
        from skills.cluster import RayMissing, require_ray

        try:
            require_ray()
        except RayMissing as e:
            fail(str(e))
        if ray_workers < 1:
            fail(f"--ray-workers must be at least 1 (got {ray_workers})")
    args = PPOArgs(
        achievement=achievement,
        total_steps=steps,
        seed=seed,
        reward=reward,
        reward_options=reward_options,
        language_reward=transition_reward if reward in LANGUAGE_KINDS else None,
        out_dir=str(out),
        ray=(ray_address or "") if use_ray else None,
        ray_workers=ray_workers,
    )
    console.print(
        f"learning [bold]{achievement}[/] with PPO, reward={reward}, "
        f"{steps} steps, seed {seed} → {out}",
        highlight=False,
    )
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:.0f}/{task.total:.0f} steps"),
        TimeRemainingColumn(),
        console=console,
    ) as bar:
        task = bar.add_task("PPO", total=steps)
        shown: dict[str, float] = {"next": 0}

        def progress(m: dict[str, float]) -> None:
            step = m.get("global_step", 0)
            bar.update(
                task,
                completed=step,
                description=f"success {m.get('charts/success_rate_fresh', 0):.2f}",
            )
            if step >= shown["next"]:
                shown["next"] = step + max(steps // 10, 1)
                bar.console.print(
                    f"step {step:>8.0f}  success_rate {m.get('charts/success_rate', 0):.2f}  "
                    f"fresh {m.get('charts/success_rate_fresh', 0):.2f}",
                    highlight=False,
                )

        try:
            path = train(args, progress=progress)
        except user_errors() as e:
            fail(str(e))
    _gate_and_store(library, path, name, achievement, gate_episodes, replace)


def _gate_and_store(
    library: Any, path: Path, name: str, achievement: str, episodes: int, replace: bool
) -> None:
    """Compare the trained policy with the active version and store it as the next version
    (active only if not worse, or with `replace`); the training folder is then removed."""
    import shutil

    from rich.text import Text

    from skills.rl.gate import gate, record_figures

    active = library.get(name) if name in library else None
    console.print(
        f"comparing with the active version on {episodes} fresh worlds …", highlight=False
    )
    result = gate(
        path, active, name=name, achievement=achievement, episodes=episodes, replace=replace
    )
    record_figures(path, result)
    stored = library.add_version(path, activate=result.keep)
    shutil.rmtree(path, ignore_errors=True)
    console.print(Text(result.line(stored.version)))


def _learn_llm(level: str, steps: int | None, seed: int, eval_episodes: int, horizon: int) -> None:
    """`skills learn --policy llm`: GLAM on a BabyAI level with a live bar, then a table."""
    from rich.table import Table

    from skills import mendako_home
    from skills.rl.llm_policy import LEARN_STEPS
    from skills.rl.llm_policy import learn as learn_llm

    steps = LEARN_STEPS if steps is None else steps
    out = mendako_home() / "skills_llm" / f"llm_policy_{level}"
    console.print(
        f"fine-tuning the LLM policy (GLAM: the embedded SmolLM2's last block + a value head) "
        f"on {level}: {steps} env steps of PPO, episodes of at most {horizon} steps, "
        f"{eval_episodes} held-out episodes before and after …",
        highlight=False,
    )
    phases = {"before": "evaluate before", "train": "PPO", "after": "evaluate after"}
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:.0f}/{task.total:.0f}"),
        TextColumn("{task.fields[rate]}"),
        TimeRemainingColumn(),
        console=console,
    ) as bar:
        tasks: dict[str, Any] = {}

        def progress(m: dict[str, Any]) -> None:
            phase = m["phase"]
            if phase not in tasks:
                tasks[phase] = bar.add_task(phases.get(phase, phase), total=m["total"], rate="")
            success = m["success"]
            shown = "-" if success != success else f"{success:.2f}"  # NaN: no episode ended
            unit = "episodes" if phase != "train" else "steps"
            rate = f"{m['steps_per_s']:.1f} steps/s  success {shown}"
            bar.update(
                tasks[phase],
                completed=m["step"],
                description=f"{phases.get(phase, phase)} ({unit})",
                rate=rate,
            )
            every = max(m["total"] // 4, 1)
            if m["step"] == m["total"] or (phase == "train" and m["step"] % every == 0):
                # a line that stays (and shows where no live bar can, e.g. in a log file)
                bar.console.print(
                    f"{phases.get(phase, phase)}: {m['step']}/{m['total']} {unit}, {rate}",
                    highlight=False,
                )

        try:
            from agents.llm import embedded_model_path

            model = str(embedded_model_path())
            report = learn_llm(
                level=level, steps=steps, seed=seed, out=str(out), progress=progress,
                model_path=model, eval_episodes=eval_episodes, horizon=horizon,
            )  # fmt: skip
        except user_errors() as e:
            fail(str(e))
    table = Table(title=f"LLM policy (GLAM) on {level}", show_header=True)
    for col in ("", "success", "95% interval"):
        table.add_column(col, justify="right")
    lo, hi = report["before_ci"]
    table.add_row("before", f"{report['success_before']:.2f}", f"{lo:.2f}-{hi:.2f}")
    lo, hi = report["after_ci"]
    table.add_row("after", f"{report['success_after']:.2f}", f"{lo:.2f}-{hi:.2f}")
    lo, hi = report["lift_ci"]
    table.add_row("lift (paired)", f"{report['lift']:+.2f}", f"{lo:+.2f} to {hi:+.2f}")
    table.add_row("during training", f"{report['train_success_rate']:.2f}", "")
    console.print(table)
    a, b = report["eval_seeds"]
    console.print(
        f"{report['env_steps']} env steps, {report['eval_episodes']} held-out episodes "
        f"(seeds {a}-{b}, actions sampled), {report['distinct_prompts']} distinct observation "
        f"texts, {report['trainable_params']:,} trained parameters, {report['wall_s']:.0f} s",
        highlight=False,
    )
    console.print(f"saved {out} (llm_policy.pt, meta.json)", highlight=False)

"""The LLM as a policy (GLAM, Carta et al. 2023): the action distribution is the language
model's normalised likelihood of each action's text given the goal and the text description,
with a value head; PPO fine-tunes the model's last block(s) on the verifier's reward.

Cost on a CPU. The six action texts share one prompt, so they are *packed* into one
sequence ``prompt + a1 + ... + a6`` with a block attention mask (each action sees the prompt
and itself) and positions that restart after the prompt: one forward pass scores all six.
The frozen blocks run once per step, at rollout time, under ``no_grad``; their output (the
input of the first trained block) is stored, so a PPO update re-runs only the trained
blocks, the final norm and the LM head on the action positions. LoRA would need ``peft``,
which is not installed here; training the last block(s) is GLAM's other setting.

``train(LLMPolicyArgs(...))`` runs PPO on a BabyAI level and returns a result dict
(success before/after); :func:`train_mlp` is the plain RL baseline (an MLP actor-critic
over the symbolic 7x7 view and the mission's words) at the same env-step budget.
:func:`learn` is what ``mendako skills learn --policy llm`` calls.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from envs import babyai

log = logging.getLogger(__name__)

Progress = Callable[[dict[str, Any]], None]
"""Receives ``{"phase", "step", "total", "steps_per_s", "success"}`` as a run goes: phase
``before`` / ``after`` (evaluation episodes done of ``total``) or ``train`` (env steps)."""

__all__ = [
    "ACTIONS",
    "LLMPolicy",
    "LLMPolicyArgs",
    "MLPPolicy",
    "evaluate",
    "learn",
    "load_llm",
    "make_prompt",
    "train",
    "train_mlp",
]

ACTIONS = babyai.ACTION_TEXTS
"""Action texts in minigrid's order: left, right, forward, pickup, drop, toggle."""


@dataclass(frozen=True, kw_only=True)
class LLMPolicyArgs:
    """Settings of one PPO run of the LLM policy (or the MLP baseline)."""

    level: str = "BabyAI-GoToObjS6-v1"
    """BabyAI level to train on (its own missions are the goals)."""
    total_steps: int = 192
    """Env steps of training (rollouts) in all."""
    n_steps: int = 64
    """Env steps per rollout, between two PPO updates."""
    horizon: int = 12
    """Steps per episode before it is cut (kept short: a CPU forward pass per step)."""
    epochs: int = 2
    """PPO epochs over each rollout."""
    minibatch: int = 16
    """Samples per gradient step."""
    lr: float = 5e-5
    """Learning rate of the trained LM block(s)."""
    head_lr: float = 1e-3
    """Learning rate of the value head (and of the whole MLP baseline)."""
    gamma: float = 0.9
    """Discount."""
    gae_lambda: float = 0.95
    """GAE lambda."""
    clip: float = 0.2
    """PPO clip range."""
    ent_coef: float = 0.01
    """Entropy bonus."""
    vf_coef: float = 0.5
    """Value loss weight."""
    train_blocks: int = 1
    """How many of the last transformer blocks are trained (the rest stay frozen)."""
    seed: int = 0
    """Training seed (episode seeds start here)."""
    eval_episodes: int = 20
    """Episodes of the before/after evaluation (seeds ``eval_seed``...)."""
    eval_seed: int = 100_000
    """First seed of evaluation episodes, never used in training."""
    model_path: str | None = None
    """GGUF (or HF folder) of the LLM; :func:`train` needs it unless a model is passed (the
    CLI passes mendako's embedded SmolLM2-135M-Instruct, ``agents.llm.embedded_model_path``:
    skills import no agents)."""
    out: str | None = None
    """Where to write ``llm_policy.pt`` + ``meta.json`` (None: nothing written)."""


# ---------------------------------------------------------------------- the LLM policy
def load_llm(path: str | Path) -> tuple[Any, Any]:
    """``(model, tokenizer)`` in fp32 torch from a GGUF or HF folder (mendako's embedded
    SmolLM2 is at ``agents.llm.embedded_model_path()``)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    p = Path(path)
    kw: dict[str, Any] = {}
    where = str(p)
    if p.suffix.lower() == ".gguf":
        kw["gguf_file"], where = p.name, str(p.parent)
    tok = AutoTokenizer.from_pretrained(where, **kw)
    model = AutoModelForCausalLM.from_pretrained(where, dtype=torch.float32, **kw)
    model.config._attn_implementation = "sdpa"
    return model.eval(), tok


def make_prompt(goal: str, description: str) -> str:
    """The text the LLM reads before an action (BabyAI-Text style)."""
    actions = ", ".join(ACTIONS)
    return f"Possible actions: {actions}.\nGoal: {goal}.\nObservation: {description}\nNext action:"


@dataclass
class Packed:
    """One observation packed for scoring: tokens, mask, positions, action token spans."""

    ids: torch.Tensor
    mask: torch.Tensor
    pos: torch.Tensor
    spans: list[tuple[int, int]]
    prompt_len: int


class LLMPolicy(nn.Module):
    """GLAM: pi(a|s) = softmax over actions of log P_LLM(action text | prompt); V(s) from a
    linear head on the prompt's last hidden state."""

    def __init__(self, model: Any, tok: Any, *, train_blocks: int = 1) -> None:
        super().__init__()
        self.lm, self.tok = model, tok
        for p in self.lm.parameters():
            p.requires_grad_(False)
        layers = self.lm.model.layers
        self.split = len(layers) - train_blocks
        for layer in layers[self.split :]:
            for p in layer.parameters():
                p.requires_grad_(True)
        for p in self.lm.model.norm.parameters():
            p.requires_grad_(True)
        self.value = nn.Linear(self.lm.config.hidden_size, 1)
        nn.init.zeros_(self.value.weight)
        nn.init.zeros_(self.value.bias)
        self._action_ids = [tok(" " + a, add_special_tokens=False)["input_ids"] for a in ACTIONS]

    def pack(self, prompt: str) -> Packed:
        """Tokenise ``prompt`` and append every action, each attending to prompt + itself."""
        p_ids = self.tok(prompt, add_special_tokens=False)["input_ids"]
        n = len(p_ids)
        ids, pos, spans = list(p_ids), list(range(n)), []
        for a in self._action_ids:
            spans.append((len(ids), len(ids) + len(a)))
            ids += a
            pos += list(range(n, n + len(a)))
        t = len(ids)
        allow = torch.zeros(t, t, dtype=torch.bool)
        allow[:n, :n] = torch.tril(torch.ones(n, n, dtype=torch.bool))
        for s, e in spans:
            allow[s:e, :n] = True
            allow[s:e, s:e] = torch.tril(torch.ones(e - s, e - s, dtype=torch.bool))
        mask = torch.zeros(t, t).masked_fill(~allow, torch.finfo(torch.float32).min)
        return Packed(torch.tensor([ids]), mask[None, None], torch.tensor([pos]), spans, n)

    def _run(self, h: torch.Tensor, pk: Packed, layers: Any) -> torch.Tensor:
        rope = self.lm.model.rotary_emb(h, pk.pos)
        for layer in layers:
            h = layer(h, attention_mask=pk.mask, position_ids=pk.pos, position_embeddings=rope)
        return h

    @torch.no_grad()
    def frozen(self, pk: Packed) -> torch.Tensor:
        """Hidden states entering the first trained block (computed once per step)."""
        h = self.lm.model.embed_tokens(pk.ids)
        return self._run(h, pk, self.lm.model.layers[: self.split])

    def head(self, h0: torch.Tensor, pk: Packed) -> tuple[torch.Tensor, torch.Tensor]:
        """Action logits (sum of token log-probs per action) and V(s) from the frozen part."""
        h = self.lm.model.norm(self._run(h0, pk, self.lm.model.layers[self.split :]))
        h = h[0]
        scores = []
        for (s, e), a in zip(pk.spans, self._action_ids, strict=True):
            # token k of the action is predicted at position k-1; the first at the prompt end
            rows = [pk.prompt_len - 1, *range(s, e - 1)]
            logp = torch.log_softmax(self.lm.lm_head(h[rows]), dim=-1)
            scores.append(logp[torch.arange(len(a)), torch.tensor(a)].sum())
        value = self.value(h[pk.prompt_len - 1]).squeeze(-1)
        return torch.stack(scores), value

    def act(self, prompt: str, *, greedy: bool = False) -> tuple[int, float, float, Any]:
        """Sample (or take the most likely) action; returns (action, logp, value, cache)."""
        pk = self.pack(prompt)
        h0 = self.frozen(pk)
        with torch.no_grad():
            logits, value = self.head(h0, pk)
        dist = torch.distributions.Categorical(logits=logits)
        a = int(logits.argmax()) if greedy else int(dist.sample())
        return a, float(dist.log_prob(torch.tensor(a))), float(value), (h0, pk)

    def evaluate_actions(self, cache: Any, action: int) -> tuple[torch.Tensor, ...]:
        """(logp, entropy, value) of ``action`` with gradients, from a stored frozen pass."""
        h0, pk = cache
        logits, value = self.head(h0, pk)
        dist = torch.distributions.Categorical(logits=logits)
        return dist.log_prob(torch.tensor(action)), dist.entropy(), value


# ---------------------------------------------------------------------- the MLP baseline
_COLORS = ("red", "green", "blue", "purple", "yellow", "grey")
_TYPES = ("ball", "box", "key", "door")


def symbolic(info: dict[str, Any]) -> np.ndarray:
    """The plain RL observation: the 7x7x3 view one-hot-ish, plus the mission's colour and
    type words one-hot."""
    img = np.asarray(info["image"], dtype=np.float32)
    view = np.concatenate(
        [
            (img[..., 0:1] == np.arange(11)).astype(np.float32).reshape(-1),
            (img[..., 1:2] == np.arange(6)).astype(np.float32).reshape(-1),
            (img[..., 2:3] == np.arange(3)).astype(np.float32).reshape(-1),
        ]
    )
    words = info["mission"].split()
    goal = [float(c in words) for c in _COLORS] + [float(t in words) for t in _TYPES]
    return np.concatenate([view, np.asarray(goal, dtype=np.float32)])


class MLPPolicy(nn.Module):
    """A small actor-critic over :func:`symbolic` observations."""

    def __init__(self, n_in: int, hidden: int = 64) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Linear(n_in, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh()
        )
        self.pi = nn.Linear(hidden, len(ACTIONS))
        self.v = nn.Linear(hidden, 1)

    def act(self, obs: np.ndarray, *, greedy: bool = False) -> tuple[int, float, float, Any]:
        """Sample an action; returns (action, logp, value, cache)."""
        x = torch.as_tensor(obs)
        with torch.no_grad():
            z = self.body(x)
            logits, value = self.pi(z), self.v(z).squeeze(-1)
        dist = torch.distributions.Categorical(logits=logits)
        a = int(logits.argmax()) if greedy else int(dist.sample())
        return a, float(dist.log_prob(torch.tensor(a))), float(value), x

    def evaluate_actions(self, cache: Any, action: int) -> tuple[torch.Tensor, ...]:
        """(logp, entropy, value) of ``action`` with gradients."""
        z = self.body(cache)
        dist = torch.distributions.Categorical(logits=self.pi(z))
        return dist.log_prob(torch.tensor(action)), dist.entropy(), self.v(z).squeeze(-1)


# ---------------------------------------------------------------------- PPO
Policy = LLMPolicy | MLPPolicy
"""What PPO here trains and evaluates: the LLM policy or the MLP baseline."""


def _make_env(args: LLMPolicyArgs) -> babyai.BabyAIEnv:
    return babyai.make(f"babyai:{args.level}", max_steps=args.horizon)


def _obs_for(policy: nn.Module, env: babyai.BabyAIEnv) -> Any:
    info = env.info
    if isinstance(policy, LLMPolicy):
        return make_prompt(info["mission"], babyai.describe(None, info, None))
    return symbolic(info)


def evaluate(
    policy: Policy,
    args: LLMPolicyArgs,
    *,
    greedy: bool = False,
    progress: Progress | None = None,
    phase: str = "eval",
) -> float:
    """Success rate over ``eval_episodes`` held-out seeds (BabyAI's verifier decides)."""
    env = _make_env(args)
    wins, steps, t0 = 0, 0, time.perf_counter()
    for k in range(args.eval_episodes):
        env.reset(seed=args.eval_seed + k)
        while not env.episode_over:
            a, *_ = policy.act(_obs_for(policy, env), greedy=greedy)
            env.step(a)
            steps += 1
        wins += int(env.success)
        if progress is not None:
            rate = steps / max(time.perf_counter() - t0, 1e-9)
            progress(
                {"phase": phase, "step": k + 1, "total": args.eval_episodes,
                 "steps_per_s": rate, "success": wins / (k + 1)}
            )  # fmt: skip
    return wins / max(1, args.eval_episodes)


def _ppo(
    policy: Policy,
    args: LLMPolicyArgs,
    optimizer: torch.optim.Optimizer,
    progress: Progress | None = None,
) -> dict:
    """Collect rollouts and update; the reward is the verifier's: 1 on mission success."""
    t0 = time.perf_counter()
    env = _make_env(args)
    episode = 0
    env.reset(seed=args.seed)
    steps, successes, episodes, curve = 0, 0, 0, []
    while steps < args.total_steps:
        buf: list[tuple[Any, int, float, float, float, bool]] = []
        for _ in range(min(args.n_steps, args.total_steps - steps)):
            a, logp, v, cache = policy.act(_obs_for(policy, env))
            env.step(a)
            r = 1.0 if env.success else 0.0
            done = env.episode_over
            buf.append((cache, a, logp, v, r, done))
            steps += 1
            if done:
                successes += int(env.success)
                episodes += 1
                episode += 1
                env.reset(seed=args.seed + episode)
            if progress is not None:
                progress(
                    {"phase": "train", "step": steps, "total": args.total_steps,
                     "steps_per_s": steps / max(time.perf_counter() - t0, 1e-9),
                     "success": successes / episodes if episodes else math.nan}
                )  # fmt: skip
        last_v = 0.0 if buf[-1][5] else policy.act(_obs_for(policy, env))[2]
        adv = np.zeros(len(buf), dtype=np.float32)
        gae = 0.0
        for t in reversed(range(len(buf))):
            nv = last_v if t == len(buf) - 1 else buf[t + 1][3]
            nonterm = 0.0 if buf[t][5] else 1.0
            delta = buf[t][4] + args.gamma * nv * nonterm - buf[t][3]
            gae = delta + args.gamma * args.gae_lambda * nonterm * gae
            adv[t] = gae
        ret = adv + np.array([b[3] for b in buf], dtype=np.float32)
        norm = (adv - adv.mean()) / (adv.std() + 1e-8) if len(adv) > 1 else adv
        policy.train()
        for _ in range(args.epochs):
            order = np.random.permutation(len(buf))
            for i in range(0, len(buf), args.minibatch):
                idx = order[i : i + args.minibatch]
                loss = torch.zeros(())
                for j in idx:
                    cache, a, old_logp, _v, _r, _d = buf[j]
                    new_logp, ent, value = policy.evaluate_actions(cache, a)
                    ratio = torch.exp(new_logp - old_logp)
                    pg = -torch.min(
                        ratio * float(norm[j]),
                        torch.clamp(ratio, 1 - args.clip, 1 + args.clip) * float(norm[j]),
                    )
                    vl = (value - float(ret[j])) ** 2
                    loss = loss + pg + args.vf_coef * vl - args.ent_coef * ent
                optimizer.zero_grad()
                (loss / len(idx)).backward()
                nn.utils.clip_grad_norm_([p for p in policy.parameters() if p.requires_grad], 0.5)
                optimizer.step()
        policy.eval()
        rate = successes / episodes if episodes else math.nan
        curve.append({"global_step": steps, "charts/success_rate": rate})
        log.info("step %d: training success rate %.2f", steps, rate)
    return {"train_success_rate": successes / max(1, episodes), "curve": curve}


def train(
    args: LLMPolicyArgs,
    *,
    model: Any = None,
    tok: Any = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """PPO-fine-tune the LLM policy on ``args.level``; success rate before and after
    (``progress``: see :data:`Progress`)."""
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    t0 = time.perf_counter()
    if model is None:
        if not args.model_path:
            raise ValueError(
                "LLMPolicyArgs.model_path: which LLM to fine-tune (a GGUF or HF folder; the"
                " embedded one is agents.llm.embedded_model_path())"
            )
        model, tok = load_llm(args.model_path)
    policy = LLMPolicy(model, tok, train_blocks=args.train_blocks)
    load_s = time.perf_counter() - t0
    before = evaluate(policy, args, progress=progress, phase="before")
    trained = [p for n, p in policy.named_parameters() if p.requires_grad and "value" not in n]
    opt = torch.optim.Adam(
        [
            {"params": trained, "lr": args.lr},
            {"params": policy.value.parameters(), "lr": args.head_lr},
        ]
    )
    t1 = time.perf_counter()
    stats = _ppo(policy, args, opt, progress)
    train_s = time.perf_counter() - t1
    after = evaluate(policy, args, progress=progress, phase="after")
    result = {
        "policy": "llm",
        "level": args.level,
        "env_steps": args.total_steps,
        "success_before": before,
        "success_after": after,
        "train_success_rate": stats["train_success_rate"],
        "load_s": round(load_s, 1),
        "train_s": round(train_s, 1),
        "wall_s": round(time.perf_counter() - t0, 1),
        "trainable_params": sum(p.numel() for p in policy.parameters() if p.requires_grad),
    }
    if args.out:
        _save(policy, args, result)
    return result


def train_mlp(args: LLMPolicyArgs, *, progress: Progress | None = None) -> dict[str, Any]:
    """The plain RL baseline: the same PPO on an MLP over the symbolic view."""
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    t0 = time.perf_counter()
    env = _make_env(args)
    env.reset(seed=0)
    policy = MLPPolicy(len(symbolic(env.info)))
    before = evaluate(policy, args, progress=progress, phase="before")
    opt = torch.optim.Adam(policy.parameters(), lr=args.head_lr)
    stats = _ppo(policy, args, opt, progress)
    after = evaluate(policy, args, progress=progress, phase="after")
    return {
        "policy": "mlp",
        "level": args.level,
        "env_steps": args.total_steps,
        "success_before": before,
        "success_after": after,
        "train_success_rate": stats["train_success_rate"],
        "wall_s": round(time.perf_counter() - t0, 1),
        "trainable_params": sum(p.numel() for p in policy.parameters()),
    }


def _save(policy: LLMPolicy, args: LLMPolicyArgs, result: dict[str, Any]) -> Path:
    out = Path(args.out or ".")
    out.mkdir(parents=True, exist_ok=True)
    state = {
        k: v
        for k, v in policy.state_dict().items()
        if k.startswith("value.")
        or f"layers.{policy.split}" in k
        or any(f"layers.{i}." in k for i in range(policy.split, 64))
        or "model.norm" in k
    }
    torch.save(state, out / "llm_policy.pt")
    meta = {
        "name": out.name,
        "description": f"LLM policy (GLAM) fine-tuned with PPO on {args.level}",
        "kind": "rl",
        "env": "babyai",
        "achievement": None,
        "extra": {"policy": "llm", "args": asdict(args), "result": result},
    }
    (out / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    return out


LEARN_STEPS = 96
"""``skills learn --policy llm``'s default budget, with 10 evaluation episodes of at most 10
steps before and after: about 300 forward passes of the 135M model. Measured here on 2 CPU
cores shared with other jobs (load 6-9): 128 steps + 2 x 10 episodes took 760 s
(``benchmarks/babyai_policy.py``); on a quiet machine about 0.35 s per pass."""


def learn(
    *,
    level: str = "BabyAI-GoToObjS6-v1",
    steps: int = LEARN_STEPS,
    seed: int = 0,
    out: str | None = None,
    eval_episodes: int = 10,
    horizon: int = 10,
    progress: Progress | None = None,
    model_path: str,
) -> dict[str, Any]:
    """``mendako skills learn --policy llm``: fine-tune the LLM policy (the GGUF or HF folder
    at ``model_path``), report before/after."""
    args = LLMPolicyArgs(
        level=level,
        model_path=model_path,
        total_steps=steps,
        n_steps=min(64, steps),
        horizon=horizon,
        seed=seed,
        out=out,
        eval_episodes=eval_episodes,
    )
    return train(args, progress=progress)

"""The LLM as a policy (GLAM, Carta et al. 2023): the action distribution is the language
model's normalised likelihood of each action's text given the goal and the text description,
with a value head; PPO fine-tunes the model's last block(s) on the env's reward.

What trains. The LM's last ``train_blocks`` transformer block(s) (1 by default: 3.5M of
SmolLM2-135M's 135M parameters), its final norm, and a linear value head on the prompt's last
hidden state. The embeddings, the other blocks and the LM head stay frozen. pi(a|s) is still
the LM's own likelihood of the action's words (the LM is the policy, as in GLAM); LoRA would
need ``peft``, which is not installed here.

Why a step is cheap on a CPU:

- *Packed scoring.* The six action texts share one prompt, so they are packed into one
  sequence ``prompt + a1 + ... + a6`` with a block attention mask (each action sees the
  prompt and itself) and positions that restart after the prompt: one pass scores all six,
  and the first token of every action is read from one shared row.
- *Frozen trunk cached per prompt text.* The frozen blocks' output (the input of the first
  trained block) depends only on the prompt's text, and BabyAI's text observations repeat
  heavily (114 distinct texts in one GoToObjS4 run of 1,024 training steps and 100
  evaluation episodes), so it is computed once per distinct text and kept (an LRU of
  ``cache_size`` texts). The part before the observation (actions, goal) is run once per
  mission and its keys/values reused.
- *Only the rows that are read.* The last block computes queries and its MLP only at the
  rows whose next-token distribution gives an action score (4 per prompt); every position
  still gives keys and values.
- *Scores cached between updates.* Within a rollout the weights do not change, so each
  text's action scores are computed once per rollout; every optimizer step clears them.
- *Batched updates.* A PPO minibatch runs the trained block once per distinct text in it,
  padded into one batch.

Caching changes no number: :meth:`LLMPolicy.score_uncached` is the plain path, and the tests
check the cached scores equal it (and equal separate full forwards of the model).

``train(LLMPolicyArgs(...))`` runs PPO on a BabyAI level and returns a result dict (success
before/after on held-out seeds with 95% intervals); :func:`train_mlp` is the plain RL
baseline (an MLP actor-critic over the symbolic 7x7 view and the mission's words) at the
same env-step budget. :func:`learn` is what ``mendako skills learn --policy llm`` calls and
:func:`load_policy` loads a saved policy back.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from envs import babyai
from skills.intervals import paired_bootstrap, wilson

log = logging.getLogger(__name__)

Progress = Callable[[dict[str, Any]], None]
"""Receives ``{"phase", "step", "total", "steps_per_s", "success"}`` as a run goes: phase
``before`` / ``after`` (evaluation episodes done of ``total``) or ``train`` (env steps)."""

__all__ = [
    "ACTIONS",
    "LEARN_LEVEL",
    "LEARN_STEPS",
    "LLMPolicy",
    "LLMPolicyArgs",
    "MLPPolicy",
    "evaluate",
    "learn",
    "load_llm",
    "load_policy",
    "make_prompt",
    "paired_bootstrap",
    "train",
    "train_mlp",
    "wilson",
]

ACTIONS = babyai.ACTION_TEXTS
"""Action texts in minigrid's order: left, right, forward, pickup, drop, toggle."""

LEARN_LEVEL = "BabyAI-GoToObjS4-v0"
"""The default level: "go to the <colour> <object>" in a small room with that one object
(an untrained SmolLM2 succeeds in 2% of 8-step episodes: it favours "pick up")."""


@dataclass(frozen=True, kw_only=True)
class LLMPolicyArgs:
    """Settings of one PPO run of the LLM policy (or the MLP baseline)."""

    level: str = LEARN_LEVEL
    """BabyAI level to train on (its own missions are the goals)."""
    total_steps: int = 1024
    """Env steps of training (rollouts) in all."""
    n_steps: int = 256
    """Env steps per rollout, between two PPO updates."""
    horizon: int = 8
    """Steps per episode before it is cut (the level's ``max_steps``)."""
    epochs: int = 4
    """PPO epochs over each rollout."""
    minibatch: int = 64
    """Samples per gradient step."""
    lr: float = 3e-4
    """Learning rate of the trained LM block(s)."""
    head_lr: float = 1e-3
    """Learning rate of the value head (and of the whole MLP baseline)."""
    gamma: float = 0.95
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
    cache_size: int = 2048
    """Distinct prompt texts whose frozen-trunk states are kept (about 0.2 MB each)."""
    seed: int = 0
    """Training seed (episode seeds start here and go up by one per episode)."""
    eval_episodes: int = 50
    """Episodes of the before/after evaluation (seeds ``eval_seed``...)."""
    eval_seed: int = 100_000
    """First seed of evaluation episodes, never used in training."""
    greedy_eval: bool = False
    """Evaluate the most likely action instead of sampling the policy (a greedy policy that
    loops never succeeds; sampling is the policy PPO trains)."""
    model_path: str | None = None
    """GGUF (or HF folder) of the LLM; :func:`train` needs it unless a model is passed (the
    CLI passes mendako's embedded SmolLM2-135M-Instruct, ``agents.llm.embedded_model_path``:
    skills import no agents)."""
    out: str | None = None
    """Where to write ``llm_policy.pt`` + ``meta.json`` (None: nothing written)."""


# ---------------------------------------------------------------------- the LLM policy
def load_llm(path: str | Path) -> tuple[Any, Any]:
    """``(model, tokenizer)`` in fp32 torch from a GGUF or HF folder (mendako's embedded
    SmolLM2 is at ``agents.llm.embedded_model_path()``; a GGUF is de-quantised)."""
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
    """One prompt packed for scoring: token ids, the attention pattern (``allow``, a ``T x T``
    bool), positions, and which rows of the output give which action tokens.

    The actions are packed as a prefix tree: after the prompt come only the action tokens
    that some later token is predicted from (" turn" once for "turn left" and "turn right";
    an action's last token is only ever a target), each attending to the prompt and to its
    own earlier tokens, at the positions it would have right after the prompt."""

    ids: torch.Tensor
    allow: torch.Tensor
    pos: torch.Tensor
    prompt_len: int
    prefix_len: int
    """Tokens of the text up to the observation (actions and goal), the same for every
    step of a mission: the frozen trunk keeps its keys and values once per mission."""
    rows: list[int]
    """Output rows whose next-token distribution is read: the prompt's last row (it predicts
    every action's first token), then each packed action token."""
    reads: list[tuple[int, int, int]]
    """``(index into rows, target token, action)`` for every action token."""


_OBSERVATION = "\nObservation:"


def _float_mask(allow: torch.Tensor) -> torch.Tensor:
    return torch.zeros(allow.shape).masked_fill(~allow, torch.finfo(torch.float32).min)


class LLMPolicy(nn.Module):
    """GLAM: pi(a|s) = softmax over actions of log P_LLM(action text | prompt); V(s) from a
    linear head on the prompt's last hidden state. Only the last ``train_blocks`` block(s),
    the final norm and the value head train (see the module docstring for the caches)."""

    def __init__(
        self, model: Any, tok: Any, *, train_blocks: int = 1, cache_size: int = 2048
    ) -> None:
        super().__init__()
        layers = model.model.layers
        if not 1 <= train_blocks <= len(layers):
            raise ValueError(f"train_blocks must be 1..{len(layers)} (got {train_blocks})")
        self.lm, self.tok = model, tok
        for p in self.lm.parameters():
            p.requires_grad_(False)
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
        self.cache_size = cache_size
        self._frozen: OrderedDict[str, tuple[torch.Tensor, Packed]] = OrderedDict()
        self._scores: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
        self._prefix: OrderedDict[tuple[int, ...], Any] = OrderedDict()
        self.frozen_passes = 0
        """How many times the frozen trunk ran (once per distinct text while it is cached)."""
        self.prompts_seen: set[str] = set()

    # -------------------------------------------------------------- packing and passes
    def pack(self, prompt: str) -> Packed:
        """Tokenise ``prompt`` and append the actions' prefix tree (see :class:`Packed`)."""
        cut = prompt.find(_OBSERVATION)
        cut = cut + len(_OBSERVATION) if cut >= 0 else 0
        head = self.tok(prompt[:cut], add_special_tokens=False)["input_ids"] if cut else []
        p_ids = list(head) + list(self.tok(prompt[cut:], add_special_tokens=False)["input_ids"])
        n = len(p_ids)
        ids, pos = list(p_ids), list(range(n))
        node: dict[tuple[int, ...], int] = {(): n - 1}  # token prefix -> its row in ids
        parents: list[int] = []
        reads: list[tuple[int, int, int]] = []
        for k, a in enumerate(self._action_ids):
            for j, token in enumerate(a):
                pre = tuple(a[:j])
                if pre not in node:  # a[j-1] becomes an input: pack it after its parent
                    parents.append(node[pre[:-1]])
                    node[pre] = len(ids)
                    ids.append(pre[-1])
                    pos.append(n + j - 1)
                reads.append((node[pre], token, k))
        t = len(ids)
        allow = torch.zeros(t, t, dtype=torch.bool)
        allow[:n, :n] = torch.tril(torch.ones(n, n, dtype=torch.bool))
        for i, parent in zip(range(n, t), parents, strict=True):
            allow[i] = allow[parent] if parent >= n else allow[n - 1]
            allow[i, i] = True
        rows = [n - 1, *range(n, t)]
        at = {r: i for i, r in enumerate(rows)}
        reads = [(at[r], token, k) for r, token, k in reads]
        return Packed(torch.tensor(ids), allow, torch.tensor(pos), n, len(head), rows, reads)

    def _run(
        self, h: torch.Tensor, pos: torch.Tensor, mask: torch.Tensor, layers: Any
    ) -> torch.Tensor:
        rope = self.lm.model.rotary_emb(h, pos)
        for layer in layers:
            h = layer(h, attention_mask=mask, position_ids=pos, position_embeddings=rope)
        return h

    def _attention(
        self,
        layer: Any,
        x: torch.Tensor,
        rope: tuple[torch.Tensor, torch.Tensor],
        rows: torch.Tensor | None,
        mask: torch.Tensor,
        past: tuple[torch.Tensor, torch.Tensor] | None = None,
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        """``layer``'s self-attention (Llama's, written out) for the normed input ``x``
        (``b x t x hidden``): queries only at ``rows`` (``b x r``; None: every position),
        keys and values after ``past`` ones; returns its output and the keys/values."""
        from transformers.models.llama.modeling_llama import rotate_half

        attn = layer.self_attn
        b, t, _ = x.shape
        hd = attn.head_dim
        cos, sin = rope
        if rows is None:
            xq, cq, sq = x, cos, sin
        else:
            xq = torch.gather(x, 1, rows[..., None].expand(-1, -1, x.shape[-1]))
            cq = torch.gather(cos, 1, rows[..., None].expand(-1, -1, cos.shape[-1]))
            sq = torch.gather(sin, 1, rows[..., None].expand(-1, -1, sin.shape[-1]))
        q = attn.q_proj(xq).view(b, xq.shape[1], -1, hd).transpose(1, 2)
        k = attn.k_proj(x).view(b, t, -1, hd).transpose(1, 2)
        v = attn.v_proj(x).view(b, t, -1, hd).transpose(1, 2)
        q = q * cq[:, None] + rotate_half(q) * sq[:, None]
        k = k * cos[:, None] + rotate_half(k) * sin[:, None]
        if past is not None:
            k, v = torch.cat([past[0], k], dim=2), torch.cat([past[1], v], dim=2)
        groups = attn.num_key_value_groups
        o = nn.functional.scaled_dot_product_attention(
            q,
            k.repeat_interleave(groups, dim=1),
            v.repeat_interleave(groups, dim=1),
            attn_mask=mask,
            scale=attn.scaling,
        )
        return attn.o_proj(o.transpose(1, 2).reshape(b, xq.shape[1], -1)), (k, v)

    def _frozen_span(
        self,
        ids: torch.Tensor,
        pos: torch.Tensor,
        allow: torch.Tensor,
        past: list[tuple[torch.Tensor, torch.Tensor]] | None = None,
    ) -> tuple[torch.Tensor, list[tuple[torch.Tensor, torch.Tensor]]]:
        """The frozen blocks over tokens ``ids`` at ``pos`` whose attention rows are
        ``allow`` (over the ``past`` tokens, then these); their output and keys/values."""
        h = self.lm.model.embed_tokens(ids[None])
        rope = self.lm.model.rotary_emb(h, pos[None])
        mask = _float_mask(allow)[None, None]
        kvs = []
        for i, layer in enumerate(self.lm.model.layers[: self.split]):
            o, kv = self._attention(
                layer, layer.input_layernorm(h), rope, None, mask, past[i] if past else None
            )
            kvs.append(kv)
            h = h + o
            h = h + layer.mlp(layer.post_attention_layernorm(h))
        return h[0], kvs

    @torch.no_grad()
    def frozen(self, pk: Packed, *, use_prefix: bool = True) -> torch.Tensor:
        """Hidden states entering the first trained block, ``T x hidden``. The mission's
        prefix is run once and its keys/values kept (``use_prefix=False``: all from
        scratch)."""
        if not use_prefix:  # the reference path: not counted
            return self._frozen_span(pk.ids, pk.pos, pk.allow)[0]
        self.frozen_passes += 1
        if not pk.prefix_len:
            return self._frozen_span(pk.ids, pk.pos, pk.allow)[0]
        n = pk.prefix_len
        key = tuple(pk.ids[:n].tolist())
        hit = self._prefix.get(key)
        if hit is None:
            hit = self._frozen_span(pk.ids[:n], pk.pos[:n], pk.allow[:n, :n])
            self._prefix[key] = hit
            while len(self._prefix) > 256:
                self._prefix.popitem(last=False)
        rest, _ = self._frozen_span(pk.ids[n:], pk.pos[n:], pk.allow[n:], hit[1])
        return torch.cat([hit[0], rest])

    def features(self, prompt: str) -> tuple[torch.Tensor, Packed]:
        """The frozen trunk's states for ``prompt``, from the cache when it holds the text."""
        hit = self._frozen.get(prompt)
        if hit is not None:
            self._frozen.move_to_end(prompt)
            return hit
        pk = self.pack(prompt)
        item = (self.frozen(pk), pk)
        self._frozen[prompt] = item
        self.prompts_seen.add(prompt)
        while len(self._frozen) > self.cache_size:
            self._frozen.popitem(last=False)
        return item

    def head(self, items: Sequence[tuple[torch.Tensor, Packed]]) -> tuple[torch.Tensor, ...]:
        """Action scores ``B x 6`` (sum of each action's token log-probs) and values ``B``
        from frozen-trunk states: the trained block(s) run once over the padded batch."""
        b, t = len(items), max(int(pk.pos.numel()) for _, pk in items)
        hidden = items[0][0].shape[-1]
        h = torch.zeros(b, t, hidden)
        pos = torch.zeros(b, t, dtype=torch.long)
        allow = torch.zeros(b, t, t, dtype=torch.bool)
        allow[:, torch.arange(t), torch.arange(t)] = True  # padding attends to itself only
        for i, (h0, pk) in enumerate(items):
            n = int(pk.pos.numel())
            h[i, :n], pos[i, :n], allow[i, :n, :n] = h0, pk.pos, pk.allow
        mask = _float_mask(allow)[:, None]
        layers = self.lm.model.layers
        h = self._run(h, pos, mask, layers[self.split : len(layers) - 1])
        rows = torch.tensor([pk.rows for _, pk in items])  # as many rows in every prompt
        out = self.lm.model.norm(self._last_block(h, pos, mask, rows))  # b x rows x hidden
        row_of, tgt, seg = [], [], []
        n_act, n_rows = len(self._action_ids), rows.shape[1]
        for i, (_, pk) in enumerate(items):
            for r, token, k in pk.reads:
                row_of.append(i * n_rows + r)
                tgt.append(token)
                seg.append(i * n_act + k)
        logp = torch.log_softmax(self.lm.lm_head(out.reshape(b * n_rows, -1)), dim=-1)
        tok_logp = logp[torch.tensor(row_of), torch.tensor(tgt)]
        scores = torch.zeros(b * n_act).index_add(0, torch.tensor(seg), tok_logp)
        value = self.value(out[:, 0]).squeeze(-1)  # row 0: the prompt's last token
        return scores.view(b, n_act), value

    def _last_block(
        self, h: torch.Tensor, pos: torch.Tensor, mask: torch.Tensor, rows: torch.Tensor
    ) -> torch.Tensor:
        """The last block, computed only at ``rows`` (``b x r``): every position gives keys
        and values, but only the rows that are read need the queries and the MLP."""
        layer = self.lm.model.layers[-1]
        rope = self.lm.model.rotary_emb(h, pos)
        m = torch.gather(mask, 2, rows[:, None, :, None].expand(-1, 1, -1, h.shape[1]))
        o, _ = self._attention(layer, layer.input_layernorm(h), rope, rows, m)
        hq = torch.gather(h, 1, rows[..., None].expand(-1, -1, h.shape[-1])) + o
        return hq + layer.mlp(layer.post_attention_layernorm(hq))

    # -------------------------------------------------------------- scoring
    @torch.no_grad()
    def score_uncached(self, prompt: str) -> tuple[torch.Tensor, torch.Tensor]:
        """Action scores and value of ``prompt`` computed from scratch, touching no cache."""
        pk = self.pack(prompt)
        scores, value = self.head([(self.frozen(pk, use_prefix=False), pk)])
        return scores[0], value[0]

    @torch.no_grad()
    def score(self, prompt: str) -> tuple[torch.Tensor, torch.Tensor]:
        """Action scores (6) and value of ``prompt`` with the current weights (cached until
        the next :meth:`invalidate`)."""
        hit = self._scores.get(prompt)
        if hit is None:
            scores, value = self.head([self.features(prompt)])
            hit = self._scores[prompt] = (scores[0], value[0])
        return hit

    def invalidate(self) -> None:
        """Forget the scores computed with the old weights (call after each update)."""
        self._scores.clear()

    def act(
        self, prompt: str, *, greedy: bool = False, generator: torch.Generator | None = None
    ) -> tuple[int, float, float, Any]:
        """Sample (or take the most likely) action; returns (action, logp, value, cache) where
        the cache (the prompt) is what :meth:`evaluate_actions` takes."""
        logits, value = self.score(prompt)
        logp = torch.log_softmax(logits, -1)
        if greedy:
            a = int(logits.argmax())
        else:
            a = int(torch.multinomial(logp.exp(), 1, generator=generator))
        return a, float(logp[a]), float(value), prompt

    def evaluate_actions(
        self, caches: Sequence[Any], actions: torch.Tensor
    ) -> tuple[torch.Tensor, ...]:
        """(logp, entropy, value) of ``actions`` with gradients, one row per sample; the
        trained block(s) run once per distinct prompt."""
        order = list(dict.fromkeys(caches))
        where = {p: i for i, p in enumerate(order)}
        logits, value = self.head([self.features(p) for p in order])
        idx = torch.tensor([where[p] for p in caches])
        dist = torch.distributions.Categorical(logits=logits[idx])
        return dist.log_prob(actions), dist.entropy(), value[idx]

    def trained_state(self) -> dict[str, torch.Tensor]:
        """The parameters that train (what a checkpoint holds)."""
        return {n: p.detach().clone() for n, p in self.named_parameters() if p.requires_grad}


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

    def act(
        self, obs: np.ndarray, *, greedy: bool = False, generator: torch.Generator | None = None
    ) -> tuple[int, float, float, Any]:
        """Sample an action; returns (action, logp, value, cache)."""
        x = torch.as_tensor(obs)
        with torch.no_grad():
            z = self.body(x)
            logits, value = self.pi(z), self.v(z).squeeze(-1)
        logp = torch.log_softmax(logits, -1)
        if greedy:
            a = int(logits.argmax())
        else:
            a = int(torch.multinomial(logp.exp(), 1, generator=generator))
        return a, float(logp[a]), float(value), x

    def evaluate_actions(
        self, caches: Sequence[Any], actions: torch.Tensor
    ) -> tuple[torch.Tensor, ...]:
        """(logp, entropy, value) of ``actions`` with gradients."""
        z = self.body(torch.stack(list(caches)))
        dist = torch.distributions.Categorical(logits=self.pi(z))
        return dist.log_prob(actions), dist.entropy(), self.v(z).squeeze(-1)

    def invalidate(self) -> None:
        """Nothing is cached here."""


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
    progress: Progress | None = None,
    phase: str = "eval",
) -> list[int]:
    """1/0 per held-out episode (seeds ``eval_seed``...; BabyAI's verifier decides). Actions
    are sampled from a generator seeded by ``eval_seed`` (or greedy, ``args.greedy_eval``)."""
    env = _make_env(args)
    gen = torch.Generator().manual_seed(args.eval_seed)
    wins: list[int] = []
    steps, t0 = 0, time.perf_counter()
    for k in range(args.eval_episodes):
        env.reset(seed=args.eval_seed + k)
        while not env.episode_over:
            a, *_ = policy.act(_obs_for(policy, env), greedy=args.greedy_eval, generator=gen)
            env.step(a)
            steps += 1
        wins.append(int(env.success))
        if progress is not None:
            rate = steps / max(time.perf_counter() - t0, 1e-9)
            progress(
                {"phase": phase, "step": k + 1, "total": args.eval_episodes,
                 "steps_per_s": rate, "success": sum(wins) / (k + 1)}
            )  # fmt: skip
    return wins


def _ppo(
    policy: Policy,
    args: LLMPolicyArgs,
    optimizer: torch.optim.Optimizer,
    progress: Progress | None = None,
) -> dict:
    """Collect rollouts and update. The reward is BabyAI's own: ``1 - 0.9 * step / horizon``
    when the verifier says the mission succeeded, else 0 (no shaping)."""
    t0 = time.perf_counter()
    env = _make_env(args)
    episode = 0
    env.reset(seed=args.seed)
    steps, successes, episodes, curve = 0, 0, 0, []
    trained = [p for p in policy.parameters() if p.requires_grad]
    while steps < args.total_steps:
        buf: list[tuple[Any, int, float, float, float, bool]] = []
        roll_wins, roll_eps = 0, 0
        for _ in range(min(args.n_steps, args.total_steps - steps)):
            a, logp, v, cache = policy.act(_obs_for(policy, env))
            _, r, *_ = env.step(a)
            r = float(r) if env.success else 0.0
            done = env.episode_over
            buf.append((cache, a, logp, v, r, done))
            steps += 1
            if done:
                successes += int(env.success)
                roll_wins += int(env.success)
                episodes += 1
                roll_eps += 1
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
                acts = torch.tensor([buf[j][1] for j in idx])
                old = torch.tensor([buf[j][2] for j in idx])
                a_t = torch.as_tensor(norm[idx])
                r_t = torch.as_tensor(ret[idx])
                new_logp, ent, value = policy.evaluate_actions([buf[j][0] for j in idx], acts)
                ratio = torch.exp(new_logp - old)
                pg = -torch.min(
                    ratio * a_t, torch.clamp(ratio, 1 - args.clip, 1 + args.clip) * a_t
                ).mean()
                vl = ((value - r_t) ** 2).mean()
                loss = pg + args.vf_coef * vl - args.ent_coef * ent.mean()
                optimizer.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(trained, 0.5)
                optimizer.step()
                policy.invalidate()
        policy.eval()
        rate = roll_wins / roll_eps if roll_eps else math.nan
        curve.append({"global_step": steps, "charts/success_rate": rate})
        log.info("step %d: rollout success rate %.2f (%d episodes)", steps, rate, roll_eps)
    return {"train_success_rate": successes / max(1, episodes), "curve": curve}


def _summary(before: list[int], after: list[int]) -> dict[str, Any]:
    n = len(before)
    b, a = sum(before), sum(after)
    lift_ci = paired_bootstrap(before, after) if n else (0.0, 0.0)
    return {
        "success_before": b / max(1, n),
        "success_after": a / max(1, n),
        "before_ci": [round(x, 3) for x in wilson(b, n)],
        "after_ci": [round(x, 3) for x in wilson(a, n)],
        "lift": (a - b) / max(1, n),
        "lift_ci": [round(x, 3) for x in lift_ci],
        "per_episode": {"before": before, "after": after},
    }


def train(
    args: LLMPolicyArgs,
    *,
    model: Any = None,
    tok: Any = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """PPO-fine-tune the LLM policy on ``args.level``; success rate before and after on the
    same held-out seeds, with intervals (``progress``: see :data:`Progress`)."""
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
    policy = LLMPolicy(model, tok, train_blocks=args.train_blocks, cache_size=args.cache_size)
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
        "horizon": args.horizon,
        "eval_episodes": args.eval_episodes,
        "eval_seeds": [args.eval_seed, args.eval_seed + args.eval_episodes - 1],
        **_summary(before, after),
        "train_success_rate": stats["train_success_rate"],
        "curve": stats["curve"],
        "load_s": round(load_s, 1),
        "train_s": round(train_s, 1),
        "wall_s": round(time.perf_counter() - t0, 1),
        "trainable_params": sum(p.numel() for p in policy.parameters() if p.requires_grad),
        "trained": f"last {args.train_blocks} block(s) + final norm + value head",
        "distinct_prompts": len(policy.prompts_seen),
        "frozen_passes": policy.frozen_passes,
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
        "horizon": args.horizon,
        "eval_episodes": args.eval_episodes,
        "eval_seeds": [args.eval_seed, args.eval_seed + args.eval_episodes - 1],
        **_summary(before, after),
        "train_success_rate": stats["train_success_rate"],
        "curve": stats["curve"],
        "wall_s": round(time.perf_counter() - t0, 1),
        "trainable_params": sum(p.numel() for p in policy.parameters()),
    }


def _save(policy: LLMPolicy, args: LLMPolicyArgs, result: dict[str, Any]) -> Path:
    out = Path(args.out or ".")
    out.mkdir(parents=True, exist_ok=True)
    torch.save(policy.trained_state(), out / "llm_policy.pt")
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


def load_policy(
    folder: str | Path, *, model_path: str | None = None, model: Any = None, tok: Any = None
) -> tuple[LLMPolicy, LLMPolicyArgs]:
    """A policy saved by :func:`train` (``llm_policy.pt`` + ``meta.json``), on the LLM at
    ``model_path`` (default: the one it was trained from) or the given ``model``/``tok``;
    returns it with its training args."""
    folder = Path(folder)
    meta = json.loads((folder / "meta.json").read_text())
    names = {f.name for f in fields(LLMPolicyArgs)}
    args = LLMPolicyArgs(**{k: v for k, v in meta["extra"]["args"].items() if k in names})
    if model is None:
        path = model_path or args.model_path
        if not path:
            raise ValueError(f"{folder}: which LLM the policy runs on (model_path)")
        model, tok = load_llm(path)
    policy = LLMPolicy(model, tok, train_blocks=args.train_blocks, cache_size=args.cache_size)
    state = torch.load(folder / "llm_policy.pt", weights_only=True)
    missing = set(policy.trained_state()) - set(state)
    if missing:
        raise ValueError(f"{folder / 'llm_policy.pt'} lacks {sorted(missing)[:3]} ...")
    policy.load_state_dict(state, strict=False)
    return policy.eval(), args


LEARN_STEPS = 1024
"""``skills learn --policy llm``'s default budget, with 30 evaluation episodes of at most 8
steps before and after: ``mendako skills learn --policy llm --env babyai`` took 248 s here
(2 CPU cores shared with other jobs, load 8-9; model load included), success 0.03 -> 0.93
on GoToObjS4's held-out seeds."""


def learn(
    *,
    level: str = LEARN_LEVEL,
    steps: int = LEARN_STEPS,
    seed: int = 0,
    out: str | None = None,
    eval_episodes: int = 30,
    horizon: int = 8,
    progress: Progress | None = None,
    model_path: str,
    threads: int | None = 1,
) -> dict[str, Any]:
    """``mendako skills learn --policy llm``: fine-tune the LLM policy (the GGUF or HF folder
    at ``model_path``), report before/after. ``threads``: torch's CPU threads (1 by default:
    on 2 cores shared with other jobs at load 8-10, the same run trained at 1.7 steps/s with
    torch's default 2 threads and at 10 steps/s with 1; None keeps torch's default)."""
    if threads is not None:
        torch.set_num_threads(threads)
    args = LLMPolicyArgs(
        level=level,
        model_path=model_path,
        total_steps=steps,
        n_steps=min(256, steps),
        minibatch=min(64, steps),
        horizon=horizon,
        seed=seed,
        out=out,
        eval_episodes=eval_episodes,
    )
    return train(args, progress=progress)

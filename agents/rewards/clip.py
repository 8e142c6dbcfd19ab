"""Vision-language reward (VLM-RMs, Rocamonde et al. 2023, arXiv 2310.12921).

CLIP embeds the rendered frame (x), the goal prompt (g) and a baseline prompt (b, "a game
frame"); all are L2-normalised. The paper's goal-baseline regularisation projects onto the
direction d = g - b: with P = alpha * d d^T / |d|^2 + (1 - alpha) * I,

    R(x) = 1 - 1/2 * |P (x - g)|^2 .

alpha = 0 gives 1 - |x - g|^2 / 2 = cos(x, g), plain CLIP reward; alpha = 1 keeps only the
component of x - g along the baseline-to-goal direction. Success is threshold-free: the
frame is closer to the goal prompt than to the baseline (cos(x, g) > cos(x, b)).

Weights cannot be downloaded on an offline machine: pass a local Hugging Face CLIP folder.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from agents.rewards._captions import caption
from agents.rewards.base import Assessment

__all__ = ["BASELINE", "ClipReward", "ClipWeightsError", "check_weights", "projected_reward"]

BASELINE = "a game frame"


class ClipWeightsError(ValueError):
    """The clip reward has no usable local weights; the message says what to pass."""


def check_weights(path: str | Path | None) -> Path:
    """The CLIP folder ``path``, or ClipWeightsError saying in one line what to pass."""
    if not path:
        raise ClipWeightsError(
            "--reward clip needs --clip-weights PATH, a local Hugging Face CLIP folder "
            "(e.g. openai/clip-vit-base-patch32 saved on a machine with network)"
        )
    p = Path(path).expanduser()
    if not (p / "config.json").is_file():
        raise ClipWeightsError(f"--clip-weights {p}: no CLIP folder there (no config.json)")
    return p


def projected_reward(x: np.ndarray, g: np.ndarray, b: np.ndarray, alpha: float) -> np.ndarray:
    """VLM-RMs' R = 1 - |P (x - g)|^2 / 2 for unit rows ``x`` and unit vectors ``g``, ``b``."""
    d = g - b
    d = d / max(float(np.linalg.norm(d)), 1e-12)
    diff = np.atleast_2d(x) - g
    along = diff @ d
    # P diff = alpha * (diff . d) d + (1 - alpha) diff
    proj = alpha * along[:, None] * d[None, :] + (1.0 - alpha) * diff
    return 1.0 - 0.5 * (proj**2).sum(1)


def _features(out: Any) -> Any:
    # transformers < 5 returns the projected tensor, 5 wraps it in a model output.
    return out if hasattr(out, "shape") else out.pooler_output


def _unit(v: Any) -> np.ndarray:
    a = v.detach().float().cpu().numpy()
    return a / np.maximum(np.linalg.norm(a, axis=-1, keepdims=True), 1e-12)


class ClipReward:
    """CLIP reward of frames for a goal prompt, with the baseline projection."""

    mode = "clip"

    def __init__(
        self,
        model: Any,
        tokenize: Callable[[Sequence[str]], Mapping[str, Any]],
        preprocess: Callable[[Sequence[np.ndarray]], Any],
        *,
        alpha: float = 0.5,
        baseline: str = BASELINE,
        goal_prompt: str | None = None,
    ) -> None:
        self.model = model.eval()
        self.tokenize = tokenize
        self.preprocess = preprocess
        self.alpha = alpha
        self.baseline = baseline
        self.goal_prompt = goal_prompt
        self._text: dict[str, np.ndarray] = {}

    @classmethod
    def from_pretrained(cls, path: str | Path | None, **kw: Any) -> ClipReward:
        """Load a local CLIP folder (``config.json``, weights, tokenizer, preprocessor)."""
        p = check_weights(path)
        try:
            from transformers import CLIPModel, CLIPProcessor
        except ImportError as e:
            raise ClipWeightsError(
                "the clip reward needs transformers: pip install transformers"
            ) from e
        model = CLIPModel.from_pretrained(str(p), local_files_only=True)
        proc = CLIPProcessor.from_pretrained(str(p), local_files_only=True)
        return cls(
            model,
            lambda texts: proc.tokenizer(list(texts), padding=True, return_tensors="pt"),
            lambda frames: proc.image_processor(list(frames), return_tensors="pt")["pixel_values"],
            **kw,
        )

    def text_embedding(self, text: str) -> np.ndarray:
        """Unit CLIP text embedding (cached)."""
        if text not in self._text:
            import torch

            with torch.no_grad():
                out = self.model.get_text_features(**dict(self.tokenize([text])))
            self._text[text] = _unit(_features(out))[0]
        return self._text[text]

    def frame_embeddings(self, frames: Sequence[np.ndarray]) -> np.ndarray:
        """Unit CLIP image embeddings of RGB frames (H, W, 3)."""
        import torch

        with torch.no_grad():
            out = self.model.get_image_features(pixel_values=self.preprocess(frames))
        return _unit(_features(out))

    def prompt(self, goal: str) -> str:
        """The goal prompt: the user's words, else "a game frame where <caption>"."""
        return self.goal_prompt or f"a game frame where {caption(goal)}"

    def rewards(self, goal: str, frames: Sequence[np.ndarray]) -> np.ndarray:
        """R for each frame."""
        g, b = self.text_embedding(self.prompt(goal)), self.text_embedding(self.baseline)
        return projected_reward(self.frame_embeddings(frames), g, b, self.alpha)

    def reset(self, info: Mapping[str, Any]) -> None:
        """Nothing to reset."""

    def assess(self, goal: str, before: Mapping[str, Any], after: Mapping[str, Any]) -> Assessment:
        """Reward of the after frame; success when it is closer to the goal than the baseline."""
        frame = after.get("frame")
        if frame is None:
            raise ClipWeightsError("the clip reward needs a rendered frame ('frame' in the info)")
        x = self.frame_embeddings([np.asarray(frame)])[0]
        g, b = self.text_embedding(self.prompt(goal)), self.text_embedding(self.baseline)
        r = float(projected_reward(x, g, b, self.alpha)[0])
        ok = float(x @ g) > float(x @ b)
        return Assessment(
            ok,
            r,
            f"clip: R={r:.3f} for '{self.prompt(goal)}' (alpha={self.alpha}), "
            f"cos goal {float(x @ g):.3f} vs baseline {float(x @ b):.3f}",
        )

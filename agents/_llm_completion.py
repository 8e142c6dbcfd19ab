"""SayCan's full log-likelihood through an OpenAI-compatible server's ``/v1/completions``.

SayCan scored each skill by the likelihood of its text after the prompt, read from the
completion API with ``echo`` and ``logprobs``. A server may still offer that (vLLM does), but
it must be checked, not assumed: llama-cpp-python 0.3.x pairs each echoed token with the
logits *after* it when the model adds no BOS token (``Llama._create_completion``:
``all_logprobs = logits_to_logprobs(self._scores)[token_offset:]`` with ``token_offset = 0``
and nothing stripped), so every echoed log-probability belongs to the next position.
SmolLM2 adds no BOS, and there "Sk|ill" reads -13.2 nats for "ill".

So the scorer probes the server once and takes the first route that proves right:

- ``forced``: a forced continuation, one token at a time: the prompt plus the option's
  first ``j`` tokens, ``max_tokens=1`` and ``logit_bias`` +100 on token ``j`` (ids from the
  server's tokenizer, llama-cpp-python's ``/extras/tokenize``). A generated token's
  log-probability is read from the logits before the bias, and its position is right, so
  the sum is the option's log-likelihood. The probe forces a token the model would not
  choose and checks that it comes back with the log-probability the unforced call gave it
  (the bias neither ignored nor leaked into it). Tried first: llama-cpp-python's echo,
  even where aligned, sorts the whole vocabulary at every echoed position (Gemma 3's
  262k tokens: minutes per instruction here);
- ``echo`` (vLLM, OpenAI's completion models): echoed token log-probabilities, used only
  where the echo of a token the server has just generated carries the same log-probability
  as its generation (aligned, :meth:`CompletionScorer.echo_aligned`);
- otherwise the chat scorer (``fallback``, yes/no per option from ``top_logprobs``), and the
  scorer says so once.
"""

from __future__ import annotations

import json
import logging
import math
import urllib.request
from typing import Any

from langchain_core.language_models import BaseChatModel

from agents._llm_cache import SQLiteLLMCache
from agents._llm_remote import ServerError, _server_error
from agents.llm import LLMError, Scorer

log = logging.getLogger(__name__)

__all__ = ["CompletionScorer"]

PROBE = "The numbers one, two, three, four, five"
"""Probe text: its greedy continuation is confident, so the checks have room to show."""
BIAS = 100.0
"""``logit_bias`` that forces a token (OpenAI's maximum)."""
MEMO_SIZE = 20_000
"""Forced tokens remembered per scorer (cleared when full)."""
_WARNED: set[str] = set()


class CompletionScorer(Scorer):
    """Full log-likelihood of each option from ``/v1/completions`` (see the module docstring).

    ``method`` says how the last scores were made: ``echo_loglik``, ``forced_loglik``, or the
    fallback's own method (``yesno``, ``top_logprobs``, ``votes``).
    """

    def __init__(
        self, model: BaseChatModel, fallback: Scorer, cache: SQLiteLLMCache | None = None
    ) -> None:
        self.model = model
        self.fallback = fallback
        self.cache = cache
        self.base_url = str(getattr(model, "openai_api_base", None) or "").rstrip("/")
        self.model_name = str(getattr(model, "model_name", "") or "")
        # Every route computes the same quantity, so they share one cache key.
        self.model_id = f"completions:{self.base_url}|{self.model_name}:loglik"
        self.route: str | None = None
        """``echo``, ``forced`` or ``chat`` once probed (None before the first scores)."""
        self.why_not: dict[str, str] = {}
        """Why each route that was not taken failed its probe."""
        self.method = ""
        """How the last scores were made."""
        self.calls = 0
        """Requests sent to the server (completions and tokenizer)."""
        self._memo: dict[tuple[str, int], tuple[float, str]] = {}
        # (text so far, forced token) -> (log-probability, its text): skill phrases share
        # first words ("make ...", "collect ..."), and SayCan's calibration prompt recurs.

    # ------------------------------------------------------------------ scoring
    def _cached_score(self, prompt: str, options: list[str]) -> list[float]:
        if options and self.route is None:
            self.route = self._probe()
        if self.route == "chat":
            scores = self.fallback._cached_score(prompt, options)
            self.method = str(getattr(self.fallback, "method", "") or "chat")
            return scores
        self.method = f"{self.route}_loglik"
        return super()._cached_score(prompt, options)

    def _score(self, prompt: str, options: list[str]) -> list[float]:
        if self.route == "echo":
            return [self._echo_loglik(prompt, o) for o in options]
        head = self._tokenize(prompt)
        return [self._forced_loglik(prompt, head, o) for o in options]

    def _echo_loglik(self, prompt: str, option: str) -> float:
        lp = self._complete(prompt + option, echo=True, logprobs=0, max_tokens=1)
        start, end = len(prompt), len(prompt) + len(option)
        total = 0.0
        for off, value in zip(lp["text_offset"], lp["token_logprobs"], strict=False):
            if start <= off < end and value is not None:
                total += float(value)
        return total

    def _forced_loglik(self, prompt: str, head: list[int], option: str) -> float:
        ids = self._tokenize(prompt + option)
        common = 0
        while common < min(len(head), len(ids)) and head[common] == ids[common]:
            common += 1
        # Where the option's first characters merge with the prompt's last token, that
        # token is scored with the option (as llama.cpp tokenises the joined text).
        text = prompt if common == len(head) else self._detokenize(ids[:common])
        total = 0.0
        for token in ids[common:]:
            hit = self._memo.get((text, token))
            if hit is None:
                lp = self._complete(text, logprobs=1, max_tokens=1, logit_bias={str(token): BIAS})
                if not lp.get("token_logprobs") or not lp.get("tokens"):
                    raise LLMError(
                        f"{self.base_url}: a forced continuation came back without logprobs"
                    )
                hit = (float(lp["token_logprobs"][0]), str(lp["tokens"][0]))
                if len(self._memo) >= MEMO_SIZE:
                    self._memo.clear()
                self._memo[(text, token)] = hit
            total += hit[0]
            text += hit[1]
        return total

    # ------------------------------------------------------------------ probing
    def _probe(self) -> str:
        """The first route that proves right on :data:`PROBE`; ``chat`` when none does.
        Raises :class:`ServerError` where no route can work (no server, key refused)."""
        try:
            return self._find_route()
        except ServerError:
            raise
        except LLMError as e:  # a failure no probe step expected
            return self._give_up(_short(e))

    def _find_route(self) -> str:
        try:
            greedy, token, value = self.probe_greedy()
        except ServerError:
            raise
        except (LLMError, KeyError, IndexError, TypeError, ValueError) as e:
            return self._give_up(f"/v1/completions gives no logprobs ({_short(e)})")
        # Forced first: where it works (llama-cpp-python) it costs one position per token,
        # while that server's echo sorts the whole vocabulary at every echoed position.
        for route, check in (("forced", self._forced_works), ("echo", self.echo_aligned)):
            try:
                ok, why = check(greedy, token, value)
            except ServerError:
                raise
            except (LLMError, KeyError, IndexError, TypeError, ValueError) as e:
                ok, why = False, _short(e)
            if ok:
                return route
            self.why_not[route] = why
        return self._give_up("; ".join(f"{k}: {v}" for k, v in self.why_not.items()))

    def probe_greedy(self) -> tuple[dict[str, Any], str, float]:
        """The greedy next token of :data:`PROBE`: (logprobs object, token, log-probability)."""
        greedy = self._complete(PROBE, logprobs=5, max_tokens=1)
        return greedy, greedy["tokens"][0], float(greedy["token_logprobs"][0])

    def echo_aligned(self, greedy: dict[str, Any], token: str, value: float) -> tuple[bool, str]:
        """Whether echoing ``PROBE + token`` gives ``token`` the log-probability it had when
        generated (``value``): echoed log-probabilities at the right positions."""
        echo = self._complete(PROBE + token, echo=True, logprobs=0, max_tokens=1)
        at = [
            v
            for off, v in zip(echo["text_offset"], echo["token_logprobs"], strict=False)
            if off == len(PROBE)
        ]
        if at and at[0] is not None and abs(float(at[0]) - value) < 0.05:
            return True, ""
        return False, (
            f"echoed log-probability of {token!r} is {at[0] if at else None}, but "
            f"{value:.3f} when generated (misaligned)"
        )

    def _forced_works(self, greedy: dict[str, Any], token: str, value: float) -> tuple[bool, str]:
        """Whether forcing a token the model would not choose returns it with the
        log-probability the unforced call gave it (the bias neither ignored nor leaked)."""
        head = self._tokenize(PROBE)
        alternatives = greedy["top_logprobs"][0] or {}
        other = next((t for t in alternatives if t != token), None)
        ids = self._tokenize(PROBE + other) if other else []
        if other is None or len(ids) != len(head) + 1 or ids[: len(head)] != head:
            return False, f"no single-token alternative to {token!r} to force"
        forced = self._complete(PROBE, logprobs=1, max_tokens=1, logit_bias={str(ids[-1]): BIAS})
        got, got_value = forced["tokens"][0], float(forced["token_logprobs"][0])
        expected = float(alternatives[other])
        if got == other and got_value < value and math.isclose(got_value, expected, abs_tol=0.05):
            return True, ""
        return False, (
            f"forcing {other!r} gave {got!r} at {got_value:.3f} "
            f"(expected {expected:.3f}: the bias leaks or is ignored)"
        )

    def _give_up(self, why: str) -> str:
        if self.model_id not in _WARNED:
            _WARNED.add(self.model_id)
            log.warning(
                "%s: no full log-likelihood from /v1/completions (%s); SayCan scores come "
                "from the chat scorer instead (%s)",
                self.model_id,
                why,
                type(self.fallback).__name__,
            )
        return "chat"

    # ------------------------------------------------------------------ transport
    def _complete(self, prompt: str, **kw: Any) -> dict[str, Any]:
        """One greedy ``/v1/completions`` request; the choice's ``logprobs`` object."""
        self.calls += 1
        client = getattr(self.model, "root_client", None)
        if client is None:
            raise LLMError(f"{type(self.model).__name__} has no OpenAI client for /v1/completions")
        bias = kw.pop("logit_bias", None)
        try:
            out = client.completions.create(
                model=self.model_name,
                prompt=prompt,
                temperature=0,
                logit_bias=bias,
                **kw,
            )
        except Exception as e:
            err = _server_error("openai", self.model, e)
            if err.fatal and err.status in (None, 401, 403, 429):
                raise err from e  # no server, refused key, rate limit: no route will work
            raise LLMError(str(err)) from e  # e.g. 404: a server without /v1/completions
        lp = out.choices[0].logprobs
        if lp is None:
            raise LLMError("the completion carries no logprobs")
        return lp.model_dump() if hasattr(lp, "model_dump") else dict(lp)

    def _root(self) -> str:
        return self.base_url[: -len("/v1")] if self.base_url.endswith("/v1") else self.base_url

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        self.calls += 1
        req = urllib.request.Request(
            self._root() + path,
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return dict(json.load(r))
        except (OSError, ValueError) as e:
            raise LLMError(f"{self._root()}{path}: {_short(e)}") from e

    def _tokenize(self, text: str) -> list[int]:
        """Token ids of ``text`` by the server's own tokenizer (llama-cpp-python's extras)."""
        return [int(t) for t in self._post("/extras/tokenize", {"input": text})["tokens"]]

    def _detokenize(self, ids: list[int]) -> str:
        return str(self._post("/extras/detokenize", {"tokens": ids})["text"])


def _short(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0][:200] if text else ''}"

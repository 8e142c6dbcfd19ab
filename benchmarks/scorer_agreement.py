"""SayCan scoring through an OpenAI-compatible server vs full log-likelihood, on the same model.

Starts a real OpenAI-compatible server (``python -m llama_cpp.server``) on 127.0.0.1 with
the embedded GGUF, then scores two fixed sets of Crafter instructions (``tune``: the one the
chat prompts were designed on; ``held-out``: written afterwards, never tuned on), each
against 5 skill phrases:

- reference: ``LlamaCppScorer`` — the full log-likelihood of each phrase after SayCan's
  prompt (``agents/prompts/affordance.md``), in process, on the same GGUF;
- ``completion``: what ``--llm openai:<model>`` gets by default (``make_scorer``): the
  phrase's log-likelihood through ``/v1/completions``, by whichever route the server proves
  right (``agents._llm_completion``: echo, or a forced continuation), else the chat scorer;
- the chat scorer ``ChoiceScorer`` (for chat-only APIs), from the answer token's
  ``top_logprobs``: each option asked yes/no on its own (``yesno``), labelled options in one
  order (``letters/one``) and averaged over their cyclic orders (``letters/cyclic``).

Prints, per half and scorer, the agreement rate (the argmax is the same option), the mean
Spearman rank correlation of the two score vectors, how often each picks the phrase the
instruction names (``correct``), and the seconds per instruction::

    python benchmarks/scorer_agreement.py
"""

from __future__ import annotations

import argparse
import json
import os
import random
import tempfile
import time
from pathlib import Path

import numpy as np

PHRASES = (
    "collect wood", "place table", "make wood pickaxe", "make wood sword", "collect stone",
    "place stone", "make stone pickaxe", "make stone sword", "collect coal", "place furnace",
    "collect iron", "make iron pickaxe", "make iron sword", "collect diamond",
    "collect drink", "eat cow", "eat plant", "collect sapling", "place plant",
    "defeat zombie", "defeat skeleton", "wake up",
)  # fmt: skip
# (instruction, the phrase it asks for): the achievement's words, and plain paraphrases.
INSTRUCTIONS = (
    ("collect wood", "collect wood"),
    ("place table", "place table"),
    ("make wood pickaxe", "make wood pickaxe"),
    ("collect stone", "collect stone"),
    ("make stone pickaxe", "make stone pickaxe"),
    ("collect coal", "collect coal"),
    ("place furnace", "place furnace"),
    ("collect iron", "collect iron"),
    ("collect diamond", "collect diamond"),
    ("eat cow", "eat cow"),
    ("defeat zombie", "defeat zombie"),
    ("wake up", "wake up"),
    ("chop down a tree", "collect wood"),
    ("build a crafting table", "place table"),
    ("craft a pickaxe from wood", "make wood pickaxe"),
    ("mine some stone", "collect stone"),
    ("drink some water", "collect drink"),
    ("kill the zombie", "defeat zombie"),
    ("sleep until morning", "wake up"),
    ("build a furnace", "place furnace"),
    ("make a sword out of stone", "make stone sword"),
    ("plant a sapling", "place plant"),
    ("eat some food", "eat cow"),
    ("find diamonds", "collect diamond"),
)
# Written after the scorers' prompts were fixed and never used to choose them: the figures
# on this half are the ones to report.
HELD_OUT = (
    ("gather some logs", "collect wood"),
    ("set up a workbench", "place table"),
    ("craft a wooden pickaxe", "make wood pickaxe"),
    ("craft a wooden sword", "make wood sword"),
    ("dig up a stone block", "collect stone"),
    ("put a stone down", "place stone"),
    ("craft a stone pickaxe", "make stone pickaxe"),
    ("mine coal", "collect coal"),
    ("mine iron ore", "collect iron"),
    ("forge an iron pickaxe", "make iron pickaxe"),
    ("forge an iron sword", "make iron sword"),
    ("get a diamond", "collect diamond"),
    ("quench your thirst", "collect drink"),
    ("hunt a cow and eat it", "eat cow"),
    ("eat a ripe plant", "eat plant"),
    ("pick up a sapling", "collect sapling"),
    ("plant a tree", "place plant"),
    ("fight off the zombie", "defeat zombie"),
    ("shoot the skeleton", "defeat skeleton"),
    ("take a nap", "wake up"),
    ("make a furnace", "place furnace"),
    ("cut wood from a tree", "collect wood"),
    ("make a table for crafting", "place table"),
    ("kill a skeleton", "defeat skeleton"),
)
SPLITS = {"tune": INSTRUCTIONS, "held-out": HELD_OUT}
N_OPTIONS = 5


def cases(split: str = "tune", seed: int = 0) -> list[tuple[str, list[str], int]]:
    """(instruction, 5 options in a fixed shuffled order, index of the named one)."""
    rng = random.Random(seed)
    out = []
    for instruction, target in SPLITS[split]:
        others = rng.sample([p for p in PHRASES if p != target], N_OPTIONS - 1)
        options = [target, *others]
        rng.shuffle(options)
        out.append((instruction, options, options.index(target)))
    return out


def spearman(a: list[float], b: list[float]) -> float:
    """Spearman's rho (average ranks for ties); 0 when either side is constant."""

    def ranks(x: list[float]) -> np.ndarray:
        arr = np.asarray(x, dtype=float)
        order = arr.argsort(kind="stable")
        r = np.empty(len(arr))
        r[order] = np.arange(len(arr), dtype=float)
        for v in np.unique(arr):  # ties share their mean rank
            r[arr == v] = r[arr == v].mean()
        return r

    ra, rb = ranks(a), ranks(b)
    if ra.std() == 0 or rb.std() == 0:
        return 0.0
    return float(np.corrcoef(ra, rb)[0, 1])


def main(argv: list[str] | None = None) -> None:
    """Start the server, score every case of both halves each way, print the tables and JSON."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default=None, help="GGUF (default: the embedded one)")
    p.add_argument("--limit", type=int, default=None, help="first N instructions of each half")
    p.add_argument(
        "--splits", default="tune,held-out", help="comma-separated halves to run: tune, held-out"
    )
    p.add_argument(
        "--scorers",
        default="completion,yesno,letters/one",
        help="comma-separated, of: completion (the default route), yesno, letters/one, "
        "letters/cyclic (n calls per instruction: slow)",
    )
    a = p.parse_args(argv)
    os.environ.setdefault("MENDAKO_HOME", tempfile.mkdtemp(prefix="mendako_bench_"))
    os.environ["MENDAKO_LLM_CACHE"] = "0"  # time and score every call

    from agents._llm_completion import CompletionScorer
    from agents._llm_remote import ChoiceScorer
    from agents._llm_server import server_command, start_llama_server
    from agents._prompts import render
    from agents.llm import LlamaCppScorer, embedded_model_path, make_chat_model, make_scorer

    gguf = Path(a.model) if a.model else embedded_model_path()
    reference = LlamaCppScorer(gguf)
    log_path = Path(os.environ["MENDAKO_HOME"]) / "llama_server.log"
    wanted = [w.strip() for w in a.scorers.split(",") if w.strip()]
    summary: dict[str, object] = {}
    with start_llama_server(gguf, log_path=log_path) as server:
        cmd = server_command(gguf, server.port)
        print("server:", " ".join(["python", *cmd[1:]]), f"(pid {server.pid})")
        chat = make_chat_model(
            "openai:smollm2", base_url=server.base_url, temperature=0, cache=False
        )
        default = make_scorer(chat, cache=False)  # what --llm openai: gets
        builders = {
            "completion": lambda: default,
            "yesno": lambda: ChoiceScorer(chat, method="yesno"),
            "letters/one": lambda: ChoiceScorer(chat, method="letters", permute=False),
            "letters/cyclic": lambda: ChoiceScorer(chat, method="letters", permute=True),
        }
        scorers = {name: builders[name]() for name in wanted}
        for split in [x.strip() for x in a.splits.split(",") if x.strip()]:
            rows: dict[str, dict[str, list[float]]] = {
                name: {"agree": [], "rho": [], "correct": [], "s": []} for name in scorers
            }
            ref_correct = []
            for instruction, options, target in cases(split)[: a.limit]:
                prompt = render("affordance", instruction=instruction)
                opts = [" " + o for o in options]
                ref = reference.score(prompt, opts)
                ref_correct.append(float(int(np.argmax(ref)) == target))
                for name, scorer in scorers.items():
                    t0 = time.perf_counter()
                    got = scorer.score(prompt, opts)
                    rows[name]["s"].append(time.perf_counter() - t0)
                    rows[name]["agree"].append(float(int(np.argmax(got)) == int(np.argmax(ref))))
                    rows[name]["rho"].append(spearman(got, ref))
                    rows[name]["correct"].append(float(int(np.argmax(got)) == target))
            n = len(ref_correct)
            print(
                f"\n{split}: {n} instructions x {N_OPTIONS} options; "
                "reference = LlamaCppScorer (full loglik, in process)"
            )
            print(f"{'scorer':26} {'agree':>6} {'spearman':>9} {'correct':>8} {'s/instr':>8}")
            print(
                f"{'loglik (reference)':26} {'-':>6} {'-':>9} {np.mean(ref_correct):8.2f} {'-':>8}"
            )
            part: dict[str, object] = {"n": n, "reference_correct": float(np.mean(ref_correct))}
            for name, r in rows.items():
                scorer = scorers[name]
                how = getattr(scorer, "method", "") or "?"
                label = f"{name} ({how})"
                print(
                    f"{label:26} {np.mean(r['agree']):6.2f} {np.mean(r['rho']):9.2f} "
                    f"{np.mean(r['correct']):8.2f} {np.mean(r['s']):8.2f}"
                )
                part[name] = {k: round(float(np.mean(v)), 3) for k, v in r.items()}
                part[name]["method"] = how  # type: ignore[index]
            summary[split] = part
        if isinstance(default, CompletionScorer) and "completion" in scorers:
            aligned, why = default.echo_aligned(*default.probe_greedy())
            print(f"\ncompletion route: {default.route}; not taken: {default.why_not or '-'}")
            print(f"this server's echo logprobs: {'aligned' if aligned else why}")
            summary["completion_route"] = default.route
            summary["not_taken"] = default.why_not
            summary["echo_aligned"] = aligned
    print(json.dumps(summary))


if __name__ == "__main__":
    main()

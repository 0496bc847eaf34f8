"""Single-request suggestion latency for libraries of 100, 1,000 and 10,000 scripts, and the
recall lost by the approximate (HNSW) index against exact search.

    .venv/bin/python eval/bench_suggest.py [--requests 200]

Large libraries are synthesised from the real ones: each real script is
repeated with another scenario wording and numbered variants, so the search
has to find the right one among many near-neighbours.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from chatcoach.contract import SopScript
from chatcoach.models.sop_index import SopIndex
from chatcoach.pipeline import Pipeline
from chatcoach.training.datasets import Corpus

SIZES = (100, 1_000, 10_000)


def synthetic_library(real: list[SopScript], size: int) -> list[SopScript]:
    out = list(real[:size])
    i = 0
    while len(out) < size:
        s = real[i % len(real)]
        v = i // len(real) + 1
        out.append(s.model_copy(update={"id": f"{s.id}-v{v}", "scenario": f"{s.scenario}（变体{v}）",
                                        "text": f"{s.text}【{v}号话术】"}))
        i += 1
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    pipeline = Pipeline.load()
    corpus = Corpus.load()
    real = [s for ind in sorted(corpus.industries("train")) for s in corpus.sop_library(ind)]
    cases = corpus.cases("test")[: args.requests]
    print(f"\n{len(cases)} single requests per size (context of each test case), after warm-up\n")
    print("| scripts | index | p50 ms | p95 ms | R@5 vs exact |")
    print("|---|---|---|---|---|")
    for size in SIZES:
        library = synthetic_library(real, size)
        exact = SopIndex(library, pipeline.suggestion_encoder, ann_threshold=10**9)
        indexes = {"exact (faiss flat)": exact}
        if size >= 1_000:
            indexes["HNSW (approximate)"] = SopIndex(library, pipeline.suggestion_encoder, ann_threshold=0)
        exact_top = {}
        for name, index in indexes.items():
            pipeline.suggest(cases[:5], index, k=5)  # warm-up
            forget_encodings(pipeline)
            times, overlap = [], []
            for case in cases:
                start = time.perf_counter()
                [result] = pipeline.suggest([case], index, k=5)
                times.append((time.perf_counter() - start) * 1000)
                top = [s["sop_id"] for s in result["suggestions"]]
                if name.startswith("exact"):
                    exact_top[case.chat_id] = top
                else:
                    overlap.append(len(set(top) & set(exact_top[case.chat_id])) / 5)
            recall = f"{np.mean(overlap):.3f}" if overlap else "1 (reference)"
            print(f"| {size:,} | {name} | {np.percentile(times, 50):.1f} | {np.percentile(times, 95):.1f} | {recall} |")
        if size == 1_000:
            times = live_chat_latency(pipeline, exact, cases)
            print(f"| {size:,} | exact, live chat (messages analysed on arrival) | {np.percentile(times, 50):.1f} |"
                  f" {np.percentile(times, 95):.1f} | 1 (same index) |")


def forget_encodings(pipeline: Pipeline) -> None:
    """Every request encodes its context afresh, as a new message in service does."""
    pipeline.encoder.clear_cache()
    pipeline.suggestion_encoder.clear_cache()


def live_chat_latency(pipeline: Pipeline, index: SopIndex, cases: list) -> list[float]:
    """The rep view's path: the service analyses each message as it is appended (POST
    /v1/chats/{id}/messages), so by the time suggestions are asked the analyzer has read the chat and
    its stage scores are at hand; only the suggestion queries are new. Caches cleared per case,
    analysis not timed."""
    times = []
    for case in cases:
        forget_encodings(pipeline)
        analysis = pipeline.analyze([case])
        start = time.perf_counter()
        pipeline.suggest([case], index, k=5, analyses=analysis)
        times.append((time.perf_counter() - start) * 1000)
    return times


if __name__ == "__main__":
    main()

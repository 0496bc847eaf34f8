"""Throughput of `analyze` against the bare encoder, in the same run, and peak memory.

    .venv/bin/python eval/bench_analyze.py [--messages 2000]

The target is analyze ≥ 0.8 × the encoder alone: everything after the encoder
(heads, smoothing, rules, evidence) must cost little next to it.
"""

from __future__ import annotations

import argparse
import resource
import time

from chatcoach.models.features import message_text
from chatcoach.pipeline import Pipeline
from chatcoach.training.datasets import Corpus


def chats_with(total_messages: int):
    corpus = Corpus.load()
    pool = [c for c in corpus.chats.values()]
    chats, count, round_ = [], 0, 0
    while count < total_messages:
        for c in pool:
            # a fresh id and a suffix per round, so no embedding is served from the cache
            copy = c.model_copy(update={"chat_id": f"{c.chat_id}-r{round_}", "messages": [
                m.model_copy(update={"text": m.text + ("" if round_ == 0 else f" {round_}")}) for m in c.messages]})
            chats.append(copy)
            count += len(c.messages)
            if count >= total_messages:
                break
        round_ += 1
    return chats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=2000)
    args = parser.parse_args()
    pipeline = Pipeline.load()
    chats = chats_with(args.messages)
    n = sum(len(c.messages) for c in chats)
    pipeline.analyze(chats[:3])  # warm-up

    texts = [message_text(m) for c in chats for m in c.messages]
    start = time.perf_counter()
    pipeline.encoder.model.encode(texts, prompt_name="query", batch_size=pipeline.encoder.batch_size, normalize_embeddings=True)
    encoder_rate = n / (time.perf_counter() - start)

    pipeline.encoder.clear_cache()
    start = time.perf_counter()
    pipeline.analyze(chats)
    analyze_rate = n / (time.perf_counter() - start)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print(f"\n{len(chats)} chats, {n} messages\n")
    print("| what | messages/s | × encoder |")
    print("|---|---|---|")
    print(f"| encoder alone (baseline) | {encoder_rate:.0f} | 1.00 |")
    print(f"| chatcoach analyze | {analyze_rate:.0f} | {analyze_rate / encoder_rate:.2f} |")
    print(f"\npeak resident memory: {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()

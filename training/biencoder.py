"""Fine-tune e5 as a bi-encoder on (conversation → script) pairs from the training cases.

A plain loop you can read: in-batch negatives plus one hard negative per pair
(the BM25-nearest other script of the same library), the multiple-negatives
ranking loss (cross-entropy over scaled cosines), AdamW with linear warm-up.
Seeded and single-threaded in its data order, so a rebuild gives the same model on the same
machine (another CPU may differ in the last bits; the fusion head on top does not notice).

The word-embedding table stays frozen, so the tuned model can borrow the base encoder's table
at load time (see ``Encoder(share_embeddings_with=…)``): one copy of 96M parameters in memory.

    chatcoach build-encoder    # converts e5, then builds this model when it is missing or stale
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import shutil
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from chatcoach.config import Settings, get_settings
from chatcoach.models.e5_convert import CONVERTER_VERSION, MANIFEST, directory_checksums, is_valid
from chatcoach.models.sop_index import SopIndex, script_passage
from chatcoach.models.suggester import context_query, customer_query

log = logging.getLogger(__name__)
QUERY, PASSAGE = "query: ", "passage: "


def training_triples(cases, indexes: dict[str, SopIndex], turns: int) -> list[tuple[str, str, str]]:
    triples = []
    for case in cases:
        index = indexes[case.industry]
        gold = next(s for s in index.scripts if s.id in case.gold_sop_ids)
        query = context_query(case, turns)
        bm = index.bm25_scores(query + " " + customer_query(case))
        negative = next(index.scripts[i] for i in np.argsort(-bm) if index.ids[i] not in case.gold_sop_ids)
        triples.append((QUERY + query, PASSAGE + script_passage(gold), PASSAGE + script_passage(negative)))
    return triples


def _embed(model, texts: list[str]) -> torch.Tensor:
    features = model.tokenize(texts)
    out = model(features)["sentence_embedding"]
    return torch.nn.functional.normalize(out, dim=-1)


def finetune(base_dir: Path, triples, out_dir: Path, epochs: int = 2, batch_size: int = 16, lr: float = 3e-5,
             scale: float = 20.0, seed: int = 0, max_seq_length: int = 160, extra: dict | None = None) -> Path:
    from sentence_transformers import SentenceTransformer

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    model = SentenceTransformer(str(base_dir), device="cpu", local_files_only=True)
    model.max_seq_length = max_seq_length
    model.train()
    # The 250k-row word-embedding table is 80 % of the weights: freezing it makes a step several
    # times cheaper on CPU and keeps the vocabulary the training chats never use where e5 put it.
    for param in model[0].auto_model.embeddings.parameters():
        param.requires_grad = False
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=lr, weight_decay=0.01)
    steps = epochs * ((len(triples) + batch_size - 1) // batch_size)
    warmup = max(1, steps // 10)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min(1.0, (s + 1) / warmup) * max(0.0, (steps - s) / steps))
    order = list(range(len(triples)))
    bar = tqdm(total=steps, desc="fine-tuning suggestion encoder", unit="step")
    for _ in range(epochs):
        random.shuffle(order)
        for start in range(0, len(order), batch_size):
            batch = [triples[i] for i in order[start : start + batch_size]]
            queries = _embed(model, [q for q, _, _ in batch])
            passages = _embed(model, [p for _, p, _ in batch] + [n for _, _, n in batch])
            logits = scale * queries @ passages.T
            loss = torch.nn.functional.cross_entropy(logits, torch.arange(len(batch)))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(trainable, 1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad()
            bar.update(1)
            bar.set_postfix(loss=f"{loss.item():.3f}")
    bar.close()
    model.eval()
    tmp = out_dir.with_name(out_dir.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save(str(tmp))
    (tmp / MANIFEST).write_text(json.dumps({"converter_version": CONVERTER_VERSION, "finetuned_from": str(base_dir),
                                            "pairs": len(triples), "epochs": epochs, "seed": seed, **(extra or {}),
                                            "files": directory_checksums(tmp)}, indent=1))
    shutil.rmtree(out_dir, ignore_errors=True)
    tmp.rename(out_dir)
    return out_dir


def training_data_hash(settings: Settings) -> str:
    """What the tuned model was learned from: the training cases and the SOP libraries."""
    root = Path(settings.labeled_chats_dir)
    digest = hashlib.sha256()
    for path in [root / "cases" / "train.jsonl", *sorted((root / "sop").glob("*.jsonl"))]:
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:16]


def is_current(model_dir: Path, settings: Settings) -> bool:
    if not is_valid(model_dir):
        return False
    recorded = json.loads((Path(model_dir) / MANIFEST).read_text())
    return recorded.get("data_hash") == training_data_hash(settings)


def ensure_suggestion_encoder(settings: Settings | None = None, base=None, turns: int = 4, rebuild_stale: bool = True) -> Path:
    """Build the suggestion encoder unless a valid one, tuned on the current training cases, exists.

    With ``rebuild_stale=False`` (serving) any valid build is used; only a missing or corrupt one is rebuilt."""
    from chatcoach.training.datasets import Corpus

    settings = settings or get_settings()
    target = settings.suggestion_encoder_dir
    if is_current(target, settings) or (not rebuild_stale and is_valid(target)):
        return target
    if base is None:
        from chatcoach.models.encoder import Encoder

        base = Encoder()
    corpus = Corpus.load(settings.labeled_chats_dir)
    cases = corpus.cases("train")
    indexes = {ind: SopIndex(corpus.sop_library(ind), base) for ind in sorted({c.industry for c in cases})}
    log.info("fine-tuning the suggestion encoder on %d training cases (a few minutes on 2 cores)", len(cases))
    return finetune(base.model_dir, training_triples(cases, indexes, turns), target,
                    extra={"data_hash": training_data_hash(settings), "turns": turns})

"""Fine-tune e5 as a bi-encoder on (conversation → script) pairs: the training cases, plus the
authored excerpts that call for each script of the training libraries (``Corpus.query_cases``),
and on (the customer's last words → the script's scenario) pairs from both.

A plain loop you can read: in-batch negatives plus one hard negative per pair (the
BM25-nearest other script of the same library) and the multiple-negatives ranking loss
(cross-entropy over scaled cosines); the shared mechanics are in ``encoder_tuning``.

    chatcoach build-encoder    # converts e5, then builds this model when it is missing or stale
"""

from __future__ import annotations

import logging
import random
from pathlib import Path

import numpy as np
import torch

from chatcoach.config import Settings, get_settings
from chatcoach.models.sop_index import SopIndex, script_passage
from chatcoach.models.suggester import context_query, customer_query
from chatcoach.training.encoder_tuning import Tuner, embed, files_hash, is_usable

log = logging.getLogger(__name__)
QUERY, PASSAGE = "query: ", "passage: "
CASE_PASSES = 2
# what the encoder learns from besides the files: a new recipe rebuilds it (2: + customer → scenario pairs)
RECIPE = 2


def training_triples(cases, indexes: dict[str, SopIndex], turns: int) -> list[tuple[str, str, str]]:
    """(the last turns, the gold script, the BM25-nearest other script), as the dense search reads them."""
    triples = []
    for case in cases:
        index = indexes[case.industry]
        gold = next(s for s in index.scripts if s.id in case.gold_sop_ids)
        query = context_query(case, turns)
        bm = index.bm25_scores(query + " " + customer_query(case))
        negative = next(index.scripts[i] for i in np.argsort(-bm) if index.ids[i] not in case.gold_sop_ids)
        triples.append((QUERY + query, PASSAGE + script_passage(gold), PASSAGE + script_passage(negative)))
    return triples


def scenario_triples(cases, indexes: dict[str, SopIndex]) -> list[tuple[str, str, str]]:
    """(the customer's last words, the gold script's scenario, the BM25-nearest other scenario): the
    fusion compares these two directly, and scenarios tell apart the scripts of one stage."""
    triples = []
    for case in cases:
        index = indexes[case.industry]
        gold = next(s for s in index.scripts if s.id in case.gold_sop_ids)
        query = customer_query(case)
        bm = index.bm25_scores(query)
        negative = next(index.scripts[i] for i in np.argsort(-bm)
                        if index.ids[i] not in case.gold_sop_ids and index.scripts[i].scenario != gold.scenario)
        triples.append((QUERY + query, PASSAGE + gold.scenario, PASSAGE + negative.scenario))
    return triples


def finetune(base_dir: Path, triple_sets: list[list[tuple[str, str, str]]], out_dir: Path, epochs: int = 2,
             batch_size: int = 16, lr: float = 3e-5, scale: float = 20.0, seed: int = 0, max_seq_length: int = 160,
             meta: dict | None = None) -> Path:
    """Batches hold triples of one set only (short pairs are not padded to long ones), in one shuffled order."""
    steps_per_epoch = sum(-(-len(triples) // batch_size) for triples in triple_sets)
    tuner = Tuner(base_dir, steps_per_epoch, epochs, lr, seed, max_seq_length, description="fine-tuning the suggestion encoder")
    plan = [(triples, batch) for triples in triple_sets for batch in tuner.batches(len(triples), batch_size)]
    random.shuffle(plan)  # seeded by the Tuner
    for triples, batch in plan:
        rows = [triples[i] for i in batch]
        queries = embed(tuner.model, [q for q, _, _ in rows])
        passages = embed(tuner.model, [p for _, p, _ in rows] + [n for _, _, n in rows])
        # each query against every gold and hard-negative passage of the batch; its own gold is the class
        tuner.step(torch.nn.functional.cross_entropy(scale * queries @ passages.T, torch.arange(len(rows))))
    return tuner.save(out_dir, {"pairs": sum(map(len, triple_sets)), **(meta or {})})


def training_data_hash(settings: Settings) -> str:
    """What the tuned model was learned from: the training cases, the excerpts, the SOP libraries and the recipe."""
    root = Path(settings.labeled_chats_dir)
    return files_hash([root / "cases" / "train.jsonl", *sorted((root / "queries").glob("*.jsonl")),
                       *sorted((root / "sop").glob("*.jsonl"))]) + f"-recipe{RECIPE}"


def ensure_suggestion_encoder(settings: Settings | None = None, base=None, turns: int = 4, rebuild_stale: bool = True) -> Path:
    """Build the suggestion encoder unless a valid one, tuned on the current training cases, exists.

    With ``rebuild_stale=False`` (serving) any valid build is used; only a missing or corrupt one is rebuilt."""
    from chatcoach.training.datasets import Corpus

    settings = settings or get_settings()
    target = settings.suggestion_encoder_dir
    if is_usable(target, training_data_hash(settings), rebuild_stale):
        return target
    if base is None:
        from chatcoach.models.encoder import Encoder

        base = Encoder()
    corpus = Corpus.load(settings.labeled_chats_dir)
    cases, excerpts = corpus.cases("train"), corpus.query_cases()
    indexes = {ind: SopIndex(corpus.sop_library(ind), base) for ind in sorted({c.industry for c in cases + excerpts})}
    log.info("fine-tuning the suggestion encoder on %d training cases and %d excerpts (≈ 47 min on 2 cores)",
             len(cases), len(excerpts))
    # every case twice and every excerpt once (on dev, a second pass over the cases and a pass over the
    # excerpts each gained ≈ 0.04 R@3, and together more), and each once as customer → scenario (eval/README)
    conversations = training_triples(cases, indexes, turns) * CASE_PASSES + training_triples(excerpts, indexes, turns)
    scenarios = scenario_triples(cases + excerpts, indexes)
    return finetune(settings.encoder_dir, [conversations, scenarios], target, epochs=1,
                    meta={"data_hash": training_data_hash(settings), "turns": turns, "cases": len(cases),
                          "case_passes": CASE_PASSES, "excerpts": len(excerpts), "scenario_pairs": len(scenarios)})

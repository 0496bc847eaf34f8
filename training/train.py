"""``chatcoach train``: reproduce the shipped models from labeled_chats/ (seeded, deterministic).

Writes models/artifacts/{analyzer,suggester}.joblib and a manifest recording
the data hash, versions, chosen hyper-parameters and dev metrics; the Pipeline
checks the manifest before it loads anything.
"""

from __future__ import annotations

import hashlib
import json
import logging
import platform
import time
from pathlib import Path

import joblib
import numpy as np
import sklearn

from chatcoach import __version__
from chatcoach.config import Settings, get_settings
from chatcoach.evaluation.metrics import analysis_scores
from chatcoach.models.rules import RuleSet
from chatcoach.models.suggester import Suggester
from chatcoach.pipeline import ARTIFACT_FORMAT, MANIFEST, Pipeline
from chatcoach.training.analyzer import train_analyzer
from chatcoach.training.analyzer_encoder import ensure_analyzer_encoder
from chatcoach.training.biencoder import ensure_suggestion_encoder
from chatcoach.training.datasets import Corpus
from chatcoach.training.style import style_variant

log = logging.getLogger(__name__)


def data_hash(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted([*root.glob("chats/*.jsonl"), *root.glob("feedback/*.jsonl"), *root.glob("sop/*.jsonl"), root / "splits.json"]):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def train_suggester(pipeline: Pipeline, corpus: Corpus, seed: int) -> tuple[Suggester, dict]:
    cases = corpus.cases("train")
    indexes = {ind: pipeline.sop_index(corpus.sop_library(ind)) for ind in sorted({c.industry for c in cases})}
    suggester = Suggester(seed=seed)
    pipeline._suggester = suggester
    queries = suggester.queries(pipeline.suggestion_encoder, cases, pipeline.stage_hints(cases))
    suggester.fit([indexes[c.industry] for c in cases], queries, [set(c.gold_sop_ids) for c in cases])
    return suggester, {"train_cases": len(cases), "libraries": {k: len(v) for k, v in indexes.items()},
                       "encoder": pipeline.suggestion_encoder.fingerprint}


def train_all(settings: Settings | None = None, seed: int = 0, include_feedback: bool = True, encoder=None,
              tuned_encoders: bool = True) -> dict:
    """Train every head from ``settings.labeled_chats_dir`` into ``settings.artifacts_dir``.

    ``encoder``: a plain e5 already loaded, to reuse. ``tuned_encoders``: fine-tune (or reuse, when
    current) the analyzer and suggestion encoders first; off, every head reads plain e5 (a corpus
    too small to fine-tune on, or a quick experiment)."""
    settings = settings or get_settings()
    np.random.seed(seed)
    started = time.time()
    corpus = Corpus.load(settings.labeled_chats_dir, include_feedback=include_feedback)
    train, dev = corpus.split("train"), corpus.split("dev")
    log.info("train %d chats, dev %d chats", len(train), len(dev))
    from chatcoach.models.encoder import Encoder

    base = encoder or Encoder()
    analyzer_encoder = base
    if tuned_encoders:
        analyzer_encoder = Encoder(ensure_analyzer_encoder(settings), share_embeddings_with=base)
    rules = RuleSet.from_file(settings.rules_path)
    encoders = {"analyzer": "tuned" if tuned_encoders else "base", "suggestion": "tuned" if tuned_encoders else "base"}
    pipeline = Pipeline(analyzer_encoder, analyzer=None, rules=rules, manifest={"encoders": encoders},
                        base_encoder=base, settings=settings)
    log.info("encoding %d messages", sum(len(c.messages) for c in train + dev))
    train_feats = pipeline.featurise(train, progress=True)
    dev_feats = pipeline.featurise(dev, progress=True)
    log.info("encoding the training chats' style variants (training/style.py)")
    variant_feats = pipeline.featurise([style_variant(c, seed) for c in train], progress=True)
    analyzer, report = train_analyzer(train_feats, dev_feats, rules, seed=seed, variants=variant_feats)
    pipeline.analyzer = analyzer
    dev_metrics = analysis_scores(dev, pipeline.analyze(dev))
    log.info("suggester: the fine-tuned suggestion encoder (built unless current), next-stage head and fusion")
    if tuned_encoders:
        ensure_suggestion_encoder(settings, base=base)
    suggester, suggest_report = train_suggester(pipeline, corpus, seed)

    out = Path(settings.artifacts_dir)
    out.mkdir(parents=True, exist_ok=True)
    joblib.dump(analyzer, out / "analyzer.joblib", compress=3)
    joblib.dump(suggester, out / "suggester.joblib", compress=3)
    manifest = {
        "format": ARTIFACT_FORMAT,
        "analyzer": "analyzer.joblib",
        "suggester": "suggester.joblib",
        "chatcoach": __version__,
        "sklearn": sklearn.__version__,
        "python": platform.python_version(),
        "seed": seed,
        "encoders": {**encoders, "fingerprints": {"analyzer": analyzer_encoder.fingerprint,
                                                  "suggestion": pipeline.suggestion_encoder.fingerprint}},
        "data_hash": data_hash(Path(settings.labeled_chats_dir)),
        "train_chats": len(train),
        "dev_chats": len(dev),
        "thresholds": {k: round(v, 4) for k, v in analyzer.thresholds.items()},
        "selection": report,
        "suggester_training": suggest_report,
        "dev": {
            "stage_macro_f1": round(dev_metrics["stage"]["macro_f1"], 4),
            "funnel_accuracy": round(dev_metrics["funnel"]["accuracy"], 4),
            "flag_f1": {f: round(v["f1"], 4) for f, v in dev_metrics["flags"].items()},
        },
        "seconds": round(time.time() - started, 1),
    }
    (out / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return manifest

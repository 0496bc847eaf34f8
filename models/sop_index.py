"""An SOP library made searchable: dense (e5) and lexical (BM25 over jieba words) views.

Character bigrams of each script's scenario and text are kept for lexical overlap.
Built on load, cached on disk by the library's content hash, so a new or
edited library is usable at once, without retraining, and an unchanged one
loads without re-encoding. Dense search is exact (faiss flat inner product)
up to ``ann_threshold`` scripts and HNSW above it.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import bm25s
import faiss
import jieba
import numpy as np

from chatcoach.config import get_settings
from chatcoach.contract import SopScript
from chatcoach.models.normalize import read_scripts

jieba.setLogLevel(60)
_WORD = re.compile(r"\w", re.UNICODE)
# {客户称呼}, {{ 称呼 }}: a slot the rep's reply fills in (its name is the group)
PLACEHOLDER = re.compile(r"\{\{?\s*([^{}]{1,12}?)\s*\}?\}")


def words(text: str) -> list[str]:
    """jieba search-mode words without punctuation, whitespace or placeholders."""
    return [w for w in jieba.lcut_for_search(PLACEHOLDER.sub(" ", text.lower())) if _WORD.search(w)]


def char_bigrams(text: str) -> frozenset[str]:
    """Adjacent pairs of word characters, across word boundaries: lexical overlap without a tokenizer."""
    chars = "".join(_WORD.findall(PLACEHOLDER.sub(" ", text.lower())))
    return frozenset(chars[i:i + 2] for i in range(len(chars) - 1))


def script_passage(script: SopScript) -> str:
    return f"{script.scenario}：{PLACEHOLDER.sub('', script.text)}"


def library_hash(scripts: list[SopScript]) -> str:
    canonical = json.dumps([s.model_dump(mode="json") for s in scripts], ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


class SopIndex:
    def __init__(self, scripts: list[SopScript], encoder, cache_dir: Path | None = None, ann_threshold: int = 20_000):
        if not scripts:
            raise ValueError("an SOP library needs at least one script")
        self.scripts = scripts  # as the company wrote them: what suggestions show
        self.ids = [s.id for s in scripts]
        self.hash = library_hash(scripts)
        self.encoder = encoder
        read = read_scripts(scripts)  # as the models read them: what is searched
        # vectors depend on the encoder as much as on the text it read
        fingerprint = getattr(encoder, "fingerprint", "any")
        cache = Path(cache_dir or get_settings().cache_dir) / "sop-index" / f"{library_hash(read)}-{fingerprint}.npz"
        if cache.exists():
            stored = np.load(cache)
            self.doc_vectors, self.scenario_vectors = stored["docs"], stored["scenarios"]
        else:
            self.doc_vectors = encoder.encode([script_passage(s) for s in read], role="passage")
            self.scenario_vectors = encoder.encode([s.scenario for s in read], role="passage")
            cache.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache.with_suffix(".tmp.npz")
            np.savez(tmp, docs=self.doc_vectors, scenarios=self.scenario_vectors)
            tmp.replace(cache)
        self.bm25 = bm25s.BM25()
        self.bm25.index([words(f"{s.scenario} {s.text} {' '.join(s.tags)}") or ["∅"] for s in read], show_progress=False)
        self.approximate = len(read) > ann_threshold
        self.ann = self._build_faiss(self.doc_vectors, self.approximate)
        self.stages = np.array([s.stage for s in read])
        self.scenario_bigrams = [char_bigrams(s.scenario) for s in read]
        self.text_bigrams = [char_bigrams(s.text) for s in read]

    @staticmethod
    def _build_faiss(vectors: np.ndarray, approximate: bool):
        dim = vectors.shape[1]
        if approximate:
            index = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = 80
            index.hnsw.efSearch = 128
        else:
            index = faiss.IndexFlatIP(dim)
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        return index

    def __len__(self) -> int:
        return len(self.scripts)

    def dense_search(self, query_vector: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        sims, idx = self.ann.search(query_vector[None, :].astype(np.float32), min(k, len(self)))
        keep = idx[0] >= 0
        return idx[0][keep], sims[0][keep]

    def bm25_scores(self, query: str) -> np.ndarray:
        tokens = words(query)
        return self.bm25.get_scores(tokens) if tokens else np.zeros(len(self), dtype=np.float32)

"""Rank an SOP library's scripts for the rep's next reply.

Candidates come from dense search (the last turns as one e5 query) and BM25;
a small learned fusion scores each candidate from:
- similarities of the conversation and of the customer's last words to the
  script text and to its scenario (relative to the best candidate, since raw
  e5 cosines sit high and close together),
- BM25 of both queries (normalised per query),
- a stage prior: the probability that the next rep reply is at the script's
  stage, predicted from the conversation and the analyzer's stage of the last
  message (a price objection wants objection scripts).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, KFold, cross_val_predict

from chatcoach.contract import STAGES, Chat, SopScript
from chatcoach.models.adapter import QueryAdapter
from chatcoach.models.features import message_text
from chatcoach.models.sop_index import SopIndex

SPEAKER = {"rep": "顾问", "customer": "客户"}
_PLACEHOLDER = re.compile(r"\{([^{}]{1,12})\}")
FEATURES = (
    "ctx_doc", "ctx_doc_rel", "cust_doc", "cust_doc_rel", "cust_scn", "cust_scn_rel", "ctx_scn_rel",
    "bm25_ctx", "bm25_cust", "dense_rr", "bm25_rr", "stage_prior", "ctx_adapted_rel", "cust_adapted_rel",
)
ADAPTER_FOLDS = 5


def context_query(chat: Chat, turns: int) -> str:
    return "\n".join(f"{SPEAKER[m.sender]}：{message_text(m)}" for m in chat.messages[-turns:])


def customer_query(chat: Chat) -> str:
    """The customer's latest words (their last burst), or the last message when the rep spoke last."""
    burst = []
    for m in reversed(chat.messages):
        if m.sender != "customer":
            if burst:
                break
            continue
        burst.append(message_text(m))
        if len(burst) == 3:
            break
    return " ".join(reversed(burst)) or message_text(chat.messages[-1])


def fill_placeholders(text: str, chat: Chat) -> str:
    known = {"客户称呼": chat.customer_name, "客户名": chat.customer_name, "顾问名": chat.rep_name, "顾问": chat.rep_name}
    return _PLACEHOLDER.sub(lambda m: known.get(m.group(1)) or m.group(0), text)


@dataclass
class Query:
    context: np.ndarray
    customer: np.ndarray
    context_text: str
    customer_text: str
    stage_hint: np.ndarray | None


class Suggester:
    def __init__(self, turns: int = 4, candidates: int = 40, seed: int = 0, adapt: bool = True):
        self.turns = turns
        self.candidates = candidates
        self.seed = seed
        self.adapt = adapt
        self.stage_head: LogisticRegression | None = None
        self.fusion: LogisticRegression | None = None
        self.adapters = (QueryAdapter(), QueryAdapter())  # context, customer; identity until fitted

    # ---------------------------------------------------------------- queries
    def queries(self, encoder, chats: list[Chat], stage_hints: list[np.ndarray]) -> list[Query]:
        ctx_texts = [context_query(c, self.turns) for c in chats]
        cust_texts = [customer_query(c) for c in chats]
        vecs = encoder.encode(ctx_texts + cust_texts, role="query")
        n = len(chats)
        return [Query(vecs[i], vecs[n + i], ctx_texts[i], cust_texts[i], stage_hints[i]) for i in range(n)]

    def _stage_input(self, q: Query) -> np.ndarray:
        return np.concatenate([q.context, q.customer, q.stage_hint])[None, :]

    def next_stage_proba(self, q: Query) -> np.ndarray:
        if self.stage_head is None:  # untrained: the analyzer's hint, or no preference
            return q.stage_hint if q.stage_hint is not None else np.full(len(STAGES), 1.0 / len(STAGES))
        proba = np.zeros(len(STAGES))
        proba[self.stage_head.classes_] = self.stage_head.predict_proba(self._stage_input(q))[0]
        return proba

    # --------------------------------------------------------------- features
    def candidate_features(self, index: SopIndex, q: Query, stage_prior: np.ndarray | None = None,
                           adapters: tuple[QueryAdapter, QueryAdapter] | None = None) -> tuple[np.ndarray, np.ndarray]:
        ctx_adapter, cust_adapter = adapters or self.adapters
        ctx_adapted, cust_adapted = ctx_adapter(q.context), cust_adapter(q.customer)
        dense_idx, _ = index.dense_search(q.context, self.candidates)
        adapted_idx, _ = index.dense_search(ctx_adapted, self.candidates // 2)
        bm_ctx = index.bm25_scores(q.context_text)
        bm_cust = index.bm25_scores(q.customer_text)
        bm_idx = np.argsort(-bm_ctx)[: self.candidates // 2]
        cand = np.array(list(dict.fromkeys([*dense_idx.tolist(), *adapted_idx.tolist(), *bm_idx.tolist()])))
        docs, scns = index.doc_vectors[cand], index.scenario_vectors[cand]
        ctx_doc, cust_doc = docs @ q.context, docs @ q.customer
        cust_scn, ctx_scn = scns @ q.customer, scns @ q.context
        ctx_ad, cust_ad = docs @ ctx_adapted, docs @ cust_adapted
        dense_rank = np.argsort(np.argsort(-ctx_doc))
        bm_rank = np.argsort(np.argsort(-bm_ctx[cand]))
        norm = lambda s: s / s.max() if s.max() > 0 else s  # noqa: E731
        stage_prior = self.next_stage_proba(q) if stage_prior is None else stage_prior
        stage_of = {s: i for i, s in enumerate(STAGES)}
        X = np.column_stack([
            ctx_doc, ctx_doc - ctx_doc.max(), cust_doc, cust_doc - cust_doc.max(), cust_scn, cust_scn - cust_scn.max(),
            ctx_scn - ctx_scn.max(), norm(bm_ctx)[cand], norm(bm_cust)[cand], 1.0 / (1.0 + dense_rank),
            1.0 / (1.0 + bm_rank), stage_prior[[stage_of[s] for s in index.stages[cand]]],
            ctx_ad - ctx_ad.max(), cust_ad - cust_ad.max(),
        ])
        return cand, X

    # ---------------------------------------------------------------- ranking
    def rank(self, index: SopIndex, q: Query, k: int) -> list[tuple[int, float]]:
        cand, X = self.candidate_features(index, q)
        if self.fusion is None:  # untrained: dense similarity alone
            scores = X[:, FEATURES.index("ctx_doc")]
        else:
            scores = self.fusion.predict_proba(X)[:, 1]
        order = np.argsort(-scores)[:k]
        return [(int(cand[i]), float(scores[i])) for i in order]

    def suggest(self, index: SopIndex, chat: Chat, q: Query, k: int) -> dict:
        ranked = self.rank(index, q, k)
        stage = STAGES[int(np.argmax(self.next_stage_proba(q)))]
        return {
            "chat_id": chat.chat_id,
            "stage": stage,
            "suggestions": [self._suggestion(index.scripts[i], score, chat) for i, score in ranked],
        }

    @staticmethod
    def _suggestion(script: SopScript, score: float, chat: Chat) -> dict:
        return {"sop_id": script.id, "score": round(score, 4), "text": fill_placeholders(script.text, chat),
                "stage": script.stage, "scenario": script.scenario}

    # --------------------------------------------------------------- training
    @staticmethod
    def fit_adapters(indexes: list[SopIndex], queries: list[Query], gold: list[set[str]], seed: int) -> tuple[QueryAdapter, QueryAdapter]:
        rows = np.array([next(i for i, sid in enumerate(index.ids) if sid in g) for index, g in zip(indexes, gold)])
        libraries = [index.doc_vectors for index in indexes]
        return (QueryAdapter.fit(np.stack([q.context for q in queries]), libraries, rows, seed=seed),
                QueryAdapter.fit(np.stack([q.customer for q in queries]), libraries, rows, seed=seed))

    def fit(self, indexes: list[SopIndex], queries: list[Query], gold: list[set[str]], groups: list[str] | None = None) -> "Suggester":
        """Learn the adapters, the next-stage head and the fusion from training cases (each with its own library).

        The fusion sees out-of-fold stage priors and adapter similarities (folds by source chat), so it
        learns how far to trust them on conversations they were not fitted on."""
        stage_of = {s: i for i, s in enumerate(STAGES)}
        X_stage, y_stage = [], []
        for index, q, g in zip(indexes, queries, gold):
            script = next(s for s in index.scripts if s.id in g)
            X_stage.append(self._stage_input(q)[0])
            y_stage.append(stage_of[script.stage])
        X_stage, y_stage = np.array(X_stage), np.array(y_stage)
        head = LogisticRegression(C=1.0, max_iter=3000, random_state=self.seed)
        # the fusion learns how far to trust the stage prior from out-of-fold predictions, not memorised ones
        oof = np.zeros((len(y_stage), len(STAGES)))
        oof[:, np.unique(y_stage)] = cross_val_predict(
            head, X_stage, y_stage, cv=KFold(min(5, len(y_stage)), shuffle=True, random_state=self.seed), method="predict_proba")
        self.stage_head = head.fit(X_stage, y_stage)
        fold_adapters = [None] * len(queries)
        if self.adapt:
            groups = groups or [str(i) for i in range(len(queries))]
            folds = GroupKFold(min(ADAPTER_FOLDS, len(set(groups))))
            for fit_idx, held_idx in folds.split(queries, groups=groups):
                pair = self.fit_adapters([indexes[i] for i in fit_idx], [queries[i] for i in fit_idx], [gold[i] for i in fit_idx], self.seed)
                for i in held_idx:
                    fold_adapters[i] = pair
            self.adapters = self.fit_adapters(indexes, queries, gold, self.seed)
        rows, labels = [], []
        for index, q, g, prior, pair in zip(indexes, queries, gold, oof, fold_adapters):
            cand, X = self.candidate_features(index, q, stage_prior=prior, adapters=pair or (QueryAdapter(), QueryAdapter()))
            rows.append(X)
            labels.append(np.array([index.ids[i] in g for i in cand]))
        self.fusion = LogisticRegression(C=1.0, max_iter=3000, class_weight="balanced", random_state=self.seed)
        self.fusion.fit(np.vstack(rows), np.concatenate(labels))
        return self

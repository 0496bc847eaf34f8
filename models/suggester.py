"""Rank an SOP library's scripts for the rep's next reply.

Conversations and scripts are embedded by e5 fine-tuned as a bi-encoder on the training
cases (training/biencoder.py). Candidates come from dense search (the last turns as one
query) and BM25;
a learned listwise fusion (models/fusion.py) scores each candidate against the others from:
- similarities of the conversation and of the customer's last words to the
  script text and to its scenario (relative to the best candidate, since raw
  e5 cosines sit high and close together),
- BM25 of both queries (normalised per query),
- the share of the script's scenario and text (character bigrams) that the queries repeat,
- a stage prior: the probability that the next rep reply is at the script's
  stage, predicted from the conversation, the analyzer's stages of the last two
  messages (a price objection wants objection scripts) and the mean and maximum of
  its stages over the last eight (how far the chat has come).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold, cross_val_predict

from chatcoach.contract import STAGES, Chat, SopScript
from chatcoach.models.features import message_text
from chatcoach.models.fusion import ListwiseFusion
from chatcoach.models.normalize import read_chat, read_text
from chatcoach.models.sop_index import PLACEHOLDER, SopIndex, char_bigrams

SPEAKER = {"rep": "顾问", "customer": "客户"}
# the names libraries give what a chat knows (read in simplified: a 繁體 library writes {客戶稱呼})
CUSTOMER_PLACEHOLDERS = {"客户称呼", "客户名", "客户姓名", "客户名字", "客户昵称", "顾客称呼", "顾客名", "顾客姓名", "称呼",
                         "姓名", "昵称", "名字", "用户名", "会员名", "name", "customer", "customer_name"}
REP_PLACEHOLDERS = {"顾问名", "顾问", "顾问姓名", "顾问名字", "销售名", "销售", "导购名", "导购", "客服名", "客服", "我的名字",
                    "员工名", "店员名", "rep", "rep_name", "agent"}
FEATURES = (
    "ctx_doc", "ctx_doc_rel", "cust_doc", "cust_doc_rel", "cust_scn", "cust_scn_rel", "ctx_scn_rel",
    "bm25_ctx", "bm25_cust", "dense_rr", "bm25_rr", "stage_prior", "cust_scn_overlap", "cust_doc_overlap",
    "ctx_doc_overlap",
)


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
    """The customer's and the rep's names where the chat has them; any other placeholder stays visible."""
    def fill(match: re.Match) -> str:
        name = read_text(match.group(1), traditional=True).lower()
        value = chat.customer_name if name in CUSTOMER_PLACEHOLDERS else chat.rep_name if name in REP_PLACEHOLDERS else None
        return value or match.group(0)

    return PLACEHOLDER.sub(fill, text)


@dataclass
class Query:
    context: np.ndarray
    customer: np.ndarray
    context_text: str
    customer_text: str
    stage_hint: np.ndarray | None  # Pipeline.stage_hints: the last two messages' posteriors, their mean and max, [4, stages]


class Suggester:
    # candidates: dense hits, plus half as many BM25 hits. 50 chosen on dev (R@3 0.577 / 0.587 / 0.585 /
    # 0.588 for 40 / 50 / 60 / 80): in a library of ~70 scripts, the fusion ranks nearly all of them.
    def __init__(self, turns: int = 4, candidates: int = 50, seed: int = 0):
        self.turns = turns
        self.candidates = candidates
        self.seed = seed
        self.stage_head: LogisticRegression | None = None
        self.fusion: ListwiseFusion | None = None

    # ---------------------------------------------------------------- queries
    def queries(self, encoder, chats: list[Chat], stage_hints: list[np.ndarray]) -> list[Query]:
        chats = [read_chat(c) for c in chats]
        ctx_texts = [context_query(c, self.turns) for c in chats]
        cust_texts = [customer_query(c) for c in chats]
        vecs = encoder.encode(ctx_texts + cust_texts, role="query")
        n = len(chats)
        return [Query(vecs[i], vecs[n + i], ctx_texts[i], cust_texts[i], stage_hints[i]) for i in range(n)]

    def _stage_input(self, q: Query) -> np.ndarray:
        return np.concatenate([q.context, q.customer, q.stage_hint.ravel()])[None, :]

    def next_stage_proba(self, q: Query) -> np.ndarray:
        if self.stage_head is None:  # untrained: the analyzer's hint, or no preference
            return q.stage_hint[0] if q.stage_hint is not None else np.full(len(STAGES), 1.0 / len(STAGES))
        proba = np.zeros(len(STAGES))
        proba[self.stage_head.classes_] = self.stage_head.predict_proba(self._stage_input(q))[0]
        return proba

    # --------------------------------------------------------------- features
    def candidate_features(self, index: SopIndex, q: Query, stage_prior: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        dense_idx, _ = index.dense_search(q.context, self.candidates)
        bm_ctx = index.bm25_scores(q.context_text)
        bm_cust = index.bm25_scores(q.customer_text)
        bm_idx = np.argsort(-bm_ctx)[: self.candidates // 2]
        cand = np.array(list(dict.fromkeys([*dense_idx.tolist(), *bm_idx.tolist()])))
        docs, scns = index.doc_vectors[cand], index.scenario_vectors[cand]
        ctx_doc, cust_doc = docs @ q.context, docs @ q.customer
        cust_scn, ctx_scn = scns @ q.customer, scns @ q.context
        dense_rank = np.argsort(np.argsort(-ctx_doc))
        bm_rank = np.argsort(np.argsort(-bm_ctx[cand]))
        norm = lambda s: s / s.max() if s.max() > 0 else s  # noqa: E731
        stage_prior = self.next_stage_proba(q) if stage_prior is None else stage_prior
        stage_of = {s: i for i, s in enumerate(STAGES)}
        cust_bigrams, ctx_bigrams = char_bigrams(q.customer_text), char_bigrams(q.context_text)
        share = lambda query, script_bigrams: np.array(  # noqa: E731
            [len(query & script_bigrams[i]) / max(1, len(script_bigrams[i])) for i in cand])
        X = np.column_stack([
            ctx_doc, ctx_doc - ctx_doc.max(), cust_doc, cust_doc - cust_doc.max(), cust_scn, cust_scn - cust_scn.max(),
            ctx_scn - ctx_scn.max(), norm(bm_ctx)[cand], norm(bm_cust)[cand], 1.0 / (1.0 + dense_rank),
            1.0 / (1.0 + bm_rank), stage_prior[[stage_of[s] for s in index.stages[cand]]],
            share(cust_bigrams, index.scenario_bigrams), share(cust_bigrams, index.text_bigrams),
            share(ctx_bigrams, index.text_bigrams),
        ])
        return cand, X

    # ---------------------------------------------------------------- ranking
    def scores(self, index: SopIndex, q: Query, stage_prior: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The candidates' script indices and their fused scores (``stage_prior``: as in candidate_features)."""
        cand, X = self.candidate_features(index, q, stage_prior)
        if self.fusion is None:  # untrained: dense similarity alone
            return cand, X[:, FEATURES.index("ctx_doc")]
        return cand, self.fusion.scores(X)

    def rank(self, index: SopIndex, q: Query, k: int) -> list[tuple[int, float]]:
        cand, scores = self.scores(index, q)
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
    def fit(self, indexes: list[SopIndex], queries: list[Query], gold: list[set[str]]) -> "Suggester":
        """Learn the next-stage head and the fusion from training cases (each with its own library).

        The fusion sees out-of-fold stage priors, so it learns how far to trust them on
        conversations the head was not fitted on."""
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
        groups = []
        for index, q, g, prior in zip(indexes, queries, gold, oof):
            cand, X = self.candidate_features(index, q, stage_prior=prior)
            groups.append((X, np.array([index.ids[i] in g for i in cand])))
        self.fusion = ListwiseFusion().fit(groups)
        return self

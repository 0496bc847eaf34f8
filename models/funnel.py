"""Funnel class per chat: learned from the stage posteriors and the chat's content, with the
contract's crisp rules on top (no customer message → silent; a confirmed close → at least won).
"""

from __future__ import annotations

import math

import numpy as np
from sklearn.linear_model import LogisticRegression

from chatcoach.contract import FUNNELS, STAGES
from chatcoach.models.features import ChatFeatures

CLOSE = STAGES.index("close")


def chat_vector(feat: ChatFeatures, stage_proba: np.ndarray) -> np.ndarray:
    msgs = feat.chat.messages
    customer = np.array([m.sender == "customer" for m in msgs])
    cust_proba = stage_proba[customer] if customer.any() else np.zeros((1, len(STAGES)))
    cust_emb = feat.embeddings[customer].mean(axis=0) if customer.any() else np.zeros(feat.embeddings.shape[1])
    summary = [
        float(customer.any()), customer.mean(), math.log1p(len(msgs)) / 4.0,
        float(any(m.type == "transfer" for m in msgs)),
        float(any(m.type == "transfer" and m.sender == "customer" for m in msgs)),
        float(any(m.type == "link" for m in msgs)),
    ]
    return np.concatenate([
        stage_proba.max(axis=0), stage_proba.mean(axis=0), cust_proba.max(axis=0),
        summary, cust_emb, feat.embeddings.mean(axis=0),
    ]).astype(np.float32)


class FunnelClassifier:
    labels = FUNNELS

    def __init__(self, C: float = 1.0, confirmed_close: float = 0.9, seed: int = 0):
        self.C = C
        self.confirmed_close = confirmed_close  # customer-side close probability that counts as a deal
        self.seed = seed

    def fit(self, feats: list[ChatFeatures], stage_probas: list[np.ndarray], funnels: list[str]) -> "FunnelClassifier":
        X = np.vstack([chat_vector(f, p) for f, p in zip(feats, stage_probas)])
        y = np.array([self.labels.index(f) for f in funnels])
        self.head = LogisticRegression(C=self.C, max_iter=3000, random_state=self.seed).fit(X, y)
        return self

    def predict_proba(self, feats: list[ChatFeatures], stage_probas: list[np.ndarray]) -> np.ndarray:
        X = np.vstack([chat_vector(f, p) for f, p in zip(feats, stage_probas)])
        proba = np.zeros((len(feats), len(self.labels)))
        proba[:, self.head.classes_] = self.head.predict_proba(X)
        for row, feat, stage_proba in zip(proba, feats, stage_probas):
            self._apply_rules(row, feat, stage_proba)
        return proba

    def _apply_rules(self, row: np.ndarray, feat: ChatFeatures, stage_proba: np.ndarray) -> None:
        msgs = feat.chat.messages
        customer = [i for i, m in enumerate(msgs) if m.sender == "customer"]
        keep = np.ones(len(self.labels), dtype=bool)
        if not customer:
            keep[:] = False
            keep[self.labels.index("silent")] = True
        else:
            keep[self.labels.index("silent")] = False
            confirmed = any(msgs[i].type == "transfer" for i in customer) or (
                stage_proba[customer, CLOSE].max() >= self.confirmed_close
            )
            if confirmed:
                keep[[self.labels.index("engaged"), self.labels.index("quoted")]] = False
        row[~keep] = 0.0
        if row.sum() == 0:
            row[keep] = 1.0
        row /= row.sum()

    def predict(self, feats, stage_probas) -> list[str]:
        return [self.labels[i] for i in self.predict_proba(feats, stage_probas).argmax(axis=1)]

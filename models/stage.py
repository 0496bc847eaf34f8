"""Stage per message: a logistic head over the message in context, smoothed along the chat.

The head reads the message's e5 embedding, its neighbours' and position
features (models/features.py). A first-order transition model learned from
the labelled chats then turns the per-message probabilities into posterior
marginals (forward–backward), so a `transfer` after a quote reads as `close`
and a lone "好的" inherits the stage around it. A small GRU over the whole chat
(models/sequence.py), when fitted, is averaged in with ``sequence_weight``.
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression

from chatcoach.contract import STAGES
from chatcoach.models.features import ChatFeatures
from chatcoach.models.sequence import SequenceTagger


def forward_backward(emissions: np.ndarray, start: np.ndarray, trans: np.ndarray) -> np.ndarray:
    """Posterior marginals of a chain; emissions are per-position likelihoods [n, k]."""
    n, k = emissions.shape
    alpha = np.zeros((n, k))
    beta = np.ones((n, k))
    alpha[0] = start * emissions[0]
    alpha[0] /= alpha[0].sum()
    for t in range(1, n):
        alpha[t] = (alpha[t - 1] @ trans) * emissions[t]
        alpha[t] /= alpha[t].sum()
    for t in range(n - 2, -1, -1):
        beta[t] = trans @ (emissions[t + 1] * beta[t + 1])
        beta[t] /= beta[t].sum()
    post = alpha * beta
    return post / post.sum(axis=1, keepdims=True)


def mix_posteriors(smoothed: list[np.ndarray], sequence: list[np.ndarray], weight: float) -> list[np.ndarray]:
    """Each chat's stage posteriors: the smoothed head's and the GRU's, the GRU's weighted ``weight``."""
    return [(1 - weight) * s + weight * g for s, g in zip(smoothed, sequence)]


class StageTagger:
    """e5 context features → logistic regression → transition smoothing."""

    labels = STAGES
    # class-level defaults: a tagger pickled before the GRU existed loads as "no GRU"
    sequence: SequenceTagger | None = None
    sequence_weight = 0.0

    def __init__(self, C: float = 2.0, transition_weight: float = 1.0, prior_power: float = 1.0, seed: int = 0):
        self.C = C
        self.transition_weight = transition_weight
        self.prior_power = prior_power
        self.seed = seed

    def fit(self, feats: list[ChatFeatures], stages: list[list[str]]) -> "StageTagger":
        index = {s: i for i, s in enumerate(self.labels)}
        X = np.vstack([f.context_matrix() for f in feats])
        y = np.array([index[s] for seq in stages for s in seq])
        self.head = LogisticRegression(C=self.C, max_iter=3000, random_state=self.seed)
        self.head.fit(X, y)
        k = len(self.labels)
        counts = np.ones((k, k))  # add-one: every transition stays possible
        first = np.ones(k)
        for seq in stages:
            ids = [index[s] for s in seq]
            first[ids[0]] += 1
            for a, b in zip(ids, ids[1:]):
                counts[a, b] += 1
        self.start = first / first.sum()
        self.trans = counts / counts.sum(axis=1, keepdims=True)
        self.prior = np.bincount(y, minlength=k) / len(y)
        return self

    def head_proba(self, feats: list[ChatFeatures]) -> list[np.ndarray]:
        """The message head's posteriors, before smoothing: what the funnel classifier reads."""
        out = []
        for feat in feats:
            proba = np.zeros((len(feat.chat.messages), len(self.labels)))
            proba[:, self.head.classes_] = self.head.predict_proba(feat.context_matrix())
            out.append(proba)
        return out

    def smooth(self, proba: np.ndarray) -> np.ndarray:
        if self.transition_weight == 0:
            return proba
        likelihood = proba / np.power(self.prior + 1e-9, self.prior_power)
        trans = np.power(self.trans, self.transition_weight)
        trans /= trans.sum(axis=1, keepdims=True)
        start = np.power(self.start, self.transition_weight)
        return forward_backward(likelihood + 1e-12, start / start.sum(), trans)

    def fit_sequence(self, feats: list[ChatFeatures], stages: list[list[str]], seed: int = 0) -> "StageTagger":
        index = {s: i for i, s in enumerate(self.labels)}
        labels = [np.array([index[s] for s in seq]) for seq in stages]
        self.sequence = SequenceTagger(len(self.labels), seed=seed).fit(feats, labels)
        return self

    def sequence_proba(self, feats: list[ChatFeatures], head_probas: list[np.ndarray]) -> list[np.ndarray]:
        """The stage posteriors: the head's (``head_proba``) smoothed, and the GRU's averaged in."""
        smoothed = [self.smooth(p) for p in head_probas]
        if self.sequence is None or self.sequence_weight == 0:
            return smoothed
        return mix_posteriors(smoothed, self.sequence.predict_proba(feats), self.sequence_weight)

    def predict_proba(self, feats: list[ChatFeatures]) -> list[np.ndarray]:
        return self.sequence_proba(feats, self.head_proba(feats))

    def predict(self, feats: list[ChatFeatures]) -> list[list[str]]:
        return self.decode(self.predict_proba(feats))

    def decode(self, probas: list[np.ndarray]) -> list[list[str]]:
        """Each chat's most probable stage per message."""
        return [[self.labels[i] for i in p.argmax(axis=1)] for p in probas]

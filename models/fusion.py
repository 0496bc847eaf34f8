"""The fusion that ranks a library's candidates for one conversation: a conditional logit.

Each case is one choice among its candidates: a linear score per candidate, a softmax over the
case's candidates, and the loss is the negative log-probability of the gold script(s), plus an L2
penalty. It learns what tells the right script from its neighbours *in the same list*, which is
the ranking question, where a per-candidate classifier learns what makes any candidate look
relevant. On dev it ranked better than the logistic regression it replaced (eval/README).

A score is the probability that a candidate is the script the rep sends next, among the case's
candidates: the scores of one ranking sum to 1.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize
from scipy.special import log_softmax, logsumexp, softmax
from sklearn.preprocessing import StandardScaler


class ListwiseFusion:
    def __init__(self, l2: float = 1e-3):
        self.l2 = l2
        self.scaler: StandardScaler | None = None
        self.coef_: np.ndarray | None = None

    def fit(self, groups: list[tuple[np.ndarray, np.ndarray]]) -> "ListwiseFusion":
        """``groups``: per case, the candidates' features [n, d] and which are gold [n] (cases without
        a gold candidate teach nothing here and are skipped)."""
        groups = [(X, y.astype(bool)) for X, y in groups if y.any()]
        if not groups:
            raise ValueError("the fusion needs at least one case whose gold script is among its candidates")
        self.scaler = StandardScaler().fit(np.vstack([X for X, _ in groups]))
        groups = [(self.scaler.transform(X), y) for X, y in groups]

        def loss_and_grad(w: np.ndarray) -> tuple[float, np.ndarray]:
            loss, grad = 0.0, np.zeros_like(w)
            for X, y in groups:
                log_p = log_softmax(X @ w)
                log_gold = logsumexp(log_p[y])  # log of the gold scripts' total probability
                loss -= log_gold
                target = np.zeros_like(log_p)
                target[y] = np.exp(log_p[y] - log_gold)
                grad -= X.T @ (target - np.exp(log_p))
            n = len(groups)
            return loss / n + self.l2 * w @ w, grad / n + 2 * self.l2 * w

        result = minimize(loss_and_grad, np.zeros(groups[0][0].shape[1]), jac=True, method="L-BFGS-B")
        self.coef_ = result.x
        return self

    def scores(self, X: np.ndarray) -> np.ndarray:
        """Each candidate's probability of being the next reply, among ``X``'s candidates."""
        return softmax(self.scaler.transform(X) @ self.coef_)

"""The listwise fusion: it learns what sets the gold apart from the other candidates of its own list."""

import numpy as np
import pytest

from chatcoach.models.fusion import ListwiseFusion


def lists(n_cases: int, seed: int, golds: int = 1):
    """Candidates whose first feature is relevance plus a per-list offset (raw similarities sit high in
    some lists and low in others), the second a distractor; the gold candidates are the most relevant
    of their list, so only the comparison within a list tells them."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n_cases):
        n = int(rng.integers(20, 60))
        relevance = rng.normal(size=n)
        X = np.column_stack([relevance + rng.normal(scale=3.0), rng.normal(size=n)])
        y = np.zeros(n, dtype=bool)
        y[np.argsort(-relevance)[:golds]] = True
        out.append((X, y))
    return out


def test_the_gold_of_unseen_lists_comes_first_and_scores_are_a_distribution_over_the_list():
    fusion = ListwiseFusion().fit(lists(200, seed=0))
    assert fusion.coef_[0] > 0 and abs(fusion.coef_[1]) < 0.5 * fusion.coef_[0]
    held_out = lists(100, seed=1)
    assert np.mean([y[np.argmax(fusion.scores(X))] for X, y in held_out]) > 0.9
    scores = fusion.scores(held_out[0][0])
    assert scores.sum() == pytest.approx(1.0) and (scores > 0).all()


def test_a_case_with_two_gold_scripts_counts_either():
    fusion = ListwiseFusion().fit(lists(200, seed=2, golds=2))
    assert np.mean([y[np.argsort(-fusion.scores(X))[:2]].all() for X, y in lists(100, seed=3, golds=2)]) > 0.8


def test_fitting_without_any_gold_among_the_candidates_is_refused():
    X = np.random.default_rng(0).normal(size=(10, 2))
    with pytest.raises(ValueError, match="gold script is among its candidates"):
        ListwiseFusion().fit([(X, np.zeros(10, dtype=bool))])

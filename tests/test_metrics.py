import numpy as np

from chatcoach.evaluation.metrics import binary_scores


def test_binary_f1_is_exact_at_a_target_boundary():
    # 18 hits, 1 false alarm, 8 misses: F1 = 36/45 = 0.8 exactly, so a ≥ 0.80 target is met
    gold = np.array([True] * 26 + [False] * 10)
    pred = np.array([True] * 18 + [False] * 8 + [True] + [False] * 9)
    scores = binary_scores(gold, pred)
    assert scores["f1"] >= 0.80
    assert (scores["precision"], scores["recall"]) == (18 / 19, 18 / 26)


def test_binary_scores_with_no_hits_are_zero():
    scores = binary_scores(np.array([True, False]), np.array([False, True]))
    assert scores == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1, "predicted": 1}

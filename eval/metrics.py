"""Scores of an analysis against gold labels, shared by training (model selection on dev) and reports."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support

from chatcoach.contract import FLAGS, FUNNELS, STAGES


def stage_scores(gold: list[str], pred: list[str]) -> dict:
    p, r, f, n = precision_recall_fscore_support(gold, pred, labels=list(STAGES), zero_division=0)
    return {
        "macro_f1": float(np.mean(f)),
        "accuracy": float(accuracy_score(gold, pred)),
        "per_stage": {s: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(n[i])}
                      for i, s in enumerate(STAGES)},
        "confusion": confusion_matrix(gold, pred, labels=list(STAGES)).tolist(),
    }


def funnel_scores(gold: list[str], pred: list[str]) -> dict:
    return {
        "accuracy": float(accuracy_score(gold, pred)),
        "confusion": confusion_matrix(gold, pred, labels=list(FUNNELS)).tolist(),
    }


def binary_scores(gold: np.ndarray, pred: np.ndarray) -> dict:
    tp = int((gold & pred).sum())
    fp = int((~gold & pred).sum())
    fn = int((gold & ~pred).sum())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    # from the counts, not from P and R: 2PR/(P+R) in floats turns an F1 of exactly 0.8 into 0.7999…
    f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "support": int(gold.sum()), "predicted": int(pred.sum())}


def flag_scores(gold: list[set[str]], pred: list[set[str]]) -> dict:
    return {f: binary_scores(np.array([f in g for g in gold]), np.array([f in p for p in pred])) for f in FLAGS}


def pick_threshold(gold: np.ndarray, scores: np.ndarray, min_precision: float | None = None) -> float:
    """The threshold with the best F1, or, under a precision floor, the best recall that keeps it.

    Several thresholds often tie (a plateau between two scores); the middle of the plateau is
    taken, not its edge, so that a small shift in scores on new data does not fall off it."""
    candidates = np.unique(np.round(scores, 4))
    keys = []
    for t in candidates:
        s = binary_scores(gold, scores >= t)
        if min_precision is not None:
            ok = s["precision"] >= min_precision and s["predicted"] > 0
            keys.append((s["recall"], s["f1"]) if ok else None)
        else:
            keys.append((s["f1"], s["precision"]))
    valid = [k for k in keys if k is not None]
    if not valid:
        return float(scores.max()) + 1e-6 if len(scores) else 1.0  # nothing meets the floor: raise only on rules
    best = max(valid)
    plateau = [t for t, k in zip(candidates, keys) if k == best]
    return float(plateau[len(plateau) // 2])


def analysis_scores(chats, results) -> dict:
    """Stage, funnel and flag scores of contract §7 results against labelled chats."""
    gold_stage, pred_stage, gold_flags, pred_flags = [], [], [], []
    for chat, res in zip(chats, results):
        for m, r in zip(chat.messages, res["messages"]):
            gold_stage.append(m.stage)
            pred_stage.append(r["stage"])
            gold_flags.append(set(m.flags or []))
            pred_flags.append(set(r["flags"]))
    return {
        "chats": len(chats),
        "messages": len(gold_stage),
        "stage": stage_scores(gold_stage, pred_stage),
        "funnel": funnel_scores([c.funnel for c in chats], [r["funnel"] for r in results]),
        "flags": flag_scores(gold_flags, pred_flags),
    }

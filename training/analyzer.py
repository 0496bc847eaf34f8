"""Train the analyzer heads on the train split, choose hyper-parameters and flag thresholds on dev.

Test and unseen-industry chats are never read here.
"""

from __future__ import annotations

import logging

import numpy as np
from sklearn.model_selection import GroupKFold, KFold

from chatcoach.contract import FLAGS, ROLE, STAGES
from chatcoach.evaluation.metrics import pick_threshold, stage_scores
from chatcoach.models.features import ChatFeatures
from chatcoach.models.flags import FlagDetector
from chatcoach.models.funnel import FunnelClassifier
from chatcoach.models.rules import RuleSet, with_same_sender_before
from chatcoach.models.stage import StageTagger, mix_posteriors
from chatcoach.pipeline import Analyzer

log = logging.getLogger(__name__)

STAGE_GRID = {"C": (0.5, 2.0, 8.0), "transition_weight": (0.0, 0.5, 1.0), "sequence_weight": (0.0, 0.25, 0.5, 0.75)}
PRECISION_FLOOR = {"insult": 0.95, "side_order": 0.95}


def _stages(feats):
    return [[m.stage for m in f.chat.messages] for f in feats]


def _flat(seqs):
    return [x for s in seqs for x in s]


def fit_stage(train: list[ChatFeatures], dev: list[ChatFeatures], seed: int) -> tuple[StageTagger, dict]:
    results = {}
    best = None
    for C in STAGE_GRID["C"]:
        tagger = StageTagger(C=C, seed=seed).fit(train, _stages(train))
        for w in STAGE_GRID["transition_weight"]:
            tagger.transition_weight = w
            f1 = stage_scores(_flat(_stages(dev)), _flat(tagger.predict(dev)))["macro_f1"]
            results[f"C={C},w={w}"] = round(f1, 4)
            log.info("stage C=%s transition_weight=%s dev macro-F1 %.4f", C, w, f1)
            if best is None or f1 > best[0]:
                best = (f1, C, w)
    _, C, w = best
    tagger = StageTagger(C=C, transition_weight=w, seed=seed).fit(train, _stages(train))
    log.info("stage: a GRU over each chat, averaged in with a weight chosen on dev")
    tagger.fit_sequence(train, _stages(train), seed=seed)
    # the head and the GRU read dev once; each weight only mixes their posteriors
    smoothed = [tagger.smooth(p) for p in tagger.head_proba(dev)]
    sequence = tagger.sequence.predict_proba(dev)
    by_weight = {}
    for a in STAGE_GRID["sequence_weight"]:
        predicted = tagger.decode(mix_posteriors(smoothed, sequence, a))
        by_weight[a] = stage_scores(_flat(_stages(dev)), _flat(predicted))["macro_f1"]
        results[f"C={C},w={w},sequence={a}"] = round(by_weight[a], 4)
        log.info("stage sequence_weight=%s dev macro-F1 %.4f", a, by_weight[a])
    tagger.sequence_weight = max(by_weight, key=by_weight.get)
    return tagger, {"grid_dev_macro_f1": results,
                    "chosen": {"C": C, "transition_weight": w, "sequence_weight": tagger.sequence_weight}}


def out_of_fold_stage_probas(train: list[ChatFeatures], tagger: StageTagger, folds: int = 5) -> list[np.ndarray]:
    """The stage head's posteriors (before smoothing, as the pipeline feeds the funnel) for training
    chats, each from a model that did not see it: the funnel head trains on these."""
    out: list[np.ndarray | None] = [None] * len(train)
    groups = np.arange(len(train))
    for fit_idx, hold_idx in GroupKFold(n_splits=min(folds, len(train))).split(groups, groups=groups):
        fold = StageTagger(C=tagger.C, seed=tagger.seed)  # only its head is read: no smoothing here
        fold.fit([train[i] for i in fit_idx], _stages([train[i] for i in fit_idx]))
        for i, p in zip(hold_idx, fold.head_proba([train[i] for i in hold_idx])):
            out[i] = p
    return out


def fit_flags(train, dev, rules: RuleSet, seed: int, folds: int = 5,
              variants: list[ChatFeatures] | None = None) -> tuple[FlagDetector, dict, dict]:
    """Fit the flag heads on train; choose thresholds on dev plus out-of-fold train scores.

    Dev alone holds a few dozen positives per flag, too few to place a threshold that has to
    hold on other people's chats; out-of-fold scores of the train chats (each scored by heads
    that never saw it) multiply the evidence without leaking test data.

    ``variants[i]``: train[i] in another writing style (``training/style.py``), which the n-gram
    heads learn from too; a held-out chat's variant is held out of its fold, and thresholds read
    only the chats as written."""
    labels = lambda feats: [[m.flags or [] for m in f.chat.messages] for f in feats]  # noqa: E731

    def fitted(idx) -> FlagDetector:
        feats = [train[i] for i in idx]
        return FlagDetector(seed=seed).fit(feats, labels(feats), restyled=[variants[i] for i in idx] if variants else [])

    detector = fitted(range(len(train)))
    oof: list[np.ndarray] = [None] * len(train)
    for fit_idx, hold_idx in KFold(min(folds, len(train)), shuffle=True, random_state=seed).split(train):
        fold = fitted(fit_idx)
        for i, p in zip(hold_idx, fold.predict_proba([train[i] for i in hold_idx])):
            oof[i] = p
    scored = list(train) + list(dev)
    all_scores = np.vstack(oof + detector.predict_proba(dev))
    messages = [pair for f in scored for pair in with_same_sender_before(f.chat.messages)]
    # a rule hit always raises the flag in the pipeline, so it counts as certain here, and a veto
    # as certainly not (rules that fire after a flagged message are left out: they follow from the
    # threshold being chosen)
    hits = [rules.match(m, before) for m, before in messages]
    rule_flags = [{h.rule.flag for h in hit if not h.rule.veto} for hit in hits]
    vetoed_flags = [{h.rule.flag for h in hit if h.rule.veto} for hit in hits]
    thresholds, report = {}, {}
    for j, flag in enumerate(FLAGS):
        scope = np.array([m.sender == ROLE[flag] for m, _ in messages])
        gold = np.array([flag in (m.flags or []) for m, _ in messages])[scope]
        rule_hit = np.array([flag in hit for hit in rule_flags])[scope]
        vetoed = np.array([flag in veto for veto in vetoed_flags])[scope]
        combined = np.where(rule_hit, 1.0, np.where(vetoed, 0.0, all_scores[scope, j]))
        thresholds[flag] = pick_threshold(gold, combined, PRECISION_FLOOR.get(flag))
        report[flag] = {"threshold": round(thresholds[flag], 4), "positives": int(gold.sum()), "rule_hits": int(rule_hit.sum())}
    return detector, thresholds, report


def train_analyzer(train: list[ChatFeatures], dev: list[ChatFeatures], rules: RuleSet, seed: int = 0,
                   variants: list[ChatFeatures] | None = None) -> tuple[Analyzer, dict]:
    """``variants[i]``: train[i] in another writing style, for the flag heads (``fit_flags``)."""
    # QA feedback corrects flags only; its stages and funnel are the model's own guesses, and
    # learning from them would only teach the model its own mistakes (eval/reports/feedback.md).
    labelled = [f for f in train if f.chat.source != "feedback"]
    log.info("stage tagger: grid search on dev")
    stage, stage_report = fit_stage(labelled, dev, seed)
    log.info("funnel classifier: out-of-fold stage posteriors")
    oof = out_of_fold_stage_probas(labelled, stage)
    funnel = FunnelClassifier(seed=seed).fit(labelled, oof, [f.chat.funnel for f in labelled])
    log.info("flag detectors: calibrated heads, thresholds on dev (QA feedback included)")
    flags, thresholds, flag_report = fit_flags(train, dev, rules, seed, variants=variants)
    analyzer = Analyzer(stage=stage, funnel=funnel, flags=flags, thresholds=thresholds)
    return analyzer, {"stage": stage_report, "flags": flag_report, "labels": {"stages": STAGES}}

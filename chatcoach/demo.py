"""The main job on bundled demo data: analyse the demo chats and print a readable summary."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from chatcoach.jsonl import read_chats, read_sop

DEMO_DIR = Path(__file__).parent / "demo_data"
STAGE_ZH = {"greeting": "破冰", "rapport": "闲聊", "needs": "需求", "pitch": "推荐", "quote": "报价",
            "objection": "异议", "close": "成交", "after_sale": "售后"}


def _stage_path(stages: list[str]) -> str:
    path = [s for i, s in enumerate(stages) if i == 0 or s != stages[i - 1]]
    return " → ".join(STAGE_ZH[s] for s in path)


def summarise(chats, analyses, suggestions) -> str:
    lines = []
    funnels = Counter(a["funnel"] for a in analyses)
    flags = Counter(f for a in analyses for m in a["messages"] for f in m["flags"])
    lines.append(f"{len(analyses)} chats · funnel {dict(funnels)} · flags {dict(flags) or 'none'}")
    for chat, analysis, suggestion in zip(chats, analyses, suggestions):
        stages = [m["stage"] for m in analysis["messages"]]
        lines.append("")
        lines.append(f"■ {chat.chat_id} ({chat.industry or '?'}, {len(chat.messages)} messages) — funnel: "
                     f"{analysis['funnel']} ({analysis['funnel_scores'][analysis['funnel']]:.2f})")
        lines.append(f"  stages: {_stage_path(stages)}")
        for message, result in zip(chat.messages, analysis["messages"]):
            for ev in result["evidence"]:
                lines.append(f"  ⚠ {ev['flag']} ({result['flag_scores'][ev['flag']]:.2f}, {ev['source']}) "
                             f"{message.sender} {message.id}: “{message.text[:60]}” → [{ev['text']}]")
        if suggestion and suggestion.get("suggestions"):
            best = suggestion["suggestions"][0]
            lines.append(f"  next reply ({suggestion['stage']}): {best['sop_id']} “{best['text'][:70]}”")
    return "\n".join(lines)


def run_demo(pipeline, demo_dir: Path = DEMO_DIR) -> str:
    records = read_chats(demo_dir / "chats.jsonl")
    chats = [r.item for r in records if r.ok]
    analyses = pipeline.analyze(chats)
    suggestions = [None] * len(chats)
    sop_path = demo_dir / "sop.jsonl"
    if sop_path.exists():
        suggestions = pipeline.suggest(chats, read_sop(sop_path), k=3)
    return summarise(chats, analyses, suggestions)

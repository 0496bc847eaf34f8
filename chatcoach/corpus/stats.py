"""Counts of a labelled corpus, for the datasheet and the corpus targets."""

from __future__ import annotations

from collections import Counter

from chatcoach.contract import Chat


def corpus_stats(chats: list[Chat]) -> dict:
    messages = [m for c in chats for m in c.messages]
    lengths = [len(c.messages) for c in chats]
    extra = lambda m, key: (m.model_extra or {}).get(key)  # noqa: E731
    return {
        "chats": len(chats),
        "messages": len(messages),
        "messages_per_chat": {"min": min(lengths, default=0), "max": max(lengths, default=0),
                              "mean": round(sum(lengths) / max(len(lengths), 1), 1)},
        "sources": dict(Counter(c.source or "unmarked" for c in chats)),
        "industries": dict(Counter(c.industry or "?" for c in chats).most_common()),
        "companies": len({(c.model_extra or {}).get("company") for c in chats} - {None}),
        "reps": len({c.rep_id for c in chats} - {None}),
        "funnel": dict(Counter(c.funnel for c in chats).most_common()),
        "stages": dict(Counter(m.stage for m in messages).most_common()),
        "flags": dict(Counter(f for m in messages for f in (m.flags or [])).most_common()),
        "hard_negatives": dict(Counter(extra(m, "hard_negative") for m in messages if extra(m, "hard_negative")).most_common()),
        "types": dict(Counter(m.type for m in messages).most_common()),
        "rep_messages_with_sop_id": sum(1 for m in messages if m.sop_id),
    }


def format_stats(stats: dict) -> str:
    lines = []
    for key, value in stats.items():
        if isinstance(value, dict):
            value = ", ".join(f"{k} {v}" for k, v in value.items())
        lines.append(f"{key:>26}: {value}")
    return "\n".join(lines)

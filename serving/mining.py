"""Trainer mining: the best real examples per stage, and frequent successful replies no script covers.

Example score (0–1), per excerpt around one stage of a chat that ended won or repeat with no open or
confirmed flag:
    0.4 · the analyzer's mean confidence in that stage over the excerpt (a clear example of it)
  + 0.3 · progress: 1 when the chat reached close / after-sale after the excerpt, 0.5 when it reached
          a later stage, 0 otherwise (the stage was handled well enough to move on)
  + 0.2 · engagement: the customer's share of the excerpt's messages, doubled and capped at 1
  + 0.1 · when the chat is a repeat purchase (the relationship lasted)
"""

from __future__ import annotations

from collections import Counter

import numpy as np
from sklearn.cluster import AgglomerativeClustering
from sqlalchemy import select
from sqlalchemy.orm import Session

from chatcoach.contract import STAGES
from chatcoach.serving.tables import ChatRow, FlagRow

CONTEXT_BEFORE, CONTEXT_AFTER = 1, 2
# Measured on the jewelry chats (e5 "query:" on both sides): 92 % of rep messages that paraphrase a
# script reach 0.90 cosine to it, while 40 % of rep messages that follow no script stay below 0.90
# to every script (raw e5 cosines sit high). A higher bar would call paraphrases "uncovered".
COVERED = 0.90
CLUSTER_DISTANCE = 0.10  # average-linkage cosine distance inside one candidate cluster
MIN_TEXT_CHARS = 8
MAX_MESSAGES = 5000


def _flagged(session: Session, chat_ids: list[str]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for f in session.scalars(select(FlagRow).where(FlagRow.chat_id.in_(chat_ids), FlagRow.status != "dismissed")):
        out.setdefault(f.chat_id, set()).add(f.message_id)
    return out


def successful_chats(session: Session, query, outcome: str | None, industry: str | None) -> list[ChatRow]:
    query = query.where(ChatRow.funnel.in_([outcome] if outcome else ["won", "repeat"]))
    if industry:
        query = query.where(ChatRow.industry == industry)
    return list(session.scalars(query.where(ChatRow.analysis.is_not(None)).order_by(ChatRow.last_ts.desc())))


def _segments(stages: list[str], stage: str) -> list[tuple[int, int]]:
    out, start = [], None
    for i, s in enumerate([*stages, None]):
        if s == stage and start is None:
            start = i
        elif s != stage and start is not None:
            out.append((start, i))
            start = None
    return out


def examples(session: Session, query, stage: str | None, outcome: str | None, industry: str | None, limit: int) -> list[dict]:
    rows = successful_chats(session, query, outcome, industry)
    flagged = _flagged(session, [r.chat_id for r in rows])
    found = []
    for row in rows:
        if flagged.get(row.chat_id):
            continue
        messages, analysed = row.chat["messages"], row.analysis["messages"]
        stages = [m["stage"] for m in analysed]
        for st in [stage] if stage else STAGES:
            best = None
            for a, b in _segments(stages, st):
                confidence = float(np.mean([analysed[i]["stage_scores"][st] for i in range(a, b)]))
                later = [STAGES.index(s) for s in stages[b:]]
                progress = 1.0 if any(s in ("close", "after_sale") for s in stages[b:]) and st not in ("close", "after_sale") \
                    else 0.5 if later and max(later) > STAGES.index(st) else 0.0
                lo, hi = max(0, a - CONTEXT_BEFORE), min(len(messages), b + CONTEXT_AFTER)
                share = sum(m["sender"] == "customer" for m in messages[a:b]) / (b - a)
                score = 0.4 * confidence + 0.3 * progress + 0.2 * min(1.0, 2 * share) + 0.1 * (row.funnel == "repeat")
                if best is None or score > best["score"]:
                    best = {"chat_id": row.chat_id, "score": round(score, 4), "stage": st, "outcome": row.funnel,
                            "industry": row.industry, "rep_id": row.rep_id,
                            "excerpt": [{"id": m["id"], "sender": m["sender"], "text": m.get("text", ""),
                                         "type": m.get("type", "text"), "stage": stages[i]}
                                        for i, m in enumerate(messages[lo:hi], lo)]}
            if best:
                found.append(best)
    found.sort(key=lambda e: -e["score"])
    return found[:limit]


def sop_candidates(session: Session, query, encoder, scripts: list, min_count: int = 2, limit: int = 50) -> list[dict]:
    """Clusters of successful rep replies that no active script covers, biggest first."""
    rows = successful_chats(session, query, None, None)
    flagged = _flagged(session, [r.chat_id for r in rows])
    texts, stages = [], []
    for row in rows:
        stage_of = {m["id"]: m["stage"] for m in row.analysis["messages"]}
        for m in row.chat["messages"]:
            text = (m.get("text") or "").strip()
            if m["sender"] == "rep" and m.get("type", "text") == "text" and len(text) >= MIN_TEXT_CHARS \
                    and m["id"] not in flagged.get(row.chat_id, set()):
                texts.append(text)
                stages.append(stage_of.get(m["id"]))
        if len(texts) >= MAX_MESSAGES:
            break
    if len(texts) < min_count:
        return []
    vectors = encoder.encode(texts, role="query")
    if scripts:
        covered = (vectors @ encoder.encode([s.text for s in scripts], role="query").T).max(axis=1) >= COVERED
        keep = np.flatnonzero(~covered)
    else:
        keep = np.arange(len(texts))
    if len(keep) < min_count:
        return []
    labels = AgglomerativeClustering(n_clusters=None, metric="cosine", linkage="average",
                                     distance_threshold=CLUSTER_DISTANCE).fit_predict(vectors[keep])
    clusters = []
    for label, count in Counter(labels).most_common():
        if count < min_count:
            break
        members = keep[labels == label]
        sims = vectors[members] @ vectors[members].T
        center = members[int(np.argmax(sims.mean(axis=1)))]
        clusters.append({"representative": texts[center], "count": int(count),
                         "stage": Counter(stages[i] for i in members).most_common(1)[0][0],
                         "examples": list(dict.fromkeys(texts[i] for i in members))[:5]})
    return clusters[:limit]

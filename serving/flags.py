"""The QA review queue: flags raised by the analyzer, kept in step with each chat's latest analysis,
and reviewers' verdicts (every one kept)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from chatcoach.contract import ROLE
from chatcoach.serving.tables import ApiKey, ChatRow, FlagReview, FlagRow

# Money leaving the channel, leaked personal data and a customer threatening to complain cost the
# company most, so they head the queue; within a severity the model's score orders it.
SEVERITY = {"side_order": 3, "privacy": 3, "complaint": 3, "insult": 2, "false_promise": 2}
CONTEXT_MESSAGES = 3  # messages shown on each side of the flagged one


def sync_flags(session: Session, row: ChatRow, analysis: dict) -> list[FlagRow]:
    """Make the chat's flag rows match its analysis; returns the flags that are new.

    Reviewed flags and flags a reviewer added are never touched; an open flag the model no
    longer raises (the chat or the model changed) leaves the queue."""
    existing = {(f.message_id, f.flag): f for f in session.scalars(select(FlagRow).where(FlagRow.chat_id == row.chat_id))}
    ts = {m["id"]: m.get("ts") for m in row.chat["messages"]}
    raised, new = set(), []
    for message in analysis["messages"]:
        for flag in message["flags"]:
            key = (message["id"], flag)
            raised.add(key)
            evidence = next((e for e in message.get("evidence", []) if e["flag"] == flag), None)
            found = existing.get(key)
            if found is not None:
                found.score, found.evidence = message["flag_scores"][flag], evidence
                continue
            found = FlagRow(chat_id=row.chat_id, message_id=message["id"], rep_id=row.rep_id, team=row.team, flag=flag,
                            score=message["flag_scores"][flag], severity=SEVERITY[flag], status="open",
                            origin=(evidence or {}).get("source", "model"), evidence=evidence,
                            message_ts=_parse_ts(ts.get(message["id"])))
            session.add(found)
            new.append(found)
    for key, flag_row in existing.items():
        if key not in raised and flag_row.status == "open" and flag_row.origin != "reviewer":
            session.delete(flag_row)
    session.flush()
    return new


def _parse_ts(value) -> datetime | None:
    from chatcoach.serving.store import utc

    return utc(datetime.fromisoformat(value) if isinstance(value, str) else value)


def queue(query: Select, status=None, flag=None, rep_id=None, since=None, min_score=None) -> Select:
    if status:
        query = query.where(FlagRow.status == status)
    if flag:
        query = query.where(FlagRow.flag == flag)
    if rep_id:
        query = query.where(FlagRow.rep_id == rep_id)
    if since:
        query = query.where(FlagRow.message_ts >= _parse_ts(since))
    if min_score is not None:
        query = query.where(FlagRow.score >= min_score)
    return query


def page(session: Session, query: Select, limit: int, offset: int) -> tuple[list[FlagRow], int]:
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = session.scalars(query.order_by(FlagRow.severity.desc(), FlagRow.score.desc(), FlagRow.id).limit(limit).offset(offset))
    return list(rows), total


def describe(session: Session, flag: FlagRow) -> dict:
    """A queue item: the flag, its evidence and the messages around it, and every review so far."""
    chat = session.get(ChatRow, flag.chat_id)
    messages = chat.chat["messages"]
    by_id = {m["id"]: m for m in (chat.analysis or {}).get("messages", [])}
    at = next((i for i, m in enumerate(messages) if m["id"] == flag.message_id), 0)
    window = messages[max(0, at - CONTEXT_MESSAGES) : at + CONTEXT_MESSAGES + 1]
    reviews = session.scalars(select(FlagReview).where(FlagReview.flag_id == flag.id).order_by(FlagReview.id))
    return {
        "id": flag.id, "chat_id": flag.chat_id, "message_id": flag.message_id, "rep_id": flag.rep_id, "team": flag.team,
        "flag": flag.flag, "score": round(flag.score, 4), "severity": flag.severity, "status": flag.status,
        "origin": flag.origin, "evidence": flag.evidence, "message_text": messages[at].get("text", "") if messages else "",
        "message_ts": flag.message_ts.isoformat() if flag.message_ts else None,
        "context": [{"id": m["id"], "sender": m["sender"], "text": m.get("text", ""), "type": m.get("type", "text"),
                     "ts": m.get("ts"), "stage": by_id.get(m["id"], {}).get("stage"),
                     "flags": by_id.get(m["id"], {}).get("flags", [])} for m in window],
        "created_at": flag.created_at.isoformat(),
        "reviews": [{"verdict": r.verdict, "comment": r.comment, "reviewer": r.reviewer,
                     "created_at": r.created_at.isoformat()} for r in reviews],
    }


def review(session: Session, flag: FlagRow, verdict: str, comment: str, key: ApiKey) -> FlagReview:
    flag.status = verdict
    entry = FlagReview(flag_id=flag.id, verdict=verdict, comment=comment, key_id=key.id, reviewer=key.name or key.prefix)
    session.add(entry)
    session.flush()
    return entry


def add_missed(session: Session, chat: ChatRow, message_id: str, flag: str, comment: str, key: ApiKey) -> FlagRow:
    """A reviewer's flag the model missed: confirmed at once, origin `reviewer`."""
    message = next((m for m in chat.chat["messages"] if m["id"] == message_id), None)
    if message is None:
        raise LookupError(f"chat {chat.chat_id} has no message {message_id!r}")
    if ROLE[flag] != message["sender"]:
        raise ValueError(f"{flag} is raised on {ROLE[flag]} messages only; {message_id} is by the {message['sender']}")
    row = session.scalar(select(FlagRow).where(FlagRow.chat_id == chat.chat_id, FlagRow.message_id == message_id, FlagRow.flag == flag))
    if row is None:
        row = FlagRow(chat_id=chat.chat_id, message_id=message_id, rep_id=chat.rep_id, team=chat.team, flag=flag, score=1.0,
                      severity=SEVERITY[flag], origin="reviewer", message_ts=_parse_ts(message.get("ts")))
        session.add(row)
        session.flush()
    row.status = "confirmed"
    session.add(FlagReview(flag_id=row.id, verdict="added", comment=comment, key_id=key.id, reviewer=key.name or key.prefix))
    session.flush()
    return row

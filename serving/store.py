"""What the API reads and writes, in one module: chats with their analyses, SOP libraries, suggestions."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from chatcoach.config import get_settings
from chatcoach.contract import Chat, SopScript
from chatcoach.models.sop_index import library_hash
from chatcoach.serving import alerts
from chatcoach.serving.deps import Caller
from chatcoach.serving.flags import sync_flags
from chatcoach.serving.tables import ChatRow, Feedback, SopLibrary, Suggestion

LABEL_FIELDS = {"stage", "flags", "sop_id"}


def unlabelled(chat: Chat) -> dict:
    data = chat.model_dump(mode="json", exclude_none=True, exclude={"funnel", "source"})
    for m in data["messages"]:
        for key in LABEL_FIELDS:
            m.pop(key, None)
    return data


def utc(value: datetime | None) -> datetime | None:
    """Times are stored and compared in UTC: SQLite keeps no offset, so mixing offsets would mis-sort."""
    if value is None or value.tzinfo is None:
        return value
    return value.astimezone(timezone.utc)


def _timestamps(chat: Chat) -> tuple[datetime | None, datetime | None]:
    ts = [utc(m.ts) for m in chat.messages if m.ts]
    return (min(ts), max(ts)) if ts else (None, None)


def save_chat(session: Session, chat: Chat, analysis: dict | None, team: str | None = None, console_url: str | None = None) -> ChatRow:
    """Insert or replace a chat by chat_id (idempotent) together with its analysis; its flags join
    the review queue and new ones raise the matching alerts."""
    row = session.get(ChatRow, chat.chat_id) or ChatRow(chat_id=chat.chat_id)
    first, last = _timestamps(chat)
    row.rep_id, row.customer_id, row.industry = chat.rep_id, chat.customer_id, chat.industry
    row.team = team if team is not None else (chat.model_extra or {}).get("team", row.team)
    row.chat, row.analysis = unlabelled(chat), analysis
    row.funnel = analysis["funnel"] if analysis else None
    row.flags = sorted({f for m in analysis["messages"] for f in m["flags"]}) if analysis else []
    row.first_ts, row.last_ts = first, last
    session.add(row)
    session.flush()
    if analysis is None:  # stored for a batch audit, which analyses it
        return row
    new_flags = sync_flags(session, row, analysis)
    alerts.enqueue(session, new_flags, console_url or get_settings().public_url)
    return row


def visible(query: Select, caller: Caller) -> Select:
    if caller.role == "rep":
        return query.where(ChatRow.rep_id == caller.rep_id)
    if caller.role in ("qa", "trainer") and caller.team is not None:
        return query.where(ChatRow.team == caller.team)
    return query


def list_chats(session: Session, caller: Caller, rep_id=None, funnel=None, flag=None, since=None, until=None,
               limit: int = 50, offset: int = 0) -> tuple[list[ChatRow], int]:
    query = visible(select(ChatRow), caller)
    if rep_id:
        query = query.where(ChatRow.rep_id == rep_id)
    if funnel:
        query = query.where(ChatRow.funnel == funnel)
    if since:
        query = query.where(ChatRow.last_ts >= utc(since))
    if until:
        query = query.where(ChatRow.first_ts <= utc(until))
    rows = list(session.scalars(query.order_by(ChatRow.last_ts.desc().nulls_last(), ChatRow.chat_id)))
    if flag:  # JSON containment differs between SQLite and Postgres; the list is short per chat
        rows = [r for r in rows if flag in (r.flags or [])]
    return rows[offset : offset + limit], len(rows)


# ------------------------------------------------------------------ SOP libraries
def add_library(session: Session, name: str, scripts: list[SopScript]) -> SopLibrary:
    latest = session.scalar(select(func.max(SopLibrary.version)).where(SopLibrary.name == name)) or 0
    row = SopLibrary(name=name, version=latest + 1, content_hash=library_hash(scripts),
                     scripts=[s.model_dump(mode="json", exclude_none=True) for s in scripts], active_for=[])
    session.add(row)
    session.flush()
    return row


def activate_library(session: Session, library: SopLibrary, team: str) -> None:
    for other in session.scalars(select(SopLibrary)):
        if team in (other.active_for or []) and other.id != library.id:
            other.active_for = [t for t in other.active_for if t != team]
    library.active_for = sorted({*(library.active_for or []), team})


def active_library(session: Session, team: str | None) -> SopLibrary | None:
    rows = list(session.scalars(select(SopLibrary).order_by(SopLibrary.id.desc())))
    for key in (team, "*"):
        for row in rows:
            if key in (row.active_for or []):
                return row
    return rows[0] if rows else None


def scripts_of(library: SopLibrary) -> list[SopScript]:
    return [SopScript.model_validate(s) for s in library.scripts]


# -------------------------------------------------------------------- suggestions
def record_suggestions(session: Session, result: dict, rep_id: str | None, library_id: int | None,
                       after_message_id: str | None = None) -> dict:
    for rank, s in enumerate(result.get("suggestions", []), 1):
        sid = uuid.uuid4().hex
        session.add(Suggestion(id=sid, chat_id=result["chat_id"], rep_id=rep_id, library_id=library_id,
                               sop_id=s["sop_id"], rank=rank, score=s["score"], text=s["text"],
                               after_message_id=after_message_id))
        s["suggestion_id"] = sid
    return result


def add_feedback(session: Session, suggestion: Suggestion, verdict: str, final_text: str | None, key_id: int) -> Feedback:
    row = Feedback(suggestion_id=suggestion.id, verdict=verdict, final_text=final_text, key_id=key_id)
    session.add(row)
    session.flush()
    return row

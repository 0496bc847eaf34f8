"""Stored chats: import (idempotent upsert), read with analysis, list with filters, append live messages."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from pydantic import Field, ValidationError

from chatcoach.contract import Chat, Flag, Funnel, Message, NulFreeModel
from chatcoach.serving import store
from chatcoach.serving.deps import AnyCaller, PipelineDep, SessionDep, Writer
from chatcoach.serving.routes.analysis import ChatsIn, answer, scoped_records
from chatcoach.serving.tables import ChatRow

router = APIRouter(prefix="/v1/chats", tags=["chats"])


class MessageIn(NulFreeModel):
    message: dict[str, Any] = Field(description="One contract §1 message, in time order after the last one.")
    k: int = Field(3, ge=1, le=20, description="How many suggestions after a customer message.")


def _visible_row(session, caller, chat_id: str) -> ChatRow:
    row = session.get(ChatRow, chat_id)
    if row is None or not caller.can_see(row.rep_id, row.team):
        raise HTTPException(404, f"no chat {chat_id}")  # not 403: do not confirm that other reps' chats exist
    return row


@router.post("", summary="Import chats: analysed and stored, idempotent by chat_id")
def import_chats(body: ChatsIn, caller: Writer, pipeline: PipelineDep, session: SessionDep) -> dict:
    records = scoped_records(body.chats, caller)
    results = pipeline.analyze_records(records)
    for r, res in zip(records, results):
        if r.ok:
            existing = session.get(ChatRow, r.item.chat_id)
            if existing is not None and not caller.can_see(existing.rep_id, existing.team):
                res.clear()
                res.update({"chat_id": r.item.chat_id, "error": "chat_id: belongs to another rep or team"})
                continue
            store.save_chat(session, r.item, res, team=caller.team if caller.role != "admin" else None)
    return answer(records, results)


@router.get("", summary="List chats you may see, newest first")
def list_chats(
    caller: AnyCaller, session: SessionDep,
    rep_id: str | None = None,
    funnel: Funnel | None = None,
    flag: Flag | None = None,
    since: datetime | None = None, until: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50, offset: Annotated[int, Query(ge=0)] = 0,
) -> dict:
    rows, total = store.list_chats(session, caller, rep_id, funnel, flag, since, until, limit, offset)
    return {"total": total, "items": [
        {"chat_id": r.chat_id, "rep_id": r.rep_id, "customer_id": r.customer_id, "industry": r.industry, "team": r.team,
         "funnel": r.funnel, "flags": r.flags, "messages": len(r.chat["messages"]),
         "last_ts": r.last_ts.isoformat() if r.last_ts else None} for r in rows]}


@router.get("/{chat_id}", summary="A stored chat with its analysis")
def get_chat(chat_id: str, caller: AnyCaller, session: SessionDep) -> dict:
    row = _visible_row(session, caller, chat_id)
    return {"chat": row.chat, "analysis": row.analysis}


@router.post("/{chat_id}/messages", summary="Append one message as it happens; its stage and flags, and suggestions after a customer message")
def append_message(chat_id: str, body: MessageIn, caller: Writer, pipeline: PipelineDep, session: SessionDep) -> dict:
    row = _visible_row(session, caller, chat_id)
    try:
        message = Message.model_validate(body.message)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"])
        raise HTTPException(422, f"chat {chat_id}: message.{field}: {err['msg']}") from None
    if any(m["id"] == message.id for m in row.chat["messages"]):
        raise HTTPException(409, f"chat {chat_id}: message id {message.id!r} already exists")
    chat = Chat.model_validate({**row.chat, "messages": [*row.chat["messages"], message.model_dump(mode="json", exclude_none=True)]})
    # Earlier messages' embeddings come from the encoder's cache: only the new one is encoded.
    [analysis] = pipeline.analyze([chat])
    store.save_chat(session, chat, analysis, team=row.team)
    result = {"chat_id": chat_id, "message": analysis["messages"][-1], "funnel": analysis["funnel"]}
    if message.sender == "customer":
        library = store.active_library(session, row.team)
        if library is not None:
            [suggested] = pipeline.suggest([chat], store.scripts_of(library), body.k, analyses=[analysis])
            result["suggestions"] = store.record_suggestions(session, suggested, row.rep_id, library.id, message.id)["suggestions"]
    return result

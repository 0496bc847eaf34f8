"""The QA review queue: list flags, review them, add the ones the model missed."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path, Query
from pydantic import Field
from sqlalchemy import select

from chatcoach.contract import Flag, NulFreeModel
from chatcoach.serving import flags as queue
from chatcoach.serving.deps import AnyCaller, Caller, Reviewer, SessionDep
from chatcoach.serving.tables import ApiKey, ChatRow, FlagRow

router = APIRouter(prefix="/v1/flags", tags=["qa"])
FlagId = Annotated[int, Path(ge=1, le=2**31 - 1)]


class ReviewIn(NulFreeModel):
    verdict: Literal["confirmed", "dismissed"]
    comment: str = Field("", max_length=2000)


class MissedFlagIn(NulFreeModel):
    chat_id: str = Field(max_length=200)
    message_id: str = Field(max_length=200)
    flag: Flag
    comment: str = Field("", max_length=2000)


def visible(caller: Caller):
    query = select(FlagRow)
    if caller.role == "rep":
        return query.where(FlagRow.rep_id == caller.rep_id)
    if caller.role in ("qa", "trainer") and caller.team is not None:
        return query.where(FlagRow.team == caller.team)
    return query


def _visible_flag(session, caller: Caller, flag_id: int) -> FlagRow:
    row = session.scalar(visible(caller).where(FlagRow.id == flag_id))
    if row is None:
        raise HTTPException(404, f"no flag {flag_id}")
    return row


@router.get("", summary="The review queue, most severe and most certain first")
def list_flags(
    caller: AnyCaller, session: SessionDep,
    status: Literal["open", "confirmed", "dismissed"] | None = "open",
    flag: Flag | None = None, rep_id: str | None = None, since: datetime | None = None,
    min_score: Annotated[float | None, Query(ge=0, le=1)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50, offset: Annotated[int, Query(ge=0)] = 0,
) -> dict:
    rows, total = queue.page(session, queue.queue(visible(caller), status, flag, rep_id, since, min_score), limit, offset)
    return {"items": [queue.describe(session, r) for r in rows], "total": total}


@router.get("/{flag_id}", summary="One flag with its context and reviews")
def get_flag(flag_id: FlagId, caller: AnyCaller, session: SessionDep) -> dict:
    return queue.describe(session, _visible_flag(session, caller, flag_id))


@router.post("/{flag_id}/review", summary="Confirm or dismiss a flag; every review is kept")
def review_flag(flag_id: FlagId, body: ReviewIn, caller: Reviewer, session: SessionDep) -> dict:
    row = _visible_flag(session, caller, flag_id)
    queue.review(session, row, body.verdict, body.comment, session.get(ApiKey, caller.key_id))
    return queue.describe(session, row)


@router.post("", status_code=201, summary="Add a flag the model missed (confirmed at once)")
def add_flag(body: MissedFlagIn, caller: Reviewer, session: SessionDep) -> dict:
    chat = session.get(ChatRow, body.chat_id)
    if chat is None or not caller.can_see(chat.rep_id, chat.team):
        raise HTTPException(404, f"no chat {body.chat_id}")
    try:
        row = queue.add_missed(session, chat, body.message_id, body.flag, body.comment, session.get(ApiKey, caller.key_id))
    except LookupError as exc:
        raise HTTPException(404, str(exc)) from None
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    return queue.describe(session, row)

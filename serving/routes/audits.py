"""Batch audits of stored chats (by range, rep or id) or of an uploaded file, with progress."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query
from pydantic import Field, model_validator
from sqlalchemy import select

from chatcoach.contract import Chat, NulFreeModel
from chatcoach.jsonl import parse_many
from chatcoach.serving import audits, store
from chatcoach.serving.deps import SessionDep, Staff
from chatcoach.serving.tables import AuditJob, ChatRow

router = APIRouter(prefix="/v1/audits", tags=["qa"])
JobId = Annotated[str, Path(max_length=40)]


class AuditIn(NulFreeModel):
    since: datetime | None = Field(None, description="Chats with a message at or after this time.")
    until: datetime | None = Field(None, description="Chats with a message at or before this time.")
    rep_ids: list[str] | None = Field(None, max_length=10_000)
    chat_ids: list[str] | None = Field(None, max_length=100_000)
    chats: list[Any] | None = Field(None, description="Audit these contract §1 chats (stored first) instead of stored ones.")
    partitions: int = Field(1, ge=1, le=1024, description="Split the job for that many workers.")

    @model_validator(mode="after")
    def _one_source(self) -> "AuditIn":
        if self.chats is not None and any(v is not None for v in (self.since, self.until, self.rep_ids, self.chat_ids)):
            raise ValueError("give either chats (an uploaded file) or filters over stored chats, not both")
        return self


def _visible_job(session, caller, job_id: str) -> AuditJob:
    job = session.get(AuditJob, job_id)
    if job is None or (caller.role != "admin" and caller.team is not None and job.team != caller.team):
        raise HTTPException(404, f"no audit {job_id}")
    return job


@router.post("", status_code=202, summary="Start an audit; an empty body audits every chat you may see")
def start_audit(body: AuditIn, caller: Staff, session: SessionDep) -> dict:
    errors = []
    if body.chats is not None:
        chat_ids = []
        for record in parse_many(body.chats, Chat):
            if not record.ok:
                errors.append(record.error.as_result())
                continue
            existing = session.get(ChatRow, record.item.chat_id)
            if existing is not None and not caller.can_see(existing.rep_id, existing.team):
                errors.append({"chat_id": record.item.chat_id, "error": "chat_id: belongs to another team"})
                continue
            store.save_chat(session, record.item, None, team=caller.team if caller.role != "admin" else None)
            chat_ids.append(record.item.chat_id)
        filters = {"uploaded": len(chat_ids)}
    else:
        filters = body.model_dump(mode="json", exclude_none=True, exclude={"chats", "partitions"})
        chat_ids = audits.select_chats(session, caller, body.since, body.until, body.rep_ids, body.chat_ids)
    job = audits.create_job(session, chat_ids, filters, team=caller.team, key_id=caller.key_id, partitions=body.partitions)
    return {"id": job.id, "status": job.status, "total": job.total, "errors": errors}


@router.get("", summary="Recent audits")
def list_audits(caller: Staff, session: SessionDep, limit: Annotated[int, Query(ge=1, le=200)] = 20) -> dict:
    query = select(AuditJob).order_by(AuditJob.created_at.desc()).limit(limit)
    if caller.role != "admin" and caller.team is not None:
        query = query.where(AuditJob.team == caller.team)
    return {"items": [audits.status(j) for j in session.scalars(query)]}


@router.get("/{job_id}", summary="An audit's status, progress, rate and ETA; a summary when done")
def get_audit(job_id: JobId, caller: Staff, session: SessionDep) -> dict:
    job = _visible_job(session, caller, job_id)
    result = audits.status(job)
    if job.status == "done":
        result["summary"] = audits.summary(session, job.id)
    return result

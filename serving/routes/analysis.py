"""Stateless analysis and reply suggestions, plus feedback on the suggestions served."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, HTTPException
from pydantic import Field, model_validator

from chatcoach.contract import Chat, NulFreeModel
from chatcoach.jsonl import ContractError, Record, parse_many
from chatcoach.serving import store
from chatcoach.serving.deps import AnyCaller, Caller, PipelineDep, SessionDep, Writer
from chatcoach.serving.tables import SopLibrary, Suggestion

router = APIRouter(prefix="/v1", tags=["analysis"])


class ChatsIn(NulFreeModel):
    chats: list[Any] = Field(description="Contract §1 chats; each is validated on its own.", min_length=1)


class SuggestIn(ChatsIn):
    library_id: int | None = Field(None, ge=1, le=2**31 - 1, description="An SOP library version; default: the one active for your team.")
    k: int = Field(5, ge=1, le=20)


class FeedbackIn(NulFreeModel):
    verdict: Literal["accepted", "edited", "rejected"]
    final_text: str | None = Field(None, description="What the rep actually sent (required for `edited`).")

    @model_validator(mode="after")
    def _edited_needs_text(self) -> "FeedbackIn":
        if self.verdict == "edited" and not (self.final_text or "").strip():
            raise ValueError("final_text is required when the verdict is 'edited'")
        return self


def scoped_records(chats: list[Any], caller: Caller) -> list[Record[Chat]]:
    """Validate each chat; a rep may only send its own chats (rep_id absent means its own)."""
    records = parse_many(chats, Chat)
    for r in records:
        if r.ok and caller.role == "rep":
            if r.item.rep_id is None:
                r.item.rep_id = caller.rep_id
            elif r.item.rep_id != caller.rep_id:
                r.item, r.error = None, ContractError(r.item.chat_id, "rep_id", "not your chat: a rep key sends only its own rep's chats", r.line)
    return records


def answer(records: list[Record], results: list[dict]) -> dict:
    if not any(r.ok for r in records):
        raise HTTPException(422, {"message": "no chat in the body meets the contract", "results": results})
    return {"results": results}


@router.post("/analyze", summary="Analyse chats without storing them")
def analyze(body: ChatsIn, caller: AnyCaller, pipeline: PipelineDep) -> dict:
    records = scoped_records(body.chats, caller)
    return answer(records, pipeline.analyze_records(records))


@router.post("/suggest", summary="Scripts for the rep's next reply, each with a suggestion_id for feedback")
def suggest(body: SuggestIn, caller: AnyCaller, pipeline: PipelineDep, session: SessionDep) -> dict:
    library = session.get(SopLibrary, body.library_id) if body.library_id else store.active_library(session, caller.team)
    if library is None:
        raise HTTPException(404, "no SOP library: upload one to /v1/sop-libraries first" if not body.library_id else f"no SOP library {body.library_id}")
    records = scoped_records(body.chats, caller)
    index = pipeline.sop_index(store.scripts_of(library))
    results = pipeline.suggest_records(records, index, body.k)
    for r, res in zip(records, results):
        if r.ok:
            store.record_suggestions(session, res, r.item.rep_id, library.id, r.item.messages[-1].id)
            res["library_id"] = library.id
    return answer(records, results)


@router.post("/suggestions/{suggestion_id}/feedback", status_code=201, summary="Accepted / edited / rejected")
def feedback(suggestion_id: str, body: FeedbackIn, caller: Writer, session: SessionDep) -> dict:
    suggestion = session.get(Suggestion, suggestion_id)
    if suggestion is None or (caller.role == "rep" and suggestion.rep_id != caller.rep_id):
        raise HTTPException(404, f"no suggestion {suggestion_id}")
    row = store.add_feedback(session, suggestion, body.verdict, body.final_text, caller.key_id)
    return {"id": row.id, "suggestion_id": suggestion_id, "verdict": row.verdict}

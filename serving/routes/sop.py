"""SOP libraries: upload (each upload a new version), list, read, activate per team."""

from __future__ import annotations

import json

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Request
from pydantic import Field
from sqlalchemy import select

from chatcoach.contract import NulFreeModel, SopScript
from chatcoach.jsonl import parse_many
from chatcoach.serving import store
from chatcoach.serving.deps import AnyCaller, Curator, SessionDep
from chatcoach.serving.tables import SopLibrary

router = APIRouter(prefix="/v1/sop-libraries", tags=["sop libraries"])
LibraryId = Annotated[int, Path(ge=1, le=2**31 - 1, description="A library version's id")]


class ActivateIn(NulFreeModel):
    team: str = Field("*", description="The team that uses this version; `*` for everyone without their own.")


def _summary(row: SopLibrary) -> dict:
    return {"id": row.id, "name": row.name, "version": row.version, "scripts": len(row.scripts),
            "content_hash": row.content_hash, "active_for": row.active_for, "created_at": row.created_at.isoformat()}


@router.post("", status_code=201, summary="Upload a library as JSONL (body) with ?name=…; a new version each time")
async def upload(request: Request, name: str, caller: Curator, session: SessionDep) -> dict:
    raw = (await request.body()).decode("utf-8", errors="replace")
    rows, errors = [], []
    for n, line in enumerate(raw.splitlines(), 1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                errors.append(f"line {n}: not valid JSON ({exc.msg})")
    records = parse_many(rows, SopScript)
    errors += [f"script {r.error.record_id or '?'}: {r.error.field}: {r.error.message}" for r in records if not r.ok]
    if errors or not records:
        raise HTTPException(422, {"message": "the library does not meet the contract (§5)", "errors": errors or ["empty library"]})
    row = store.add_library(session, name, [r.item for r in records])
    return _summary(row)


@router.get("", summary="All library versions")
def list_libraries(caller: AnyCaller, session: SessionDep) -> dict:
    return {"items": [_summary(r) for r in session.scalars(select(SopLibrary).order_by(SopLibrary.id))]}


@router.get("/{library_id}", summary="One library version with its scripts")
def get_library(library_id: LibraryId, caller: AnyCaller, session: SessionDep) -> dict:
    row = session.get(SopLibrary, library_id)
    if row is None:
        raise HTTPException(404, f"no SOP library {library_id}")
    return {**_summary(row), "items": row.scripts}


@router.post("/{library_id}/activate", summary="Make this version the one a team's suggestions use")
def activate(library_id: LibraryId, body: ActivateIn, caller: Curator, session: SessionDep) -> dict:
    row = session.get(SopLibrary, library_id)
    if row is None:
        raise HTTPException(404, f"no SOP library {library_id}")
    if caller.role != "admin" and caller.team is not None and body.team != caller.team:
        raise HTTPException(403, f"you may activate libraries for team {caller.team!r} only")
    store.activate_library(session, row, body.team)
    return _summary(row)

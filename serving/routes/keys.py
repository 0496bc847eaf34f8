"""Who am I (for the console's sign-in) and API key administration."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path
from pydantic import Field

from chatcoach.contract import NulFreeModel
from chatcoach.serving import keys
from chatcoach.serving.deps import Admin, AnyCaller, SessionDep
from chatcoach.serving.tables import ApiKey

router = APIRouter(prefix="/v1", tags=["keys"])
KeyId = Annotated[int, Path(ge=1, le=2**31 - 1)]


class KeyIn(NulFreeModel):
    role: Literal["rep", "qa", "trainer", "admin"]
    name: str = Field("", max_length=200)
    rep_id: str | None = Field(None, max_length=200, description="Required for a rep key: the rep whose chats it sees.")
    team: str | None = Field(None, max_length=200, description="Scope a qa / trainer key to one team.")


def _summary(row: ApiKey) -> dict:
    return {"id": row.id, "name": row.name, "role": row.role, "rep_id": row.rep_id, "team": row.team,
            "prefix": row.prefix, "created_at": row.created_at.isoformat(),
            "revoked_at": row.revoked_at.isoformat() if row.revoked_at else None}


@router.get("/me", summary="The calling key's role and scope")
def me(caller: AnyCaller, session: SessionDep) -> dict:
    return _summary(session.get(ApiKey, caller.key_id))


@router.get("/keys", summary="All keys (never their secrets)")
def list_keys(caller: Admin, session: SessionDep) -> dict:
    return {"items": [_summary(k) for k in keys.list_keys(session)]}


@router.post("/keys", status_code=201, summary="Create a key; the secret is in this answer and nowhere else")
def create_key(body: KeyIn, caller: Admin, session: SessionDep) -> dict:
    try:
        new = keys.create_key(session, body.role, body.name, body.rep_id, body.team)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    return {**_summary(new.row), "key": new.secret}


@router.delete("/keys/{key_id}", summary="Revoke a key")
def revoke_key(key_id: KeyId, caller: Admin, session: SessionDep) -> dict:
    if not keys.revoke_key(session, key_id):
        raise HTTPException(404, f"no active key {key_id}")
    return _summary(session.get(ApiKey, key_id))

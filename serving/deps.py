"""FastAPI dependencies: database session, pipeline, the caller's key and role checks."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from chatcoach.pipeline import Pipeline
from chatcoach.serving.keys import find_key

bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer cc_…`")


def get_session(request: Request) -> Iterator[Session]:
    with request.app.state.db.session() as session:
        yield session


def get_pipeline(request: Request) -> Pipeline:
    pipeline = request.app.state.pipeline
    if pipeline is None:
        raise HTTPException(503, "models are still loading")
    return pipeline


@dataclass(frozen=True)
class Caller:
    key_id: int
    role: str
    rep_id: str | None
    team: str | None

    def can_see(self, rep_id: str | None, team: str | None) -> bool:
        if self.role == "admin":
            return True
        if self.role == "rep":
            return rep_id is not None and rep_id == self.rep_id
        return self.team is None or team == self.team  # qa / trainer: their team, or all when unscoped


def get_caller(request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> Caller:
    if credentials is None:
        raise HTTPException(401, "missing API key (Authorization: Bearer <key>)", headers={"WWW-Authenticate": "Bearer"})
    with request.app.state.db.session() as session:
        key = find_key(session, credentials.credentials)
        if key is None:
            raise HTTPException(401, "unknown or revoked API key", headers={"WWW-Authenticate": "Bearer"})
        return Caller(key.id, key.role, key.rep_id, key.team)


def require(*roles: str):
    def check(caller: Annotated[Caller, Depends(get_caller)]) -> Caller:
        if caller.role not in roles:
            raise HTTPException(403, f"this needs one of the roles {list(roles)}; your key is {caller.role!r}")
        return caller

    return check


SessionDep = Annotated[Session, Depends(get_session)]
PipelineDep = Annotated[Pipeline, Depends(get_pipeline)]
AnyCaller = Annotated[Caller, Depends(require("rep", "qa", "trainer", "admin"))]
Staff = Annotated[Caller, Depends(require("qa", "trainer", "admin"))]
Curator = Annotated[Caller, Depends(require("trainer", "admin"))]
Admin = Annotated[Caller, Depends(require("admin"))]
Writer = Annotated[Caller, Depends(require("rep", "qa", "admin"))]
Reviewer = Annotated[Caller, Depends(require("qa", "admin"))]

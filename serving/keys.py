"""API keys: shown once, stored as SHA-256 hashes, with a role and an optional rep / team scope."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from chatcoach.serving.tables import ApiKey

ROLES = ("rep", "qa", "trainer", "admin")


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


@dataclass
class NewKey:
    row: ApiKey
    secret: str  # the only time the full key exists outside the caller's hands


def create_key(session: Session, role: str, name: str = "", rep_id: str | None = None, team: str | None = None) -> NewKey:
    if role not in ROLES:
        raise ValueError(f"role must be one of {ROLES}")
    if role == "rep" and not rep_id:
        raise ValueError("a rep key needs --rep-id: it sees only that rep's chats")
    secret = f"cc_{role}_{secrets.token_urlsafe(24)}"
    row = ApiKey(name=name, role=role, rep_id=rep_id, team=team, prefix=secret[:12], key_hash=hash_key(secret))
    session.add(row)
    session.flush()
    return NewKey(row, secret)


def find_key(session: Session, secret: str) -> ApiKey | None:
    row = session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(secret)))
    return row if row is not None and row.revoked_at is None else None


def list_keys(session: Session) -> list[ApiKey]:
    return list(session.scalars(select(ApiKey).order_by(ApiKey.id)))


def revoke_key(session: Session, key_id: int) -> bool:
    row = session.get(ApiKey, key_id)
    if row is None or row.revoked_at is not None:
        return False
    row.revoked_at = datetime.now(timezone.utc)
    return True

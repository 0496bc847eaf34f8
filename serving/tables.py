"""The service's tables (SQLAlchemy 2). Migrations live in serving/migrations (Alembic)."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    pass


class ApiKey(Base):
    __tablename__ = "api_keys"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(20))
    rep_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    team: Mapped[str | None] = mapped_column(String(200), nullable=True)
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class ChatRow(Base):
    __tablename__ = "chats"
    chat_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    rep_id: Mapped[str | None] = mapped_column(String(200), index=True, nullable=True)
    customer_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    team: Mapped[str | None] = mapped_column(String(200), index=True, nullable=True)
    industry: Mapped[str | None] = mapped_column(String(100), nullable=True)
    chat: Mapped[dict] = mapped_column(JSON)          # the contract §1 chat, unlabelled
    analysis: Mapped[dict | None] = mapped_column(JSON, nullable=True)  # contract §7
    funnel: Mapped[str | None] = mapped_column(String(20), index=True, nullable=True)
    flags: Mapped[list] = mapped_column(JSON, default=list)  # the flags raised anywhere in the chat
    first_ts: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_ts: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class SopLibrary(Base):
    __tablename__ = "sop_libraries"
    __table_args__ = (UniqueConstraint("name", "version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))
    scripts: Mapped[list] = mapped_column(JSON)
    active_for: Mapped[list] = mapped_column(JSON, default=list)  # teams that use this version
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Suggestion(Base):
    __tablename__ = "suggestions"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    chat_id: Mapped[str] = mapped_column(String(200), index=True)
    rep_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    library_id: Mapped[int | None] = mapped_column(ForeignKey("sop_libraries.id"), nullable=True)
    sop_id: Mapped[str] = mapped_column(String(200))
    rank: Mapped[int] = mapped_column(Integer)
    score: Mapped[float] = mapped_column(Float)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Feedback(Base):
    __tablename__ = "feedback"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    suggestion_id: Mapped[str] = mapped_column(ForeignKey("suggestions.id"), index=True)
    verdict: Mapped[str] = mapped_column(String(20))
    final_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    key_id: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class WecomRecord(Base):
    """Seen WeCom message ids, so re-ingesting an export is idempotent."""

    __tablename__ = "wecom_records"
    msgid: Mapped[str] = mapped_column(String(200), primary_key=True)
    chat_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    recalled: Mapped[bool] = mapped_column(Boolean, default=False)

"""The service's tables (SQLAlchemy 2). Migrations live in serving/migrations (Alembic)."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Integer, String, Text, TypeDecorator, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """A timezone-aware column that reads back aware UTC on every database. SQLite keeps no offset,
    so a plain ``DateTime(timezone=True)`` returns naive times there and aware ones on Postgres."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        return value.astimezone(timezone.utc) if value is not None and value.tzinfo is not None else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


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
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


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
    first_ts: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_ts: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class SopLibrary(Base):
    __tablename__ = "sop_libraries"
    __table_args__ = (UniqueConstraint("name", "version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))
    scripts: Mapped[list] = mapped_column(JSON)
    active_for: Mapped[list] = mapped_column(JSON, default=list)  # teams that use this version
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


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
    # the last message the suggestion answered: with it the context can be rebuilt for training
    after_message_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Feedback(Base):
    __tablename__ = "feedback"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    suggestion_id: Mapped[str] = mapped_column(ForeignKey("suggestions.id"), index=True)
    verdict: Mapped[str] = mapped_column(String(20))
    final_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    key_id: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WecomRecord(Base):
    """Seen WeCom message ids, so re-ingesting an export is idempotent."""

    __tablename__ = "wecom_records"
    msgid: Mapped[str] = mapped_column(String(200), primary_key=True)
    chat_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    recalled: Mapped[bool] = mapped_column(Boolean, default=False)


class FlagRow(Base):
    """One raised flag on one message: the QA review queue. Unique per message and flag."""

    __tablename__ = "flags"
    __table_args__ = (UniqueConstraint("chat_id", "message_id", "flag"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chat_id: Mapped[str] = mapped_column(ForeignKey("chats.chat_id", ondelete="CASCADE"), index=True)
    message_id: Mapped[str] = mapped_column(String(200))
    rep_id: Mapped[str | None] = mapped_column(String(200), index=True, nullable=True)
    team: Mapped[str | None] = mapped_column(String(200), index=True, nullable=True)
    flag: Mapped[str] = mapped_column(String(20), index=True)
    score: Mapped[float] = mapped_column(Float)
    severity: Mapped[int] = mapped_column(Integer)  # 3 high … 1 low; the queue's first sort key
    status: Mapped[str] = mapped_column(String(20), index=True, default="open")  # open | confirmed | dismissed
    origin: Mapped[str] = mapped_column(String(20), default="model")  # model | rule | reviewer
    evidence: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    message_ts: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class FlagReview(Base):
    """Every verdict is kept: who, when, what."""

    __tablename__ = "flag_reviews"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    flag_id: Mapped[int] = mapped_column(ForeignKey("flags.id", ondelete="CASCADE"), index=True)
    verdict: Mapped[str] = mapped_column(String(20))  # confirmed | dismissed | added
    comment: Mapped[str] = mapped_column(Text, default="")
    key_id: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id"), nullable=True)
    reviewer: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuditJob(Base):
    __tablename__ = "audit_jobs"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    status: Mapped[str] = mapped_column(String(20), index=True, default="queued")  # queued | running | done | failed
    filters: Mapped[dict] = mapped_column(JSON, default=dict)
    team: Mapped[str | None] = mapped_column(String(200), nullable=True)
    key_id: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id"), nullable=True)
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    messages: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    worker: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class AuditItem(Base):
    """One chat of one audit. `partition` lets several workers (or a distributed engine) split a job;
    the result is written once, in the same transaction that marks the item done."""

    __tablename__ = "audit_items"
    job_id: Mapped[str] = mapped_column(ForeignKey("audit_jobs.id", ondelete="CASCADE"), primary_key=True)
    chat_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    partition: Mapped[int] = mapped_column(Integer, default=0)
    funnel: Mapped[str | None] = mapped_column(String(20), nullable=True)
    flags: Mapped[list | None] = mapped_column(JSON, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    writes: Mapped[int] = mapped_column(Integer, default=0)  # results written: exactly 1 when done
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True, nullable=True)


class AlertRule(Base):
    __tablename__ = "alert_rules"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    flag: Mapped[str] = mapped_column(String(20))
    min_score: Mapped[float] = mapped_column(Float, default=0.0)
    team: Mapped[str | None] = mapped_column(String(200), nullable=True)  # None: every team
    url: Mapped[str] = mapped_column(Text)
    format: Mapped[str] = mapped_column(String(20))  # wecom | dingtalk | feishu
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AlertDelivery(Base):
    """An outbox: written with the flag, sent later with backoff, so analysis never waits on a webhook."""

    __tablename__ = "alert_deliveries"
    __table_args__ = (UniqueConstraint("rule_id", "flag_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("alert_rules.id", ondelete="CASCADE"), index=True)
    flag_id: Mapped[int] = mapped_column(ForeignKey("flags.id", ondelete="CASCADE"))
    payload: Mapped[dict] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20), index=True, default="pending")  # pending | sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)

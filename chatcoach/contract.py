"""Pydantic models of ``../shared/contract.md``: chats, labels, SOP scripts, suggestion cases.

Extra fields are kept (the contract allows extensions); renamed or missing
required fields are errors.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

STAGES = ("greeting", "rapport", "needs", "pitch", "quote", "objection", "close", "after_sale")
FUNNELS = ("silent", "engaged", "quoted", "won", "repeat")
FLAGS = ("insult", "side_order", "false_promise", "privacy", "complaint")
REP_FLAGS = frozenset({"insult", "side_order", "false_promise", "privacy"})
CUSTOMER_FLAGS = frozenset({"complaint"})
ROLE = {f: ("rep" if f in REP_FLAGS else "customer") for f in FLAGS}  # who a flag may be raised on
MESSAGE_TYPES = ("text", "image", "voice", "video", "file", "link", "transfer", "other")
SOURCES = ("authored", "augmented", "public", "feedback")

Stage = Literal["greeting", "rapport", "needs", "pitch", "quote", "objection", "close", "after_sale"]
Funnel = Literal["silent", "engaged", "quoted", "won", "repeat"]
Flag = Literal["insult", "side_order", "false_promise", "privacy", "complaint"]
MessageType = Literal["text", "image", "voice", "video", "file", "link", "transfer", "other"]
Sender = Literal["rep", "customer"]

# Generous bounds that stop a runaway input without rejecting any real chat.
MAX_TEXT_CHARS = 20_000
MAX_MESSAGES = 5_000


class NulFreeModel(BaseModel):
    """A model whose string fields hold no NUL character: Postgres text columns cannot store one,
    so it is refused here, as a field error, rather than failing a whole batch at the database."""

    @field_validator("*")
    @classmethod
    def _no_nul(cls, value):
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("must not contain a NUL (\\u0000) character")
        return value


class _Open(NulFreeModel):
    model_config = ConfigDict(extra="allow", str_strip_whitespace=False)


class Message(_Open):
    id: str = Field(min_length=1)
    sender: Sender
    type: MessageType = "text"  # before text: the text check depends on it
    text: str = Field(max_length=MAX_TEXT_CHARS)
    ts: datetime | None = None
    stage: Stage | None = None
    flags: list[Flag] | None = None
    sop_id: str | None = None

    @field_validator("ts")
    @classmethod
    def _needs_offset(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("timestamp needs a UTC offset, e.g. 2024-03-01T10:00:00+08:00")
        return value

    @field_validator("text")
    @classmethod
    def _text_present(cls, value: str, info: ValidationInfo) -> str:
        if info.data.get("type", "text") == "text" and not value.strip():
            raise ValueError("text may be empty only when type is not 'text'")
        return value


class Chat(_Open):
    chat_id: str = Field(min_length=1)
    industry: str | None = None
    messages: list[Message] = Field(min_length=1, max_length=MAX_MESSAGES)
    funnel: Funnel | None = None
    source: str | None = None
    rep_id: str | None = None
    customer_id: str | None = None
    rep_name: str | None = None
    customer_name: str | None = None

    @field_validator("messages")
    @classmethod
    def _unique_message_ids(cls, messages: list[Message]) -> list[Message]:
        seen: set[str] = set()
        for i, m in enumerate(messages):
            if m.id in seen:
                raise ValueError(f"messages[{i}].id {m.id!r} is repeated")
            seen.add(m.id)
        return messages

    def labelled_errors(self) -> list[str]:
        """What a labelled chat (labeled_chats/) lacks or breaks; empty when fine."""
        errors = []
        if self.funnel is None:
            errors.append("funnel: required on labelled chats")
        if self.source not in SOURCES:
            errors.append(f"source: must be one of {SOURCES}")
        for i, m in enumerate(self.messages):
            if m.stage is None:
                errors.append(f"messages[{i}].stage: required on labelled chats")
            if m.flags is None:
                errors.append(f"messages[{i}].flags: required on labelled chats")
            for flag in m.flags or ():
                allowed = REP_FLAGS if m.sender == "rep" else CUSTOMER_FLAGS
                if flag not in allowed:
                    errors.append(f"messages[{i}].flags: {flag} cannot be on a {m.sender} message")
        if self.funnel == "silent" and any(m.sender == "customer" for m in self.messages):
            errors.append("funnel: silent, but the customer speaks")
        return errors


class SopScript(_Open):
    id: str = Field(min_length=1)
    stage: Stage
    scenario: str = Field(min_length=1)
    text: str = Field(min_length=1, max_length=MAX_TEXT_CHARS)
    tags: list[str] = Field(default_factory=list)


class SuggestionCase(Chat):
    gold_sop_ids: list[str] = Field(min_length=1)

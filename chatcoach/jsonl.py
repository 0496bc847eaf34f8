"""One reader and writer for contract JSONL (chats, SOP scripts, suggestion cases).

A bad record never stops the file: each line becomes a :class:`Record` holding
either the parsed item or a :class:`ContractError` naming the record and field.
``-`` means stdin / stdout.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TextIO, TypeVar

from pydantic import BaseModel, ValidationError

from chatcoach.contract import Chat, SopScript, SuggestionCase

T = TypeVar("T", bound=BaseModel)


@dataclass
class ContractError:
    """Where a record breaks the contract: the record's id (when readable), the field and why."""

    record_id: str | None
    field: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"chat {self.record_id}" if self.record_id is not None else f"line {self.line}"
        return f"{where}: {self.field}: {self.message}"

    def as_result(self) -> dict[str, Any]:
        """The contract §7 stand-in for a chat that could not be processed."""
        return {"chat_id": self.record_id, "error": f"{self.field}: {self.message}"}


@dataclass
class Record(Generic[T]):
    line: int
    item: T | None = None
    error: ContractError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def _field_path(loc: tuple) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "(record)"


def _record_id(raw: Any, id_field: str) -> str | None:
    if isinstance(raw, dict) and isinstance(raw.get(id_field), (str, int)) and not isinstance(raw.get(id_field), bool):
        return str(raw[id_field])
    return None


def parse_record(raw: Any, model: type[T], line: int = 0, id_field: str | None = None) -> Record[T]:
    """Validate one decoded JSON value against ``model``."""
    id_field = id_field or ("id" if model is SopScript else "chat_id")
    record_id = _record_id(raw, id_field)
    if not isinstance(raw, dict):
        return Record(line, error=ContractError(record_id, "(record)", f"expected a JSON object, got {type(raw).__name__}", line))
    try:
        return Record(line, item=model.model_validate(raw))
    except ValidationError as exc:
        first = exc.errors()[0]
        more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        return Record(line, error=ContractError(record_id, _field_path(first["loc"]), first["msg"] + more, line))


def parse_many(raws: Iterable[Any], model: type[T], id_field: str | None = None) -> list[Record[T]]:
    """Validate a sequence (a JSONL file's lines or an API body) and flag repeated ids."""
    records: list[Record[T]] = []
    seen: set[str] = set()
    id_field = id_field or ("id" if model is SopScript else "chat_id")
    for n, raw in enumerate(raws, 1):
        record = raw if isinstance(raw, Record) else parse_record(raw, model, n, id_field)
        if record.ok:
            key = str(getattr(record.item, id_field))
            if key in seen:
                record = Record(record.line, error=ContractError(key, id_field, "repeated: this id already appears earlier", record.line))
            seen.add(key)
        records.append(record)
    return records


def _open_text(path: str | Path) -> TextIO:
    return sys.stdin if str(path) == "-" else open(path, encoding="utf-8")


def read_jsonl(path: str | Path, model: type[T], id_field: str | None = None) -> list[Record[T]]:
    """Read a JSONL file (or stdin for ``-``) into records; blank lines are skipped."""
    def decoded() -> Iterator[Any]:
        with _open_text(path) as fh:
            for n, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as exc:
                    yield Record(n, error=ContractError(None, "(json)", f"not valid JSON ({exc.msg})", n))

    records = []
    for n, raw in enumerate(decoded(), 1):
        records.append(raw if isinstance(raw, Record) else parse_record(raw, model, n, id_field))
    return parse_many(records, model, id_field)


def read_chats(path: str | Path) -> list[Record[Chat]]:
    return read_jsonl(path, Chat)


def read_sop(path: str | Path) -> list[SopScript]:
    """An SOP library must be whole to be used: any bad script is an error naming it."""
    records = read_jsonl(path, SopScript)
    errors = [str(r.error).replace("chat ", "script ", 1) for r in records if not r.ok]
    if errors:
        raise ValueError(f"{path}: {len(errors)} invalid script(s): " + "; ".join(errors[:5]))
    return [r.item for r in records]


def read_cases(path: str | Path) -> list[Record[SuggestionCase]]:
    return read_jsonl(path, SuggestionCase)


def dump(item: BaseModel | dict) -> dict:
    if isinstance(item, BaseModel):
        return item.model_dump(mode="json", exclude_none=True)
    return item


def write_jsonl(path: str | Path, items: Iterable[BaseModel | dict]) -> int:
    """Write items one per line (UTF-8, unescaped Chinese); returns how many."""
    out = sys.stdout if str(path) == "-" else open(path, "w", encoding="utf-8")
    count = 0
    try:
        for item in items:
            out.write(json.dumps(dump(item), ensure_ascii=False) + "\n")
            count += 1
        out.flush()
    finally:
        if out is not sys.stdout:
            out.close()
    return count

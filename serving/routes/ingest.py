"""Bulk ingestion: WeCom 会话存档 exports and CSV files become stored, analysed chats."""

from __future__ import annotations

import json

from fastapi import APIRouter, HTTPException, Request
from pydantic import ValidationError

from chatcoach.contract import Chat
from chatcoach.serving import store
from chatcoach.serving.deps import PipelineDep, SessionDep, Staff
from chatcoach.serving.ingest import IngestReport, group_by_chat, parse_csv, parse_wecom, wecom_chat_id
from chatcoach.serving.routes.analysis import answer, scoped_records
from chatcoach.serving.tables import ChatRow, WecomRecord

router = APIRouter(prefix="/v1/ingest", tags=["ingestion"])


async def _records(request: Request) -> list:
    raw = (await request.body()).decode("utf-8", errors="replace")
    if "json" in request.headers.get("content-type", "") and "ndjson" not in request.headers.get("content-type", ""):
        try:
            body = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise HTTPException(422, f"body is not JSON ({exc.msg})") from None
        if not isinstance(body, dict) or not isinstance(body.get("records"), list):
            raise HTTPException(422, 'a JSON body must be {"records": [...]}')
        return body["records"]
    records = []
    for n, line in enumerate(raw.splitlines(), 1):
        if line.strip():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                records.append({"_bad_line": n})
    return records


@router.post("/wecom", summary="Import decrypted WeCom archive records (NDJSON or {\"records\": [...]}); idempotent by msgid")
async def ingest_wecom(request: Request, caller: Staff, pipeline: PipelineDep, session: SessionDep) -> dict:
    report = IngestReport()
    messages, recalls = parse_wecom(await _records(request), report)
    fresh = []
    for m in messages:
        if session.get(WecomRecord, m.msgid) is not None:
            report.duplicates += 1
        else:
            fresh.append(m)
            session.add(WecomRecord(msgid=m.msgid, chat_id=wecom_chat_id(*m.chat_key)))
    session.flush()
    changed: dict[str, dict] = {}
    for (employee, external), new in group_by_chat(fresh).items():
        chat_id = wecom_chat_id(employee, external)
        row = session.get(ChatRow, chat_id)
        chat = dict(row.chat) if row else {"chat_id": chat_id, "rep_id": employee, "customer_id": external}
        by_id = {m["id"]: m for m in chat.get("messages", [])}
        by_id.update({m["id"]: m for m in new})
        chat["messages"] = sorted(by_id.values(), key=lambda m: m.get("ts", ""))
        changed[chat_id] = chat
        report.imported += len(new)
    for pre in recalls:
        seen = session.get(WecomRecord, pre)
        if seen is None or seen.recalled:
            continue
        seen.recalled = True
        row = session.get(ChatRow, seen.chat_id)
        chat = changed.get(seen.chat_id) or (dict(row.chat) if row else None)
        if chat is not None:  # QA wants the recalled text: keep it, marked
            chat["messages"] = [{**m, "recalled": True} if m["id"] == pre else m for m in chat["messages"]]
            changed[seen.chat_id] = chat
            report.recalled += 1
    chats = []
    for chat_id, data in changed.items():
        try:
            chats.append(Chat.model_validate(data))
        except ValidationError as exc:
            report.errors.append({"chat_id": chat_id, "field": ".".join(map(str, exc.errors()[0]["loc"])), "error": exc.errors()[0]["msg"]})
    for chat, analysis in zip(chats, pipeline.analyze(chats)):
        row = session.get(ChatRow, chat.chat_id)
        store.save_chat(session, chat, analysis, team=row.team if row else caller.team)
    return {**report.as_dict(), "chats": sorted(changed)}


@router.post("/csv", summary="Import a CSV: chat_id, message_id, sender, text [, ts, type, rep_id, customer_id, industry, customer_name, rep_name]")
async def ingest_csv(request: Request, caller: Staff, pipeline: PipelineDep, session: SessionDep) -> dict:
    chats, errors = parse_csv((await request.body()).decode("utf-8-sig", errors="replace"))
    if errors:
        raise HTTPException(422, {"message": "the CSV lacks required columns", "errors": errors})
    records = scoped_records(chats, caller)
    results = pipeline.analyze_records(records)
    for r, res in zip(records, results):
        if r.ok:
            store.save_chat(session, r.item, res, team=caller.team)
    return answer(records, results)

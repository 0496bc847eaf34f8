"""Turn WeCom 会话存档 records (decrypted, one JSON object each) and CSV rows into contract chats.

WeCom record fields: ``msgid``, ``action`` (send / recall / switch), ``from``,
``tolist``, ``roomid`` (empty for one-to-one), ``msgtime`` (ms since epoch) and
``msgtype`` with its payload under the key of the same name. External contacts'
ids start with ``wo`` / ``wm``; the other party is the employee (the rep).
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

CHINA = timezone(timedelta(hours=8))
EXTERNAL_PREFIXES = ("wo", "wm")
# WeCom msgtype → contract message type
TYPE_MAP = {
    "text": "text", "markdown": "text", "image": "image", "emotion": "image", "voice": "voice", "video": "video",
    "file": "file", "link": "link", "weapp": "link", "news": "link", "redpacket": "transfer",
    "external_redpacket": "transfer", "card": "other", "location": "other", "chatrecord": "other",
    "mixed": "text", "meeting_voice_call": "voice", "voip_doc_share": "file",
}
CSV_COLUMNS = ("chat_id", "message_id", "sender", "text", "ts", "type", "rep_id", "customer_id", "industry", "customer_name", "rep_name")


@dataclass
class IngestReport:
    imported: int = 0
    duplicates: int = 0
    skipped_group: int = 0
    skipped_other: int = 0
    recalled: int = 0
    errors: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in ("imported", "duplicates", "skipped_group", "skipped_other", "recalled", "errors")}


def _payload_text(msgtype: str, payload: dict) -> str:
    if msgtype == "text":
        return str(payload.get("content", ""))
    if msgtype in ("link", "news"):
        return " ".join(str(x) for x in (payload.get("title"), payload.get("description"), payload.get("link_url")) if x)
    if msgtype == "weapp":
        return " ".join(str(x) for x in (payload.get("title"), payload.get("displayname")) if x)
    if msgtype == "file":
        return str(payload.get("filename", ""))
    if msgtype in ("redpacket", "external_redpacket"):
        amount = payload.get("totalamount")
        money = f" ¥{int(amount) / 100:.2f}" if isinstance(amount, (int, float)) or str(amount).isdigit() else ""
        return f"[红包]{money} {payload.get('wish', '')}".strip()
    if msgtype == "card":
        return f"[名片] {payload.get('corpname', '')}".strip()
    if msgtype == "location":
        return f"[位置] {payload.get('address') or payload.get('title') or ''}".strip()
    if msgtype == "voice":
        return str(payload.get("text", ""))  # a transcription, when the archive carries one
    return ""


def is_external(user_id: str) -> bool:
    return user_id.startswith(EXTERNAL_PREFIXES)


@dataclass
class WecomMessage:
    msgid: str
    chat_key: tuple[str, str]  # (employee, external contact)
    message: dict


def parse_wecom(records: list[dict], report: IngestReport) -> tuple[list[WecomMessage], list[str]]:
    """One-to-one messages, and the msgids that recall earlier ones. Problems go into the report."""
    messages, recalls = [], []
    for n, rec in enumerate(records, 1):
        msgid = rec.get("msgid") if isinstance(rec, dict) else None
        if not isinstance(msgid, str) or not msgid:
            report.errors.append({"record": n, "msgid": None, "field": "msgid", "error": "missing or not a string"})
            continue
        action = rec.get("action", "send")
        if action == "switch":
            report.skipped_other += 1
            continue
        if rec.get("roomid"):
            report.skipped_group += 1
            continue
        msgtype = rec.get("msgtype")
        if action == "recall" or msgtype == "revoke":
            pre = (rec.get("revoke") or {}).get("pre_msgid")
            if not pre:
                report.errors.append({"record": n, "msgid": msgid, "field": "revoke.pre_msgid", "error": "missing"})
            else:
                recalls.append(pre)
            continue
        sender, tolist = rec.get("from"), rec.get("tolist")
        if not isinstance(sender, str) or not isinstance(tolist, list) or len(tolist) != 1:
            report.errors.append({"record": n, "msgid": msgid, "field": "from/tolist", "error": "a one-to-one record needs from and one recipient"})
            continue
        other = str(tolist[0])
        if is_external(sender) == is_external(other):
            report.skipped_other += 1  # two colleagues, or two external contacts: not a sales chat
            continue
        if msgtype not in TYPE_MAP:
            report.errors.append({"record": n, "msgid": msgid, "field": "msgtype", "error": f"unknown msgtype {msgtype!r}"})
            continue
        try:
            ts = datetime.fromtimestamp(int(rec["msgtime"]) / 1000, tz=CHINA)
        except (KeyError, TypeError, ValueError, OverflowError):
            report.errors.append({"record": n, "msgid": msgid, "field": "msgtime", "error": "missing or not milliseconds"})
            continue
        payload = rec.get(msgtype) if isinstance(rec.get(msgtype), dict) else {}
        text = _payload_text(msgtype, payload)
        kind = TYPE_MAP[msgtype]
        if kind == "text" and not text.strip():
            report.errors.append({"record": n, "msgid": msgid, "field": f"{msgtype}.content", "error": "empty text"})
            continue
        employee, external = (other, sender) if is_external(sender) else (sender, other)
        messages.append(WecomMessage(msgid, (employee, external), {
            "id": msgid, "sender": "customer" if is_external(sender) else "rep", "text": text,
            "ts": ts.isoformat(), "type": kind, "wecom_msgtype": msgtype,
        }))
    return messages, recalls


def wecom_chat_id(employee: str, external: str) -> str:
    return f"wecom-{employee}-{external}"


def group_by_chat(messages: list[WecomMessage]) -> dict[tuple[str, str], list[dict]]:
    chats: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for m in messages:
        chats[m.chat_key].append(m.message)
    return chats


def parse_csv(text: str) -> tuple[list[dict], list[dict]]:
    """Rows (columns CSV_COLUMNS; chat_id, message_id, sender, text required) → contract chats, errors."""
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in ("chat_id", "message_id", "sender", "text") if c not in (reader.fieldnames or [])]
    if missing:
        return [], [{"row": 1, "field": ",".join(missing), "error": "required column missing"}]
    chats: dict[str, dict] = {}
    for n, row in enumerate(reader, 2):
        chat = chats.setdefault(row["chat_id"], {"chat_id": row["chat_id"], "messages": []})
        for key in ("rep_id", "customer_id", "industry", "customer_name", "rep_name"):
            if row.get(key):
                chat.setdefault(key, row[key])
        message = {"id": row["message_id"], "sender": row["sender"], "text": row["text"] or ""}
        if row.get("ts"):
            message["ts"] = row["ts"]
        if row.get("type"):
            message["type"] = row["type"]
        chat["messages"].append(message)
    return list(chats.values()), []

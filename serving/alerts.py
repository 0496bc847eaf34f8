"""Alerts: rules (flag, minimum score, team) that post new flags to group-robot webhooks.

Deliveries go through an outbox table written in the same transaction as the flag, and a
dispatcher sends them later with exponential backoff, so analysis never waits on a webhook
and a restart loses nothing."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from chatcoach.serving.tables import AlertDelivery, AlertRule, ChatRow, FlagRow

log = logging.getLogger(__name__)
FORMATS = ("wecom", "dingtalk", "feishu")
FLAG_NAMES = {"insult": "辱骂/贬低客户", "side_order": "私单/飞单", "false_promise": "虚假承诺",
              "privacy": "隐私泄露", "complaint": "客户投诉风险"}
MAX_ATTEMPTS = 6
BACKOFF_SECONDS = 2.0  # 2, 4, 8, 16, 32 s between attempts


def markdown(flag: FlagRow, chat: ChatRow, console_url: str) -> tuple[str, str]:
    """(title, markdown body) for one flag: rep, customer, evidence and a link to the chat."""
    evidence = (flag.evidence or {}).get("text") or next(
        (m.get("text", "") for m in chat.chat["messages"] if m["id"] == flag.message_id), "")
    title = f"ChatCoach 质检提醒：{FLAG_NAMES.get(flag.flag, flag.flag)}"
    body = "\n".join([
        f"### {title}",
        f"> 顾问：{chat.rep_id or '-'}　客户：{chat.customer_id or chat.chat.get('customer_name') or '-'}",
        f"> 证据：「{evidence}」（得分 {flag.score:.2f}）",
        f"[查看会话]({console_url.rstrip('/')}/console/#/qa/{flag.id})",
    ])
    return title, body


def payload(fmt: str, title: str, body: str) -> dict:
    """The JSON each group robot expects for a markdown message."""
    if fmt == "wecom":
        return {"msgtype": "markdown", "markdown": {"content": body}}
    if fmt == "dingtalk":
        return {"msgtype": "markdown", "markdown": {"title": title, "text": body}}
    if fmt == "feishu":
        return {"msg_type": "interactive", "card": {
            "header": {"title": {"tag": "plain_text", "content": title}},
            "elements": [{"tag": "markdown", "content": body}]}}
    raise ValueError(f"format must be one of {FORMATS}")


def enqueue(session: Session, flags: list[FlagRow], console_url: str) -> int:
    """Queue a delivery for every (rule, new flag) that matches; returns how many."""
    if not flags:
        return 0
    rules = list(session.scalars(select(AlertRule)))
    queued = 0
    for flag in flags:
        for rule in rules:
            if rule.flag == flag.flag and flag.score >= rule.min_score and rule.team in (None, flag.team):
                title, body = markdown(flag, session.get(ChatRow, flag.chat_id), console_url)
                session.add(AlertDelivery(rule_id=rule.id, flag_id=flag.id, payload=payload(rule.format, title, body)))
                queued += 1
    return queued


def _accepted(response: httpx.Response) -> bool:
    """The robots answer HTTP 200 with an error code in the body when they refuse a message."""
    if response.status_code != 200:
        return False
    try:
        data = response.json()
    except ValueError:
        return True
    code = data.get("errcode", data.get("code", data.get("StatusCode", 0))) if isinstance(data, dict) else 0
    return code in (0, None)


def dispatch(db, client: httpx.Client | None = None, now: datetime | None = None, limit: int = 50) -> int:
    """Send the deliveries that are due; returns how many were sent."""
    now = now or datetime.now(timezone.utc)
    sent = 0
    with db.session() as session:
        due = list(session.scalars(select(AlertDelivery).where(AlertDelivery.status == "pending", AlertDelivery.next_at <= now)
                                   .order_by(AlertDelivery.id).limit(limit)))
        if not due:
            return 0
        urls = {r.id: r.url for r in session.scalars(select(AlertRule).where(AlertRule.id.in_({d.rule_id for d in due})))}
        own_client = client is None
        client = client or httpx.Client(timeout=5.0)
        try:
            for delivery in due:
                delivery.attempts += 1
                try:
                    response = client.post(urls[delivery.rule_id], json=delivery.payload)
                    ok, error = _accepted(response), f"HTTP {response.status_code}: {response.text[:200]}"
                except httpx.HTTPError as exc:
                    ok, error = False, f"{type(exc).__name__}: {exc}"
                if ok:
                    delivery.status, delivery.last_error = "sent", None
                    sent += 1
                    continue
                delivery.last_error = error
                if delivery.attempts >= MAX_ATTEMPTS:
                    delivery.status = "failed"
                    log.warning("alert %s failed after %d attempts: %s", delivery.id, delivery.attempts, error)
                else:
                    delivery.next_at = now + timedelta(seconds=BACKOFF_SECONDS * 2 ** (delivery.attempts - 1))
        finally:
            if own_client:
                client.close()
    return sent

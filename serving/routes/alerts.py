"""Alert rules: which new flags are posted to which group-robot webhook."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path
from pydantic import Field, HttpUrl
from sqlalchemy import select

from chatcoach.contract import Flag, NulFreeModel
from chatcoach.serving.deps import Admin, SessionDep, Staff
from chatcoach.serving.tables import AlertDelivery, AlertRule

router = APIRouter(prefix="/v1/alert-rules", tags=["alerts"])
RuleId = Annotated[int, Path(ge=1, le=2**31 - 1)]


class AlertRuleIn(NulFreeModel):
    flag: Flag
    min_score: float = Field(0.0, ge=0, le=1)
    team: str | None = Field(None, max_length=200, description="Only flags of this team; empty for every team.")
    url: HttpUrl = Field(description="The group robot's webhook URL.")
    format: Literal["wecom", "dingtalk", "feishu"]


def _summary(session, rule: AlertRule) -> dict:
    deliveries = list(session.scalars(select(AlertDelivery).where(AlertDelivery.rule_id == rule.id)))
    counts = {s: sum(d.status == s for d in deliveries) for s in ("pending", "sent", "failed")}
    return {"id": rule.id, "flag": rule.flag, "min_score": rule.min_score, "team": rule.team, "url": rule.url,
            "format": rule.format, "created_at": rule.created_at.isoformat(), "deliveries": counts}


@router.get("", summary="Alert rules with their delivery counts")
def list_rules(caller: Staff, session: SessionDep) -> dict:
    return {"items": [_summary(session, r) for r in session.scalars(select(AlertRule).order_by(AlertRule.id))]}


@router.post("", status_code=201, summary="Add a rule")
def add_rule(body: AlertRuleIn, caller: Admin, session: SessionDep) -> dict:
    rule = AlertRule(flag=body.flag, min_score=body.min_score, team=body.team, url=str(body.url), format=body.format)
    session.add(rule)
    session.flush()
    return _summary(session, rule)


@router.delete("/{rule_id}", summary="Remove a rule (and its pending deliveries)")
def delete_rule(rule_id: RuleId, caller: Admin, session: SessionDep) -> dict:
    rule = session.get(AlertRule, rule_id)
    if rule is None:
        raise HTTPException(404, f"no alert rule {rule_id}")
    for d in session.scalars(select(AlertDelivery).where(AlertDelivery.rule_id == rule_id)):
        session.delete(d)
    session.delete(rule)
    return {"id": rule_id, "deleted": True}

"""Daily QA reports and trainer mining (examples, script candidates)."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse, Response
from sqlalchemy import select

from chatcoach.contract import Stage
from chatcoach.serving import mining, store
from chatcoach.serving.deps import Curator, PipelineDep, SessionDep, Staff
from chatcoach.serving.reports import DailyReport, to_csv
from chatcoach.serving.tables import ChatRow

router = APIRouter(prefix="/v1", tags=["reports"])


@router.get("/reports/daily", summary="Per rep: chats, funnel, flags, reply-time SLA, follow-ups, suggestion use")
def daily_report(
    request: Request, caller: Staff, session: SessionDep,
    day: Annotated[date | None, Query(alias="date", description="YYYY-MM-DD in the company's time zone; default today.")] = None,
    team: str | None = None,
    format: Literal["json", "csv"] = "json",
):
    settings = request.app.state.settings
    report = DailyReport(settings.report_timezone, settings.working_hours, settings.reply_sla_seconds)
    if caller.role != "admin" and caller.team is not None:
        team = caller.team  # a team-scoped key reports on its own team only
    day = day or datetime.now(report.tz).date()
    result = report.build(session, store.visible(select(ChatRow), caller), day, team)
    if format == "csv":
        return PlainTextResponse(to_csv(result), media_type="text/csv",
                                 headers={"Content-Disposition": f'attachment; filename="chatcoach-{day}.csv"'})
    return result


@router.get("/examples", summary="The best real examples of a stage from chats that moved forward")
def examples(
    caller: Curator, session: SessionDep,
    stage: Stage | None = None, outcome: Literal["won", "repeat"] | None = None, industry: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 20, format: Literal["json", "jsonl"] = "json",
):
    items = mining.examples(session, store.visible(select(ChatRow), caller), stage, outcome, industry, limit)
    if format == "jsonl":
        body = "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in items)
        return Response(body, media_type="application/x-ndjson",
                        headers={"Content-Disposition": 'attachment; filename="examples.jsonl"'})
    return {"items": items, "scoring": mining.__doc__.split("Example score", 1)[1].strip()}


@router.get("/sop-candidates", summary="Frequent successful rep replies that no active script covers")
def sop_candidates(
    caller: Curator, session: SessionDep, pipeline: PipelineDep,
    min_count: Annotated[int, Query(ge=2, le=1000)] = 2, limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> dict:
    library = store.active_library(session, caller.team)
    scripts = store.scripts_of(library) if library else []
    items = mining.sop_candidates(session, store.visible(select(ChatRow), caller), pipeline.base_encoder, scripts, min_count, limit)
    return {"library_id": library.id if library else None, "items": items}

"""Daily report per rep: activity, funnel, flags, reply-time SLA, follow-up cadence, suggestion use.

All times are read in the company's time zone (settings.report_timezone). Definitions:
- chats: chats with at least one message that day.
- funnel: the analyzer's funnel class of those chats; movement compares the funnel milestone the
  chat had reached before that day with the one reached by its end (engaged → quoted → won),
  read from the messages' stages.
- flags: flags on that day's messages, by type and review status.
- sla: of the customer's bursts that day that started in working hours, the share a rep answered
  within settings.reply_sla_seconds; median first response: per chat, the day's first customer
  burst to the rep's next message.
- follow-ups: chats whose last purchase-stage (close) message was 1, 3 or 7 days earlier are due a
  follow-up that day; missed when the rep wrote nothing that day.
- suggestion acceptance: of the suggestions served that day that got feedback, the share
  accepted or edited.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections import Counter, defaultdict
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from chatcoach.contract import FLAGS, FUNNELS
from chatcoach.serving.store import utc
from chatcoach.serving.tables import ChatRow, Feedback, FlagRow, Suggestion

FOLLOW_UP_DAYS = (1, 3, 7)
MILESTONES = {"quote": "quoted", "objection": "quoted", "close": "won", "after_sale": "won"}
ORDER = {"silent": 0, "engaged": 1, "quoted": 2, "won": 3, "repeat": 3}


def _ts(value) -> datetime | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=ZoneInfo("UTC"))


def milestone(messages: list[dict], stages: dict[str, str]) -> str:
    if not any(m["sender"] == "customer" for m in messages):
        return "silent"
    reached = "engaged"
    for m in messages:
        step = MILESTONES.get(stages.get(m["id"], ""))
        if step and ORDER[step] > ORDER[reached]:
            reached = step
    return reached


def _bursts(messages: list[dict]) -> list[tuple[datetime, datetime | None]]:
    """(start of each customer burst, the rep's next message time or None)."""
    out, start = [], None
    for m in messages:
        ts = _ts(m.get("ts"))
        if ts is None:
            continue
        if m["sender"] == "customer" and start is None:
            start = ts
        elif m["sender"] == "rep" and start is not None:
            out.append((start, ts))
            start = None
    if start is not None:
        out.append((start, None))
    return out


class DailyReport:
    def __init__(self, tz: str, working_hours: tuple[int, int], sla_seconds: int):
        self.tz, self.working_hours, self.sla_seconds = ZoneInfo(tz), working_hours, sla_seconds

    def build(self, session: Session, query, day: date, team: str | None) -> dict:
        start = datetime.combine(day, time(0), self.tz)
        end = start + timedelta(days=1)
        if team:
            query = query.where(ChatRow.team == team)
        rows = list(session.scalars(query.where(ChatRow.last_ts >= utc(start - timedelta(days=max(FOLLOW_UP_DAYS))),
                                                ChatRow.first_ts < utc(end))))
        per_rep: dict[str, dict] = defaultdict(self._empty)
        for row in rows:
            self._add_chat(per_rep[row.rep_id or "-"], row, start, end)
        flag_query = select(FlagRow).where(FlagRow.chat_id.in_([r.chat_id for r in rows]),
                                           FlagRow.message_ts >= utc(start), FlagRow.message_ts < utc(end))
        for f in session.scalars(flag_query):
            per_rep[f.rep_id or "-"]["flags"][f.flag][f.status] += 1
        served = session.execute(select(Suggestion.rep_id, Feedback.verdict).outerjoin(
            Feedback, Feedback.suggestion_id == Suggestion.id).where(
            Suggestion.chat_id.in_([r.chat_id for r in rows]), Suggestion.created_at >= utc(start), Suggestion.created_at < utc(end)))
        for rep_id, verdict in served:
            rep = per_rep[rep_id or "-"]
            rep["suggestions_served"] += 1
            if verdict:
                rep["_feedback"][verdict] += 1
        reps = [self._finish(rep_id, rep) for rep_id, rep in sorted(per_rep.items()) if rep["chats"] or rep["followups_due"]]
        return {"date": day.isoformat(), "team": team, "timezone": str(self.tz), "reps": reps, "totals": self._totals(reps)}

    @staticmethod
    def _empty() -> dict:
        return {"chats": 0, "funnel": Counter(), "movement": Counter(), "flags": defaultdict(Counter),
                "_waits": [], "_answered": 0, "_bursts": 0, "_first": [], "followups_due": 0, "followups_missed": 0,
                "suggestions_served": 0, "_feedback": Counter()}

    def _add_chat(self, rep: dict, row: ChatRow, start: datetime, end: datetime) -> None:
        messages = row.chat["messages"]
        stages = {m["id"]: m["stage"] for m in (row.analysis or {}).get("messages", [])}
        today = [m for m in messages if (t := _ts(m.get("ts"))) and start <= t < end]
        rep_wrote_today = any(m["sender"] == "rep" for m in today)
        closes = [_ts(m.get("ts")) for m in messages if stages.get(m["id"]) == "close" and m.get("ts") and _ts(m["ts"]) < start]
        if closes and (start.date() - max(closes).astimezone(self.tz).date()).days in FOLLOW_UP_DAYS:
            rep["followups_due"] += 1
            rep["followups_missed"] += not rep_wrote_today
        if not today:
            return
        rep["chats"] += 1
        if row.funnel:
            rep["funnel"][row.funnel] += 1
        before = milestone([m for m in messages if (t := _ts(m.get("ts"))) is None or t < start], stages)
        after = milestone([m for m in messages if (t := _ts(m.get("ts"))) is None or t < end], stages)
        if ORDER[after] > ORDER[before]:
            rep["movement"][f"{before}→{after}"] += 1
        first = True
        for burst_start, reply in _bursts(messages):
            if not start <= burst_start < end:
                continue
            wait = (reply - burst_start).total_seconds() if reply else None
            if first and wait is not None:
                rep["_first"].append(wait)
            first = False
            local = burst_start.astimezone(self.tz)
            if self.working_hours[0] <= local.hour < self.working_hours[1]:
                rep["_bursts"] += 1
                rep["_answered"] += wait is not None and wait <= self.sla_seconds

    @staticmethod
    def _finish(rep_id: str, rep: dict) -> dict:
        feedback = rep["_feedback"]
        reviewed = sum(feedback.values())
        return {
            "rep_id": rep_id, "chats": rep["chats"],
            "funnel": {f: rep["funnel"][f] for f in FUNNELS}, "movement": dict(rep["movement"]),
            "flags": {f: {s: rep["flags"][f][s] for s in ("open", "confirmed", "dismissed")} for f in FLAGS},
            "sla_5min": round(rep["_answered"] / rep["_bursts"], 3) if rep["_bursts"] else None,
            "customer_bursts_in_hours": rep["_bursts"],
            "median_first_response_s": round(statistics.median(rep["_first"]), 1) if rep["_first"] else None,
            "followups_due": rep["followups_due"], "followups_missed": rep["followups_missed"],
            "suggestions_served": rep["suggestions_served"],
            "suggestion_acceptance": round((feedback["accepted"] + feedback["edited"]) / reviewed, 3) if reviewed else None,
        }

    @staticmethod
    def _totals(reps: list[dict]) -> dict:
        def total(key):
            return sum(r[key] for r in reps)

        bursts = total("customer_bursts_in_hours")
        answered = sum(round((r["sla_5min"] or 0) * r["customer_bursts_in_hours"]) for r in reps)
        return {
            "reps": len(reps), "chats": total("chats"),
            "funnel": {f: sum(r["funnel"][f] for r in reps) for f in FUNNELS},
            "flags": {f: {s: sum(r["flags"][f][s] for r in reps) for s in ("open", "confirmed", "dismissed")} for f in FLAGS},
            "sla_5min": round(answered / bursts, 3) if bursts else None,
            "followups_due": total("followups_due"), "followups_missed": total("followups_missed"),
            "suggestions_served": total("suggestions_served"),
        }


def to_csv(report: dict) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    header = ["date", "rep_id", "chats", *[f"funnel_{f}" for f in FUNNELS],
              *[f"{f}_{s}" for f in FLAGS for s in ("open", "confirmed", "dismissed")],
              "sla_5min", "median_first_response_s", "followups_due", "followups_missed",
              "suggestions_served", "suggestion_acceptance"]
    writer.writerow(header)
    for r in report["reps"]:
        writer.writerow([report["date"], r["rep_id"], r["chats"], *[r["funnel"][f] for f in FUNNELS],
                         *[r["flags"][f][s] for f in FLAGS for s in ("open", "confirmed", "dismissed")],
                         r["sla_5min"], r["median_first_response_s"], r["followups_due"], r["followups_missed"],
                         r["suggestions_served"], r["suggestion_acceptance"]])
    return out.getvalue()

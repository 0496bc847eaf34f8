"""Batch audits: analyse every chat in a range (or an uploaded file) and refresh the review queue.

A job is a list of items (one per chat) in the database. Workers take undone items in
batches, analyse them outside any transaction, then write each result and mark its item done
in one transaction with a conditional update (`WHERE done_at IS NULL`). So a worker killed at
any point (even `kill -9`) loses at most the batch in flight, which the next worker redoes, and
no result is written twice. Items carry a `partition` (seq mod n): several workers, or the tasks
of a distributed engine, can each take one partition of the same job; writes stay idempotent.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timezone

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from chatcoach.contract import Chat
from chatcoach.serving import store
from chatcoach.serving.deps import Caller
from chatcoach.serving.tables import AuditItem, AuditJob, ChatRow

log = logging.getLogger(__name__)
ACTIVE = ("queued", "running")


def now() -> datetime:
    return datetime.now(timezone.utc)


def select_chats(session: Session, caller: Caller | None, since=None, until=None, rep_ids=None, chat_ids=None) -> list[str]:
    """The stored chats an audit covers (all visible ones when no filter is given)."""
    query = select(ChatRow.chat_id)
    if caller is not None:
        query = store.visible(query, caller)
    if since:
        query = query.where(ChatRow.last_ts >= store.utc(since))
    if until:
        query = query.where(ChatRow.first_ts <= store.utc(until))
    if rep_ids:
        query = query.where(ChatRow.rep_id.in_(rep_ids))
    if chat_ids:
        query = query.where(ChatRow.chat_id.in_(chat_ids))
    return list(session.scalars(query.order_by(ChatRow.chat_id)))


def create_job(session: Session, chat_ids: list[str], filters: dict, team: str | None = None,
               key_id: int | None = None, partitions: int = 1) -> AuditJob:
    job = AuditJob(id=uuid.uuid4().hex, status="queued" if chat_ids else "done", filters=filters, team=team,
                   key_id=key_id, total=len(chat_ids), done=0, finished_at=None if chat_ids else now())
    session.add(job)
    session.flush()
    session.add_all(AuditItem(job_id=job.id, chat_id=c, seq=i, partition=i % partitions) for i, c in enumerate(chat_ids))
    session.flush()
    return job


def status(job: AuditJob) -> dict:
    started, finished = job.started_at, job.finished_at
    elapsed = ((finished or now()) - started).total_seconds() if started else 0.0
    rate = job.done / elapsed if elapsed > 0 else 0.0
    eta = (job.total - job.done) / rate if rate > 0 and job.status in ACTIVE else None
    return {"id": job.id, "status": job.status, "done": job.done, "total": job.total, "messages": job.messages,
            "rate": round(rate, 2), "eta_seconds": round(eta, 1) if eta is not None else None, "error": job.error,
            "filters": job.filters, "created_at": job.created_at.isoformat(),
            "started_at": started.isoformat() if started else None,
            "finished_at": finished.isoformat() if finished else None}


def summary(session: Session, job_id: str) -> dict:
    """Funnel classes and flags over a finished job's chats."""
    funnels: dict[str, int] = {}
    flags: dict[str, int] = {}
    errors = []
    for item in session.scalars(select(AuditItem).where(AuditItem.job_id == job_id)):
        if item.error:
            errors.append({"chat_id": item.chat_id, "error": item.error})
        if item.funnel:
            funnels[item.funnel] = funnels.get(item.funnel, 0) + 1
        for f in item.flags or []:
            flags[f] = flags.get(f, 0) + 1
    return {"funnel": funnels, "flagged_messages": flags, "errors": errors}


class AuditWorker:
    """Works audit jobs from the database, one batch at a time."""

    def __init__(self, db, pipeline, name: str | None = None, batch_size: int = 16,
                 partition: tuple[int, int] | None = None, console_url: str | None = None):
        self.db, self.pipeline = db, pipeline
        self.name = name or f"{socket.gethostname()}:{threading.get_ident()}"
        self.batch_size = batch_size
        self.partition = partition  # (index, count) or None for every partition
        self.console_url = console_url

    def _undone(self, job_id: str):
        query = select(AuditItem).where(AuditItem.job_id == job_id, AuditItem.done_at.is_(None))
        if self.partition is not None:
            query = query.where(AuditItem.partition % self.partition[1] == self.partition[0])
        return query

    def next_job(self) -> str | None:
        with self.db.session() as session:
            for job in session.scalars(select(AuditJob).where(AuditJob.status.in_(ACTIVE)).order_by(AuditJob.created_at)):
                if session.scalar(self._undone(job.id).limit(1)) is not None:
                    return job.id
                self._finish(session, job)  # every item done: a worker died between the last batch and the finish
        return None

    def run_batch(self, job_id: str) -> int:
        """Analyse and write one batch; returns how many items it wrote (0: nothing left here)."""
        with self.db.session() as session:
            job = session.get(AuditJob, job_id)
            if job.status == "queued":
                job.status, job.started_at = "running", now()
            job.worker, job.heartbeat_at = self.name, now()
            items = list(session.scalars(self._undone(job_id).order_by(AuditItem.seq).limit(self.batch_size)))
            rows = {r.chat_id: r for r in session.scalars(select(ChatRow).where(ChatRow.chat_id.in_([i.chat_id for i in items])))}
            chats = {i.chat_id: Chat.model_validate(rows[i.chat_id].chat) for i in items if i.chat_id in rows}
            teams = {c: rows[c].team for c in chats}
        if not items:
            return 0
        analyses = dict(zip(chats, self.pipeline.analyze(list(chats.values())))) if chats else {}
        written = 0
        with self.db.session() as session:
            for item in items:
                analysis = analyses.get(item.chat_id)
                values = {"done_at": now(), "writes": AuditItem.writes + 1}
                if analysis is None:
                    values["error"] = "the chat is no longer stored"
                else:
                    values |= {"funnel": analysis["funnel"],
                               "flags": [f for m in analysis["messages"] for f in m["flags"]], "error": None}
                claimed = session.execute(update(AuditItem).where(
                    AuditItem.job_id == job_id, AuditItem.chat_id == item.chat_id, AuditItem.done_at.is_(None)).values(**values))
                if claimed.rowcount != 1:  # another worker wrote it meanwhile: keep theirs
                    continue
                if analysis is not None:
                    store.save_chat(session, chats[item.chat_id], analysis, team=teams[item.chat_id], console_url=self.console_url)
                written += 1
            job = session.get(AuditJob, job_id)
            job.done = session.scalar(select(func.count()).select_from(AuditItem).where(
                AuditItem.job_id == job_id, AuditItem.done_at.is_not(None)))
            job.messages += sum(len(chats[c].messages) for c in analyses)
            job.heartbeat_at = now()
            if job.done >= job.total:
                self._finish(session, job)
        return written

    @staticmethod
    def _finish(session: Session, job: AuditJob) -> None:
        if job.status in ACTIVE:
            job.status, job.finished_at = "done", now()
            job.started_at = job.started_at or job.finished_at

    def work(self, job_id: str, progress: Callable[[AuditJob], None] | None = None,
             stop: threading.Event | None = None) -> None:
        try:
            while not (stop and stop.is_set()) and self.run_batch(job_id):
                if progress:
                    with self.db.session() as session:
                        progress(session.get(AuditJob, job_id))
        except Exception as exc:  # noqa: BLE001 - the job records the failure; the worker goes on
            log.exception("audit %s failed", job_id)
            with self.db.session() as session:
                job = session.get(AuditJob, job_id)
                job.status, job.error, job.finished_at = "failed", f"{type(exc).__name__}: {exc}", now()

    def run_forever(self, stop: threading.Event, idle_seconds: float = 0.5, alerts: bool = True) -> None:
        """The worker loop: audits first, then due alert deliveries; sleeps when there is nothing."""
        from chatcoach.serving.alerts import dispatch

        while not stop.is_set():
            busy = False
            job_id = self.next_job()
            if job_id:
                self.work(job_id, stop=stop)
                busy = True
            if alerts:
                try:
                    busy = dispatch(self.db) > 0 or busy
                except Exception:  # noqa: BLE001 - a webhook problem never stops the audits
                    log.exception("alert dispatch failed")
            if not busy:
                stop.wait(idle_seconds)


def start_background_worker(db, pipeline, batch_size: int, console_url: str) -> tuple[threading.Thread, threading.Event]:
    stop = threading.Event()
    worker = AuditWorker(db, pipeline, name=f"{socket.gethostname()}:api", batch_size=batch_size, console_url=console_url)
    thread = threading.Thread(target=worker.run_forever, args=(stop,), name="chatcoach-worker", daemon=True)
    thread.start()
    return thread, stop


def wait_for(db, job_id: str, timeout: float = 600.0, poll: float = 0.2) -> dict:
    """Poll a job until it is done or failed (for the CLI's --wait and tests)."""
    deadline = time.monotonic() + timeout
    while True:
        with db.session() as session:
            job = session.get(AuditJob, job_id)
            if job.status not in ACTIVE or time.monotonic() > deadline:
                return status(job)
        time.sleep(poll)

"""A batch audit killed with SIGKILL mid-run resumes in a new worker: nothing lost, nothing written twice."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

from chatcoach.config import get_settings
from chatcoach.jsonl import read_chats
from chatcoach.serving import audits, store
from chatcoach.serving.db import Database, migrate
from chatcoach.serving.tables import AuditItem, AuditJob, ChatRow, FlagRow

CHATCOACH = Path(sys.executable).parent / "chatcoach"


def corpus_chats(n):
    chats = []
    for path in sorted((get_settings().labeled_chats_dir / "chats").glob("*.jsonl")):
        chats += [r.item for r in read_chats(path) if r.ok]
    return chats[:n]


def start_worker(url):
    env = {**os.environ, "CHATCOACH_DATABASE_URL": url, "CHATCOACH_AUDIT_BATCH_SIZE": "2", "HF_HUB_OFFLINE": "1"}
    return subprocess.Popen([str(CHATCOACH), "worker", "--until-idle"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def progress(db, job_id):
    with db.session() as s:
        return s.get(AuditJob, job_id).done


def test_killed_audit_resumes_exactly(tmp_path):
    url = f"sqlite:///{tmp_path / 'audit.db'}"
    migrate(url)
    db = Database(url)
    chats = corpus_chats(40)
    with db.session() as s:
        for chat in chats:
            store.save_chat(s, chat, None)
        job_id = audits.create_job(s, [c.chat_id for c in chats], {"test": True}).id

    first = start_worker(url)
    deadline = time.monotonic() + 180
    while progress(db, job_id) < 6:
        assert first.poll() is None, first.stderr.read()
        assert time.monotonic() < deadline, "the worker made no progress"
        time.sleep(0.05)
    first.send_signal(signal.SIGKILL)
    first.wait()
    killed_at = progress(db, job_id)
    assert killed_at < len(chats), "the job finished before the kill: make it longer"

    second = start_worker(url)
    assert second.wait(timeout=300) == 0, second.stderr.read()

    with db.session() as s:
        job = s.get(AuditJob, job_id)
        items = list(s.scalars(select(AuditItem).where(AuditItem.job_id == job_id)))
        assert job.status == "done" and job.done == job.total == len(chats)
        assert all(i.done_at is not None and i.error is None for i in items)
        assert [i.writes for i in items] == [1] * len(chats)  # written exactly once, across both workers
        # every chat's stored analysis, the item's result and the review queue agree, with no duplicates
        for item in items:
            row = s.get(ChatRow, item.chat_id)
            assert row.analysis is not None and item.funnel == row.funnel
            raised = sorted(f for m in row.analysis["messages"] for f in m["flags"])
            queued = s.scalars(select(FlagRow.flag).where(FlagRow.chat_id == item.chat_id))
            assert sorted(item.flags) == raised == sorted(queued)
        assert s.scalar(select(func.count()).select_from(FlagRow)) == sum(len(i.flags) for i in items)


def test_status_of_a_running_job_read_back_from_sqlite(tmp_path):
    """SQLite returns stored times without their offset; progress of a running job must still compute."""
    from chatcoach.serving import audits
    from chatcoach.serving.db import Database, migrate
    from chatcoach.serving.tables import AuditJob

    url = f"sqlite:///{tmp_path / 'jobs.db'}"
    migrate(url)
    db = Database(url)
    with db.session() as session:
        job = audits.create_job(session, ["c1", "c2"], filters={})
        job.status, job.started_at, job.done = "running", audits.now(), 1
        job_id = job.id
    with db.session() as session:
        status = audits.status(session.get(AuditJob, job_id))
    assert status["status"] == "running" and status["done"] == 1 and status["total"] == 2
    assert status["started_at"].endswith("+00:00") and status["rate"] >= 0

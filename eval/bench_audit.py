"""Batch audit throughput against `chatcoach analyze` on the same chats, in the same run.

    .venv/bin/python eval/bench_audit.py [--messages 20000] [--database-url sqlite:///…]

The audit reads chats from the database, analyses them with the same pipeline and writes
analyses, audit items and the review queue back; the target is audit ≥ 0.9 × analyze, i.e. the
database is not the bottleneck. Texts get a per-round suffix so no embedding comes from a cache.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time

from chatcoach.pipeline import Pipeline
from chatcoach.serving import audits, store
from chatcoach.serving.db import Database, migrate

from bench_analyze import chats_with  # noqa: E402 - sibling script


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=20000)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()
    pipeline = Pipeline.load()
    chats = chats_with(args.messages)
    n = sum(len(c.messages) for c in chats)
    pipeline.analyze(chats[:3])  # warm-up
    memory_loaded = peak_mb()

    pipeline.encoder.clear_cache()
    start = time.perf_counter()
    for i in range(0, len(chats), args.batch_size):  # what `chatcoach analyze` does: chunks of 32
        pipeline.analyze(chats[i : i + args.batch_size])
    analyze_s = time.perf_counter() - start
    memory_analyze = peak_mb()

    url = args.database_url or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    migrate(url)
    db = Database(url)
    with db.session() as session:
        for chat in chats:
            store.save_chat(session, chat, None)
        job_id = audits.create_job(session, [c.chat_id for c in chats], {"bench": True}).id
    pipeline.encoder.clear_cache()
    start = time.perf_counter()
    audits.AuditWorker(db, pipeline, batch_size=args.batch_size).work(job_id)
    audit_s = time.perf_counter() - start
    with db.session() as session:
        status = audits.status(session.get(audits.AuditJob, job_id))
    assert status["status"] == "done" and status["done"] == len(chats), status

    print(f"\n{len(chats)} chats, {n} messages, database {url.split(':')[0]}, batches of {args.batch_size}\n")
    print("| what | seconds | messages/s | × analyze |")
    print("|---|---|---|---|")
    print(f"| chatcoach analyze (baseline) | {analyze_s:.1f} | {n / analyze_s:.0f} | 1.00 |")
    print(f"| batch audit (read, analyse, write) | {audit_s:.1f} | {n / audit_s:.0f} | {analyze_s / audit_s:.2f} |")
    print(f"\npeak resident memory: {memory_loaded:.0f} MB after loading, {memory_analyze:.0f} MB after analyze, "
          f"{peak_mb():.0f} MB after the audit")


if __name__ == "__main__":
    main()

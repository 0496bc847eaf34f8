"""The service under load on loopback: requests/s and p50 / p95 latency per scenario (locust).

    .venv/bin/python eval/bench_service.py [--workers 2] [--users 4] [--seconds 30]

Starts `chatcoach serve --workers N` on a fresh SQLite file, loads the demo SOP library, then runs
locust headless once per scenario: live message append (stage + flags, and suggestions after a
customer message), stateless /v1/suggest, and /v1/analyze on 20-message chats (messages/s).
Runs twice: as `serve` configures itself (the cores shared among the workers' torch threads) and,
as the baseline, with every worker's torch on all cores.
"""

from __future__ import annotations

import argparse
import csv
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from chatcoach.cli import available_cores

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


SCENARIOS = (("append", "append message"), ("suggest", "suggest"), ("analyze", "analyze 20 messages"))


def run_scenarios(workers: int, threads: int | None, users: int, seconds: int) -> list[tuple[str, dict]]:
    """Serve on a fresh SQLite file with ``threads`` torch threads per worker (None: serve's own
    choice) and run every scenario against it; locust's summary row per scenario."""
    tmp = Path(tempfile.mkdtemp())
    env = {**os.environ, "CHATCOACH_DATABASE_URL": f"sqlite:///{tmp / 'bench.db'}", "HF_HUB_OFFLINE": "1",
           "CHATCOACH_INPROCESS_WORKER": "false"}
    env.pop("OMP_NUM_THREADS", None)
    if threads is not None:
        env["OMP_NUM_THREADS"] = str(threads)
    key = subprocess.run([BIN / "chatcoach", "keys", "create", "--role", "admin", "--name", "bench"], env=env,
                         capture_output=True, text=True, check=True).stdout.split(": ")[-1].strip()
    port = free_port()
    server = subprocess.Popen([BIN / "chatcoach", "serve", "--port", str(port), "--workers", str(workers)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    rows = []
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                if httpx.get(f"{base}/readyz").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("the server did not become ready")
            time.sleep(0.5)
        headers = {"Authorization": f"Bearer {key}"}
        library = httpx.post(f"{base}/v1/sop-libraries?name=demo", headers=headers,
                             content=(ROOT / "chatcoach" / "demo_data" / "sop.jsonl").read_bytes()).json()
        httpx.post(f"{base}/v1/sop-libraries/{library['id']}/activate", headers=headers, json={"team": "*"})
        for scenario, name in SCENARIOS:
            prefix = tmp / scenario
            subprocess.run([BIN / "locust", "-f", str(ROOT / "eval" / "locustfile.py"), "--headless", "-u", str(users),
                            "-r", str(users), "-t", f"{seconds}s", "--host", base, "--csv", str(prefix),
                            "--only-summary"], env={**env, "BENCH_SCENARIO": scenario, "BENCH_KEY": key},
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # exit 1 on any failure: counted below
            with open(f"{prefix}_stats.csv", encoding="utf-8") as fh:
                stats = next(r for r in csv.DictReader(fh) if r["Name"] == name)
            rows.append((name, stats))
            with open(f"{prefix}_failures.csv", encoding="utf-8") as fh:
                for failure in csv.DictReader(fh):
                    print(f"{scenario}: {failure['Occurrences']}× {failure['Error'][:200]}", file=sys.stderr)
    finally:
        server.terminate()
        server.wait(timeout=30)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--users", type=int, default=4)
    parser.add_argument("--seconds", type=int, default=30)
    args = parser.parse_args()
    cores = available_cores()
    served = run_scenarios(args.workers, None, args.users, args.seconds)
    baseline = run_scenarios(args.workers, cores, args.users, args.seconds)
    print(f"\n{args.workers} server workers, {args.users} concurrent users, {args.seconds} s per scenario, loopback, SQLite;"
          f" baseline: every worker's torch on all {cores} cores (torch's default)\n")
    print("| scenario | requests | failures | requests/s | p50 ms | p95 ms | messages/s | baseline requests/s | ratio |")
    print("|---|---|---|---|---|---|---|---|---|")
    for (name, s), (_, b) in zip(served, baseline):
        rps, base_rps = float(s["Requests/s"]), float(b["Requests/s"])
        per = 20 if name.startswith("analyze") else 1
        print(f"| {name} | {s['Request Count']} | {int(s['Failure Count']) + int(b['Failure Count'])} | {rps:.1f} | {s['50%']} |"
              f" {s['95%']} | {rps * per:.0f} | {base_rps:.1f} | {rps / base_rps:.2f}× |")


if __name__ == "__main__":
    main()

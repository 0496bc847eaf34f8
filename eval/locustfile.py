"""Load for eval/bench_service.py: live message append, /v1/suggest and /v1/analyze.

The scenario comes from BENCH_SCENARIO (append | suggest | analyze), the key from BENCH_KEY.
Every text carries a counter so no embedding is served from the encoder's cache.
"""

from __future__ import annotations

import itertools
import json
import os
from pathlib import Path

from locust import HttpUser, constant, task

CHATS = [json.loads(line) for line in (Path(__file__).resolve().parents[1] / "chatcoach" / "demo_data" / "chats.jsonl")
         .read_text(encoding="utf-8").splitlines() if line.strip()]
TEXTS = [(m["sender"], m["text"]) for c in CHATS for m in c["messages"] if m.get("text")]
COUNTER = itertools.count()
SCENARIO = os.environ.get("BENCH_SCENARIO", "append")
HEADERS = {"Authorization": f"Bearer {os.environ.get('BENCH_KEY', '')}"}


def fresh_chat(n_messages: int) -> dict:
    i = next(COUNTER)
    messages = [{"id": f"m{j}", "sender": s, "text": f"{t} {i}-{j}"}
                for j, (s, t) in enumerate(TEXTS[(i * 7) % len(TEXTS):][:n_messages])]
    return {"chat_id": f"bench-{os.getpid()}-{i}", "rep_id": "bench-rep", "customer_name": "王姐", "messages": messages}


class ChatUser(HttpUser):
    wait_time = constant(0)

    def on_start(self):
        self.chat = None
        self.position = 0

    def _new_stored_chat(self):
        self.chat = fresh_chat(6)
        self.client.post("/v1/chats", json={"chats": [self.chat]}, headers=HEADERS, name="setup: import chat")
        self.position = len(self.chat["messages"])

    @task
    def request(self):
        if SCENARIO == "append":
            if self.chat is None or self.position >= 30:
                self._new_stored_chat()
            sender = "customer" if self.position % 2 == 0 else "rep"
            text = f"{TEXTS[(self.position * 13) % len(TEXTS)][1]} {next(COUNTER)}"
            self.client.post(f"/v1/chats/{self.chat['chat_id']}/messages", headers=HEADERS, name="append message",
                             json={"message": {"id": f"live{self.position}", "sender": sender, "text": text}, "k": 3})
            self.position += 1
        elif SCENARIO == "suggest":
            self.client.post("/v1/suggest", json={"chats": [fresh_chat(8)], "k": 3}, headers=HEADERS, name="suggest")
        else:
            self.client.post("/v1/analyze", json={"chats": [fresh_chat(20)]}, headers=HEADERS, name="analyze 20 messages")

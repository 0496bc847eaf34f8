"""What the heads see of a message: its embedding, its neighbours' and its place in the chat.

Every message is encoded once; stage, flag and funnel heads all read the same
rows, so analysing a chat costs one encoder pass over its messages.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from chatcoach.contract import MESSAGE_TYPES, Chat, Message
from chatcoach.models.normalize import read_chat

TYPE_TAGS = {"image": "[图片]", "voice": "[语音]", "video": "[视频]", "file": "[文件]",
             "link": "[链接]", "transfer": "[转账]", "other": "[其他]"}
DAY = 86_400.0


def message_text(message: Message) -> str:
    """The text a model reads: non-text messages carry their type, since a 转账 says more than its caption."""
    tag = TYPE_TAGS.get(message.type, "")
    text = message.text.strip()
    return f"{tag} {text}".strip() if tag and not text.startswith(tag) else (text or tag)


def _gaps(messages: list[Message]) -> list[float | None]:
    gaps: list[float | None] = [None]
    for prev, cur in zip(messages, messages[1:]):
        gaps.append((cur.ts - prev.ts).total_seconds() if cur.ts and prev.ts else None)
    return gaps


def position_features(chat: Chat) -> np.ndarray:
    """Sender, type, position, time gaps and a little history, per message."""
    msgs = chat.messages
    n = len(msgs)
    gaps = _gaps(msgs)
    rows = []
    customer_seen = transfer_seen = link_seen = False
    for i, m in enumerate(msgs):
        gap = gaps[i]
        prev_sender = msgs[i - 1].sender if i else None
        row = [
            1.0 if m.sender == "rep" else 0.0,
            *[1.0 if m.type == t else 0.0 for t in MESSAGE_TYPES],
            i / max(n - 1, 1), 1.0 if i == 0 else 0.0, 1.0 if i == n - 1 else 0.0,
            math.log1p(max(gap, 0.0)) / 15.0 if gap is not None else 0.0,
            1.0 if gap is not None and gap > 3 * DAY else 0.0,
            1.0 if gap is not None and gap > 14 * DAY else 0.0,
            1.0 if gap is None and i else 0.0,
            1.0 if prev_sender == m.sender else 0.0,
            1.0 if customer_seen else 0.0, 1.0 if transfer_seen else 0.0, 1.0 if link_seen else 0.0,
            math.log1p(len(m.text)) / 6.0,
        ]
        rows.append(row)
        customer_seen |= m.sender == "customer"
        transfer_seen |= m.type == "transfer"
        link_seen |= m.type == "link"
    return np.asarray(rows, dtype=np.float32)


@dataclass
class ChatFeatures:
    chat: Chat
    embeddings: np.ndarray  # [n, d], one per message
    positions: np.ndarray   # [n, f]

    def context_matrix(self, before: int = 2, after: int = 1) -> np.ndarray:
        """Per message: own embedding, mean of the previous `before`, the next `after`, position features."""
        emb = self.embeddings
        n, d = emb.shape
        prev = np.zeros((n, d), dtype=np.float32)
        nxt = np.zeros((n, d), dtype=np.float32)
        for i in range(n):
            if i:
                prev[i] = emb[max(0, i - before) : i].mean(axis=0)
            if i + 1 < n:
                nxt[i] = emb[i + 1 : i + 1 + after].mean(axis=0)
        return np.hstack([emb, prev, nxt, self.positions])


def featurise(encoder, chats: list[Chat], progress: bool = False) -> list[ChatFeatures]:
    """Encode every message of every chat, as the models read it (``read_chat``), in one batched pass."""
    chats = [read_chat(c) for c in chats]
    texts = [message_text(m) for c in chats for m in c.messages]
    vectors = encoder.encode(texts, role="query", progress=progress) if texts else np.zeros((0, encoder.dim), np.float32)
    out, start = [], 0
    for chat in chats:
        n = len(chat.messages)
        out.append(ChatFeatures(chat, vectors[start : start + n], position_features(chat)))
        start += n
    return out

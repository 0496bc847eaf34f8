"""A small bidirectional GRU over a chat's messages: stage posteriors that read the whole chat.

The logistic head (models/stage.py) sees a message with its nearest neighbours, and the
transition smoothing only knows which stage tends to follow which. The GRU reads the chat's
message embeddings and position features in both directions, so a "好的" deep in a negotiation
or a question after a long after-sale stretch is read in its place. It is trained on the same
embeddings as the head; dropout and a little input noise keep it from trusting the tuned
encoder's training-set embeddings too much. Its posteriors are averaged with the smoothed head's.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from chatcoach.models.features import ChatFeatures


class ChatGRU(nn.Module):
    def __init__(self, n_inputs: int, n_labels: int, hidden: int, dropout: float):
        super().__init__()
        self.project = nn.Sequential(nn.Dropout(dropout), nn.Linear(n_inputs, hidden), nn.GELU(), nn.Dropout(dropout))
        self.gru = nn.GRU(hidden, hidden // 2, batch_first=True, bidirectional=True)
        self.out = nn.Linear(2 * hidden, n_labels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.project(x)
        context, _ = self.gru(z)
        return self.out(torch.cat([z, context], dim=-1))


def _inputs(feat: ChatFeatures) -> np.ndarray:
    return np.hstack([feat.embeddings, feat.positions]).astype(np.float32)


class SequenceTagger:
    """Fit on chats' features and per-message label indices; predicts [n_messages, n_labels] per chat."""

    def __init__(self, n_labels: int, hidden: int = 256, dropout: float = 0.3, noise: float = 0.05,
                 epochs: int = 30, batch_size: int = 16, lr: float = 1e-3, seed: int = 0):
        self.n_labels = n_labels
        self.hidden, self.dropout, self.noise = hidden, dropout, noise
        self.epochs, self.batch_size, self.lr, self.seed = epochs, batch_size, lr, seed

    def _batch(self, rows: list[np.ndarray], labels: list[np.ndarray] | None = None):
        longest = max(len(r) for r in rows)
        x = torch.zeros(len(rows), longest, rows[0].shape[1])
        y = torch.full((len(rows), longest), -100, dtype=torch.long)  # -100: padding, ignored by the loss
        for i, r in enumerate(rows):
            x[i, : len(r)] = torch.from_numpy(r)
            if labels is not None:
                y[i, : len(r)] = torch.from_numpy(labels[i])
        return x, y

    def fit(self, feats: list[ChatFeatures], labels: list[np.ndarray]) -> "SequenceTagger":
        torch.manual_seed(self.seed)
        rng = np.random.default_rng(self.seed)
        rows = [_inputs(f) for f in feats]
        self.model = ChatGRU(rows[0].shape[1], self.n_labels, self.hidden, self.dropout)
        optimiser = torch.optim.AdamW(self.model.parameters(), lr=self.lr, weight_decay=1e-2)
        self.model.train()
        for _ in range(self.epochs):
            order = rng.permutation(len(rows))
            for start in range(0, len(order), self.batch_size):
                batch = order[start : start + self.batch_size]
                x, y = self._batch([rows[i] for i in batch], [labels[i] for i in batch])
                x = x + self.noise * torch.randn_like(x)
                loss = nn.functional.cross_entropy(self.model(x).reshape(-1, self.n_labels), y.reshape(-1), ignore_index=-100)
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
        self.model.eval()
        return self

    def predict_proba(self, feats: list[ChatFeatures]) -> list[np.ndarray]:
        with torch.no_grad():
            return [torch.softmax(self.model(torch.from_numpy(_inputs(f))[None])[0], dim=-1).numpy() for f in feats]

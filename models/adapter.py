"""A query-side linear adapter: a light bi-encoder fine-tune that is small enough to commit.

The e5 encoder stays frozen (its 118M parameters would have to be rebuilt at setup); a 384×384
map W, starting at the identity, is learned so that a conversation's embedding, mapped by W,
lands nearest its gold script among all scripts of the same library (a softmax over the library,
temperature τ), with a pull back towards the identity so that unseen libraries still look like
e5 to it. The scripts' side is not touched, so a new library needs no retraining.
"""

from __future__ import annotations

import numpy as np
import torch


class QueryAdapter:
    def __init__(self, weight: np.ndarray | None = None):
        self.weight = weight

    def __call__(self, vectors: np.ndarray) -> np.ndarray:
        if self.weight is None:
            return vectors
        mapped = vectors @ self.weight
        return mapped / np.maximum(np.linalg.norm(mapped, axis=-1, keepdims=True), 1e-12)

    @classmethod
    def fit(cls, queries: np.ndarray, libraries: list[np.ndarray], gold: np.ndarray, epochs: int = 60,
            temperature: float = 0.05, identity_pull: float = 1.0, lr: float = 2e-3, seed: int = 0) -> "QueryAdapter":
        """queries[i] should retrieve row gold[i] of libraries[i] (the library's script vectors)."""
        torch.manual_seed(seed)
        dim = queries.shape[1]
        W = torch.nn.Parameter(torch.eye(dim))
        opt = torch.optim.Adam([W], lr=lr)
        q = torch.from_numpy(queries.astype(np.float32))
        # group cases by library so each step scores a query against its own library only
        groups: dict[int, list[int]] = {}
        for i, lib in enumerate(libraries):
            groups.setdefault(id(lib), []).append(i)
        batches = [(torch.from_numpy(libraries[idx[0]].astype(np.float32)), torch.tensor(idx), torch.tensor(gold[idx]))
                   for idx in groups.values()]
        eye = torch.eye(dim)
        for _ in range(epochs):
            opt.zero_grad()
            loss = identity_pull * ((W - eye) ** 2).sum()
            for docs, idx, target in batches:
                mapped = torch.nn.functional.normalize(q[idx] @ W, dim=-1)
                loss = loss + torch.nn.functional.cross_entropy(mapped @ docs.T / temperature, target, reduction="sum") / len(q)
            loss.backward()
            opt.step()
        return cls(W.detach().numpy().copy())

"""What both encoder fine-tunes share: a seeded e5 body with its word embeddings frozen, AdamW
with linear warm-up and decay, a progress bar, and an atomic save with a checksummed manifest.

The 250k-row word-embedding table is 80 % of e5-small's weights. Freezing it makes a step
several times cheaper on CPU, keeps the vocabulary the training chats never use where e5 put
it, and lets every tuned model borrow the base encoder's table at load time
(``Encoder(share_embeddings_with=…)``): one copy of it in memory, however many models.
"""

from __future__ import annotations

import hashlib
import json
import random
import shutil
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from chatcoach.models.e5_convert import CONVERTER_VERSION, MANIFEST, directory_checksums, is_valid


def files_hash(paths: list[Path]) -> str:
    """What a tuned model was learned from, as a short digest of its training files."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:16]


def is_current(model_dir: Path, data_hash: str) -> bool:
    """A complete, uncorrupted build, tuned on exactly the current training data."""
    if not is_valid(model_dir):
        return False
    return json.loads((Path(model_dir) / MANIFEST).read_text()).get("data_hash") == data_hash


def is_usable(model_dir: Path, data_hash: str, rebuild_stale: bool) -> bool:
    """Current, or (``rebuild_stale=False``, as when serving) any complete, uncorrupted build."""
    return is_current(model_dir, data_hash) or (not rebuild_stale and is_valid(model_dir))


def embed(model, texts: list[str]) -> torch.Tensor:
    """Unit-length sentence embeddings with gradients (the e5 prefix is the caller's)."""
    return torch.nn.functional.normalize(model(model.tokenize(texts))["sentence_embedding"], dim=-1)


class Tuner:
    """One fine-tuning run: ``for batch in tuner.batches(items): tuner.step(loss_of(batch))``, then ``save``."""

    def __init__(self, base_dir: Path, steps_per_epoch: int, epochs: int, lr: float, seed: int = 0,
                 max_seq_length: int = 128, extra_modules: tuple[torch.nn.Module, ...] = (), head_lr: float = 2e-3,
                 description: str = "fine-tuning"):
        from sentence_transformers import SentenceTransformer

        random.seed(seed)
        np.random.seed(seed)
        torch.manual_seed(seed)
        self.base_dir, self.epochs, self.seed = Path(base_dir), epochs, seed
        self.model = SentenceTransformer(str(base_dir), device="cpu", local_files_only=True)
        self.model.max_seq_length = max_seq_length
        self.model.train()
        for param in self.model[0].auto_model.embeddings.parameters():
            param.requires_grad = False
        self.body = [p for p in self.model.parameters() if p.requires_grad]
        heads = [p for m in extra_modules for p in m.parameters()]
        groups = [{"params": self.body, "lr": lr}] + ([{"params": heads, "lr": head_lr}] if heads else [])
        self.optimizer = torch.optim.AdamW(groups, weight_decay=0.01)
        steps = max(1, epochs * steps_per_epoch)
        warmup = max(1, steps // 10)
        self.schedule = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, lambda s: min(1.0, (s + 1) / warmup) * max(0.0, (steps - s) / steps))
        self.clipped = self.body + heads
        self.bar = tqdm(total=steps, desc=description, unit="step")

    def batches(self, n_items: int, batch_size: int):
        """Index batches over ``n_items``, reshuffled (seeded) every epoch."""
        order = list(range(n_items))
        for _ in range(self.epochs):
            random.shuffle(order)
            for start in range(0, n_items, batch_size):
                yield order[start : start + batch_size]

    def step(self, loss: torch.Tensor) -> None:
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.clipped, 1.0)
        self.optimizer.step()
        self.schedule.step()
        self.optimizer.zero_grad()
        self.bar.update(1)
        self.bar.set_postfix(loss=f"{loss.item():.3f}")

    def save(self, out_dir: Path, meta: dict) -> Path:
        """Write the tuned body next to ``out_dir`` and move it into place only when complete."""
        self.bar.close()
        self.model.eval()
        out_dir = Path(out_dir)
        tmp = out_dir.with_name(out_dir.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        self.model.save(str(tmp))
        manifest = {"converter_version": CONVERTER_VERSION, "finetuned_from": str(self.base_dir),
                    "epochs": self.epochs, "seed": self.seed, **meta, "files": directory_checksums(tmp)}
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1))
        shutil.rmtree(out_dir, ignore_errors=True)
        tmp.rename(out_dir)
        return out_dir

"""Fine-tune e5 for the analyzer: one body, a stage head and a flag head (SetFit's idea, trained jointly).

Every training message is read as the analyzer reads it (``message_text``, the "query: "
role); the loss is cross-entropy over the eight stages plus a weighted binary cross-entropy
per flag (flags are rare: positives are up-weighted, at most 20×). Each time a message is drawn,
it is read as written or, at even odds, as its chat's style variant (``training/style.py``), so
the body learns the words and not one corpus's emoji and punctuation habits. Only the body is kept:
the scikit-learn heads of ``training/analyzer.py`` are then fitted on its embeddings, with
context features, calibration and thresholds as before.

    chatcoach build-encoder    # builds this model when it is missing or the training chats changed
"""

from __future__ import annotations

import logging
import random
from pathlib import Path

import torch

from chatcoach.config import Settings, get_settings
from chatcoach.contract import FLAGS, STAGES, Chat
from chatcoach.models.features import message_text
from chatcoach.models.normalize import read_chat
from chatcoach.training import style
from chatcoach.training.encoder_tuning import Tuner, embed, files_hash, is_usable

log = logging.getLogger(__name__)
SCALE = 10.0  # unit-length embeddings times this are the heads' input, so logits can be confident


def finetune(base_dir: Path, chats: list[Chat], out_dir: Path, epochs: int = 2, batch_size: int = 32, lr: float = 4e-5,
             seed: int = 0, max_seq_length: int = 64, meta: dict | None = None) -> Path:
    chats = [read_chat(c) for c in chats]
    messages = [m for chat in chats for m in chat.messages]
    texts = ["query: " + message_text(m) for m in messages]
    restyled = ["query: " + message_text(m) for c in chats for m in style.style_variant(c, seed).messages]
    draw = random.Random(seed)
    stages = torch.tensor([STAGES.index(m.stage) for m in messages])
    flags = torch.tensor([[f in (m.flags or []) for f in FLAGS] for m in messages], dtype=torch.float32)
    share = flags.mean(0).clamp(min=1e-3)
    pos_weight = ((1 - share) / share).clamp(max=20.0)
    torch.manual_seed(seed)  # the heads' initial weights
    stage_head, flag_head = torch.nn.Linear(384, len(STAGES)), torch.nn.Linear(384, len(FLAGS))
    tuner = Tuner(base_dir, -(-len(texts) // batch_size), epochs, lr, seed, max_seq_length,
                  extra_modules=(stage_head, flag_head), description="fine-tuning the analyzer encoder")
    for batch in tuner.batches(len(texts), batch_size):
        vectors = SCALE * embed(tuner.model, [restyled[i] if draw.random() < 0.5 else texts[i] for i in batch])
        loss = torch.nn.functional.cross_entropy(stage_head(vectors), stages[batch]) + \
            torch.nn.functional.binary_cross_entropy_with_logits(flag_head(vectors), flags[batch], pos_weight=pos_weight)
        tuner.step(loss)
    return tuner.save(out_dir, {"messages": len(texts), **(meta or {})})


def training_data_hash(settings: Settings) -> str:
    root = Path(settings.labeled_chats_dir)
    # the style recipe is part of what the encoder learned from: a new one rebuilds it
    return files_hash([root / "splits.json", *sorted((root / "chats").glob("*.jsonl"))]) + f"-style{style.VERSION}"


def ensure_analyzer_encoder(settings: Settings | None = None, rebuild_stale: bool = True) -> Path:
    """Build the analyzer encoder unless a valid one, tuned on the current training chats, exists.

    With ``rebuild_stale=False`` (serving) any valid build is used; only a missing or corrupt one is rebuilt."""
    from chatcoach.training.datasets import Corpus

    settings = settings or get_settings()
    target = settings.analyzer_encoder_dir
    data_hash = training_data_hash(settings)
    if is_usable(target, data_hash, rebuild_stale):
        return target
    chats = Corpus.load(settings.labeled_chats_dir).split("train")
    log.info("fine-tuning the analyzer encoder on %d training chats (≈ 21–24 min on 2 cores, once)", len(chats))
    return finetune(settings.encoder_dir, chats, target, meta={"data_hash": data_hash})

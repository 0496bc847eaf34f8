"""Labelled chats and suggestion cases from labeled_chats/, by split."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from chatcoach.config import get_settings
from chatcoach.contract import Chat, SopScript, SuggestionCase
from chatcoach.jsonl import read_jsonl, read_sop

SPLITS = ("train", "dev", "test", "unseen")


def _valid(records, path) -> list:
    bad = [str(r.error) for r in records if not r.ok]
    if bad:
        raise ValueError(f"{path}: {len(bad)} record(s) break the contract, first: {bad[0]}")
    return [r.item for r in records]


@dataclass
class Corpus:
    root: Path
    chats: dict[str, Chat]
    splits: dict

    @classmethod
    def load(cls, root: Path | None = None, include_feedback: bool = False) -> "Corpus":
        root = Path(root or get_settings().labeled_chats_dir)
        chats: dict[str, Chat] = {}
        paths = sorted((root / "chats").glob("*.jsonl"))
        if include_feedback and (root / "feedback" / "chats.jsonl").exists():
            paths.append(root / "feedback" / "chats.jsonl")  # written by `chatcoach export-feedback`
        for path in paths:
            for chat in _valid(read_jsonl(path, Chat), path):
                chats[chat.chat_id] = chat
        splits = json.loads((root / "splits.json").read_text(encoding="utf-8"))
        return cls(root, chats, splits)

    def split(self, name: str) -> list[Chat]:
        ids = self.splits[name]
        chats = [self.chats[i] for i in ids if i in self.chats]
        if name == "train":  # augmented and reviewed-feedback chats only ever train
            chats += [c for c in self.chats.values() if c.source in ("augmented", "feedback")]
        return chats

    def cases(self, name: str) -> list[SuggestionCase]:
        path = self.root / "cases" / f"{name}.jsonl"
        return _valid(read_jsonl(path, SuggestionCase), path)

    def query_cases(self) -> list[SuggestionCase]:
        """Excerpts written against one script each (``queries/<industry>.jsonl``, contract §6).

        More (conversation → script) pairs for the suggestion encoder, covering every script of the
        training libraries, not only those the authored chats happened to use. Training only."""
        allowed, cases = self.industries("train"), []
        for path in sorted((self.root / "queries").glob("*.jsonl")):
            if path.stem not in allowed:
                raise ValueError(f"{path}: {path.stem!r} is not a training industry; its excerpts would leak a held-out library")
            library = {s.id for s in self.sop_library(path.stem)}
            for case in _valid(read_jsonl(path, SuggestionCase), path):
                if case.industry != path.stem:
                    raise ValueError(f"{path}: {case.chat_id}: industry {case.industry!r} is not {path.stem!r}")
                if unknown := sorted(set(case.gold_sop_ids) - library):
                    raise ValueError(f"{path}: {case.chat_id}: gold_sop_ids {unknown} are not in the {path.stem} library")
                cases.append(case)
        return cases

    def industries(self, name: str) -> set[str]:
        return {c.industry for c in self.split(name) if c.industry}

    def sop_library(self, industry: str) -> list[SopScript]:
        return read_sop(self.root / "sop" / f"{industry}.jsonl")

    def sop_libraries(self, industries: set[str]) -> list[SopScript]:
        return [s for ind in sorted(industries) if (self.root / "sop" / f"{ind}.jsonl").exists() for s in self.sop_library(ind)]

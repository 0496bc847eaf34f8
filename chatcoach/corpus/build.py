"""Build labeled_chats/ from the authored sources: chats JSONL, fixed splits, suggestion cases.

    chatcoach corpus build      (compile authored/*.chat, keep splits.json, derive cases)

Splits are by chat and fixed once written: ``splits.json`` is committed and only
re-drawn with ``--resplit``. The unseen-industry split holds every chat of the
industries named in it, and their SOP libraries are used nowhere in training.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from pathlib import Path

from chatcoach.corpus.authoring import compile_file
from chatcoach.jsonl import write_jsonl

UNSEEN_INDUSTRIES = ("tea", "education")
SPLIT_SHARES = {"train": 0.7, "dev": 0.15, "test": 0.15}
SEED = 20261124
SPLITS = ("train", "dev", "test", "unseen")


def compile_authored(root: Path) -> dict[str, list[dict]]:
    """industry → its chats, compiled from every authored/*.chat file."""
    by_industry: dict[str, list[dict]] = defaultdict(list)
    for path in sorted((root / "authored").glob("*.chat")):
        for chat in compile_file(path):
            by_industry[chat.get("industry", "other")].append(chat)
    return by_industry


def draw_splits(by_industry: dict[str, list[dict]], unseen: tuple[str, ...] = UNSEEN_INDUSTRIES, seed: int = SEED) -> dict:
    """Stratified by industry and funnel class so every split sees every class."""
    rng = random.Random(seed)
    splits: dict[str, list[str]] = {"train": [], "dev": [], "test": [], "unseen": []}
    for industry, chats in sorted(by_industry.items()):
        if industry in unseen:
            splits["unseen"] += [c["chat_id"] for c in chats]
            continue
        strata: dict[str, list[str]] = defaultdict(list)
        for c in chats:
            strata[c["funnel"]].append(c["chat_id"])
        for ids in strata.values():
            ids.sort()
            rng.shuffle(ids)
            n_dev = round(len(ids) * SPLIT_SHARES["dev"])
            n_test = round(len(ids) * SPLIT_SHARES["test"])
            splits["dev"] += ids[:n_dev]
            splits["test"] += ids[n_dev : n_dev + n_test]
            splits["train"] += ids[n_dev + n_test :]
    return {"seed": seed, "unseen_industries": list(unseen), **{k: sorted(v) for k, v in splits.items()}}


def extend_splits(splits: dict | None, by_industry: dict[str, list[dict]]) -> dict:
    """Keep every chat where it already is; draw only chats that are new since the last build."""
    if splits is None:
        return draw_splits(by_industry)
    placed = {i for k in SPLITS for i in splits[k]}
    new = {ind: [c for c in chats if c["chat_id"] not in placed] for ind, chats in by_industry.items()}
    drawn = draw_splits({ind: chats for ind, chats in new.items() if chats}, tuple(splits["unseen_industries"]), splits["seed"])
    return {**splits, **{k: sorted(splits[k] + drawn[k]) for k in SPLITS}}


def suggestion_cases(chats: list[dict]) -> list[dict]:
    """Contract §6 cases: each rep message with a sop_id, its chat up to just before it as context."""
    cases = []
    for chat in chats:
        for i, message in enumerate(chat["messages"]):
            if message["sender"] != "rep" or not message.get("sop_id") or i == 0:
                continue
            context = [{k: m[k] for k in ("id", "sender", "text", "ts", "type") if k in m} for m in chat["messages"][:i]]
            cases.append({
                "chat_id": f"{chat['chat_id']}@{message['id']}",
                "source_chat_id": chat["chat_id"],
                "industry": chat.get("industry"),
                **{k: chat[k] for k in ("rep_name", "customer_name") if k in chat},
                "messages": context,
                "gold_sop_ids": [message["sop_id"]],
                "gold_text": message["text"],
            })
    return cases


def build(root: Path, resplit: bool = False, demo_dir: Path | None = None) -> dict:
    """Compile ``root``/authored into chats, splits, cases and stats; with ``demo_dir`` also write
    the demo data there (the CLI passes ``chatcoach.demo.DEMO_DIR``; a test corpus must not)."""
    by_industry = compile_authored(root)
    chats_dir = root / "chats"
    chats_dir.mkdir(exist_ok=True)
    for industry, chats in by_industry.items():
        write_jsonl(chats_dir / f"{industry}.jsonl", chats)
    splits_path = root / "splits.json"
    splits = None if resplit or not splits_path.exists() else json.loads(splits_path.read_text(encoding="utf-8"))
    splits = extend_splits(splits, by_industry)
    splits_path.write_text(json.dumps(splits, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    all_chats = {c["chat_id"]: c for chats in by_industry.values() for c in chats}
    cases_dir = root / "cases"
    cases_dir.mkdir(exist_ok=True)
    counts = {}
    for split in SPLITS:
        cases = suggestion_cases([all_chats[i] for i in splits[split] if i in all_chats])
        counts[split] = write_jsonl(cases_dir / f"{split}.jsonl", cases)
    write_stats(root, list(all_chats.values()), splits, counts)
    demo = 0
    if demo_dir is not None:
        demo = write_demo_data([all_chats[i] for i in splits["unseen"] or splits["test"] if i in all_chats], root, demo_dir)
    return {"chats": len(all_chats), "cases": counts, "splits": {k: len(splits[k]) for k in SPLITS}, "demo": demo}


def write_stats(root: Path, chats: list[dict], splits: dict, cases: dict[str, int]) -> None:
    from chatcoach.contract import Chat
    from chatcoach.corpus.stats import markdown

    libraries = {p.stem: sum(1 for line in p.read_text(encoding="utf-8").splitlines() if line.strip())
                 for p in sorted((root / "sop").glob("*.jsonl"))}
    text = markdown([Chat.model_validate(c) for c in chats], splits, libraries, cases)
    (root / "stats.md").write_text(text, encoding="utf-8")


DEMO_PER_FUNNEL = 3


def write_demo_data(chats: list[dict], root: Path, out: Path) -> int:
    """Demo chats for the README's first command: a few of each funnel class from a held-out split,
    labels stripped (the demo shows what the models say), and their industry's SOP library."""
    industry = min((c.get("industry") or "" for c in chats), default="")
    picked: dict[str, list[dict]] = defaultdict(list)
    for chat in sorted((c for c in chats if (c.get("industry") or "") == industry), key=lambda c: c["chat_id"]):
        if len(picked[chat["funnel"]]) < DEMO_PER_FUNNEL:
            picked[chat["funnel"]].append(chat)
    demo = [c for group in picked.values() for c in group]
    unlabelled = [{**{k: v for k, v in c.items() if k not in ("funnel", "source")},
                   "messages": [{k: v for k, v in m.items() if k not in ("stage", "flags", "sop_id")} for m in c["messages"]]}
                  for c in demo]
    out.mkdir(exist_ok=True)
    write_jsonl(out / "chats.jsonl", unlabelled)
    library = root / "sop" / f"{industry}.jsonl"
    if library.exists():
        (out / "sop.jsonl").write_text(library.read_text(encoding="utf-8"), encoding="utf-8")
    return len(unlabelled)

"""A blind second reader for the suggestion cases: how often would a careful person pick the gold script?

    chatcoach corpus suggestion-audit-sample  → labeled_chats/<audit-dir>/packet-*.md (a library and its
                                                cases, gold hidden) and blind.json (which case went where)
    chatcoach corpus suggestion-audit-report  → labeled_chats/<audit-dir>/report.{json,md}

Each held-out case has one gold script: the one the author's rep paraphrased. A library holds near-twin
scripts (嫌贵 / 别家更便宜 / 再考虑一下), and a chat can often go on in more than one good way, so a
reader who never saw the gold ranks the three scripts that fit the rep's next reply best, and says which
of them are as good as the first. Their agreement with the gold is the ceiling a model can be held to
under the same metric. The reader writes second_pass.json in the same folder:
{"reader": "...", "cases": [{"chat_id", "ranked": [3 ids], "equally_good": [ids], "confident": bool, "packet": name}]}.
Cases cut from one chat share a packet, so a later cut can show a reader the reply an earlier one asks
for; the report gives the reader's scores on the cases no later cut revealed as well.
(JSON, not JSONL: the corpus checker reads every *.jsonl as labelled data.)
"""

from __future__ import annotations

import json
import random
import string
from pathlib import Path
from statistics import fmean

SEED = 20261207
AUDIT_DIR = "audit/suggestions"
HELD_OUT = ("test", "unseen")


def held_out_cases(root: Path) -> dict[str, dict]:
    """chat_id → case (contract §6, as a dict), over the held-out splits."""
    return {c["chat_id"]: {**c, "split": split} for split in HELD_OUT
            for line in (root / "cases" / f"{split}.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()
            for c in [json.loads(line)]}


def sample(cases: dict[str, dict], plan: list[tuple[str, int]], packet_size: int = 35,
           seed: int = SEED, one_per_chat: bool = False) -> dict[str, list[str]]:
    """Packet name → case ids: ``count`` cases of each industry in ``plan`` (in that order), in packets of
    ``packet_size`` drawn one after another from the cases not yet taken. ``one_per_chat``: first one
    case of each chat, drawn at random, so no case in a packet shows another's reply."""
    rng, taken, packets = random.Random(seed), set(), {}
    for industry, count in plan:
        pool = sorted(i for i, c in cases.items() if c["industry"] == industry)
        if one_per_chat:
            by_chat: dict[str, list[str]] = {}
            for i in pool:
                by_chat.setdefault(cases[i]["source_chat_id"], []).append(i)
            pool = sorted(rng.choice(ids) for _, ids in sorted(by_chat.items()))
        if len(pool) < count:
            raise ValueError(f"{industry}: {len(pool)} held-out cases, {count} asked for")
        sizes = [packet_size] * (count // packet_size) + ([count % packet_size] if count % packet_size else [])
        for n, size in enumerate(sizes):
            name = industry if len(sizes) == 1 else f"{industry}-{string.ascii_lowercase[n]}"
            packets[name] = sorted(rng.sample([i for i in pool if i not in taken], size))
            taken.update(packets[name])
    return packets


def render_packet(name: str, industry: str, library: list[dict], cases: list[dict]) -> str:
    """What the reader sees: the whole library, then each case's messages; never the gold."""
    lines = [f"# Packet {name}: {len(cases)} cases from the {industry} company's chats", "",
             "## The SOP library (话术库): id | stage | scenario | text", ""]
    lines += [f"- `{s['id']}` | {s['stage']} | {s['scenario']} | {s['text']}" for s in library]
    lines += ["", "## The cases", ""]
    for c in cases:
        lines.append(f"### case `{c['chat_id']}` (customer name: {c.get('customer_name') or '?'}; rep: {c.get('rep_name') or '?'})")
        for m in c["messages"]:
            kind = f" [{m['type']}]" if m.get("type") and m["type"] != "text" else ""
            lines.append(f"- {m['id']} {m.get('ts', '')[5:16].replace('T', ' ')} **{m['sender']}**{kind}: {m['text']}")
        lines.append("")
    return "\n".join(lines)


def write_packets(root: Path, plan: list[tuple[str, int]], audit_dir: str, packet_size: int = 35,
                  one_per_chat: bool = False) -> dict[str, list[str]]:
    cases = held_out_cases(root)
    packets = sample(cases, plan, packet_size, one_per_chat=one_per_chat)
    folder = root / audit_dir
    folder.mkdir(parents=True, exist_ok=True)
    for name, ids in packets.items():
        industry = cases[ids[0]]["industry"]
        library = [json.loads(line) for line in (root / "sop" / f"{industry}.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
        (folder / f"packet-{name}.md").write_text(render_packet(name, industry, library, [cases[i] for i in ids]) + "\n", encoding="utf-8")
    (folder / "blind.json").write_text(json.dumps(packets, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return packets


def library_scripts(root: Path) -> dict[str, tuple[str, str]]:
    """sop_id → (industry, stage), over every library."""
    return {s["id"]: (path.stem, s["stage"]) for path in sorted((root / "sop").glob("*.jsonl"))
            for line in path.read_text(encoding="utf-8").splitlines() if line.strip() for s in [json.loads(line)]}


def rank_of(ranked: list[str], gold: set[str]) -> int | None:
    return next((i for i, s in enumerate(ranked) if s in gold), None)


def reader_scores(rows: list[dict], cases: dict[str, dict], scripts: dict[str, tuple[str, str]]) -> dict:
    """The reader's ranking against the gold: R@1, R@3, how often the gold is their first choice or one
    they called as good as it, and how often their first choice has the gold script's stage."""
    golds = [set(cases[r["chat_id"]]["gold_sop_ids"]) for r in rows]
    hits = [rank_of(r["ranked"], g) for r, g in zip(rows, golds)]
    confident = [r.get("confident", True) for r in rows]
    blind = [not revealed(r, rows, cases) for r in rows]
    return {
        "cases": len(rows), "R@1": fmean([h == 0 for h in hits]), "R@3": fmean([h is not None for h in hits]),
        "gold_first_or_as_good": fmean([h == 0 or (h is not None and r["ranked"][h] in r.get("equally_good", []))
                                        for r, h in zip(rows, hits)]),
        "gold_stage_first": fmean([scripts[r["ranked"][0]][1] in {scripts[s][1] for s in g} for r, g in zip(rows, golds)]),
        "confident": fmean(confident),
        "R@3_when_confident": fmean([h is not None for h, c in zip(hits, confident) if c]) if any(confident) else None,
        "unrevealed": sum(blind),
        "R@1_unrevealed": fmean([h == 0 for h, b in zip(hits, blind) if b]) if any(blind) else None,
        "R@3_unrevealed": fmean([h is not None for h, b in zip(hits, blind) if b]) if any(blind) else None,
    }


def revealed(row: dict, rows: list[dict], cases: dict[str, dict]) -> bool:
    """Whether the reader saw the gold reply: a later cut of the same chat in their packet shows it."""
    case = cases[row["chat_id"]]
    return any(cases[r["chat_id"]]["source_chat_id"] == case["source_chat_id"] and r.get("packet") == row.get("packet")
               and len(cases[r["chat_id"]]["messages"]) > len(case["messages"]) for r in rows)


def read_all_rounds(root: Path) -> tuple[list[dict], dict[str, dict], dict[str, tuple[str, str]]]:
    """Every round's rankings under ``AUDIT_DIR`` (the first round in it, later ones in subfolders), each
    row's packet named with its round's folder so packets of different rounds stay apart; no rows when
    no round has been read."""
    paths = sorted((root / AUDIT_DIR).rglob("second_pass.json"))
    if not paths:
        return [], {}, {}
    cases, scripts = held_out_cases(root), library_scripts(root)
    rows = []
    for path in paths:
        folder = path.parent.relative_to(root)
        rows += [{**r, "packet": f"{folder}/{r.get('packet')}"} for r in _checked(path, cases, scripts)["cases"]]
    return rows, cases, scripts


def read_second_pass(root: Path, audit_dir: str) -> tuple[dict, dict[str, dict], dict[str, tuple[str, str]]]:
    """One round's file and the held-out cases it covers."""
    cases, scripts = held_out_cases(root), library_scripts(root)
    return _checked(root / audit_dir / "second_pass.json", cases, scripts), cases, scripts


def _checked(path: Path, cases: dict[str, dict], scripts: dict[str, tuple[str, str]]) -> dict:
    """A reader's file; a case id the corpus lacks, or a script id outside the case's library, is an
    error naming both."""
    second = json.loads(path.read_text(encoding="utf-8"))
    for r in second["cases"]:
        case = cases.get(r["chat_id"])
        if case is None:
            raise ValueError(f"second_pass.json: {r['chat_id']}: not a held-out suggestion case")
        if unknown := [s for s in r["ranked"] if scripts.get(s, ("",))[0] != case["industry"]]:
            raise ValueError(f"second_pass.json: {r['chat_id']}: ranked {unknown} are not scripts of the {case['industry']} library")
    return second


def write_report(root: Path, audit_dir: str) -> dict:
    second, cases, scripts = read_second_pass(root, audit_dir)
    report = {split: {"industries": sorted({cases[r["chat_id"]]["industry"] for r in rows}), **reader_scores(rows, cases, scripts)}
              for split in HELD_OUT if (rows := [r for r in second["cases"] if cases[r["chat_id"]]["split"] == split])}
    folder = root / audit_dir
    (folder / "report.json").write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    lines = ["# Suggestion cases: a blind second reader", "",
             f"{second.get('reader', 'A second reader')} ranked the three scripts that fit the rep's next reply for each case, "
             "without seeing the gold; compared with the gold by `chatcoach corpus suggestion-audit-report`.", "",
             "| split | libraries | cases | R@1 | R@3 | gold first or as good | first choice of the gold's stage | confident | R@3 when confident | cases whose reply no later cut showed: R@1 / R@3 |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for split, r in report.items():
        lines.append(f"| {split} | {', '.join(r['industries'])} | {r['cases']} | {r['R@1']:.3f} | {r['R@3']:.3f} | "
                     f"{r['gold_first_or_as_good']:.3f} | {r['gold_stage_first']:.3f} | {r['confident']:.3f} | {r['R@3_when_confident']:.3f} | "
                     f"{r['R@1_unrevealed']:.3f} / {r['R@3_unrevealed']:.3f} ({r['unrevealed']}) |")
    (folder / "report.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return report

"""The authoring notation for labelled chats, and its compiler to contract JSONL.

People write chats in a compact text form (one line a message) because JSON is
slow to write and to proof-read by eye; `compile_file` turns it into contract
§1 chats. Standard library only, so authors can run it before the project's
environment exists:

    python3 chatcoach/corpus/authoring.py labeled_chats/authored/beauty-1.chat [--sop labeled_chats/sop/beauty.jsonl]

Notation::

    # a comment
    @chat bt-001
    industry: beauty
    funnel: won
    company: 花漾美妆              (any other header becomes an extra field)
    rep_name: 小美
    customer_name: 王姐
    start: 2024-03-01T10:00:00+08:00
    ---
    R greeting | 您好，我是小美~
    +2m C greeting | 你好
    +30s R needs sop=bt-needs-01 | 您平时皮肤偏干还是偏油呀
    +1d R close type=link | 官方小程序下单链接
    +5m R close flags=side_order | 加我小号，转我个人便宜20
    C after_sale hn=customer_swearing | 卧槽这快递也太快了

A message line is ``[+DELTA] SENDER STAGE [key=value …] | TEXT`` where DELTA is
the time since the previous message (``45s``, ``5m``, ``2h``, ``3d``, ``2w``;
default 1 minute), SENDER is ``R`` (rep) or ``C`` (customer), and the options are
``flags=a,b``, ``sop=ID``, ``type=image`` and ``hn=KIND`` (a hard negative: a
message that looks flaggable but, by the contract, is not).
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

STAGES = ("greeting", "rapport", "needs", "pitch", "quote", "objection", "close", "after_sale")
FUNNELS = ("silent", "engaged", "quoted", "won", "repeat")
FLAGS = ("insult", "side_order", "false_promise", "privacy", "complaint")
REP_FLAGS = {"insult", "side_order", "false_promise", "privacy"}
TYPES = ("text", "image", "voice", "video", "file", "link", "transfer", "other")
HARD_NEGATIVE_KINDS = (
    "slang_praise", "customer_swearing", "polite_refusal", "official_payment",
    "order_address", "hedged_claim", "delivery_question", "other",
)

_DELTA = re.compile(r"^\+(\d+(?:\.\d+)?)([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_SENDERS = {"R": "rep", "C": "customer"}


class AuthoringError(ValueError):
    """A line of the notation that cannot be compiled; names the file and line."""


def _parse_message(line: str, where: str) -> tuple[timedelta, dict]:
    head, sep, text = line.partition("|")
    if not sep:
        raise AuthoringError(f"{where}: a message line needs ' | ' before its text")
    tokens = head.split()
    delta = timedelta(minutes=1)
    if tokens and tokens[0].startswith("+"):
        match = _DELTA.match(tokens.pop(0))
        if not match:
            raise AuthoringError(f"{where}: bad time delta {head.split()[0]!r} (use +45s, +5m, +2h, +3d, +2w)")
        delta = timedelta(**{_UNITS[match[2]]: float(match[1])})
    if len(tokens) < 2 or tokens[0] not in _SENDERS:
        raise AuthoringError(f"{where}: expected 'R|C STAGE' before the text, got {head.strip()!r}")
    sender, stage, *options = tokens
    if stage not in STAGES:
        raise AuthoringError(f"{where}: unknown stage {stage!r}")
    message: dict = {"sender": _SENDERS[sender], "text": text.strip().replace("\\n", "\n"), "stage": stage, "flags": []}
    for option in options:
        key, eq, value = option.partition("=")
        if not eq or not value:
            raise AuthoringError(f"{where}: option {option!r} is not key=value")
        if key == "flags":
            message["flags"] = value.split(",")
            bad = [f for f in message["flags"] if f not in FLAGS]
            if bad:
                raise AuthoringError(f"{where}: unknown flag(s) {bad}")
        elif key == "sop":
            message["sop_id"] = value
        elif key == "type":
            if value not in TYPES:
                raise AuthoringError(f"{where}: unknown type {value!r}")
            message["type"] = value
        elif key == "hn":
            if value not in HARD_NEGATIVE_KINDS:
                raise AuthoringError(f"{where}: unknown hard-negative kind {value!r} (one of {HARD_NEGATIVE_KINDS})")
            message["hard_negative"] = value
        else:
            raise AuthoringError(f"{where}: unknown option {key!r}")
    return delta, message


def _check_chat(chat: dict, where: str) -> None:
    if chat.get("funnel") not in FUNNELS:
        raise AuthoringError(f"{where}: funnel {chat.get('funnel')!r} is not one of {FUNNELS}")
    messages = chat["messages"]
    if not messages:
        raise AuthoringError(f"{where}: chat has no messages")
    for m in messages:
        if m.get("type", "text") == "text" and not m["text"]:
            raise AuthoringError(f"{where} {m['id']}: empty text on a text message")
        for flag in m["flags"]:
            if (flag in REP_FLAGS) != (m["sender"] == "rep"):
                raise AuthoringError(f"{where} {m['id']}: flag {flag} cannot be on a {m['sender']} message")
        if "sop_id" in m and m["sender"] != "rep":
            raise AuthoringError(f"{where} {m['id']}: sop_id only goes on rep messages")
    has_customer = any(m["sender"] == "customer" for m in messages)
    if (chat["funnel"] == "silent") == has_customer:
        raise AuthoringError(f"{where}: funnel silent must mean the customer never speaks, and vice versa")


def compile_text(source: str, name: str = "<text>") -> list[dict]:
    """Compile the notation into contract chats (labelled, ``source: authored``)."""
    chats: list[dict] = []
    chat: dict | None = None
    in_body = False
    clock: datetime | None = None
    for number, raw in enumerate(source.splitlines(), 1):
        where = f"{name}:{number}"
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("@chat"):
            if chat is not None:
                _check_chat(chat, chat["_where"])
            chat_id = line[len("@chat"):].strip()
            if not chat_id:
                raise AuthoringError(f"{where}: @chat needs an id")
            chat = {"chat_id": chat_id, "source": "authored", "messages": [], "_where": where}
            chats.append(chat)
            in_body, clock = False, None
            continue
        if chat is None:
            raise AuthoringError(f"{where}: text before the first @chat")
        if line == "---":
            in_body = True
            start = chat.pop("start", None)
            try:
                clock = datetime.fromisoformat(start) if start else None
            except ValueError as exc:
                raise AuthoringError(f"{where}: bad start timestamp {start!r}") from exc
            if clock is not None and clock.tzinfo is None:
                raise AuthoringError(f"{where}: start needs a UTC offset, e.g. +08:00")
            continue
        if not in_body:
            key, colon, value = line.partition(":")
            if not colon:
                raise AuthoringError(f"{where}: header lines are 'key: value'")
            chat[key.strip()] = value.strip()
            continue
        delta, message = _parse_message(line, where)
        message = {"id": f"m{len(chat['messages']) + 1}", **message}
        if clock is not None:
            if chat["messages"]:
                clock += delta
            message["ts"] = clock.isoformat()
        chat["messages"].append(message)
    if chat is not None:
        _check_chat(chat, chat["_where"])
    for c in chats:
        c.pop("_where", None)
    return chats


def compile_file(path: str | Path) -> list[dict]:
    path = Path(path)
    return compile_text(path.read_text(encoding="utf-8"), str(path))


def summarise(chats: list[dict], sop_ids: set[str] | None = None) -> str:
    """Counts an author checks against the corpus targets."""
    msgs = [m for c in chats for m in c["messages"]]
    lines = [
        f"chats {len(chats)}, messages {len(msgs)}, lengths {min(len(c['messages']) for c in chats)}–{max(len(c['messages']) for c in chats)}",
        f"funnel {dict(Counter(c['funnel'] for c in chats))}",
        f"stages {dict(Counter(m['stage'] for m in msgs))}",
        f"flags {dict(Counter(f for m in msgs for f in m['flags']))}",
        f"hard negatives {dict(Counter(m['hard_negative'] for m in msgs if 'hard_negative' in m))}",
        f"types {dict(Counter(m.get('type', 'text') for m in msgs))}",
        f"rep messages with sop_id {sum('sop_id' in m for m in msgs)}",
    ]
    if sop_ids is not None:
        unknown = sorted({m["sop_id"] for m in msgs if "sop_id" in m} - sop_ids)
        lines.append(f"sop_ids not in the library: {unknown}")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    args = [a for a in argv if not a.startswith("--")]
    sop_ids = None
    if "--sop" in argv:
        sop_path = argv[argv.index("--sop") + 1]
        args.remove(sop_path)
        sop_ids = {json.loads(l)["id"] for l in Path(sop_path).read_text(encoding="utf-8").splitlines() if l.strip()}
    chats: list[dict] = []
    try:
        for path in args:
            chats += compile_file(path)
    except AuthoringError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    dup = [k for k, v in Counter(c["chat_id"] for c in chats).items() if v > 1]
    if dup:
        print(f"error: repeated chat ids {dup}", file=sys.stderr)
        return 1
    print(summarise(chats, sop_ids) if chats else "no chats")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""One written form for what the models and the rules read: simplified characters, half-width
letters, full-width punctuation after Chinese.

Shops in Taiwan, Hong Kong and overseas write traditional characters, and reps dodge keyword
filters with full-width letters (ｖｘ, ＶＸ). The models, the rules and every SOP library they were
built on are simplified and half-width: on dev chats converted to traditional characters the
analyzer lost 0.02 stage macro-F1 and 0.03–0.13 F1 per flag (eval/README.md). So a writer who
uses traditional characters is read in simplified, and full-width letters and digits as ASCII.
Half-width punctuation typed after a Chinese character (好的,谢谢!) is read full-width, as the
corpus writes it: on dev chats typed that way insult F1 fell from 0.91 to 0.87 (eval/README.md,
"Writing styles"). A full stop is left alone (采摘.mp4), as is punctuation after Latin letters and
digits (vx:abc, 10:30, https://).

Script is decided per writer (one sender of one chat, or one SOP library), not per message: a
short message says too little, and simplified text keeps some traditional characters (Cantonese
係 and 嗰, Sichuanese 孃孃). Among the 952 writers of the train chats at most 4.0 % of the Chinese
characters convert; converted to traditional (OpenCC s2t, s2hk, s2twp) at least 13.2 % do; the
threshold sits between. Conversion is character for character, so a span found in what was read is the
same span of the original text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

import opencc

from chatcoach.contract import Chat, SopScript

TRADITIONAL_SHARE = 0.08
HAN = "\u4e00-\u9fff"  # the CJK basic block, as a character-class range: what simplified text is written in
CHINESE_PUNCTUATION = "，。！？、；：～…"  # the marks Chinese is punctuated with, as a character class's contents
_HAN = re.compile(f"[{HAN}]")
# full-width digits and Latin letters to ASCII; full-width punctuation (，：！) is how Chinese is written
_HALF_WIDTH = {code: code - 0xFEE0 for lo, hi in ((0xFF10, 0xFF19), (0xFF21, 0xFF3A), (0xFF41, 0xFF5A))
               for code in range(lo, hi + 1)}
_FULL_WIDTH_PUNCTUATION = {",": "，", "!": "！", "?": "？", ";": "；", ":": "："}
_HALF_PUNCTUATION_AFTER_HAN = re.compile(f"(?<=[{HAN}])[,!?;:]")
_t2s = opencc.OpenCC("t2s")


def _common(char: str) -> bool:
    """A character of the CJK basic block: what simplified text is written in. OpenCC maps a few
    dialect characters (嗰, 喎) to rare forms outside it, which no model has seen."""
    return "\u4e00" <= char <= "\u9fff"


@lru_cache(maxsize=65_536)
def _simplified(text: str) -> str:
    converted = _t2s.convert(text)  # phrase-aware (頭髮乾燥 → 头发干燥)
    if len(converted) != len(text):  # a phrase changed length: character by character instead
        converted = "".join(_t2s.convert(c) for c in text)
    if len(converted) != len(text):
        return text
    return "".join(new if old == new or _common(new) else old for old, new in zip(text, converted))


def traditional_share(texts: Iterable[str]) -> float:
    """The share of a writer's Chinese characters that read differently in simplified."""
    changed = total = 0
    for text in texts:
        total += len(_HAN.findall(text))
        changed += sum(old != new for old, new in zip(text, _simplified(text)))
    return changed / total if total else 0.0


def writes_traditional(texts: Iterable[str]) -> bool:
    return traditional_share(texts) >= TRADITIONAL_SHARE


def read_text(text: str, traditional: bool) -> str:
    """``text`` as the models read it: half-width letters, full-width punctuation after Chinese, simplified
    characters if its writer writes traditional."""
    text = _HALF_PUNCTUATION_AFTER_HAN.sub(lambda m: _FULL_WIDTH_PUNCTUATION[m.group()], text.translate(_HALF_WIDTH))
    return _simplified(text) if traditional else text


def read_chat(chat: Chat) -> Chat:
    """The chat as the models read it (the same object when nothing changes). Message ids, senders,
    types and lengths are kept, so results and evidence spans map back onto the original."""
    traditional = {sender: writes_traditional(m.text for m in chat.messages if m.sender == sender)
                   for sender in {m.sender for m in chat.messages}}
    messages = [m.model_copy(update={"text": read}) if (read := read_text(m.text, traditional[m.sender])) != m.text else m
                for m in chat.messages]
    if all(new is old for new, old in zip(messages, chat.messages)):
        return chat
    return chat.model_copy(update={"messages": messages})


def read_scripts(scripts: list[SopScript]) -> list[SopScript]:
    """An SOP library as the models read it: one writer, so one script for all of it."""
    traditional = writes_traditional(t for s in scripts for t in (s.scenario, s.text))
    return [s.model_copy(update={"scenario": read_text(s.scenario, traditional), "text": read_text(s.text, traditional),
                                 "tags": [read_text(t, traditional) for t in s.tags]})
            for s in scripts]

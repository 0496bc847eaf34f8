"""Chats and SOP libraries rewritten in traditional characters, as shops in Taiwan write them (OpenCC
``s2twp``: characters and Taiwanese phrasing): a check that the pipeline reads them as it reads the
simplified originals (``models/normalize.py``). Ids, senders, types and labels are kept."""

from __future__ import annotations

from functools import cache

import opencc

from chatcoach.contract import Chat, SopScript


@cache
def _converter() -> opencc.OpenCC:
    return opencc.OpenCC("s2twp")


def chats_in_traditional(chats: list[Chat]) -> list[Chat]:
    convert = _converter().convert
    return [c.model_copy(update={"messages": [m.model_copy(update={"text": convert(m.text)}) for m in c.messages]})
            for c in chats]


def library_in_traditional(scripts: list[SopScript]) -> list[SopScript]:
    convert = _converter().convert
    return [s.model_copy(update={"scenario": convert(s.scenario), "text": convert(s.text), "tags": [convert(t) for t in s.tags]})
            for s in scripts]

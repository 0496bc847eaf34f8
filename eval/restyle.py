"""Chats as other writers type them: a check that the analyzer reads the words, not one corpus's habits.

Each writer of a chat (its rep, its customer) gets one habit, drawn per chat:
- **emoji**: half their messages end in a WeChat emoji, from a list that ``training/style.py``
  never adds (so this is not the training recipe read back), or in [微笑], which the authored
  corpus only ever puts on insults;
- **no punctuation**: Chinese punctuation becomes a space, as many people type on a phone;
- **half-width**: ，。！？：； typed as ,.!?:;.

Ids, senders, types and labels are kept; the words are the same, so the gold labels still hold.
"""

from __future__ import annotations

import random
import re

from chatcoach.contract import Chat
from chatcoach.models.normalize import CHINESE_PUNCTUATION

UNSEEN_EMOJI = ("[微笑]", "[发呆]", "[得意]", "[色]", "[机智]", "[吃瓜]", "[旺柴]", "[悠闲]", "[月亮]",
                "😃", "🌸", "✨", "😉")
_CHINESE_PUNCTUATION = re.compile(f"[{CHINESE_PUNCTUATION}]+")
_HALF_WIDTH = str.maketrans("，。！？：；", ",.!?:;")


def _habit(habit: str, text: str, rng: random.Random) -> str:
    if not text:
        return text
    if habit == "emoji":
        return text + rng.choice(UNSEEN_EMOJI) if rng.random() < 0.5 else text
    if habit == "no punctuation":
        return _CHINESE_PUNCTUATION.sub(" ", text).strip() or text
    return text.translate(_HALF_WIDTH)


def chats_restyled(chats: list[Chat]) -> list[Chat]:
    out = []
    for chat in chats:
        rng = random.Random(f"restyle:{chat.chat_id}")
        habits = {sender: rng.choice(("emoji", "no punctuation", "half-width")) for sender in ("rep", "customer")}
        out.append(chat.model_copy(update={"messages": [
            m.model_copy(update={"text": _habit(habits[m.sender], m.text, rng)}) for m in chat.messages]}))
    return out

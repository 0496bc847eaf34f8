"""Style variants of training chats: the same words, dressed as other writers dress them.

Authored chats tie surface habits to labels. Every rep message of the corpus that carries the
WeChat emoji [微笑] is an insult (28 of 28), and most rep messages end in full-width punctuation.
The models then learned the habit instead of the words: with [微笑] added to half the messages
of the dev chats, insult F1 fell from 0.91 to 0.48 (precision 0.32), and with the punctuation
taken out to 0.84 (eval/README.md, "Writing styles").

So the analyzer encoder (``training/analyzer_encoder.py``) and the flag heads' character n-gram
views (``models/flags.py``) also learn from one variant of every training chat, with the labels
unchanged: each writer adds friendly emoji to some messages, drops the emoji codes the chat had,
or leaves out punctuation. An emoji says how a message is meant only together with its words: 真有眼光[微笑]
after a purchase is praise, and 就你这预算[微笑] is mockery with or without it.
"""

from __future__ import annotations

import random
import re

from chatcoach.contract import Chat
from chatcoach.models.features import TYPE_TAGS
from chatcoach.models.normalize import CHINESE_PUNCTUATION, HAN

VERSION = 1  # raise it when the variants change: the analyzer encoder learned from them and is rebuilt

# common in reps' messages on WeChat; friendly or neutral read on their own
FRIENDLY_EMOJI = (
    "[微笑]", "[呲牙]", "[愉快]", "[憨笑]", "[偷笑]", "[捂脸]", "[抱拳]", "[玫瑰]", "[强]", "[OK]",
    "[握手]", "[爱心]", "[太阳]", "[庆祝]", "[红包]", "[耶]", "[加油]", "[合十]", "[嘿哈]", "[害羞]",
    "[调皮]", "[鼓掌]", "[拥抱]", "[咖啡]", "[礼物]", "😊", "🙏", "👍", "😄", "🌹", "🎉", "💪", "😁", "🤝",
)
# placeholders WeChat writes for what is not text: the message types' tags, and a few more
_NOT_EMOJI = [tag.strip("[]") for tag in TYPE_TAGS.values()] + ["红包", "收款码", "二维码", "名片", "位置"]
# a WeChat emoji code: short, in brackets, not one of those placeholders
_EMOJI_CODE = re.compile(rf"\[(?!{'|'.join(_NOT_EMOJI)})[{HAN}A-Za-z0-9]{{1,4}}\]")
# Chinese punctuation, and half-width marks typed after a Chinese character; never inside a link, a
# price or an id (https://, 42.5, vx:abc)
_PUNCTUATION = re.compile(rf"[{CHINESE_PUNCTUATION}]+|(?<=[{HAN}])[,!?;:~]+")


def _writer_style(rng: random.Random) -> dict:
    return {"emoji": rng.choice((0.0, 0.3, 0.6)), "strip_emoji": rng.random() < 0.5,
            "no_punctuation": rng.random() < 0.4}


def _restyle(text: str, style: dict, rng: random.Random) -> str:
    if not text:
        return text
    if style["strip_emoji"]:
        text = _EMOJI_CODE.sub("", text).strip() or text
    if style["no_punctuation"]:
        text = _PUNCTUATION.sub(" ", text).strip() or text
    if rng.random() < style["emoji"]:
        text += rng.choice(FRIENDLY_EMOJI) * rng.choice((1, 1, 2))
    return text


def style_variant(chat: Chat, seed: int = 0) -> Chat:
    """``chat`` as if each of its two writers had other habits; ids, senders, types and labels kept."""
    rng = random.Random(f"{seed}:{chat.chat_id}")
    styles = {"rep": _writer_style(rng), "customer": _writer_style(rng)}
    messages = [m.model_copy(update={"text": _restyle(m.text, styles[m.sender], rng)}) for m in chat.messages]
    return chat.model_copy(update={"chat_id": f"{chat.chat_id}~style", "messages": messages})

"""Style variants of training chats: other writers' surface habits, the same words and labels."""

import re

from hypothesis import given
from hypothesis import strategies as st

from chatcoach.contract import Chat
from chatcoach.training.style import FRIENDLY_EMOJI, style_variant

LINK = "【官方小程序】精华 https://mp.shop.cn/item?id=42.5"


def chat(chat_id, texts):
    return Chat.model_validate({"chat_id": chat_id, "funnel": "quoted", "messages": [
        {"id": f"m{i}", "sender": "rep" if i % 2 else "customer", "text": t, "stage": "quote",
         "flags": ["insult"] if "就你" in t else []} for i, t in enumerate(texts)]})


def words(text):
    """What a variant must keep: the text without emoji, punctuation and spacing."""
    for emoji in FRIENDLY_EMOJI:
        text = text.replace(emoji, "")
    return re.sub(r"\[[^\]]{1,4}\]|[\s，。！？、；：～…,!?;:~]", "", text)


TEXTS = ["在吗？", "您好，我是小美[愉快]", "这个多少钱!", "活动价399，买二送一[微笑]", "太贵了吧，别家便宜",
         "就你这预算[微笑]还想用好的？", "[图片]", LINK, "好的，谢谢～", "拍下了"]


def test_a_variant_keeps_ids_senders_labels_and_words():
    original = chat("c1", TEXTS)
    variant = style_variant(original)
    assert variant.chat_id == "c1~style" and variant.funnel == original.funnel
    assert [(m.id, m.sender, m.type, m.stage, m.flags) for m in variant.messages] == \
        [(m.id, m.sender, m.type, m.stage, m.flags) for m in original.messages]
    assert [words(m.text) for m in variant.messages] == [words(m.text) for m in original.messages]


def test_links_prices_and_message_type_tags_are_never_restyled():
    for seed in range(20):
        texts = [m.text for m in style_variant(chat(f"c{seed}", TEXTS), seed).messages]
        assert LINK in texts[7] and "399" in texts[3] and texts[6].startswith("[图片]")


def test_variants_differ_between_chats_and_repeat_for_a_seed():
    variants = [style_variant(chat(f"c{i}", TEXTS)) for i in range(20)]
    assert len({tuple(m.text for m in v.messages) for v in variants}) > 10
    assert style_variant(chat("c3", TEXTS)) == variants[3]
    assert style_variant(chat("c3", TEXTS), seed=1) != variants[3]


@given(st.lists(st.text(alphabet="好的在吗，。！？、,!?;:~ []微笑图片😊a1.", max_size=30), min_size=1, max_size=6))
def test_no_message_is_left_empty(texts):
    variant = style_variant(chat("h", [t if t.strip() else "嗯" for t in texts]))
    assert all(m.text.strip() for m in variant.messages)

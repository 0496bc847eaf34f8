"""The lexical views of an SOP library."""

from chatcoach.models.sop_index import char_bigrams, words


def test_char_bigrams_skip_placeholders_and_punctuation():
    assert char_bigrams("{客户称呼}，太贵了！") == {"太贵", "贵了"}
    assert char_bigrams("OK好") == {"ok", "k好"}  # case-folded; Latin and Chinese alike
    assert char_bigrams("？") == frozenset()


def test_words_drop_punctuation_and_placeholders():
    assert words("{客户称呼}您好，价格是299元") == words("您好价格是299元")
    assert "，" not in words("您好，价格")

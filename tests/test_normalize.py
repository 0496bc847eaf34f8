"""What the models read: traditional writers in simplified, full-width letters as ASCII, spans kept."""

from hypothesis import given
from hypothesis import strategies as st

from chatcoach.contract import Chat, SopScript
from chatcoach.models.normalize import read_chat, read_scripts, read_text, traditional_share


def chat(*turns):
    return Chat.model_validate({"chat_id": "c", "messages": [
        {"id": f"m{i}", "sender": s, "text": t} for i, (s, t) in enumerate(turns)]})


def test_a_traditional_writer_is_read_in_simplified_and_the_other_writer_as_written():
    read = read_chat(chat(("customer", "這款精華多少錢？有沒有優惠"),
                          ("rep", "系咪想要嗰款？活动价399"),
                          ("customer", "太貴了，別家便宜一百塊")))
    assert [m.text for m in read.messages] == ["这款精华多少钱？有没有优惠", "系咪想要嗰款？活动价399", "太贵了，别家便宜一百块"]


def test_simplified_dialect_writing_keeps_its_characters():
    # Cantonese written in simplified keeps a 係 or a 嗰 here and there: that does not make a traditional writer
    written = chat(("customer", "喂 系咪卖海鲜嗰个阿芳啊 我系三楼黎太介绍嘅"), ("rep", "係啊，黎太同我讲过，今日有靓蚝"),
                   ("customer", "咁帮我留两斤，几点可以送到？"), ("rep", "下昼三点前送到，到时打电话俾你"))
    assert read_chat(written) is written


def test_dialect_characters_are_never_turned_into_rare_forms():
    # OpenCC maps 嗰 and 喎 outside the CJK basic block, where no model has seen them
    assert read_text("嗰個價錢貴咗喎", traditional=True) == "嗰个价钱贵咗喎"


def test_full_width_letters_and_digits_read_as_ascii_and_chinese_punctuation_stays():
    assert read_text("加我ＶＸ：ａｂｃ１２３４５，谢谢！", traditional=False) == "加我VX：abc12345，谢谢！"


def test_half_width_punctuation_after_chinese_reads_full_width():
    assert read_text("好的,谢谢!明天到吗?", traditional=False) == "好的，谢谢！明天到吗？"
    # a full stop, and marks after letters or digits, are links, file names, ids and times
    assert read_text("采摘.mp4 vx:abc123 10:30 https://mp.shop.cn/a?b=1", traditional=False) == \
        "采摘.mp4 vx:abc123 10:30 https://mp.shop.cn/a?b=1"


def test_a_library_is_one_writer():
    scripts = [SopScript(id="a", stage="objection", scenario="客戶嫌貴", text="理解您的顧慮，{客户称呼}，這套是三個月的用量", tags=["價格"]),
               SopScript(id="b", stage="close", scenario="下單", text="好的")]
    read = read_scripts(scripts)
    assert [(s.scenario, s.text, s.tags) for s in read] == [
        ("客户嫌贵", "理解您的顾虑，{客户称呼}，这套是三个月的用量", ["价格"]), ("下单", "好的", [])]
    assert [s.id for s in read] == ["a", "b"] and scripts[0].scenario == "客戶嫌貴"


def test_share_of_characters_that_read_differently():
    assert traditional_share(["这个多少钱"]) == 0 and traditional_share(["這個多少錢"]) == 0.6
    assert traditional_share(["", "[图片]"]) == 0


@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40))
def test_reading_keeps_every_offset(text):
    # evidence spans found in what the models read are quoted from the original message
    assert len(read_text(text, traditional=True)) == len(text)
    assert len(read_text(text, traditional=False)) == len(text)

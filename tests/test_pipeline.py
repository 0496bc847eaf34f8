"""The shipped pipeline on real chats: contract §7 shape, role scope, evidence, bad chats in place."""

import json

import pytest
from typer.testing import CliRunner

from chatcoach.cli import app
from chatcoach.contract import FLAGS, FUNNELS, REP_FLAGS, STAGES, Chat
from chatcoach.jsonl import read_sop


@pytest.fixture(scope="module")
def pipeline(encoder):
    from chatcoach.pipeline import Pipeline

    return Pipeline.load(encoder=encoder)


def make_chat(chat_id, turns, **extra):
    return Chat.model_validate({"chat_id": chat_id, **extra, "messages": [
        {"id": f"m{i + 1}", "sender": s, "text": t, **({"type": ty} if ty else {})} for i, (s, t, ty) in enumerate(turns)]})


SIDE_ORDER_CHAT = make_chat("t-side", [
    ("rep", "您好，我是美美，您的护肤顾问[愉快]", None),
    ("customer", "这个精华多少钱", None),
    ("rep", "活动价399，买二送一", None),
    ("customer", "有点贵啊", None),
    ("rep", "商城贵，你加我小号直接转我，给你算299", None),
])


def test_analysis_has_the_contract_shape(pipeline):
    [result] = pipeline.analyze([SIDE_ORDER_CHAT])
    assert result["chat_id"] == "t-side"
    assert result["funnel"] in FUNNELS and set(result["funnel_scores"]) == set(FUNNELS)
    assert abs(sum(result["funnel_scores"].values()) - 1) < 1e-3
    assert [m["id"] for m in result["messages"]] == [m.id for m in SIDE_ORDER_CHAT.messages]
    for m in result["messages"]:
        assert m["stage"] in STAGES and m["stage"] == max(m["stage_scores"], key=m["stage_scores"].get)
        assert set(m["flag_scores"]) == set(FLAGS) and all(0 <= v <= 1 for v in m["flag_scores"].values())
        assert set(m["flags"]) == {e["flag"] for e in m["evidence"]}


def test_stage_scores_are_the_taggers_posteriors(pipeline):
    # the pipeline and the tagger's own predict_proba (what training selects on) are one path
    [result] = pipeline.analyze([SIDE_ORDER_CHAT])
    [proba] = pipeline.analyzer.stage.predict_proba(pipeline.featurise([SIDE_ORDER_CHAT]))
    for message, row in zip(result["messages"], proba):
        assert message["stage_scores"] == pytest.approx(dict(zip(STAGES, row)), abs=1e-3)


def test_side_order_is_flagged_with_its_span(pipeline):
    [result] = pipeline.analyze([SIDE_ORDER_CHAT])
    last = result["messages"][-1]
    assert "side_order" in last["flags"]
    ev = next(e for e in last["evidence"] if e["flag"] == "side_order")
    text = SIDE_ORDER_CHAT.messages[-1].text
    assert text[ev["start"]:ev["end"]] == ev["text"] and ev["source"] in ("rule", "model")
    assert result["messages"][1]["stage"] == "quote"


def in_traditional(text: str) -> str:
    import opencc

    return opencc.OpenCC("s2t").convert(text)


def test_a_chat_in_traditional_characters_reads_like_its_simplified_twin(pipeline):
    traditional = make_chat("t-side", [(m.sender, in_traditional(m.text), None) for m in SIDE_ORDER_CHAT.messages])
    assert traditional.messages[-1].text == "商城貴，你加我小號直接轉我，給你算299"
    [result] = pipeline.analyze([traditional])
    [twin] = pipeline.analyze([SIDE_ORDER_CHAT])
    for message, twin_message in zip(result["messages"], twin["messages"]):
        assert message["stage_scores"] == pytest.approx(twin_message["stage_scores"], abs=1e-4)
        assert message["flag_scores"] == pytest.approx(twin_message["flag_scores"], abs=1e-4)
    # the company's rules (written in simplified) fire, and evidence quotes the message as written
    strip = lambda evidence: [{k: v for k, v in e.items() if k != "text"} for e in evidence]  # noqa: E731
    assert strip(result["messages"][-1]["evidence"]) == strip(twin["messages"][-1]["evidence"])
    ev = next(e for e in result["messages"][-1]["evidence"] if e["flag"] == "side_order")
    assert ev["source"] == "rule" and ev["text"] == traditional.messages[-1].text[ev["start"]:ev["end"]] == "加我小號"


def test_half_width_punctuation_reads_like_the_full_width_twin(pipeline):
    typed = make_chat("t-side", [(m.sender, m.text.translate(str.maketrans("，。！？", ",.!?")), None)
                                 for m in SIDE_ORDER_CHAT.messages])
    assert typed.messages[-1].text == "商城贵,你加我小号直接转我,给你算299"
    [result], [twin] = pipeline.analyze([typed]), pipeline.analyze([SIDE_ORDER_CHAT])
    for message, twin_message in zip(result["messages"], twin["messages"]):
        assert message["flag_scores"] == pytest.approx(twin_message["flag_scores"], abs=1e-4)
        assert message["stage"] == twin_message["stage"]


# ordinary things reps say, each ending in the WeChat smile that the authored corpus only ever put on insults
SMILING = ["好的，明天一早给您发货", "收到您的付款啦，谢谢支持", "这款是我们店的爆款，很多老客回购", "您先试用一周，有问题随时找我",
           "活动价到周日结束哦", "地址我核对一下：杭州市西湖区文三路88号", "早上好，今天降温记得多穿点", "您说的情况我记下了，马上帮您问仓库",
           "下单后48小时内发出", "这个颜色很衬肤色，您放心选", "那我先不打扰您啦，有需要随时叫我", "您上次买的快用完了吧，要不要帮您留一套"]


def test_a_smile_emoji_does_not_make_a_rep_message_an_insult(pipeline):
    chats = [make_chat(f"t-smile-{i}", [("customer", "在吗", None), ("rep", text + "[微笑]", None)]) for i, text in enumerate(SMILING)]
    insults = [r["chat_id"] for r in pipeline.analyze(chats) if "insult" in r["messages"][-1]["flags"]]
    # the stop-20 models flagged three of these; the style variants (training/style.py) left one
    # ("…要不要帮您留一套[微笑]", 0.45 against 0.05 without the emoji): the fix is partial, and this guards it
    assert len(insults) <= 1, insults
    mocking = make_chat("t-mock", [("customer", "有没有便宜点的", None), ("rep", "就你这点预算还想用正品？[微笑]", None)])
    assert "insult" in pipeline.analyze([mocking])[0]["messages"][-1]["flags"]


def test_a_retraction_vetoes_the_models_flag_but_not_a_rules(pipeline):
    retracted = make_chat("t-veto", [("customer", "要我身份证干嘛", None),
                                      ("rep", "是我不该在微信里问您要身份证号，您到店里自己登记就行", None)])
    [model_alone] = pipeline.analyzer.flags.predict_proba(pipeline.featurise([retracted]))
    assert model_alone[-1][FLAGS.index("privacy")] >= pipeline.analyzer.thresholds["privacy"]  # the model would raise it
    [result] = pipeline.analyze([retracted])
    assert "privacy" not in result["messages"][-1]["flags"] and result["messages"][-1]["flag_scores"]["privacy"] <= 0.05
    both = make_chat("t-veto-2", [("customer", "要我身份证干嘛", None), ("rep", "当我没说，您把银行卡号发我就行", None)])
    [result] = pipeline.analyze([both])
    assert "privacy" in result["messages"][-1]["flags"] and result["messages"][-1]["evidence"][0]["source"] == "rule"


def test_the_qr_code_after_a_side_order_is_flagged_too(pipeline):
    chat = make_chat("t-qr", [*[(m.sender, m.text, None) for m in SIDE_ORDER_CHAT.messages],
                              ("rep", "[图片]", "image"), ("customer", "好的", None), ("rep", "[图片]", "image")])
    [result] = pipeline.analyze([chat])
    qr, _, later = result["messages"][-3:]
    assert "side_order" in qr["flags"]
    assert qr["evidence"][0]["source"] == "rule" and qr["evidence"][0]["rule"] == "side-order-attachment"
    assert "side_order" not in later["flags"]  # the customer spoke in between: no longer the same turn


def test_role_scope(pipeline):
    chat = make_chat("t-scope", [("customer", "你们这帮骗子，我要去12315投诉，再加我小号也没用", None)])
    [result] = pipeline.analyze([chat])
    msg = result["messages"][0]
    assert not set(msg["flags"]) & REP_FLAGS
    assert all(msg["flag_scores"][f] == 0 for f in REP_FLAGS)
    assert "complaint" in msg["flags"]


def test_silent_chat_is_silent(pipeline):
    chat = make_chat("t-silent", [("rep", "您好，通过了您的好友验证，我是小李", None),
                                  ("rep", "双十一活动开始啦，全场八折", None)])
    [result] = pipeline.analyze([chat])
    assert result["funnel"] == "silent" and result["funnel_scores"]["silent"] == 1.0


def test_cli_analyze_keeps_order_and_reports_bad_chats(tmp_path):
    good = SIDE_ORDER_CHAT.model_dump(mode="json", exclude_none=True)
    bad = {"chat_id": "t-bad", "messages": [{"id": "m1", "sender": "robot", "text": "hi"}]}
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in [good, bad, {**good, "chat_id": "t-2"}]) + "\n")
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(app, ["analyze", str(src), "-o", str(out)])
    assert result.exit_code == 0, result.output
    rows = [json.loads(l) for l in out.read_text(encoding="utf-8").splitlines()]
    assert [r["chat_id"] for r in rows] == ["t-side", "t-bad", "t-2"]
    assert "messages[0].sender" in rows[1]["error"] and "funnel" not in rows[1]
    assert rows[0]["messages"] == rows[2]["messages"]


@pytest.fixture(scope="module")
def library():
    from chatcoach.config import get_settings

    return read_sop(next(iter(sorted((get_settings().labeled_chats_dir / "sop").glob("*.jsonl")))))


def test_suggest_fills_placeholders_and_ranks_by_stage(pipeline, library):
    chat = make_chat("t-sug", [("rep", "您好，我是小美", None), ("customer", "这个多少钱", None),
                               ("rep", "现在活动价399，还送小样", None), ("customer", "太贵了，别家便宜多了", None)],
                     customer_name="王姐", rep_name="小美")
    [result] = pipeline.suggest([chat], library, k=5)
    assert len(result["suggestions"]) == 5
    scores = [s["score"] for s in result["suggestions"]]
    assert scores == sorted(scores, reverse=True)
    assert result["suggestions"][0]["stage"] in ("objection", "quote")
    ids = {s.id for s in library}
    assert all(s["sop_id"] in ids for s in result["suggestions"])
    assert all("{客户称呼}" not in s["text"] for s in result["suggestions"])


def test_a_library_in_traditional_characters_is_searched_like_its_simplified_twin(pipeline, library):
    chat = make_chat("t-sug", [("customer", "这个多少钱", None), ("rep", "现在活动价399，还送小样", None),
                               ("customer", "太贵了，别家便宜多了", None)])
    traditional = [s.model_copy(update={"scenario": in_traditional(s.scenario), "text": in_traditional(s.text)}) for s in library]
    [simplified_result] = pipeline.suggest([chat], library, k=3)
    [result] = pipeline.suggest([chat], traditional, k=3)
    assert [s["sop_id"] for s in result["suggestions"]] == [s["sop_id"] for s in simplified_result["suggestions"]]
    assert [s["score"] for s in result["suggestions"]] == pytest.approx([s["score"] for s in simplified_result["suggestions"]], abs=1e-3)
    by_id = {s.id: s for s in traditional}
    assert all(s["scenario"] == by_id[s["sop_id"]].scenario for s in result["suggestions"])  # shown as the company wrote it


def test_suggestions_after_a_live_analysis_are_those_of_a_cold_request(pipeline, library):
    """The live service hands suggest the analysis it just made instead of reading the chat again."""
    chat = make_chat("t-live", [("rep", "您好，我是小美", None), ("customer", "这个多少钱", None),
                                ("rep", "现在活动价399，还送小样", None), ("customer", "我老公说等发工资再买", None)])
    [cold] = pipeline.suggest([chat], library, k=5)
    [live] = pipeline.suggest([chat], library, k=5, analyses=pipeline.analyze([chat]))
    assert [s["sop_id"] for s in live["suggestions"]] == [s["sop_id"] for s in cold["suggestions"]]
    assert [s["score"] for s in live["suggestions"]] == pytest.approx([s["score"] for s in cold["suggestions"]], abs=2e-3)


def test_a_chat_of_one_message_gets_greeting_suggestions(pipeline, library):
    """The stage hint reads the last two messages; a first hello has only one."""
    [result] = pipeline.suggest([make_chat("t-hello", [("customer", "你好，朋友推荐加的你", None)])], library, k=3)
    assert [s["stage"] for s in result["suggestions"]][:1] == ["greeting"]


def test_loading_heads_fitted_on_another_encoder_build_warns(tmp_path, encoder, caplog):
    import shutil

    from chatcoach.config import get_settings
    from chatcoach.pipeline import MANIFEST, Pipeline

    settings = get_settings()
    artifacts = tmp_path / "artifacts"
    shutil.copytree(settings.artifacts_dir, artifacts)
    manifest = json.loads((artifacts / MANIFEST).read_text())
    assert manifest["encoders"]["analyzer"] == "tuned"
    manifest["encoders"]["fingerprints"]["analyzer"] = "another-build"
    (artifacts / MANIFEST).write_text(json.dumps(manifest))
    with caplog.at_level("WARNING", logger="chatcoach.pipeline"):
        Pipeline.load(settings.model_copy(update={"artifacts_dir": artifacts}), encoder=encoder)
    assert any("chatcoach train" in r.getMessage() for r in caplog.records)


def test_a_rules_file_that_does_not_load_stops_the_pipeline_at_start(tmp_path):
    from chatcoach.config import Settings
    from chatcoach.pipeline import Pipeline

    broken = tmp_path / "rules.yaml"
    broken.write_text("rules:\n  - {id: typo, flag: side_order, keyword: [小号]}\n", encoding="utf-8")
    with pytest.raises(ValueError, match="rule typo: keyword"):
        Pipeline.load(Settings(rules_path=broken))
    with pytest.raises(FileNotFoundError, match="CHATCOACH_RULES_PATH"):
        Pipeline.load(Settings(rules_path=tmp_path / "missing.yaml"))

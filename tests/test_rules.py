"""Company rules: disguised side orders fire, official channels do not, edits load without restart."""

import os
import time

import pytest

from chatcoach.config import get_settings
from chatcoach.contract import Chat, Message
from chatcoach.models.rules import HotRules, RuleSet, rule_reports, without_gaps


@pytest.fixture(scope="module")
def rules():
    return RuleSet.from_file(get_settings().rules_path)


def flags(rules, text, sender="rep", type="text"):
    """The flags the rules raise on a message (vetoes raise nothing)."""
    return {h.rule.flag for h in rules.match(Message(id="m", sender=sender, text=text, type=type)) if not h.rule.veto}


def vetoes(rules, text, sender="rep"):
    return {h.rule.flag for h in rules.match(Message(id="m", sender=sender, text=text)) if h.rule.veto}


@pytest.mark.parametrize("text", [
    "加我小号吧，那边便宜", "V我，私下给你便宜点", "vx: mei_beauty88 加这个", "直接转我个人微信就行",
    "扫一下我的收款码", "去我朋友的店拍，便宜三十", "不走公司系统，给您省点", "货到付款给我就行",
    "到时候现金直接给我，不用过公司的账", "小程序没货了，去他那边拍，一个厂出来的", "这批主材我私下给您拿，比清单便宜",
    "这款我能按内部价给您", "走我这儿拿，比门店便宜两百", "我有朋友在厂里拿货，便宜一半", "钱直接给我，别跟店里说",
    "你加我V，我单独给你算", "加我威信 给你优惠", "我另一个微信号是 xyz_778899，加那个",
])
def test_disguised_side_orders_fire(rules, text):
    assert "side_order" in flags(rules, text)


def test_an_attachment_carries_the_side_order_it_follows(rules):
    qr = Message(id="m2", sender="rep", text="[图片]", type="image")
    assert "side_order" in {h.rule.flag for h in rules.match(qr, flagged_before=["side_order"])}
    assert "side_order" not in {h.rule.flag for h in rules.match(qr, flagged_before=["false_promise"])}
    assert "side_order" not in flags(rules, "[图片]", type="image")  # a product photo on its own
    # text is left to the model: what follows a side order is not always one
    assert "side_order" not in {h.rule.flag for h in rules.match(
        Message(id="m2", sender="rep", text="好的呀", type="text"), flagged_before=["side_order"])}


def rep_transfer_fires(rules, text, before=None):
    transfer = Message(id="m2", sender="rep", text=text, type="transfer")
    said = Message(id="m1", sender="rep", text=before) if before else None
    return "side_order" in {h.rule.flag for h in rules.match(transfer, said)}


def test_a_rep_sending_money_is_a_side_order_unless_it_goes_back(rules):
    assert rep_transfer_fires(rules, "[转账] ¥50.00", "你在别家下单，差价我私下返你")
    assert rep_transfer_fires(rules, "[红包]")
    assert not rep_transfer_fires(rules, "[转账] ¥500.00 已退还")
    assert not rep_transfer_fires(rules, "[已退还红包]")
    assert not rep_transfer_fires(rules, "[转账] ¥600.00", "别别别，我现在就退你")
    assert not rep_transfer_fires(rules, "[转账] ¥20.00", "是我不对，我自己贴你20块，转你了")


@pytest.mark.parametrize("text", [
    "钱不能转我个人，要在小程序里付才有订单", "阿姨不用转给我哈，走店里的渠道", "转我个人可不行老弟，公司规定不收私人转账",
    "我们不能私下收现金，您在小程序里选货到付款", "价格是总部定的，我私下改不了",
    "走我这儿不行哦，要在小程序下单才有售后", "没法给您内部价，都是官方统一价", "我有朋友也买的这款，说一样好用",
])
def test_refusing_a_personal_transfer_does_not_fire(rules, text):
    assert "side_order" not in flags(rules, text)


@pytest.mark.parametrize("text", [
    "请在官方小程序下单哦", "点官方商城链接付款就可以", "地址发我一下，今天给您发货", "这个价格是公司统一的活动价",
    # look-alikes the first rules fired on: words and grades with a v, paying by scanning the shop's code
    "165穿S就够oversize了", "Vincent你好呀", "这颗0.42克拉，F色，VS1，切工3EX", "预约 https://m.example.com/live/vip-0717",
    "来店里收银台扫码付就行", "瓶底批号扫码能看到生产日期", "您是在快闪店扫码加的我吧",
])
def test_official_channels_do_not_fire(rules, text):
    assert "side_order" not in flags(rules, text)


@pytest.mark.parametrize("text", [
    "你是不是傻，说了三遍了", "sb，爱买不买", "神经病啊你", "tmd烦死了，问这么多", "滚，别来烦我", "脑残才这么问", "去死吧",
    "你脑子有病吧", "他妈的能不能别催了",
])
def test_plain_abuse_fires(rules, text):
    assert flags(rules, text) == {"insult"}


@pytest.mark.parametrize("text", [
    "吸力大毛发不缠滚刷", "胖得好 圆滚滚的才可爱", "去死皮的话用这款磨砂膏", "扫地机边刷能去死角",
    "有冇医生讲过佢有周围神经病变", "当妈的太辛苦了", "这款牛逼在续航", "客户骂我们是骗子，我已经上报了", "我不是说您傻，是我没讲清楚",
])
def test_words_that_only_look_like_abuse_do_not_fire(rules, text):
    assert "insult" not in flags(rules, text)


@pytest.mark.parametrize("text", ["法院见吧", "等着吃官司吧", "我要申请仲裁", "不退款我就报警了", "再不处理我就打市长热线",
                                  "直接上黑猫投诉吧", "我要投诉到教育局"])
def test_legal_action_and_other_regulators_are_complaint_threats(rules, text):
    assert flags(rules, text, sender="customer") == {"complaint"}


@pytest.mark.parametrize("text", ["家里的烟雾报警器响了", "放心，我不会报警的", "这个315晚会报道过吗"])
def test_alarms_and_promises_not_to_complain_are_not_threats(rules, text):
    assert flags(rules, text, sender="customer") == set()


@pytest.mark.parametrize("text", ["肯定能瘦十斤，瘦不了我全退", "用了就能长高五厘米", "这事我说了算，给您送两盒", "我打包票，三年不卡",
                                  "差价我个人补给您", "我给你担保，出了事我赔"])
def test_promises_on_the_reps_own_word_fire(rules, text):
    assert "false_promise" in flags(rules, text)


@pytest.mark.parametrize("text", ["效果因人而异，不一定能瘦", "我不敢乱给您打包票", "没人能打包票，多通风再测一下",
                                  "价格是公司定的，我们按系统走", "之前说的保证摔不坏是我乱说的"])
def test_hedges_and_retractions_of_promises_do_not_fire(rules, text):
    assert "false_promise" not in flags(rules, text)


@pytest.mark.parametrize("text, sender, flag", [
    ("是我不该在微信里问您要身份证号，您到店里自己登记就行", "rep", "privacy"),
    ("银行卡号和密码都不用发给我，退款原路返回", "rep", "privacy"),
    ("千万别把验证码给别人哦", "rep", "privacy"),
    ("之前说的保证三天见效是我乱说的，效果因人而异", "rep", "false_promise"),
    ("行吧，这回不投诉了", "customer", "complaint"),
])
def test_retractions_and_warnings_veto_the_model(rules, text, sender, flag):
    assert vetoes(rules, text, sender) == {flag} and flag not in flags(rules, text, sender)


@pytest.mark.parametrize("text, sender", [("您身份证号发我一下，我帮您登记", "rep"), ("不投诉不行了，我要去12315", "customer"),
                                          ("保证三天见效", "rep")])
def test_requests_threats_and_promises_are_not_vetoed(rules, text, sender):
    assert vetoes(rules, text, sender) == set()


def test_a_veto_rule_is_right_when_the_flag_is_absent():
    rules = RuleSet.from_dict({"rules": [{"id": "v", "flag": "privacy", "veto": True, "keywords": ["不用发"]}]})
    chat = Chat.model_validate({"chat_id": "c", "messages": [
        {"id": "m1", "sender": "rep", "text": "身份证不用发", "flags": []},
        {"id": "m2", "sender": "rep", "text": "卡号不用发，密码发我", "flags": ["privacy"]}]})
    [report] = rule_reports(rules, [chat])
    assert (report.hits, report.right, report.wrong) == (2, 1, ["c/m2: 卡号不用发，密码发我"])


def test_a_customers_curse_is_not_a_rep_insult(rules):
    assert flags(rules, "妈的顺丰直接扔驿站", sender="customer") == set()


@pytest.mark.parametrize("text, span", [
    ("加 我 小 号 ，给你算便宜点", "加 我 小 号"), ("私*下给你便宜", "私*下给你便宜"), ("直接转我个·人微信", "直接转我个·人")])
def test_spacing_between_characters_does_not_hide_a_keyword(rules, text, span):
    [hit] = rules.match(Message(id="m", sender="rep", text=text))
    assert hit.rule.flag == "side_order" and (hit.text, text[hit.start:hit.end]) == (span, span)


def test_without_gaps_keeps_words_apart_and_maps_back():
    text, where = without_gaps("好的 我 知道了, ok 2 件 vx: ab_12")
    assert text == "好的我知道了, ok 2 件 vx: ab_12"  # only spacing between two Chinese characters goes
    assert [where[i] for i in range(4)] == [0, 1, 3, 5]


def test_role_scope_and_evidence(rules):
    msg = Message(id="m", sender="customer", text="再不退款我就去12315投诉你们")
    hits = rules.match(msg)
    assert {h.rule.flag for h in hits} == {"complaint"}
    hit = hits[0]
    assert msg.text[hit.start:hit.end] == hit.text
    assert flags(rules, "再不退款我就去12315投诉你们", sender="rep") == set()
    assert "complaint" not in flags(rules, "放心，我不会投诉的", sender="customer")


def test_message_type_and_links():
    rules = RuleSet.from_dict({"official_domains": ["shop.example.com"], "rules": [
        {"id": "t", "flag": "side_order", "role": "rep", "types": ["transfer"]},
        {"id": "l", "flag": "side_order", "role": "rep", "unofficial_links": True},
    ]})
    assert flags(rules, "[转账] ¥50", type="transfer") == {"side_order"}
    assert flags(rules, "下单链接 https://shop.example.com/p/1", type="link") == set()
    assert flags(rules, "这家便宜 https://weidian.com/x?id=2", type="link") == {"side_order"}


@pytest.mark.parametrize("rule, error", [
    ({"id": "r1", "flag": "rudeness"}, "rule r1: flag"),
    ({"id": "r2", "flag": "insult", "patterns": ["(unclosed"]}, "rule r2: patterns.0: bad regex"),
    # mistakes that would otherwise load a rule that never fires, or fires on every 穷
    ({"id": "r3", "flag": "insult", "pattern": ["穷鬼"]}, "rule r3: pattern: Extra inputs"),
    ({"id": "r4", "flag": "insult", "keywords": "穷鬼"}, "rule r4: keywords: Input should be a valid list"),
    ({"id": "r5", "flag": "complaint", "role": "rep"}, "rule r5: role: complaint is raised on customer messages only"),
    ({"id": "r6", "flag": "side_order", "types": ["sticker"]}, "rule r6: types.0"),
])
def test_bad_rule_files_are_named(rule, error):
    with pytest.raises(ValueError, match=error):
        RuleSet.from_dict({"rules": [rule]})


def test_a_rule_without_a_role_takes_its_flags_scope():
    rules = RuleSet.from_dict({"rules": [{"id": "c", "flag": "complaint", "keywords": ["12315"]}]})
    assert flags(rules, "再不退我就打12315", sender="customer") == {"complaint"}


def test_hot_reload(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text("rules: []\n", encoding="utf-8")
    hot = HotRules(path)
    assert flags(hot.current(), "你这穷鬼") == set()
    path.write_text("rules:\n  - {id: poor, flag: insult, role: rep, keywords: [穷鬼]}\n", encoding="utf-8")
    touch(path, 5)
    assert flags(hot.current(), "你这穷鬼") == {"insult"}


def touch(path, seconds_ahead):
    later = time.time() + seconds_ahead
    os.utime(path, (later, later))  # a new mtime even on coarse-grained filesystems


def test_a_broken_edit_keeps_the_last_rules_in_force(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text("rules:\n  - {id: poor, flag: insult, keywords: [穷鬼]}\n", encoding="utf-8")
    hot = HotRules(path)
    assert flags(hot.current(), "你这穷鬼") == {"insult"} and hot.error is None
    path.write_text("rules:\n  - {id: poor, flag: insult, patterns: ['(穷鬼']}\n", encoding="utf-8")
    touch(path, 5)
    assert flags(hot.current(), "你这穷鬼") == {"insult"}
    assert "rule poor: patterns.0: bad regex" in hot.error
    path.write_text("rules: []\n", encoding="utf-8")
    touch(path, 10)
    assert flags(hot.current(), "你这穷鬼") == set() and hot.error is None


def test_a_rules_file_that_never_loaded_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="CHATCOACH_RULES_PATH"):
        HotRules(tmp_path / "missing.yaml").current()
    broken = tmp_path / "broken.yaml"
    broken.write_text("rules: [{id: x, flag: insult, keyword: [a]}]\n", encoding="utf-8")
    with pytest.raises(ValueError, match="rule x: keyword"):
        HotRules(broken).current()


@pytest.mark.parametrize("text, flag", [
    ("您千万别把任何验证码给别人", "privacy"), ("退回原账户，不用给我卡号", "privacy"),
    ("按一下输您的微信支付密码就好，钱是直接付给公司的", "privacy"),
    ("个体差异存在，不保证每个人都有效", "false_promise"), ("我刚才说太满了，不该说根治", "false_promise"),
    ("之前说包过是我讲错了，考试还是看自己", "false_promise"), ("刚才那句保证提分我收回", "false_promise"),
])
def test_warnings_and_retractions_do_not_fire(rules, text, flag):
    assert flag not in flags(rules, text)


def test_sensitive_requests_still_fire(rules):
    assert "privacy" in flags(rules, "把支付密码发我，我帮你抢券")
    assert "privacy" in flags(rules, "身份证号发我一下")
    assert "false_promise" in flags(rules, "保证你三天见效")
    for promise in ("报我们的班包过", "保证孩子期末提分", "这个完全没有副作用"):
        assert "false_promise" in flags(rules, promise)


def test_mocking_what_a_customer_can_afford_is_an_insult(rules):
    for mocking in ("几十块都抠抠搜搜的，还买啥", "买不起就别问了", "送老婆礼物都咁孤寒"):
        assert "insult" in flags(rules, mocking)
    for fine in ("不是说您小气哈，是这款确实划算", "夏天来杯小气泡水", "我们老板可抠门了，这价真申请不下来"):
        assert "insult" not in flags(rules, fine)
    assert "insult" not in flags(rules, "你们家真抠门", sender="customer")  # the customer's own words

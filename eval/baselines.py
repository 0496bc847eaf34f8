"""The two baselines every analyzer number is compared with, in the same run.

- Keyword lists: what a QA team would write by hand from the contract's
  "typical signs" (stage) and obvious words (flags), plus the funnel rules.
- TF-IDF + LR: character n-grams of the message alone, a logistic head per
  task, trained on the same train split as ChatCoach. Each flag's threshold is
  the one with the best F1 on dev: kinder to the baseline than ChatCoach's own
  thresholds, which must also keep the rep flags' precision floor.
"""

from __future__ import annotations

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from chatcoach.contract import FLAGS, REP_FLAGS, Chat
from chatcoach.evaluation.metrics import pick_threshold
from chatcoach.models.features import message_text

STAGE_WORDS = {
    "greeting": ["您好", "你好", "我是", "通过了你的好友", "在吗", "好久不见", "认识一下"],
    "rapport": ["天气", "周末", "放假", "孩子", "哈哈", "下雨", "吃了吗", "朋友圈"],
    "needs": ["皮肤", "几岁", "几年级", "预算", "平时", "什么情况", "需求", "照片", "发张"],
    "pitch": ["推荐", "适合您", "成分", "效果", "这款", "这套", "功效", "新品"],
    "quote": ["多少钱", "价格", "活动价", "优惠", "折扣", "送", "元", "¥", "块"],
    "objection": ["太贵", "考虑", "别家", "便宜点", "副作用", "假的", "不需要", "再看看"],
    "close": ["拍下", "下单", "付款", "地址", "发货", "链接", "支付", "转账"],
    "after_sale": ["收到", "用了", "感觉怎么样", "物流", "快递", "回购", "售后", "生日"],
}
FLAG_WORDS = {
    "insult": ["傻", "蠢", "滚", "穷", "有病", "脑子", "垃圾", "神经病", "买不起"],
    "side_order": ["小号", "私人微信", "加我微信", "转我", "扫码", "收款码", "私下", "vx", "V我"],
    "false_promise": ["保证", "百分百", "100%", "根治", "无效退款", "绝对有效", "包好"],
    "privacy": ["身份证", "银行卡", "密码", "验证码"],
    "complaint": ["投诉", "12315", "差评", "曝光", "律师", "起诉", "消协"],
}
PRICE_WORDS = STAGE_WORDS["quote"] + ["贵"]
PAY_WORDS = ["付款", "拍下", "已付", "转账", "下单了", "付了"]
REPEAT_WORDS = ["回购", "上次", "又来", "再来", "老客户", "再买", "复购"]


def _first_hit(text: str, table: dict[str, list[str]]) -> str | None:
    for label, words in table.items():
        if any(w.lower() in text.lower() for w in words):
            return label
    return None


class KeywordBaseline:
    def analyze(self, chats: list[Chat]) -> list[dict]:
        results = []
        for chat in chats:
            stage, messages = "greeting", []
            for m in chat.messages:
                text = message_text(m)
                stage = _first_hit(text, STAGE_WORDS) or stage  # carry the last stage forward
                flags = [f for f, words in FLAG_WORDS.items()
                         if any(w.lower() in text.lower() for w in words) and ((f in REP_FLAGS) == (m.sender == "rep"))]
                messages.append({"id": m.id, "stage": stage, "flags": flags})
            results.append({"chat_id": chat.chat_id, "funnel": self._funnel(chat), "messages": messages})
        return results

    @staticmethod
    def _funnel(chat: Chat) -> str:
        customer = [m.text for m in chat.messages if m.sender == "customer"]
        if not customer:
            return "silent"
        text = " ".join(m.text for m in chat.messages)
        if any(w in text for w in PAY_WORDS) or any(m.type == "transfer" for m in chat.messages):
            return "repeat" if any(w in text for w in REPEAT_WORDS) else "won"
        return "quoted" if any(w in text for w in PRICE_WORDS) else "engaged"


class TfidfBaseline:
    def fit(self, chats: list[Chat], dev: list[Chat]) -> "TfidfBaseline":
        texts = [message_text(m) for c in chats for m in c.messages]
        self.vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), min_df=2, sublinear_tf=True).fit(texts)
        X = self.vec.transform(texts)
        self.stage = LogisticRegression(C=4.0, max_iter=3000).fit(X, [m.stage for c in chats for m in c.messages])
        self.flags = {}
        for flag in FLAGS:
            y = np.array([flag in (m.flags or []) for c in chats for m in c.messages])
            if y.sum() >= 2:
                self.flags[flag] = LogisticRegression(C=4.0, max_iter=3000, class_weight="balanced").fit(X, y)
        # identical texts ("[图片]") share one score, so 0.5 can flip every image at once: place it on dev
        X_dev = self.vec.transform([message_text(m) for c in dev for m in c.messages])
        self.thresholds = {flag: pick_threshold(np.array([flag in (m.flags or []) for c in dev for m in c.messages]),
                                                head.predict_proba(X_dev)[:, 1]) for flag, head in self.flags.items()}
        self.chat_vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), min_df=2, sublinear_tf=True)
        Xc = self.chat_vec.fit_transform([self._chat_text(c) for c in chats])
        self.funnel = LogisticRegression(C=4.0, max_iter=3000).fit(Xc, [c.funnel for c in chats])
        return self

    @staticmethod
    def _chat_text(chat: Chat) -> str:
        return " ".join(f"{m.sender}:{message_text(m)}" for m in chat.messages)

    def analyze(self, chats: list[Chat]) -> list[dict]:
        funnels = self.funnel.predict(self.chat_vec.transform([self._chat_text(c) for c in chats]))
        results = []
        for chat, funnel in zip(chats, funnels):
            X = self.vec.transform([message_text(m) for m in chat.messages])
            stages = self.stage.predict(X)
            flag_hits = {f: head.predict_proba(X)[:, 1] >= self.thresholds[f] for f, head in self.flags.items()}
            messages = [{"id": m.id, "stage": stages[i],
                         "flags": [f for f, hits in flag_hits.items() if hits[i]]} for i, m in enumerate(chat.messages)]
            results.append({"chat_id": chat.chat_id, "funnel": funnel, "messages": messages})
        return results


"""Suggestion text: placeholders filled from what the chat knows, under the names libraries use."""

import pytest

from chatcoach.contract import Chat
from chatcoach.models.suggester import fill_placeholders

CHAT = Chat.model_validate({"chat_id": "c", "customer_name": "王姐", "rep_name": "小美",
                            "messages": [{"id": "m1", "sender": "customer", "text": "在吗"}]})


@pytest.mark.parametrize("script, filled", [
    ("{客户称呼}您好，我是{顾问名}", "王姐您好，我是小美"),
    ("{称呼}好～我是您的专属顾问{顾问}", "王姐好～我是您的专属顾问小美"),
    ("{{ 客户姓名 }}，{销售名}给您留了一份", "王姐，小美给您留了一份"),
    ("{客戶稱呼}您好，我是{導購名}", "王姐您好，我是小美"),  # a library in traditional characters
    ("Hi {name}, this is {rep_name}", "Hi 王姐, this is 小美"),
])
def test_names_the_chat_knows_are_filled(script, filled):
    assert fill_placeholders(script, CHAT) == filled


def test_what_the_chat_does_not_know_stays_visible():
    assert fill_placeholders("{宝宝称呼}满月啦，{产品名}给您备好了，{客户称呼}", CHAT) == "{宝宝称呼}满月啦，{产品名}给您备好了，王姐"
    nameless = CHAT.model_copy(update={"customer_name": None})
    assert fill_placeholders("{客户称呼}您好", nameless) == "{客户称呼}您好"

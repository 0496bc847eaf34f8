"""The API over HTTP against a real app and database: auth, roles, per-chat errors, persistence."""

import json

import pytest

from tests.serving.conftest import auth

SOP = [
    {"id": "t-greet-01", "stage": "greeting", "scenario": "刚加好友", "text": "{客户称呼}您好，我是{顾问名}，有护肤问题随时找我~"},
    {"id": "t-quote-01", "stage": "quote", "scenario": "客户问价格", "text": "{客户称呼}，这款现在活动价299，买二送一哦"},
    {"id": "t-obj-01", "stage": "objection", "scenario": "客户嫌贵", "text": "理解您～这套三个月用量，算下来每天不到三块钱"},
    {"id": "t-close-01", "stage": "close", "scenario": "客户决定购买", "text": "好的，官方小程序下单链接发您，拍下后今天发货"},
    {"id": "t-after-01", "stage": "after_sale", "scenario": "客户收到货", "text": "收到啦？用的时候先做个耳后测试哦"},
]


# A price question after the rep's pitch is `quote`. Asked in the customer's opening burst it can
# read as `greeting` (AUTHORING.md: the first contact is greeting, a first question included).
PRICE_QUESTION = [("rep", "您好，我是小美"), ("customer", "你好"), ("rep", "这款精华主打修护，最近在做活动"),
                  ("customer", "这个精华多少钱")]


def chat(chat_id, rep_id="rep-a", texts=None):
    texts = texts or [("rep", "您好，我是小美"), ("customer", "这个精华多少钱")]
    return {"chat_id": chat_id, "rep_id": rep_id, "customer_name": "王姐", "rep_name": "小美", "messages": [
        {"id": f"m{i + 1}", "sender": s, "text": t, "ts": f"2024-03-01T10:0{i}:00+08:00"} for i, (s, t) in enumerate(texts)]}


def test_health_ready_metrics(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["models"] and ready.json()["database"]
    assert ready.json()["rules_error"] is None
    client.get("/healthz")
    assert "chatcoach_requests_total" in client.get("/metrics").text


def test_missing_and_wrong_keys_are_401_with_json(client):
    r = client.post("/v1/analyze", json={"chats": [chat("x")]})
    assert r.status_code == 401 and "error" in r.json()
    r = client.post("/v1/analyze", json={"chats": [chat("x")]}, headers=auth("cc_admin_not-a-key"))
    assert r.status_code == 401 and "revoked" in r.json()["error"]["message"]


def test_wrong_role_is_403(client, keys):
    r = client.post("/v1/sop-libraries?name=x", content=json.dumps(SOP[0]), headers=auth(keys["rep_a"]))
    assert r.status_code == 403 and "trainer" in r.json()["error"]["message"]


def test_analyze_returns_results_in_order_with_errors_in_place(client, keys):
    bad = chat("bad")
    bad["messages"][0]["sender"] = "bot"
    r = client.post("/v1/analyze", json={"chats": [chat("a1", texts=PRICE_QUESTION), bad, chat("a2")]}, headers=auth(keys["rep_a"]))
    assert r.status_code == 200
    results = r.json()["results"]
    assert [x["chat_id"] for x in results] == ["a1", "bad", "a2"]
    assert "messages[0].sender" in results[1]["error"]
    assert results[0]["messages"][3]["stage"] == "quote"
    only_bad = client.post("/v1/analyze", json={"chats": [bad]}, headers=auth(keys["admin"]))
    assert only_bad.status_code == 422


def test_rep_cannot_send_another_reps_chat(client, keys):
    r = client.post("/v1/analyze", json={"chats": [chat("b1", rep_id="rep-b"), chat("a3")]}, headers=auth(keys["rep_a"]))
    results = r.json()["results"]
    assert "rep_id" in results[0]["error"] and "funnel" in results[1]


def test_import_is_idempotent_and_scoped(client, keys):
    for _ in range(2):
        r = client.post("/v1/chats", json={"chats": [chat("s-a1", texts=PRICE_QUESTION), chat("s-a2")]}, headers=auth(keys["rep_a"]))
        assert r.status_code == 200
    client.post("/v1/chats", json={"chats": [chat("s-b1", rep_id="rep-b")]}, headers=auth(keys["rep_b"]))
    mine = client.get("/v1/chats", headers=auth(keys["rep_a"])).json()
    assert {c["chat_id"] for c in mine["items"]} >= {"s-a1", "s-a2"} and "s-b1" not in {c["chat_id"] for c in mine["items"]}
    assert client.get("/v1/chats/s-b1", headers=auth(keys["rep_a"])).status_code == 404
    got = client.get("/v1/chats/s-a1", headers=auth(keys["admin"])).json()
    assert got["chat"]["chat_id"] == "s-a1" and got["analysis"]["messages"][3]["stage"] == "quote"
    everyone = client.get("/v1/chats?rep_id=rep-b", headers=auth(keys["admin"])).json()
    assert [c["chat_id"] for c in everyone["items"]] == ["s-b1"]


def test_sop_upload_versions_activate_and_suggest_with_feedback(client, keys):
    body = "\n".join(json.dumps(s, ensure_ascii=False) for s in SOP)
    v1 = client.post("/v1/sop-libraries?name=beauty", content=body, headers=auth(keys["trainer"]))
    v2 = client.post("/v1/sop-libraries?name=beauty", content=body, headers=auth(keys["trainer"]))
    assert v1.status_code == 201 and v2.json()["version"] == v1.json()["version"] + 1
    bad = client.post("/v1/sop-libraries?name=beauty", content='{"id": "x", "stage": "nope"}', headers=auth(keys["trainer"]))
    assert bad.status_code == 422 and "script x" in json.dumps(bad.json(), ensure_ascii=False)
    act = client.post(f"/v1/sop-libraries/{v2.json()['id']}/activate", json={"team": "*"}, headers=auth(keys["trainer"]))
    assert act.status_code == 200 and act.json()["active_for"] == ["*"]

    objection = [("rep", "您好"), ("customer", "这套多少钱"), ("rep", "这套活动价599"), ("customer", "太贵了吧，别家便宜")]
    sugg = client.post("/v1/suggest", json={"chats": [chat("g1", texts=objection)], "k": 3},
                       headers=auth(keys["rep_a"]))
    assert sugg.status_code == 200
    [res] = sugg.json()["results"]
    assert len(res["suggestions"]) == 3 and all(s["suggestion_id"] for s in res["suggestions"])
    # A price objection right after a quote: the objection script must beat greeting, close and
    # after-sale; the quote script (which echoes the quoted price) may still rank first
    # (a known weakness, see eval/README.md).
    top = [s["sop_id"] for s in res["suggestions"]]
    assert "t-obj-01" in top[:2] and "t-greet-01" not in top[:2], top
    sid = res["suggestions"][0]["suggestion_id"]
    assert client.post(f"/v1/suggestions/{sid}/feedback", json={"verdict": "edited"}, headers=auth(keys["rep_a"])).status_code == 422
    ok = client.post(f"/v1/suggestions/{sid}/feedback", json={"verdict": "edited", "final_text": "理解您~"}, headers=auth(keys["rep_a"]))
    assert ok.status_code == 201
    assert client.post(f"/v1/suggestions/{sid}/feedback", json={"verdict": "accepted"}, headers=auth(keys["rep_b"])).status_code == 404


def test_append_message_returns_stage_flags_and_suggestions(client, keys):
    client.post("/v1/chats", json={"chats": [chat("live-1")]}, headers=auth(keys["rep_a"]))
    r = client.post("/v1/chats/live-1/messages", json={"message": {"id": "m3", "sender": "rep", "text": "加我小号，私下转我便宜五十"}},
                    headers=auth(keys["rep_a"]))
    assert r.status_code == 200
    assert "side_order" in r.json()["message"]["flags"] and "suggestions" not in r.json()
    r = client.post("/v1/chats/live-1/messages", json={"message": {"id": "m4", "sender": "customer", "text": "收到货了，怎么用啊"}},
                    headers=auth(keys["rep_a"]))
    assert r.status_code == 200 and r.json()["suggestions"]
    dup = client.post("/v1/chats/live-1/messages", json={"message": {"id": "m4", "sender": "customer", "text": "again"}},
                      headers=auth(keys["rep_a"]))
    assert dup.status_code == 409
    bad = client.post("/v1/chats/live-1/messages", json={"message": {"id": "m5", "sender": "customer", "text": ""}},
                      headers=auth(keys["rep_a"]))
    assert bad.status_code == 422 and "message.text" in bad.json()["error"]["message"]
    other = client.post("/v1/chats/live-1/messages", json={"message": {"id": "m6", "sender": "rep", "text": "hi"}},
                        headers=auth(keys["rep_b"]))
    assert other.status_code == 404
    stored = client.get("/v1/chats/live-1", headers=auth(keys["admin"])).json()
    assert [m["id"] for m in stored["chat"]["messages"]] == ["m1", "m2", "m3", "m4"]


def test_body_size_limit(client, keys):
    big = {"chats": [chat("big", texts=[("rep", "好" * 1_000_000), ("customer", "嗯")])]}
    r = client.post("/v1/analyze", content=json.dumps(big, ensure_ascii=False).encode(), headers={**auth(keys["admin"]), "content-type": "application/json"})
    assert r.status_code == 413


def test_nul_characters_are_field_errors_not_server_errors(client, keys):
    """Postgres text columns cannot hold NUL: it is refused per chat and per field, on both databases."""
    bad = chat("nul-\x00-id")
    r = client.post("/v1/chats", json={"chats": [bad, chat("nul-ok")]}, headers=auth(keys["admin"]))
    assert r.status_code == 200
    results = r.json()["results"]
    assert "chat_id" in results[0]["error"] and "NUL" in results[0]["error"]
    assert client.get("/v1/chats/nul-ok", headers=auth(keys["admin"])).status_code == 200
    key = client.post("/v1/keys", json={"role": "qa", "name": "\x00"}, headers=auth(keys["admin"]))
    assert key.status_code == 422 and key.json()["error"]["errors"][0]["field"] == "body.name"
    assert client.get("/v1/chats/a%00b", headers=auth(keys["admin"])).status_code == 422
    assert client.get("/v1/chats?rep_id=%00", headers=auth(keys["admin"])).status_code == 422

"""WeCom archive and CSV ingestion over HTTP: one-to-one chats, groups skipped, recalls kept, idempotent."""

import json

from tests.serving.conftest import auth

T0 = 1_709_258_400_000  # 2024-03-01 10:00 +08:00, in ms


def rec(msgid, frm, to, t, msgtype="text", roomid="", action="send", **payload):
    r = {"msgid": msgid, "action": action, "from": frm, "tolist": [to], "roomid": roomid, "msgtime": T0 + t * 1000, "msgtype": msgtype}
    r[msgtype] = payload
    return r


RECORDS = [
    rec("w1", "zhangsan", "wmCUST1", 0, content="您好，我是张三，您的专属顾问"),
    rec("w2", "wmCUST1", "zhangsan", 60, content="这个多少钱"),
    rec("w3", "zhangsan", "wmCUST1", 120, content="加我小号私聊，给你便宜"),
    rec("w4", "zhangsan", "wmCUST1", 180, msgtype="link", title="官方商城", link_url="https://shop.example.com/p/1"),
    rec("w5", "wmCUST1", "zhangsan", 240, msgtype="redpacket", totalamount=29900, wish="恭喜发财"),
    rec("w6", "wmCUST1", "zhangsan", 250, msgtype="image", md5sum="abc"),
    rec("g1", "zhangsan", "wmCUST2", 300, roomid="wrGROUP", content="群里的消息"),
    rec("i1", "zhangsan", "lisi", 310, content="同事之间"),
    {"msgid": "r1", "action": "recall", "from": "zhangsan", "tolist": ["wmCUST1"], "roomid": "", "msgtime": T0 + 400_000,
     "msgtype": "revoke", "revoke": {"pre_msgid": "w3"}},
    {"msgid": "bad1", "action": "send", "from": "zhangsan", "tolist": ["wmCUST1"], "roomid": "", "msgtype": "text", "text": {"content": "x"}},
]


def test_wecom_import(client, keys):
    body = "\n".join(json.dumps(r, ensure_ascii=False) for r in RECORDS)
    r = client.post("/v1/ingest/wecom", content=body.encode(), headers={**auth(keys["admin"]), "content-type": "application/x-ndjson"})
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["imported"] == 6 and out["skipped_group"] == 1 and out["recalled"] == 1 and out["duplicates"] == 0
    assert [e["msgid"] for e in out["errors"]] == ["bad1"] and out["errors"][0]["field"] == "msgtime"
    chat = client.get("/v1/chats/wecom-zhangsan-wmCUST1", headers=auth(keys["admin"])).json()
    msgs = {m["id"]: m for m in chat["chat"]["messages"]}
    assert [m["sender"] for m in chat["chat"]["messages"]][:2] == ["rep", "customer"]
    assert msgs["w3"]["recalled"] is True and msgs["w3"]["text"] == "加我小号私聊，给你便宜"
    assert msgs["w4"]["type"] == "link" and msgs["w5"]["type"] == "transfer" and "299.00" in msgs["w5"]["text"]
    assert msgs["w6"]["type"] == "image"
    analysis = {m["id"]: m for m in chat["analysis"]["messages"]}
    assert "side_order" in analysis["w3"]["flags"]  # a recalled side order is still QA's business

    again = client.post("/v1/ingest/wecom", json={"records": RECORDS}, headers=auth(keys["admin"])).json()
    assert again["imported"] == 0 and again["duplicates"] == 6 and again["recalled"] == 0


def test_wecom_needs_staff(client, keys):
    r = client.post("/v1/ingest/wecom", json={"records": RECORDS}, headers=auth(keys["rep_a"]))
    assert r.status_code == 403


def test_csv_import(client, keys):
    csv_text = ("chat_id,message_id,sender,text,ts,rep_id\n"
                "c1,m1,rep,您好我是小李,2024-03-01T10:00:00+08:00,rep-x\n"
                "c1,m2,customer,多少钱,2024-03-01T10:01:00+08:00,rep-x\n"
                "c2,m1,robot,坏数据,,rep-x\n")
    r = client.post("/v1/ingest/csv", content=csv_text.encode(), headers={**auth(keys["admin"]), "content-type": "text/csv"})
    assert r.status_code == 200
    results = r.json()["results"]
    assert results[0]["chat_id"] == "c1" and "funnel" in results[0]
    assert results[1]["chat_id"] == "c2" and "sender" in results[1]["error"]
    missing = client.post("/v1/ingest/csv", content=b"chat_id,text\nc1,hi\n", headers={**auth(keys["admin"]), "content-type": "text/csv"})
    assert missing.status_code == 422

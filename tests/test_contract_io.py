"""Contract I/O: one bad record is named (chat id + field) and never stops the others."""

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from chatcoach.contract import Chat, SopScript
from chatcoach.jsonl import parse_many, read_chats, read_jsonl, read_sop, write_jsonl


def chat(chat_id, **overrides):
    base = {"chat_id": chat_id, "messages": [
        {"id": "m1", "sender": "rep", "text": "您好，我是小美[愉快]", "ts": "2024-03-01T10:00:00+08:00"},
        {"id": "m2", "sender": "customer", "text": "这个精华多少钱"},
    ]}
    base.update(overrides)
    return base


def write_lines(path, rows):
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    return path


def test_good_chats_round_trip(tmp_path):
    src = write_lines(tmp_path / "in.jsonl", [chat("a"), chat("b", industry="tea", extra_field={"kept": True})])
    records = read_chats(src)
    assert [r.item.chat_id for r in records] == ["a", "b"]
    out = tmp_path / "out.jsonl"
    write_jsonl(out, [r.item for r in records])
    again = [json.loads(l) for l in out.read_text(encoding="utf-8").splitlines()]
    assert again[1]["extra_field"] == {"kept": True}  # extensions survive
    assert again[0]["messages"][0]["text"] == "您好，我是小美[愉快]"  # unescaped Chinese


def test_bad_chat_is_named_with_field_and_others_survive(tmp_path):
    bad = chat("bad-1")
    bad["messages"][1]["sender"] = "bot"
    src = write_lines(tmp_path / "in.jsonl", [chat("ok-1"), bad, "{not json", chat("ok-2")])
    records = read_chats(src)
    assert [r.ok for r in records] == [True, False, False, True]
    assert records[1].error.record_id == "bad-1"
    assert records[1].error.field == "messages[1].sender"
    assert records[2].error.line == 3 and records[2].error.record_id is None
    assert records[1].error.as_result() == {"chat_id": "bad-1", "error": records[1].error.as_result()["error"]}
    assert "messages[1].sender" in records[1].error.as_result()["error"]


def test_contract_rules(tmp_path):
    cases = {
        "missing-messages": ({"chat_id": "x"}, "messages"),
        "empty-messages": (chat("x", messages=[]), "messages"),
        "empty-text": (chat("x", messages=[{"id": "m1", "sender": "rep", "text": "  "}]), "messages[0].text"),
        "no-offset": (chat("x", messages=[{"id": "m1", "sender": "rep", "text": "hi", "ts": "2024-03-01T10:00:00"}]), "messages[0].ts"),
        "bad-type": (chat("x", messages=[{"id": "m1", "sender": "rep", "text": "hi", "type": "sticker"}]), "messages[0].type"),
        "bad-stage": (chat("x", messages=[{"id": "m1", "sender": "rep", "text": "hi", "stage": "hello"}]), "messages[0].stage"),
        "bad-flag": (chat("x", messages=[{"id": "m1", "sender": "rep", "text": "hi", "flags": ["rude"]}]), "messages[0].flags[0]"),
        "dup-message": (chat("x", messages=[{"id": "m1", "sender": "rep", "text": "a"}, {"id": "m1", "sender": "rep", "text": "b"}]), "messages"),
        "id-type": ({"chat_id": 7, "messages": [{"id": "m1", "sender": "rep", "text": "a"}]}, "chat_id"),
    }
    for name, (raw, field) in cases.items():
        [record] = parse_many([raw], Chat)
        assert not record.ok, name
        assert record.error.field == field, (name, record.error)
    # empty text is fine on a non-text message
    [ok] = parse_many([chat("y", messages=[{"id": "m1", "sender": "customer", "text": "", "type": "image"}])], Chat)
    assert ok.ok


def test_duplicate_chat_ids_keep_the_first():
    records = parse_many([chat("a"), chat("a"), chat("b")], Chat)
    assert [r.ok for r in records] == [True, False, True]
    assert records[1].error.field == "chat_id" and "repeated" in records[1].error.message


def test_labelled_errors_enforce_role_scope():
    labelled = Chat.model_validate(chat("z", funnel="engaged", source="authored", messages=[
        {"id": "m1", "sender": "customer", "text": "你个骗子", "stage": "objection", "flags": ["insult"]},
    ]))
    assert any("insult cannot be on a customer message" in e for e in labelled.labelled_errors())


def test_sop_library_rejects_bad_scripts_by_id(tmp_path):
    good = {"id": "s1", "stage": "objection", "scenario": "客户嫌贵", "text": "理解您～{客户称呼}"}
    src = write_lines(tmp_path / "sop.jsonl", [good, {"id": "s2", "stage": "haggle", "scenario": "x", "text": "y"}])
    try:
        read_sop(src)
    except ValueError as exc:
        assert "s2" in str(exc) and "stage" in str(exc)
    else:
        raise AssertionError("a bad script must be reported")
    write_lines(src, [good])
    assert [s.id for s in read_sop(src)] == ["s1"]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None)
@given(junk=st.lists(json_values | st.text(max_size=40), min_size=1, max_size=6), where=st.integers(0, 6))
def test_any_junk_line_leaves_good_chats_untouched(tmp_path_factory, junk, where):
    """Malformed lines, wrong types and missing fields anywhere in a file never cost a good chat."""
    rows = [chat(f"good-{i}") for i in range(3)]
    lines = [json.dumps(r, ensure_ascii=False) for r in rows]
    for j in junk:
        bad_line = j if isinstance(j, str) else json.dumps(j)
        lines.insert(min(where, len(lines)), bad_line.replace("\n", " "))
    path = tmp_path_factory.mktemp("junk") / "in.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    records = read_chats(path)
    good_ids = [r.item.chat_id for r in records if r.ok and r.item.chat_id.startswith("good-")]
    assert good_ids == ["good-0", "good-1", "good-2"]
    for r in records:
        assert r.ok or (r.error.field and r.error.message)


@settings(max_examples=60, deadline=None)
@given(field=st.sampled_from(["chat_id", "messages", "id", "sender", "text", "type", "ts", "flags"]),
       value=json_values)
def test_wrong_typed_field_is_reported_by_name(field, value):
    raw = chat("c-1")
    target = raw if field in ("chat_id", "messages") else raw["messages"][1]
    target[field] = value
    [record] = parse_many([raw], Chat)
    if not record.ok:
        assert field in record.error.field or record.error.field == "(record)"
        # a chat is named by its id as given, even a wrongly typed one (an int id is still findable)
        named = str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else None
        assert record.error.record_id == (named if field == "chat_id" else "c-1")


def test_huge_input_is_rejected_not_crashed():
    raw = chat("big", messages=[{"id": "m1", "sender": "rep", "text": "贵" * 50_000}])
    [record] = parse_many([raw], Chat)
    assert not record.ok and record.error.field == "messages[0].text"
    many = chat("long", messages=[{"id": f"m{i}", "sender": "rep", "text": "在吗"} for i in range(3000)])
    [record] = parse_many([many], Chat)
    assert record.ok and len(record.item.messages) == 3000


def test_stdin_dash(monkeypatch, tmp_path):
    import io
    import sys

    monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps(chat("s1")) + "\n"))
    assert [r.item.chat_id for r in read_jsonl("-", Chat)] == ["s1"]

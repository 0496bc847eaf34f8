import json

from typer.testing import CliRunner

from chatcoach.cli import app


def test_validate_names_the_broken_chat_and_counts_the_good(tmp_path):
    good = {"chat_id": "g1", "messages": [{"id": "m1", "sender": "rep", "text": "您好"}]}
    bad = {"chat_id": "b1", "messages": [{"id": "m1", "sender": "customer", "text": "在吗", "stage": "hello"}]}
    path = tmp_path / "chats.jsonl"
    path.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in [good, bad, {**good, "chat_id": "g2"}]) + "\n")
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 1
    assert "2 valid, 1 invalid" in result.stdout
    assert "chat b1: messages[0].stage" in result.stderr
    assert "g1" not in result.stderr and "g2" not in result.stderr


def test_validate_all_good_exits_zero_and_detects_sop(tmp_path):
    path = tmp_path / "sop.jsonl"
    path.write_text(json.dumps({"id": "s1", "stage": "quote", "scenario": "问价", "text": "活动价{活动价}"}, ensure_ascii=False) + "\n")
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    assert "1 valid, 0 invalid (sop)" in result.stdout

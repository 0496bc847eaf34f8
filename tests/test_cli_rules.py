"""`chatcoach rules check`: a rules file loaded as the service loads it, scored on labelled chats."""

import json

from typer.testing import CliRunner

from chatcoach.cli import app


def labelled(chat_id, text, flags):
    return {"chat_id": chat_id, "funnel": "engaged", "source": "authored", "messages": [
        {"id": "m1", "sender": "customer", "text": "多少钱", "stage": "quote", "flags": []},
        {"id": "m2", "sender": "rep", "text": text, "stage": "quote", "flags": flags}]}


def test_rules_check_scores_each_rule_and_shows_its_false_alarms(tmp_path):
    rules = tmp_path / "rules.yaml"
    rules.write_text("rules:\n  - {id: small-account, flag: side_order, keywords: [小号]}\n"
                     "  - {id: never, flag: insult, keywords: [从没出现]}\n", encoding="utf-8")
    chats = tmp_path / "chats.jsonl"
    unlabelled = {"chat_id": "u1", "messages": [{"id": "m1", "sender": "rep", "text": "加我小号"}]}
    chats.write_text("\n".join(json.dumps(c, ensure_ascii=False) for c in [
        labelled("c1", "加我小号，便宜点", ["side_order"]),
        labelled("c2", "这是我们官方的小号公众号", []),
        unlabelled]) + "\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["rules", "check", str(rules), "--chats", str(chats)])
    assert result.exit_code == 0, result.output
    assert "2 rules load" in result.stdout and "on 2 labelled chats" in result.stdout
    row = next(line for line in result.stdout.splitlines() if line.startswith("small-account"))
    assert row.split()[2:] == ["2", "1", "0.500"]
    assert "false alarm  c2/m2: 这是我们官方的小号公众号" in result.stdout
    assert next(line for line in result.stdout.splitlines() if line.startswith("never")).split()[2:] == ["0", "0", "—"]
    assert "chat u1: funnel: required" in result.stderr


def test_rules_check_scores_a_veto_by_the_flags_it_keeps_away(tmp_path):
    rules = tmp_path / "rules.yaml"
    rules.write_text("rules:\n  - {id: no-id-needed, flag: privacy, veto: true, keywords: [不用发]}\n", encoding="utf-8")
    chats = tmp_path / "chats.jsonl"
    chats.write_text("\n".join(json.dumps(c, ensure_ascii=False) for c in [
        labelled("c1", "身份证不用发", []), labelled("c2", "卡号不用发，密码发我", ["privacy"])]) + "\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["rules", "check", str(rules), "--chats", str(chats)])
    row = next(line for line in result.stdout.splitlines() if line.startswith("no-id-needed"))
    assert row.split()[1:] == ["privacy", "(veto)", "2", "1", "0.500"]
    assert "vetoes a flag  c2/m2: 卡号不用发，密码发我" in result.stdout


def test_rules_check_names_the_broken_rule_and_exits_1(tmp_path):
    rules = tmp_path / "rules.yaml"
    rules.write_text("rules:\n  - {id: typo, flag: side_order, keyword: [小号]}\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["rules", "check", str(rules)])
    assert result.exit_code == 1
    assert "rule typo: keyword: Extra inputs are not permitted" in result.stderr

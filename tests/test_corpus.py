"""Quality gates on labeled_chats/: the contract, the independent checker, splits, near-duplicates, cases."""

import json
import subprocess
import sys
from itertools import combinations
from pathlib import Path

import pytest

from chatcoach.cli import app
from chatcoach.config import get_settings
from chatcoach.corpus.audit import corpus_chats
from chatcoach.corpus.authoring import compile_file
from chatcoach.corpus.suggestion_audit import read_all_rounds
from chatcoach.jsonl import read_chats, read_jsonl, read_sop
from chatcoach.contract import SuggestionCase
from chatcoach.training.datasets import Corpus

ROOT = get_settings().labeled_chats_dir
CHECKER = Path(__file__).resolve().parents[2] / "shared" / "tools" / "corpus_check.py"


@pytest.fixture(scope="module")
def corpus():
    return Corpus.load(ROOT)


def test_every_chat_meets_the_contract_with_labels():
    for path in sorted((ROOT / "chats").glob("*.jsonl")):
        for record in read_chats(path):
            assert record.ok, f"{path}: {record.error}"
            assert not record.item.labelled_errors(), (record.item.chat_id, record.item.labelled_errors())
            assert record.item.source == "authored"


def test_compiled_chats_match_their_authored_sources():
    compiled = {c["chat_id"]: c for path in sorted((ROOT / "authored").glob("*.chat")) for c in compile_file(path)}
    stored = {r.item.chat_id for path in sorted((ROOT / "chats").glob("*.jsonl")) for r in read_chats(path)}
    assert stored == set(compiled), "run `chatcoach corpus build` after editing authored/*.chat"


@pytest.mark.skipif(not CHECKER.exists(), reason="the independent checker lives in ../shared")
def test_independent_checker_finds_no_violation():
    result = subprocess.run([sys.executable, str(CHECKER), "--json", str(ROOT)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]


def five_grams(chat) -> set[str]:
    text = "".join(m.text for m in chat.messages)
    return {text[i : i + 5] for i in range(len(text) - 4)}


def test_no_near_duplicate_chats(corpus):
    grams = {c.chat_id: five_grams(c) for c in corpus.chats.values() if c.source == "authored"}
    worst = max(((len(a & b) / len(a | b), x, y) for (x, a), (y, b) in combinations(grams.items(), 2) if a and b),
                default=(0, None, None))
    assert worst[0] <= 0.5, f"{worst[1]} and {worst[2]} share {worst[0]:.0%} of their 5-grams"


def test_splits_are_disjoint_complete_and_keep_unseen_industries_apart(corpus):
    splits = corpus.splits
    ids = [i for s in ("train", "dev", "test", "unseen") for i in splits[s]]
    assert len(ids) == len(set(ids)), "a chat is in two splits"
    authored = {c.chat_id for c in corpus.chats.values() if c.source == "authored"}
    assert set(ids) == authored, "every authored chat is in exactly one split"
    unseen = set(splits["unseen_industries"])
    for split in ("train", "dev", "test"):
        assert not corpus.industries(split) & unseen
    assert {c.industry for c in corpus.split("unseen")} <= unseen


def test_suggestion_cases_come_from_their_split_and_point_into_the_library(corpus):
    for split in ("train", "dev", "test", "unseen"):
        path = ROOT / "cases" / f"{split}.jsonl"
        for record in read_jsonl(path, SuggestionCase):
            assert record.ok, record.error
            case = record.item
            source = (case.model_extra or {})["source_chat_id"]
            assert source in corpus.splits[split]
            library = {s.id for s in read_sop(ROOT / "sop" / f"{case.industry}.jsonl")}
            assert set(case.gold_sop_ids) <= library
            # the context stops just before the rep message that used the script
            chat = corpus.chats[source]
            nxt = chat.messages[len(case.messages)]
            assert nxt.sender == "rep" and nxt.sop_id in case.gold_sop_ids


def test_excerpts_cover_every_training_script_and_stop_before_the_reply(corpus):
    by_script: dict[str, list[SuggestionCase]] = {}
    for case in corpus.query_cases():  # raises on a held-out library, a wrong industry or an unknown script
        (sop_id,) = case.gold_sop_ids
        by_script.setdefault(sop_id, []).append(case)
    for industry in corpus.industries("train"):
        for script in corpus.sop_library(industry):
            excerpts = by_script.get(script.id, [])
            assert len(excerpts) >= 3, f"{script.id}: too few excerpts"
            # the reply itself is never part of its own context
            assert not any(m.sender == "rep" and len(m.text) > 12 and m.text[:12] in script.text
                           for case in excerpts for m in case.messages), script.id


def test_sop_libraries_cover_every_stage():
    for path in sorted((ROOT / "sop").glob("*.jsonl")):
        scripts = read_sop(path)
        assert len({s.id for s in scripts}) == len(scripts), f"{path}: duplicate script ids"
        assert {s.stage for s in scripts} == {"greeting", "rapport", "needs", "pitch", "quote", "objection", "close", "after_sale"}, path


def test_audit_file_is_consistent_when_present():
    for path in sorted((ROOT / "audit").rglob("*.json")):  # one folder per audit round
        audit = json.loads(path.read_text(encoding="utf-8"))
        if path.name == "report.json" and "suggestions" in path.relative_to(ROOT / "audit").parts:
            assert audit and all(split["cases"] and 0 <= split["R@1"] <= split["R@3"] <= 1 for split in audit.values())
        elif path.name == "report.json":
            assert audit["chats"] and -1 <= audit["stage_kappa"] <= 1


@pytest.fixture
def corpus_copy(tmp_path, monkeypatch):
    """A CLI runner whose labeled_chats/ is ``tmp_path``; ``copy(folder, pattern)`` fills it from the corpus."""
    from typer.testing import CliRunner

    def copy(folder: str, pattern: str = "*.jsonl") -> None:
        (tmp_path / folder).mkdir(exist_ok=True)
        for path in (ROOT / folder).glob(pattern):
            (tmp_path / folder / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")

    monkeypatch.setenv("CHATCOACH_LABELED_CHATS_DIR", str(tmp_path))
    get_settings.cache_clear()
    yield CliRunner(), copy
    get_settings.cache_clear()


def test_an_audit_round_samples_only_its_industries_into_its_own_folder(tmp_path, corpus_copy):
    runner, copy = corpus_copy
    copy("chats", "tea.jsonl")
    copy("chats", "pet.jsonl")
    result = runner.invoke(app, ["corpus", "audit-sample", "--industry", "pet", "--audit-dir", "audit/round-2"])
    assert result.exit_code == 0, result.output
    blind = json.loads((tmp_path / "audit" / "round-2" / "blind.json").read_text(encoding="utf-8"))["chats"]
    assert blind and {c["industry"] for c in blind} == {"pet"}
    assert not any(k in m for c in blind for m in c["messages"] for k in ("stage", "flags", "sop_id"))
    assert not (tmp_path / "audit" / "blind.json").exists(), "the first round's files are left alone"
    # a second pass that agrees with the authors everywhere is reported as full agreement
    gold = {c["chat_id"]: c for c in corpus_chats(tmp_path)}
    second = [{"chat_id": c["chat_id"], "funnel": gold[c["chat_id"]]["funnel"],
               "messages": [{"id": m["id"], "stage": m["stage"], "flags": m.get("flags", [])} for m in gold[c["chat_id"]]["messages"]]}
              for c in blind]
    (tmp_path / "audit" / "round-2" / "second_pass.json").write_text(json.dumps({"chats": second}), encoding="utf-8")
    result = runner.invoke(app, ["corpus", "audit-report", "--audit-dir", "audit/round-2"])
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "audit" / "round-2" / "report.json").read_text(encoding="utf-8"))
    assert report["chats"] == len(blind) and report["stage_kappa"] == 1.0 and not report["disagreements"]
    unknown = runner.invoke(app, ["corpus", "audit-sample", "--industry", "travel"])
    assert unknown.exit_code == 1 and "travel" in unknown.stderr


def test_a_suggestion_audit_hides_the_gold_and_scores_the_reader_against_it(tmp_path, corpus_copy):
    runner, copy = corpus_copy
    copy("cases")
    copy("sop")
    result = runner.invoke(app, ["corpus", "suggestion-audit-sample", "--industry", "tea=5", "--packet-size", "3"])
    assert result.exit_code == 0, result.output
    folder = tmp_path / "audit" / "suggestions"
    packets = json.loads((folder / "blind.json").read_text(encoding="utf-8"))
    assert [len(v) for v in packets.values()] == [3, 2] and len({i for v in packets.values() for i in v}) == 5
    cases = {c["chat_id"]: c for line in (tmp_path / "cases" / "unseen.jsonl").read_text(encoding="utf-8").splitlines()
             for c in [json.loads(line)]}
    text = (folder / "packet-tea-a.md").read_text(encoding="utf-8")
    assert all(f"`{i}`" in text and cases[i]["messages"][-1]["text"] in text for i in packets["tea-a"])
    assert "gold" not in text
    # the reader puts the gold first, third, and nowhere: R@1 1/3, R@3 2/3
    ids = packets["tea-a"]
    others = [s["id"] for line in (tmp_path / "sop" / "tea.jsonl").read_text(encoding="utf-8").splitlines()
              for s in [json.loads(line)] if s["id"] not in {g for i in ids for g in cases[i]["gold_sop_ids"]}]
    gold = [cases[i]["gold_sop_ids"][0] for i in ids]
    rankings = [[gold[0], others[0], others[1]], [others[0], others[1], gold[1]], others[:3]]
    second = {"cases": [{"chat_id": i, "ranked": r, "equally_good": [], "confident": True, "packet": "tea-a"}
                        for i, r in zip(ids, rankings)]}
    (folder / "second_pass.json").write_text(json.dumps(second), encoding="utf-8")
    result = runner.invoke(app, ["corpus", "suggestion-audit-report"])
    assert result.exit_code == 0, result.output
    report = json.loads((folder / "report.json").read_text(encoding="utf-8"))["unseen"]
    assert report["cases"] == 3 and report["R@1"] == pytest.approx(1 / 3) and report["R@3"] == pytest.approx(2 / 3)
    # a script of another library is refused, naming the case
    second["cases"][0]["ranked"][1] = "ed-greet-01"
    (folder / "second_pass.json").write_text(json.dumps(second), encoding="utf-8")
    result = runner.invoke(app, ["corpus", "suggestion-audit-report"])
    assert result.exit_code == 1 and ids[0] in result.stderr and "ed-greet-01" in result.stderr
    # a later round in a subfolder, one case per chat: no case can show another's reply
    result = runner.invoke(app, ["corpus", "suggestion-audit-sample", "--industry", "tea=12", "--one-per-chat",
                                 "--audit-dir", "audit/suggestions/round-2"])
    assert result.exit_code == 0, result.output
    [later] = json.loads((folder / "round-2" / "blind.json").read_text(encoding="utf-8")).values()
    assert len(later) == 12 and len({cases[i]["source_chat_id"] for i in later}) == 12
    # the evaluation reads every round, each round's packets apart from the others'
    second["cases"][0]["ranked"][1] = others[0]
    (folder / "second_pass.json").write_text(json.dumps(second), encoding="utf-8")
    (folder / "round-2" / "second_pass.json").write_text(json.dumps({"cases": [
        {"chat_id": i, "ranked": others[:3], "equally_good": [], "confident": True, "packet": "tea-a"} for i in later]}), encoding="utf-8")
    rows, _, _ = read_all_rounds(tmp_path)
    assert len(rows) == 3 + 12 and len({r["packet"] for r in rows}) == 2
    bad = runner.invoke(app, ["corpus", "suggestion-audit-sample", "--industry", "tea"])
    assert bad.exit_code == 1 and "INDUSTRY=COUNT" in bad.stderr

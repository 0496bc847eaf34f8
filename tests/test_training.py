"""Training end to end on a tiny real corpus: corpus build → train → artifacts → analyze / suggest."""

import json
import shutil
from pathlib import Path

import pytest

from chatcoach.config import Settings
from chatcoach.corpus.build import build

MINI = Path(__file__).parent / "fixtures" / "mini"


@pytest.fixture(scope="module")
def mini_settings(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    shutil.copytree(MINI, root, dirs_exist_ok=True)
    (root / "splits.json").write_text(json.dumps({
        "seed": 0, "unseen_industries": ["tea"],
        "train": ["mini-001", "mini-002", "mini-003", "mini-005"], "dev": ["mini-004", "mini-001"], "test": ["mini-004"],
        "unseen": [f"mtea-00{i}" for i in range(1, 6)],
    }))
    summary = build(root, demo_dir=root / "demo")  # never the package's own demo data
    assert summary["chats"] == 10 and summary["cases"]["train"] > 0
    assert summary["demo"] > 0 and (root / "demo" / "chats.jsonl").exists()
    artifacts = tmp_path_factory.mktemp("artifacts")
    rules = Path(__file__).parent.parent / "models" / "rules" / "default.yaml"
    return Settings(labeled_chats_dir=root, artifacts_dir=artifacts, rules_path=rules)


def test_train_writes_manifested_artifacts_that_load_and_run(mini_settings, encoder):
    from chatcoach.pipeline import Pipeline
    from chatcoach.training.datasets import Corpus
    from chatcoach.training.train import train_all

    manifest = train_all(mini_settings, encoder=encoder, tuned_encoders=False)
    assert manifest["train_chats"] == 4 and set(manifest["thresholds"]) == {"insult", "side_order", "false_promise", "privacy", "complaint"}
    assert (mini_settings.artifacts_dir / "manifest.json").exists()
    pipeline = Pipeline.load(mini_settings, encoder=encoder)
    corpus = Corpus.load(mini_settings.labeled_chats_dir)
    chats = corpus.split("unseen")
    results = pipeline.analyze(chats)
    assert [r["chat_id"] for r in results] == [c.chat_id for c in chats]
    silent = next(r for r, c in zip(results, chats) if c.funnel == "silent")
    assert silent["funnel"] == "silent"
    [suggested] = pipeline.suggest(corpus.cases("unseen")[:1], corpus.sop_library("tea"), k=3)
    assert len(suggested["suggestions"]) == 3

    again = train_all(mini_settings, encoder=encoder, tuned_encoders=False)
    assert again["thresholds"] == manifest["thresholds"] and again["dev"] == manifest["dev"]  # seeded: same result

    from chatcoach.evaluation.suggest_report import write_report

    report = json.loads(write_report(pipeline, mini_settings.artifacts_dir / "reports", corpus).with_suffix(".json").read_text())
    assert "test" not in report  # the mini test split has no suggestion cases: left out, not NaN
    systems, diag = report["unseen"]["systems"], report["unseen"]["diagnostics"]
    assert set(systems) == {"ChatCoach", "ChatCoach, chats and library in traditional characters", "BM25", "e5 zero-shot"}
    assert systems["ChatCoach"]["cases"] == diag["oracle_next_stage"]["cases"] == len(corpus.cases("unseen"))
    assert 0 <= diag["next_stage_accuracy"] <= 1 and 0 <= diag["gold_in_candidates"] <= 1


def test_ranking_scores_by_hand():
    from chatcoach.evaluation.suggest_report import ranking_scores

    # first hits at rank 2, none, rank 1
    scores = ranking_scores([["a", "b"], ["c", "d", "e"], ["x"]], [{"b"}, {"z"}, {"x"}])
    assert scores == {"R@1": 1 / 3, "R@3": 2 / 3, "R@5": 2 / 3, "MRR@5": (0.5 + 0 + 1) / 3, "cases": 3}


def test_excerpts_load_for_training_libraries_and_never_for_held_out_ones(mini_settings, tmp_path):
    from chatcoach.training.datasets import Corpus

    root = tmp_path / "corpus"
    shutil.copytree(mini_settings.labeled_chats_dir, root)
    queries = root / "queries"
    queries.mkdir()

    def excerpt(industry, sop_id):
        return json.dumps({"chat_id": f"{sop_id}~q1", "industry": industry, "source": "authored", "gold_sop_ids": [sop_id],
                           "messages": [{"id": "m1", "sender": "customer", "text": "我是油皮 夏天出油厉害"}]}, ensure_ascii=False)

    (queries / "skin.jsonl").write_text(excerpt("skin", "sk-needs-01") + "\n", encoding="utf-8")
    [case] = Corpus.load(root).query_cases()
    assert case.gold_sop_ids == ["sk-needs-01"] and case.messages[0].sender == "customer"

    (queries / "skin.jsonl").write_text(excerpt("skin", "sk-nowhere-09") + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match="sk-nowhere-09~q1"):
        Corpus.load(root).query_cases()

    (queries / "skin.jsonl").unlink()
    (queries / "tea.jsonl").write_text(excerpt("tea", "tk-needs-01") + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match="not a training industry"):
        Corpus.load(root).query_cases()


def test_scenario_pairs_set_the_customers_words_against_a_different_scenario(mini_settings, encoder):
    from chatcoach.models.sop_index import SopIndex
    from chatcoach.models.suggester import customer_query
    from chatcoach.training.biencoder import PASSAGE, QUERY, scenario_triples
    from chatcoach.training.datasets import Corpus

    corpus = Corpus.load(mini_settings.labeled_chats_dir)
    cases = corpus.cases("train")
    indexes = {ind: SopIndex(corpus.sop_library(ind), encoder) for ind in {c.industry for c in cases}}
    triples = scenario_triples(cases, indexes)
    assert len(triples) == len(cases)
    for case, (query, gold, negative) in zip(cases, triples):
        scenario = next(s.scenario for s in corpus.sop_library(case.industry) if s.id in case.gold_sop_ids)
        assert query == QUERY + customer_query(case) and gold == PASSAGE + scenario
        assert negative.startswith(PASSAGE) and negative != gold

"""The stage tagger's sequence layers, on synthetic chats whose opening alone tells their stage."""

import numpy as np

from chatcoach.contract import Chat
from chatcoach.models.features import ChatFeatures, position_features
from chatcoach.models.stage import StageTagger


def opening_decides(n_chats: int, length: int = 10, dim: int = 16, seed: int = 0):
    """Every message of a chat has its chat's stage, but only the first message's embedding says which."""
    rng = np.random.default_rng(seed)
    feats, stages = [], []
    for i in range(n_chats):
        chat = Chat.model_validate({"chat_id": f"c{i}", "messages": [
            {"id": f"m{j + 1}", "sender": "rep" if j % 2 == 0 else "customer", "text": "好的"} for j in range(length)]})
        embeddings = 0.1 * rng.standard_normal((length, dim)).astype(np.float32)
        embeddings[0, i % 2] += 3.0
        feats.append(ChatFeatures(chat, embeddings, position_features(chat)))
        stages.append([("quote", "after_sale")[i % 2]] * length)
    return feats, stages


def late_accuracy(tagger, feats, stages, from_message: int = 4) -> float:
    predicted = tagger.predict(feats)
    return float(np.mean([p == g for ps, gs in zip(predicted, stages) for p, g in zip(ps[from_message:], gs[from_message:])]))


def test_the_gru_reads_the_whole_chat_where_the_head_sees_only_neighbours():
    train, train_stages = opening_decides(60)
    test, test_stages = opening_decides(20, seed=1)
    tagger = StageTagger(transition_weight=0).fit(train, train_stages)
    assert late_accuracy(tagger, test, test_stages) < 0.7  # past its window the head can only guess
    tagger.fit_sequence(train, train_stages)
    tagger.sequence_weight = 1.0
    assert late_accuracy(tagger, test, test_stages) > 0.95
    tagger.sequence_weight = 0.5
    for proba in tagger.predict_proba(test):
        np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)

"""The fine-tuned encoders: built from e5 with the word embeddings frozen, so they can share them."""

import json

import numpy as np
import pytest
import torch

from chatcoach.config import get_settings
from chatcoach.models.e5_convert import MANIFEST, is_valid
from chatcoach.models.encoder import Encoder
from chatcoach.training.encoder_tuning import Tuner, embed, is_current

TEXTS = ["这个精华多少钱", "太贵了，别家便宜多了", "加我小号，私下给你便宜", "收到货了，包装很好[愉快]"]


def test_a_tuning_step_moves_the_body_not_the_word_embeddings(tmp_path, encoder):
    tuner = Tuner(encoder.model_dir, steps_per_epoch=1, epochs=1, lr=1e-3, max_seq_length=32)
    table = tuner.model[0].auto_model.embeddings.word_embeddings.weight.detach().clone()
    layer = tuner.model[0].auto_model.encoder.layer[-1].output.dense.weight.detach().clone()
    [batch] = list(tuner.batches(len(TEXTS), batch_size=4))
    vectors = embed(tuner.model, ["query: " + TEXTS[i] for i in batch])
    tuner.step(-(vectors @ vectors.T).sum())  # pull the four together: any loss with a gradient will do
    assert torch.equal(tuner.model[0].auto_model.embeddings.word_embeddings.weight, table)
    assert not torch.equal(tuner.model[0].auto_model.encoder.layer[-1].output.dense.weight, layer)

    out = tuner.save(tmp_path / "tuned", {"data_hash": "abc"})
    assert is_valid(out) and is_current(out, "abc") and not is_current(out, "other data")
    assert json.loads((out / MANIFEST).read_text())["finetuned_from"] == str(encoder.model_dir)
    next(p for p in sorted(out.iterdir()) if p.is_file() and p.name != MANIFEST).write_bytes(b"{}")  # corrupt a file
    assert not is_valid(out)


@pytest.mark.parametrize("which", ["analyzer_encoder_dir", "suggestion_encoder_dir"])
def test_tuned_encoders_share_the_base_table_and_encode_the_same(encoder, which):
    model_dir = getattr(get_settings(), which)
    assert is_valid(model_dir), f"{model_dir} is built by setup (scripts/setup.sh)"
    alone = Encoder(model_dir)
    shared = Encoder(model_dir, share_embeddings_with=encoder)
    assert shared.model[0].auto_model.embeddings.word_embeddings is encoder.model[0].auto_model.embeddings.word_embeddings
    a, b = alone.encode(TEXTS), shared.encode(TEXTS)
    assert np.allclose(a, b, atol=1e-6)
    assert not np.allclose(a, encoder.encode(TEXTS), atol=1e-3)  # tuned: not plain e5 any more

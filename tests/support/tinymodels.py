"""Small retrieval models built here for tests: a BERT with random weights saved as a
sentence-transformers embedder or a cross-encoder, and any local BERT folder written as a
GGUF that llama.cpp runs with mean, CLS or rank pooling.

Random weights say nothing about quality; they exercise the plumbing (loading, pooling,
dimensions, scores, re-embedding). `bert_to_gguf` also turns the real MiniLM on disk into
a GGUF for the benchmarks, following llama.cpp's own converter for BERT (phantom-space
WordPiece vocabulary, tensor names from `gguf`'s map, pooler dropped).
"""

from __future__ import annotations

import json
from pathlib import Path

SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
WORDS = [
    "the",
    "a",
    "of",
    "to",
    "and",
    "in",
    "is",
    "for",
    "on",
    "with",
    "that",
    "by",
    "it",
    "as",
    "be",
    "at",
    "this",
    "are",
    "or",
    "from",
    "an",
    "was",
    "can",
    "tea",
    "soil",
    "harvest",
    "leaf",
    "bud",
    "spring",
    "acid",
    "ph",
    "camellia",
    "bicycle",
    "gear",
    "chain",
    "derailleur",
    "sprocket",
    "mountain",
    "summit",
    "metres",
    "macaque",
    "cedar",
    "forest",
    "lighthouse",
    "lamp",
    "storm",
    "fog",
    "horn",
    "sourdough",
    "starter",
    "rye",
    "flour",
    "daily",
    "albatross",
    "wingspan",
    "wren",
    "kangaroo",
    "hop",
    "speed",
    "what",
    "which",
    "how",
    "many",
    "where",
    "when",
    "why",
    "does",
    "do",
    "who",
    "prefers",
    "plucked",
    "moves",
    "lives",
    "reaches",
]
POOLING = {"mean": 1, "cls": 2, "rank": 4}


def _vocab() -> list[str]:
    letters = [chr(c) for c in range(ord("a"), ord("z") + 1)] + list("0123456789.,;:?!'-/()%")
    words = [w for w in dict.fromkeys(WORDS) if w not in letters]
    return SPECIAL + letters + [f"##{c}" for c in letters] + words


def save_tiny_bert(folder: Path, *, classifier: bool = False, seed: int = 0, dim: int = 32) -> Path:
    """A 2-layer BERT of width `dim` with random weights and its WordPiece tokenizer, as a
    transformers folder (`classifier`: with a one-score sequence classification head)."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertModel, BertTokenizerFast

    folder.mkdir(parents=True, exist_ok=True)
    vocab = folder / "vocab.txt"
    vocab.write_text("\n".join(_vocab()) + "\n", encoding="utf-8")
    tokenizer = BertTokenizerFast(vocab_file=str(vocab), do_lower_case=True)
    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=len(_vocab()),
        hidden_size=dim,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=2 * dim,
        max_position_embeddings=128,
        num_labels=1,
    )
    model = BertForSequenceClassification(config) if classifier else BertModel(config)
    model.save_pretrained(str(folder))
    tokenizer.save_pretrained(str(folder))
    return folder


def save_tiny_embedder(folder: Path, seed: int = 0, dim: int = 32) -> Path:
    """A sentence-transformers embedder (mean pooling, normalised) with random weights."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.base.modules import Normalize, Transformer
    from sentence_transformers.sentence_transformer.modules import Pooling

    raw = save_tiny_bert(folder.with_name(folder.name + "-hf"), seed=seed, dim=dim)
    transformer = Transformer(str(raw), max_seq_length=128)
    pooling = Pooling(transformer.get_embedding_dimension(), "mean")
    SentenceTransformer(modules=[transformer, pooling, Normalize()]).save(str(folder))
    return folder


def save_tiny_cross_encoder(folder: Path, seed: int = 0) -> Path:
    """A sentence-transformers cross-encoder (one score per pair) with random weights."""
    from sentence_transformers import CrossEncoder

    raw = save_tiny_bert(folder.with_name(folder.name + "-hf"), classifier=True, seed=seed)
    CrossEncoder(str(raw), num_labels=1, max_length=128).save(str(folder))
    return folder


def bert_to_gguf(folder: Path, out: Path, pooling: str = "mean") -> Path:
    """Write the BERT in transformers `folder` as an f32 GGUF with `pooling` (mean, cls,
    or rank; a model without a classification head gets a random one for rank, which
    makes a reranker of the right size and cost but no judgement, for benchmarks)."""
    import gguf
    import numpy as np
    from safetensors.numpy import load_file

    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    tensors = load_file(str(folder / "model.safetensors"))
    has_head = any("classifier" in name for name in tensors)
    if pooling == "rank" and not has_head:
        rng = np.random.default_rng(0)
        width = int(config["hidden_size"])
        tensors["classifier.weight"] = rng.normal(0, 0.02, (1, width)).astype(np.float32)
        tensors["classifier.bias"] = np.zeros(1, dtype=np.float32)
    blocks = int(config["num_hidden_layers"])
    names = gguf.get_tensor_name_map(gguf.MODEL_ARCH.BERT, blocks)
    writer = gguf.GGUFWriter(str(out), "bert")
    writer.add_name(folder.name)
    writer.add_context_length(int(config["max_position_embeddings"]))
    writer.add_embedding_length(int(config["hidden_size"]))
    writer.add_feed_forward_length(int(config["intermediate_size"]))
    writer.add_block_count(blocks)
    writer.add_head_count(int(config["num_attention_heads"]))
    writer.add_layer_norm_eps(float(config.get("layer_norm_eps", 1e-12)))
    writer.add_causal_attention(False)
    writer.add_pooling_type(gguf.PoolingType(POOLING[pooling]))
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)

    tokens = (folder / "vocab.txt").read_text(encoding="utf-8").splitlines()
    control = [t.startswith("[") and t.endswith("]") for t in tokens]
    writer.add_tokenizer_model("bert")
    writer.add_tokenizer_pre("default")
    writer.add_token_list(
        [
            t if c else t[2:] if t.startswith("##") else "\u2581" + t
            for t, c in zip(tokens, control, strict=True)
        ]
    )
    writer.add_token_types(
        [gguf.TokenType.CONTROL if c else gguf.TokenType.NORMAL for c in control]
    )
    writer.add_token_type_count(int(config.get("type_vocab_size", 2)))
    ids = {t: i for i, t in enumerate(tokens)}
    writer.add_bos_token_id(ids["[CLS]"])
    writer.add_eos_token_id(ids["[SEP]"])
    writer.add_sep_token_id(ids["[SEP]"])
    writer.add_unk_token_id(ids["[UNK]"])
    writer.add_pad_token_id(ids["[PAD]"])
    writer.add_mask_token_id(ids["[MASK]"])
    writer.add_add_bos_token(True)
    writer.add_add_sep_token(True)

    for name, array in tensors.items():
        short = name.removeprefix("bert.")
        if short.startswith("pooler.dense.") and pooling == "rank" and has_head:
            # The classifier reads the pooler's tanh(dense(CLS)), which llama.cpp runs as
            # its `cls` tensor (its own converter drops the pooler: the head's scores then
            # differ from the model's).
            writer.add_tensor(short.replace("pooler.dense.", "cls."), array.astype("float32"))
            continue
        if short in ("embeddings.position_ids",) or short.startswith(("pooler.", "cls.")):
            continue
        if short.startswith("classifier."):
            short = short.replace("classifier.", "classifier.out_proj.")
        base, _, suffix = short.rpartition(".")
        mapped = names.get_name(base)
        if mapped is None:
            raise ValueError(f"no GGUF name for tensor {name}")
        writer.add_tensor(f"{mapped}.{suffix}", array.astype("float32"))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return out

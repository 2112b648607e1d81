"""MiniLM cut to its first layers, for `bench_rag_eval --embedder minilm-l5,minilm-l4`: a
smaller network measured as a speed candidate (tests/bench/RULES.md). The cut
copy is saved once in the folder given (the bench uses Carrel's cache folder); no weights
are changed or trained."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from app.rag.embedder import SentenceEmbedder

# Short name -> how many of MiniLM-L6's layers it keeps.
CUTS = {"minilm-l5": 5, "minilm-l4": 4}


def keep_layers(network: Any, layers: Sequence[int]) -> None:
    """Keep only the transformer layers at indices `layers` of a Hugging Face BERT
    `network` (in that order), its config saying so."""
    import torch

    network.encoder.layer = torch.nn.ModuleList(network.encoder.layer[i] for i in layers)
    network.config.num_hidden_layers = len(layers)


def first_layers(layers: int, folder: Path) -> Path:
    """A sentence-transformers folder holding all-MiniLM-L6-v2 with only its first
    `layers` transformer layers (the pooling and normalisation as they are)."""
    target = folder / f"all-MiniLM-L6-v2-first{layers}"
    if (target / "modules.json").is_file():
        return target
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(SentenceEmbedder()._model_dir()), device="cpu")
    keep_layers(model[0].auto_model, range(layers))
    model.save(str(target))
    return target

from __future__ import annotations

import pytest

from app.library.quants import RemoteFile, group_files, parse_quant


@pytest.mark.parametrize(
    ("name", "quant"),
    [
        ("Llama-3.2-3B-Instruct-Q4_K_M.gguf", "Q4_K_M"),
        ("qwen2.5-7b-instruct-q8_0.gguf", "Q8_0"),
        ("model.IQ2_XXS.gguf", "IQ2_XXS"),
        ("model-IQ4_XS.gguf", "IQ4_XS"),
        ("gemma-2-2b-it-f16.gguf", "F16"),
        ("Meta-Llama-3.1-8B-Instruct-BF16.gguf", "BF16"),
        ("m-f32.gguf", "F32"),
        ("Q4_K_M/Big-Model-Q4_K_M-00001-of-00003.gguf", "Q4_K_M"),
        ("Qwen3-UD-Q2_K_XL.gguf", "Q2_K_XL"),
        ("SmolLM2-135M-Instruct.Q4_1.gguf", "Q4_1"),
        ("README.md", "unknown"),
    ],
)
def test_quant_level_from_file_name(name: str, quant: str) -> None:
    assert parse_quant(name) == quant


def test_split_parts_are_one_model_and_others_are_skipped() -> None:
    files = [
        RemoteFile("big-Q8_0-00002-of-00002.gguf", 20, "b"),
        RemoteFile("big-Q8_0-00001-of-00002.gguf", 30, "a"),
        RemoteFile("small-Q4_K_M.gguf", 10, "c"),
        RemoteFile("mmproj-model-f16.gguf", 5, "d"),
        RemoteFile("README.md", 1, ""),
    ]
    grouped = group_files(files)
    assert [(q.name, q.quant, q.size) for q in grouped] == [
        ("small-Q4_K_M.gguf", "Q4_K_M", 10),
        ("big-Q8_0-00001-of-00002.gguf", "Q8_0", 50),
    ]
    big = grouped[1]
    assert big.is_split and big.sha256 == "a"
    assert [p.path for p in big.parts] == [
        "big-Q8_0-00001-of-00002.gguf",
        "big-Q8_0-00002-of-00002.gguf",
    ]

"""Bad input to the GGUF reader and registry: each gives its CarrelError, nothing crashes."""

import shutil
from pathlib import Path

import pytest

from app.errors import CarrelError, ModelNotFoundError, NotAGGUFError, TruncatedGGUFError
from app.library.gguf import read_header
from app.library.registry import ModelRegistry


def test_reads_smollm_header(smollm_path: Path) -> None:
    h = read_header(smollm_path)
    assert h.architecture == "llama"
    assert h.file_type == "Q4_1"
    assert h.metadata["general.license"] == "apache-2.0"
    assert h.expected_size == smollm_path.stat().st_size
    assert h.array_lengths["tokenizer.ggml.tokens"] == 49152


def test_reads_gemma_header(gemma_path: Path) -> None:
    h = read_header(gemma_path)
    assert h.architecture == "gemma3"
    assert h.file_type == "Q4_K_M"
    assert "tokenizer.chat_template" not in h.metadata


def test_zero_byte_file(tmp_path: Path) -> None:
    f = tmp_path / "empty.gguf"
    f.touch()
    with pytest.raises(NotAGGUFError, match="empty"):
        read_header(f)


def test_text_file_renamed(tmp_path: Path) -> None:
    f = tmp_path / "notes.gguf"
    f.write_text("These are my meeting notes, not a model.\n" * 10)
    with pytest.raises(NotAGGUFError, match="not a GGUF model"):
        read_header(f)


def test_truncated_at_half(tmp_path: Path, smollm_path: Path) -> None:
    f = tmp_path / "half.gguf"
    size = smollm_path.stat().st_size
    with smollm_path.open("rb") as src, f.open("wb") as dst:
        dst.write(src.read(size // 2))
    with pytest.raises(TruncatedGGUFError, match=r"50 %"):
        read_header(f)


def test_truncated_inside_header(tmp_path: Path, smollm_path: Path) -> None:
    f = tmp_path / "tiny.gguf"
    with smollm_path.open("rb") as src:
        f.write_bytes(src.read(1000))
    with pytest.raises(TruncatedGGUFError, match="inside its own header"):
        read_header(f)


def test_registry_lists_bad_files_with_their_problem(tmp_path: Path, smollm_path: Path) -> None:
    (tmp_path / "empty.gguf").touch()
    shutil.copy(smollm_path, tmp_path / "good.gguf")
    reg = ModelRegistry(tmp_path)
    by_name = {m.name: m for m in reg.list()}
    assert "empty" in by_name["empty"].problem
    assert by_name["good"].problem == ""
    assert by_name["good"].has_chat_template
    with pytest.raises(NotAGGUFError):
        reg.resolve("empty")


def test_missing_model_lists_known_names(tmp_path: Path) -> None:
    reg = ModelRegistry(tmp_path)
    with pytest.raises(ModelNotFoundError, match="SmolLM2"):
        reg.resolve("no-such-model")
    with pytest.raises(ModelNotFoundError):
        reg.resolve(str(tmp_path / "missing.gguf"))


def test_every_error_is_one_actionable_line(tmp_path: Path) -> None:
    f = tmp_path / "x.gguf"
    f.touch()
    with pytest.raises(CarrelError) as info:
        read_header(f)
    assert "\n" not in str(info.value)

"""What the Models page acts on, in the library: the true library size, a model's facts
grouped, Verify that never lets an empty hash "match", duplicate imports, the sensible
quantize targets with sizes and clean names (one real quantization of SmolLM2), a catalog
entry looked up on the hub stand-in, and a failed hub request said in words."""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

import pytest

from app.library.catalog import CatalogEntry
from app.library.catalog_fit import look_up
from app.library.errors import HashMismatchError, HubUnreachableError
from app.library.hub import HubClient
from app.library.hub_errors import network_reason, unreachable
from app.library.overview import info_groups, info_text
from app.library.quant_targets import base_name, quant_targets, quantized_name
from app.library.service import ModelLibrary
from app.library.sideload import sha256_file
from tests.support.hub import SMOL_FILE, SMOL_REPO, FakeHub


def test_library_size_counts_every_listed_model(
    library: ModelLibrary, smollm_path: Path, tmp_path: Path
) -> None:
    before = library.size()
    # The packaged default models are on disk too: the library is not "0 B".
    assert before.models >= 1 and before.total == sum(m.size for m in library.registry.list())
    assert before.packaged == before.total and before.in_folder == 0
    assert "in installed packages" in before.describe()
    library.models_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(smollm_path, library.models_dir / "dropped.Q4_1.gguf")  # dropped in
    after = library.size()
    assert after.models == before.models + 1
    assert after.in_folder == smollm_path.stat().st_size
    assert after.total == before.total + after.in_folder


def test_info_is_grouped_and_verify_never_matches_an_empty_hash(
    library: ModelLibrary, smollm_path: Path
) -> None:
    library.models_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(smollm_path, library.models_dir / "hand.Q4_1.gguf")  # no record, no hash
    groups = info_groups(library.info("hand.Q4_1", 2048))
    assert [g.title for g in groups][:3] == ["Model", "File", "Licence"]
    file = dict(groups[1].rows)
    assert file["SHA-256"].startswith("not computed yet") and file["Last verified"] == "never"
    assert "Fit on this machine" in [g.title for g in groups]
    assert "Parameters" in info_text(groups)

    first = library.verify_model("hand.Q4_1")
    assert not first.compared and "No SHA-256 was recorded" in first.describe()
    assert first.record.sha256 == sha256_file(smollm_path)
    second = library.verify_model("hand.Q4_1")
    assert second.compared and "matches what was recorded" in second.describe()
    file = dict(info_groups(library.info("hand.Q4_1"))[1].rows)
    assert file["SHA-256"] == first.record.sha256 and file["Last verified"] != "never"

    path = library.models_dir / "hand.Q4_1.gguf"
    data = bytearray(path.read_bytes())
    data[-10] ^= 0xFF  # one byte of the weights changes
    path.write_bytes(bytes(data))
    with pytest.raises(HashMismatchError):
        library.verify_model("hand.Q4_1")


def test_a_duplicate_import_is_warned(
    library: ModelLibrary, smollm_path: Path, tmp_path: Path
) -> None:
    # The packaged default model itself: that very file is in the library already.
    report = library.import_each(smollm_path, link=True)
    assert report.duplicates == [(smollm_path, smollm_path.stem)]
    assert "already had it as 'SmolLM2-135M-Instruct.Q4_1'" in report.warning()
    assert report.warning() in report.describe()
    # Two files with the same new bytes in one folder: the first is new, the second a
    # duplicate of it.
    folder = tmp_path / "two"
    folder.mkdir()
    data = bytearray(smollm_path.read_bytes())
    data[-10] ^= 0x01  # not the packaged model's bytes, but the same as each other
    for name in ("a.gguf", "b.gguf"):
        (folder / name).write_bytes(bytes(data))
    report = library.import_each(folder)
    assert [r.name for r in report.imported] == ["a", "b"]
    assert [(p.name, n) for p, n in report.duplicates] == [("b.gguf", "a")]
    assert "b.gguf (as 'a')" in report.warning() or "already had it as 'a'" in report.warning()


def test_quantize_targets_are_smaller_with_sizes_and_clean_names() -> None:
    targets = quant_targets("Q4_1", 100_000_000)
    levels = [t.level for t in targets]
    assert "F32" not in levels and "F16" not in levels and "Q8_0" not in levels
    assert "Q4_1" not in levels and "TQ1_0" not in levels
    assert {"Q4_K_M", "Q4_0", "Q3_K_M", "Q2_K"} <= set(levels)
    assert all(0 < t.estimated_size < 100_000_000 for t in targets)
    assert targets == sorted(targets, key=lambda t: -t.estimated_size)  # largest first
    assert "F32" not in [t.level for t in quant_targets("F16", 10)]
    assert [t.level for t in quant_targets("F32", 10)][:2] in (["F16", "BF16"], ["BF16", "F16"])
    assert quant_targets("Q2_K_S", 10) == []
    assert quantized_name("SmolLM2-135M-Instruct.Q4_1", "Q4_K_M") == "SmolLM2-135M-Instruct.Q4_K_M"
    assert quantized_name("gemma-3-270m-q4_k_m", "Q4_0") == "gemma-3-270m-Q4_0"
    assert quantized_name("model-f16", "Q8_0") == "model-Q8_0"
    assert quantized_name("plain", "Q4_0") == "plain.Q4_0"
    assert base_name("SmolLM2-135M-Instruct.Q4_K_M") == "SmolLM2-135M-Instruct"
    assert base_name("gemma-3-270m-q4_k_m") == base_name("gemma-3-270m-Q4_0") == "gemma-3-270m"


def test_a_real_quantization_has_a_clean_name_and_the_estimated_size(
    library: ModelLibrary, smollm_path: Path
) -> None:
    source = library.model("SmolLM2-135M-Instruct.Q4_1")
    [estimate] = [t for t in quant_targets(source.quant, source.size) if t.level == "Q4_0"]
    record, _warning = library.quantize(source.name, "Q4_0", measure=False)
    assert record.name == "SmolLM2-135M-Instruct.Q4_0"
    assert abs(record.size - estimate.estimated_size) / record.size < 0.25


def test_a_catalog_entry_is_looked_up_on_the_hub(library: ModelLibrary, hub: FakeHub) -> None:
    entry = CatalogEntry("Tiny", SMOL_REPO, "Q4_1", "apache-2.0", "fully-open")
    found = look_up(library, entry, 2048)
    assert found.filename == SMOL_FILE and found.size > 0
    assert found.choice.fit is not None and found.choice.fit_badge().endswith("GiB")


def test_a_failed_request_says_why_in_words(carrel_home: Path) -> None:
    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = HubClient(f"http://127.0.0.1:{port}", offline=False)
    with pytest.raises(HubUnreachableError) as failed:
        client.search("llama")
    assert "refused the connection" in failed.value.message
    lookup = socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    assert "could not be looked up" in network_reason(OSError("wrapped")) + network_reason(lookup)
    text = unreachable("https://huggingface.co", ConnectionError(lookup)).message
    assert "its name could not be looked up (no network connection, or no DNS)" in text


def test_fit_verdicts_use_the_gpu_memory_handed_in(carrel_home: Path) -> None:
    from app.config import Paths
    from app.library.fit import GpuMemory
    from app.library.registry import ModelRegistry
    from app.store import Store

    paths = Paths.default().ensure()
    store = Store(paths.database)
    gib = 1024**3
    roomy = ModelLibrary(
        paths,
        store,
        ModelRegistry(paths.models_dir),
        gpu=lambda: GpuMemory("a test GPU", 16 * gib, 16 * gib),
    )
    none = ModelLibrary(paths, store, ModelRegistry(paths.models_dir))
    badges = {r.info.name: r.fit_badge() for r in roomy.installed(2048)}
    assert badges["SmolLM2-135M-Instruct.Q4_1"].startswith("Full GPU")
    assert none.installed(2048)[0].fit_badge().startswith(("CPU only", "Won't fit"))
    roomy.close()
    none.close()
    store.close()

"""Load options: checked, kept per model in the library's own table, overridden per
conversation and per command, and counted in the fit estimate."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app.engine.backend import Done
from app.library.fit import GpuMemory
from app.library.gguf import read_header
from app.library.load_options import (
    LoadOptions,
    LoadOptionsError,
    context_choices,
    parse_gpu_layers,
)
from app.library.verdict import FULL_GPU, PARTIAL, estimate_fit

MIB, GIB = 1024**2, 1024**3


def test_options_are_checked_with_messages_a_person_can_act_on() -> None:
    base = LoadOptions()
    assert base.with_changes({"kv_type": "q4_0", "threads": None, "bogus": 1}).kv_type == "q4_0"
    with pytest.raises(LoadOptionsError, match="not one of f16, q8_0, q4_0"):
        base.with_changes({"kv_type": "q5_1"})
    with pytest.raises(LoadOptionsError, match="at least 64"):
        base.with_changes({"context_length": 8})
    with pytest.raises(LoadOptionsError, match="batch size"):
        base.with_changes({"batch_size": 10**6})
    assert [parse_gpu_layers(t) for t in ("auto", "none", "12")] == [-1, 0, 12]
    with pytest.raises(LoadOptionsError, match="auto, none or a number"):
        parse_gpu_layers("most")


def test_a_quantized_kv_cache_turns_flash_attention_on_and_says_so() -> None:
    options = LoadOptions(kv_type="q8_0")
    assert options.uses_flash_attn and not options.flash_attn
    assert "flash attention on (a q8_0 KV cache needs it)" in options.describe()


def test_context_choices_reach_the_trained_length() -> None:
    assert context_choices(8192) == [512, 1024, 2048, 4096, 8192]
    assert context_choices(3000) == [512, 1024, 2048, 3000]


def test_fit_counts_the_kv_type_and_flash_attention(smollm_path: Path) -> None:
    header, size = read_header(smollm_path), smollm_path.stat().st_size

    def fit(**kw: Any) -> Any:
        return estimate_fit(header, size, 8192, ram_free=8 * GIB, **kw)

    f16, q8, q4 = fit(), fit(kv_type="q8_0"), fit(kv_type="q4_0")
    # llama.cpp: 180 MiB of f16 K+V at 8192 cells; q8_0 is 34 bytes and q4_0 18 per 32 values.
    assert f16.kv_cache == 180 * MIB
    assert q8.kv_cache == int(180 * MIB * 34 / 64) and q4.kv_cache == int(180 * MIB * 18 / 64)
    # Without flash attention a micro-batch's scores at full context dominate the buffer.
    assert fit(flash_attn=True).compute < f16.compute and q8.flash_attn
    # The verdict moves with them: this GPU holds the model only with the smaller cache.
    gpu = GpuMemory("test GPU", 330 * MIB, GIB)
    assert fit(gpu=gpu).verdict == PARTIAL
    assert fit(gpu=gpu, kv_type="q4_0").verdict == FULL_GPU


def test_options_are_kept_per_model_and_overridden_per_conversation(workbench: Any) -> None:
    wb = workbench
    name = "SmolLM2-135M-Instruct.Q4_1"
    assert wb.load_options(name) == LoadOptions()  # the settings' defaults
    wb.library.save_load_options(name, LoadOptions(context_length=1024, kv_type="q8_0"))
    kept = wb.load_options(name)
    assert (kept.context_length, kept.kv_type, kept.gpu_layers) == (1024, "q8_0", -1)
    override = wb.load_options(name, {"context_length": 512, "gpu_layers": 0})
    assert (override.context_length, override.kv_type, override.gpu_layers) == (512, "q8_0", 0)
    reopened = type(wb).open()  # kept in the library's table, not in memory
    try:
        assert reopened.load_options(name).kv_type == "q8_0"
    finally:
        reopened.close()


@pytest.mark.slow
def test_a_conversation_with_its_own_options_reloads_the_model(workbench: Any) -> None:
    wb = workbench
    wb.load_model("SmolLM2-135M-Instruct.Q4_1", overrides={"context_length": 1024})
    assert wb.backend.options.context_length == 1024
    chat = wb.new_conversation()
    wb.store.update_conversation(chat.id, params={"load": {"context_length": 512}, "seed": 1})
    events = list(wb.reply(chat.id, "Say hi.", {"max_tokens": 4}))
    assert isinstance(events[-1], Done)
    assert wb.backend.n_ctx == 512 and wb.placement.describe() == "CPU"
    again = wb.backend
    list(wb.reply(chat.id, "Again.", {"max_tokens": 2}))
    assert wb.backend is again  # same options: no second reload

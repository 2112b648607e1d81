"""`LlamaBackend`: a GGUF model run by llama.cpp on one owner thread.

Every call into the `Llama` object happens on that thread: loading, tokenizing, generating
and closing. Requests queue there; `Generation.cancel()` is checked between tokens inside
llama.cpp's own loop, so a stop takes effect after at most one more token.
"""

from __future__ import annotations

import logging
import os
import queue
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psutil

from app.engine.backend import Done, Generation, GenerationParams, GenerationStats, Token
from app.errors import CarrelError, ContextExceededError, ModelLoadError, ModelTooLargeError
from app.library.fit import available_ram, memory_need
from app.library.registry import ModelInfo
from app.library.verdict import FitEstimate, estimate_fit
from app.prompt import ChatMessage

log = logging.getLogger(__name__)

# Room left for the reply when old turns are dropped: at most half the context.
MIN_REPLY_SHARE = 0.5


@dataclass(frozen=True)
class LoadOptions:
    """How to load a model; `gpu_layers=-1` means all layers when a GPU can take them."""

    context_length: int = 4096
    threads: int = 0
    gpu_layers: int = -1
    warmup: bool = False


@dataclass
class _Prompt:
    tokens: list[int]
    stop: list[str]
    criteria: list[Callable[[Any, Any], bool]]
    dropped_turns: int


def choose_gpu_layers(requested: int, fit: FitEstimate | None) -> int:
    """Layers to offload: the person's number when they set one (>= 0); otherwise every
    layer when the model fits the GPU (or its free memory is unknown: llama.cpp then
    decides), the layers that fit when only some do, and none without a GPU (`fit` None)."""
    if requested >= 0:
        return requested
    if fit is None:
        return 0
    if fit.vram_free is None or fit.gpu_layers >= fit.layers:
        return -1
    return fit.gpu_layers


def default_threads() -> int:
    return psutil.cpu_count(logical=False) or os.cpu_count() or 1


class LlamaBackend:
    """A loaded GGUF model. Construct it off the GUI thread: it returns once the model is
    loaded (or raises the `CarrelError` that says why it could not be)."""

    def __init__(self, info: ModelInfo, options: LoadOptions | None = None) -> None:
        self.info = info
        self.name = info.name
        self.options = options or LoadOptions()
        self.n_ctx = 0
        self.gpu_layers = 0
        self._requests: queue.SimpleQueue[
            tuple[list[ChatMessage], GenerationParams, Generation] | None
        ] = queue.SimpleQueue()
        self._loaded = threading.Event()
        self._load_error: list[BaseException] = []
        self._closed = False
        self._thread = threading.Thread(target=self._run, name=f"llama:{info.name}", daemon=True)
        self._thread.start()
        self._loaded.wait()
        if self._load_error:
            self._thread.join()
            raise self._load_error[0]

    # public --------------------------------------------------------------------------

    def stream(self, messages: list[ChatMessage], params: GenerationParams) -> Generation:
        """Queue a reply; it starts when the model finishes any earlier one."""
        if self._closed:
            raise CarrelError(f"The model '{self.name}' was unloaded; load it again.")
        generation = Generation()
        self._requests.put((list(messages), params, generation))
        return generation

    def close(self) -> None:
        """Free the model; waits for the reply in progress, cancels nothing already queued."""
        if not self._closed:
            self._closed = True
            self._requests.put(None)
            self._thread.join()

    # owner thread --------------------------------------------------------------------

    def _run(self) -> None:
        try:
            llm = self._load()
        except BaseException as exc:  # handed to the constructor's caller
            self._load_error.append(exc)
            self._loaded.set()
            return
        self._loaded.set()
        try:
            while True:
                request = self._requests.get()
                if request is None:
                    break
                messages, params, generation = request
                try:
                    self._generate(llm, messages, params, generation)
                except CarrelError as exc:
                    generation.put(exc)
                except Exception as exc:
                    log.exception("Generation failed")
                    generation.put(exc)
                finally:
                    generation.close()
        finally:
            llm.close()

    def _load(self) -> Any:
        import llama_cpp

        info, opts = self.info, self.options
        header = info.header
        trained = info.context_length or opts.context_length
        self.n_ctx = min(opts.context_length, trained) if trained else opts.context_length
        if header is not None:
            need = memory_need(header, info.size, self.n_ctx)
            free = available_ram()
            if need.total > free:
                raise ModelTooLargeError(info.name, need.total, free)
        fit = None
        if opts.gpu_layers < 0 and header is not None and llama_cpp.llama_supports_gpu_offload():
            fit = estimate_fit(header, info.size, self.n_ctx)
        self.gpu_layers = choose_gpu_layers(opts.gpu_layers, fit)
        try:
            llm: Any = llama_cpp.Llama(
                model_path=str(info.path),
                n_ctx=self.n_ctx,
                n_threads=opts.threads or default_threads(),
                n_gpu_layers=self.gpu_layers,
                verbose=False,
            )
        except (ValueError, RuntimeError, OSError) as exc:
            raise ModelLoadError(info.path, str(exc) or type(exc).__name__) from exc
        self._formatter = self._make_formatter(llm)
        if opts.warmup:
            # The first evaluation in a process is slow (buffers, kernels): pay it here.
            llm.create_completion(prompt=" ", max_tokens=1, temperature=0.0)
            llm.reset()
        return llm

    def _make_formatter(self, llm: Any) -> Any:
        from llama_cpp import llama_chat_format

        template = llm.metadata.get("tokenizer.chat_template")
        if not template:
            return None
        eos_id, bos_id = llm.token_eos(), llm.token_bos()
        eos = (
            llm.detokenize([eos_id], special=True).decode("utf-8", "replace") if eos_id >= 0 else ""
        )
        bos = (
            llm.detokenize([bos_id], special=True).decode("utf-8", "replace") if bos_id >= 0 else ""
        )
        return llama_chat_format.Jinja2ChatFormatter(
            template=template, eos_token=eos, bos_token=bos, stop_token_ids=[eos_id]
        )

    def _format(
        self, llm: Any, messages: list[ChatMessage]
    ) -> tuple[list[int], list[str], list[Any]]:
        """The prompt's tokens, stop strings and stop criteria, as llama-cpp-python's own
        chat handler makes them; a model without a chat template gets a plain transcript.
        A trailing assistant message (a stopped reply) is continued: the prompt ends with
        its text instead of an empty assistant turn."""
        prefix = ""
        if len(messages) > 1 and messages[-1].role == "assistant":
            prefix, messages = messages[-1].content, messages[:-1]
        if self._formatter is None:
            lines = []
            for m in messages:
                if m.role == "system":
                    lines.append(m.content + "\n")
                else:
                    lines.append(f"{'User' if m.role == 'user' else 'Assistant'}: {m.content}")
            text = "\n".join(lines) + "\nAssistant:" + prefix
            tokens = llm.tokenize(text.encode("utf-8"), add_bos=True, special=False)
            return tokens, ["\nUser:"], []
        result = self._formatter(
            messages=[{"role": m.role, "content": m.content} for m in messages]
        )
        tokens = llm.tokenize(
            (result.prompt + prefix).encode("utf-8"),
            add_bos=not result.added_special,
            special=True,
        )
        stop = (
            result.stop if isinstance(result.stop, list) else [result.stop] if result.stop else []
        )
        return tokens, stop, list(result.stopping_criteria or [])

    def _fit(self, llm: Any, messages: list[ChatMessage], max_tokens: int) -> _Prompt:
        """Drop the oldest turns (never the system prompt, never the newest message, nor
        the question of a reply being continued) until the prompt leaves room for the reply."""
        reply_room = min(max_tokens, int(self.n_ctx * MIN_REPLY_SHARE))
        system = [m for m in messages[:1] if m.role == "system"]
        turns = messages[len(system) :]
        dropped = 0
        while True:
            tokens, stop, criteria = self._format(llm, system + turns)
            if len(tokens) + reply_room <= self.n_ctx:
                return _Prompt(tokens, stop, criteria, dropped)
            if len(turns) <= (2 if turns[-1].role == "assistant" else 1):
                if len(tokens) < self.n_ctx - 1:  # fits, with less room for the reply
                    return _Prompt(tokens, stop, criteria, dropped)
                raise ContextExceededError(len(tokens), self.n_ctx)
            # Drop a whole exchange so the history never starts with an orphan reply.
            cut = 2 if len(turns) > 2 and turns[1].role == "assistant" else 1
            turns = turns[cut:]
            dropped += cut

    def _generate(
        self, llm: Any, messages: list[ChatMessage], params: GenerationParams, gen: Generation
    ) -> None:
        import llama_cpp

        t0 = time.perf_counter()
        prompt = self._fit(llm, messages, params.max_tokens)
        seed = params.seed if params.seed >= 0 else random.randrange(2**31)
        if params.seed >= 0:
            # Reusing the cached prefix evaluates the prompt's tail alone, which changes the
            # logits in the last bits; a reply asked for by seed must not depend on history.
            llm.reset()

        def cancelled(_ids: Any, _logits: Any) -> bool:
            return gen.cancelled

        max_tokens = min(params.max_tokens, self.n_ctx - len(prompt.tokens))
        chunks = llm.create_completion(
            prompt=prompt.tokens,
            max_tokens=max_tokens,
            temperature=params.temperature,
            top_p=params.top_p,
            top_k=params.top_k,
            min_p=params.min_p,
            repeat_penalty=params.repeat_penalty,
            seed=seed,
            stop=prompt.stop,
            stopping_criteria=llama_cpp.StoppingCriteriaList([*prompt.criteria, cancelled]),
            stream=True,
        )
        parts: list[str] = []
        t_first = t_last = 0.0
        finish = ""
        for chunk in chunks:
            choice = chunk["choices"][0]
            text = choice["text"]
            if text:
                t_last = time.perf_counter()
                if not parts:
                    t_first = t_last
                parts.append(text)
                gen.put(Token(text))
            finish = choice.get("finish_reason") or finish
        stopped = gen.cancelled
        end = time.perf_counter()
        text = "".join(parts)
        # The reply's own token count (llama.cpp's streaming API does not report it).
        completion = len(llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))
        decode_s = t_last - t_first
        stats = GenerationStats(
            model=self.name,
            prompt_tokens=len(prompt.tokens),
            completion_tokens=completion,
            ttft_ms=(t_first - t0) * 1000 if parts else 0.0,
            tokens_per_s=(completion - 1) / decode_s if completion > 1 and decode_s > 0 else 0.0,
            total_ms=(end - t0) * 1000,
            stopped=stopped,
            finish_reason="stopped" if stopped else finish,
            dropped_turns=prompt.dropped_turns,
            n_ctx=self.n_ctx,
            seed=seed,
        )
        gen.put(Done(text, stats))

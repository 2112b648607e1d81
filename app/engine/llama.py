"""`LlamaBackend`: a GGUF model run by llama.cpp on one owner thread.

Every call into the `Llama` object happens on that thread: loading, tokenizing, generating
and closing. Requests queue there; `Generation.cancel()` is checked between tokens inside
llama.cpp's own loop, so a stop takes effect after at most one more token.

Where it runs is `placement`, read from llama.cpp's own log (`app.engine.loading`). A
decode that fails while layers are on a GPU ends that reply with `DeviceLostError` at once,
and the model is reloaded on the CPU on this thread before the next request is taken.
"""

from __future__ import annotations

import dataclasses
import logging
import queue
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.engine.backend import Done, Generation, GenerationParams, GenerationStats, Token
from app.engine.constraints import NONE, Constraints
from app.engine.devices import default_threads
from app.engine.errors import DeviceLostError
from app.engine.loading import choose_gpu_layers, open_model
from app.engine.placement import Placement
from app.errors import CarrelError, ContextExceededError
from app.library.load_options import LoadOptions
from app.library.registry import ModelInfo
from app.prompt import ChatMessage

log = logging.getLogger(__name__)

# Room left for the reply when old turns are dropped: at most half the context.
MIN_REPLY_SHARE = 0.5


@dataclass
class _Prompt:
    tokens: list[int]
    stop: list[str]
    criteria: list[Callable[[Any, Any], bool]]
    dropped_turns: int


__all__ = ["LlamaBackend", "LoadOptions", "choose_gpu_layers", "default_threads"]


class LlamaBackend:
    """A loaded GGUF model. Construct it off the GUI thread: it returns once the model is
    loaded (or raises the `CarrelError` that says why it could not be)."""

    def __init__(self, info: ModelInfo, options: LoadOptions | None = None) -> None:
        self.info = info
        self.name = info.name
        self.options = options or LoadOptions()
        self.n_ctx = 0
        self.placement = Placement()
        self._requests: queue.SimpleQueue[
            tuple[list[ChatMessage], GenerationParams, Constraints, Generation] | None
        ] = queue.SimpleQueue()
        self._loaded = threading.Event()
        self._settled = threading.Event()  # cleared while reloading after a lost GPU
        self._settled.set()
        self._load_error: list[BaseException] = []
        self._closed = False
        self._thread = threading.Thread(target=self._run, name=f"llama:{info.name}", daemon=True)
        self._thread.start()
        self._loaded.wait()
        if self._load_error:
            self._thread.join()
            raise self._load_error[0]

    # public --------------------------------------------------------------------------

    def stream(
        self,
        messages: list[ChatMessage],
        params: GenerationParams,
        constraints: Constraints = NONE,
    ) -> Generation:
        """Queue a reply; it starts when the model finishes any earlier one. `constraints`
        add stop strings and a grammar (the local server's `stop` and `response_format`)."""
        if self._closed:
            raise CarrelError(f"The model '{self.name}' was unloaded; load it again.")
        generation = Generation()
        self._requests.put((list(messages), params, constraints, generation))
        return generation

    def wait_settled(self, timeout: float | None = None) -> bool:
        """Block until no reload after a lost GPU is under way (for a worker thread that
        then shows where the model runs now); False on timeout."""
        return self._settled.wait(timeout)

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
        broken: CarrelError | None = None  # set when a reload after a lost GPU failed
        try:
            while True:
                request = self._requests.get()
                if request is None:
                    break
                messages, params, constraints, generation = request
                if broken is not None:
                    generation.put(broken)
                    generation.close()
                    continue
                lost = self._serve(llm, messages, params, generation, constraints)
                generation.close()  # the reader hears at once, not after the reload
                if lost:
                    llm, broken = self._reload_on_cpu(llm, lost)
                    self._settled.set()
        finally:
            if llm is not None:
                llm.close()

    def _serve(
        self,
        llm: Any,
        messages: list[ChatMessage],
        params: GenerationParams,
        gen: Generation,
        constraints: Constraints = NONE,
    ) -> str:
        """One reply; returns llama.cpp's error when a decode failed with layers on a GPU
        (the device is gone or broken), after telling the reader."""
        try:
            self._generate(llm, messages, params, gen, constraints)
        except CarrelError as exc:
            gen.put(exc)
        except RuntimeError as exc:
            # llama-cpp-python raises "llama_decode returned N" for a failed decode; on a GPU
            # that is the device (llama.cpp returns -3 when the backend's compute failed).
            if self.placement.on_gpu and "llama_decode returned" in str(exc):
                device = self.placement.device or self.placement.device_name
                self._settled.clear()  # before the reader hears: `wait_settled` then waits
                gen.put(DeviceLostError(device, str(exc)))
                return str(exc)
            log.exception("Generation failed")
            gen.put(exc)
        except Exception as exc:
            log.exception("Generation failed")
            gen.put(exc)
        return ""

    def _reload_on_cpu(self, llm: Any, detail: str) -> tuple[Any, CarrelError | None]:
        """After a decode failed on the GPU: free the model and load it again with no
        layers on the GPU. Returns the new model, or None and the error every later
        request gets when even that failed."""
        device = self.placement.device or self.placement.device_name
        log.error("Decode failed on %s (%s); reloading on the CPU", device, detail)
        llm.close()
        note = f"Reloaded on the CPU after {device} failed ({detail})."
        try:
            fresh = self._load(dataclasses.replace(self.options, gpu_layers=0, warmup=False))
        except CarrelError as exc:
            log.error("Reloading on the CPU failed: %s", exc)
            return None, CarrelError(
                f"'{self.name}' could not be reloaded on the CPU after the GPU failed "
                f"({exc.message}). Load it again from the model list."
            )
        self.placement = dataclasses.replace(self.placement, notes=(*self.placement.notes, note))
        return fresh, None

    def _load(self, opts: LoadOptions | None = None) -> Any:
        info = self.info
        opts = opts or self.options
        trained = info.context_length or opts.context_length
        self.n_ctx = min(opts.context_length, trained) if trained else opts.context_length
        llm, self.placement = open_model(info, opts, self.n_ctx)
        self._formatter = chat_formatter(llm)
        if opts.warmup:
            # The first evaluation in a process is slow (buffers, kernels): pay it here.
            llm.create_completion(prompt=" ", max_tokens=1, temperature=0.0)
            llm.reset()
        return llm

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

    def _raw(self, llm: Any, text: str) -> _Prompt:
        """A text to continue as it is: no template, no turns to drop, no stop strings
        but the end of text."""
        tokens = llm.tokenize(text.encode("utf-8"), add_bos=True, special=False)
        if len(tokens) >= self.n_ctx - 1:
            raise ContextExceededError(len(tokens), self.n_ctx)
        return _Prompt(tokens, [], [], 0)

    def _generate(
        self,
        llm: Any,
        messages: list[ChatMessage],
        params: GenerationParams,
        gen: Generation,
        constraints: Constraints = NONE,
    ) -> None:
        import llama_cpp

        t0 = time.perf_counter()
        if constraints.raw:
            prompt = self._raw(llm, messages[-1].content)
        else:
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
            stop=[*prompt.stop, *constraints.stop],
            grammar=_grammar(constraints.grammar),
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


def chat_formatter(llm: Any) -> Any:
    """The chat template a loaded model carries, as llama-cpp-python's own chat handler
    applies it (None for a model without one: it gets a plain transcript)."""
    from llama_cpp import llama_chat_format

    template = llm.metadata.get("tokenizer.chat_template")
    if not template:
        return None
    eos_id, bos_id = llm.token_eos(), llm.token_bos()
    eos = llm.detokenize([eos_id], special=True).decode("utf-8", "replace") if eos_id >= 0 else ""
    bos = llm.detokenize([bos_id], special=True).decode("utf-8", "replace") if bos_id >= 0 else ""
    return llama_chat_format.Jinja2ChatFormatter(
        template=template, eos_token=eos, bos_token=bos, stop_token_ids=[eos_id]
    )


def _grammar(gbnf: str) -> Any:
    """The compiled grammar (on the owner thread, as every llama.cpp call), or None."""
    if not gbnf:
        return None
    from llama_cpp.llama_grammar import LlamaGrammar

    return LlamaGrammar.from_string(gbnf, verbose=False)

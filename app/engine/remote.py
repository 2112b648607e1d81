"""`RemoteBackend`: an OpenAI-compatible server (a vendor, or the team's own llama.cpp or
vLLM), reached only through the `EgressGate`.

The request runs on a worker thread: the gate clears it (redaction, preview, consent),
the HTTP client's request hook writes the ledger row for the exact bytes about to leave,
the network guard is opened for that host alone while the request runs, and tokens stream
into a `Generation` with the placeholders put back. `cancel()` is checked between chunks.
When the request ends its ledger row says how: sent, failed before any byte left (the
transport's trace never reached sending the request), or failed after sending.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx2
import openai

from app.engine.backend import Done, Generation, GenerationParams, GenerationStats
from app.engine.backend import Token as TokenEvent
from app.errors import CarrelError
from app.netguard import EgressRefusedError
from app.privacy.errors import RemoteFailedError
from app.privacy.gate import Clearance, EgressGate
from app.privacy.ledger import Outcome
from app.privacy.policy import EndpointKind, RemoteEndpoint
from app.privacy.redact import Restorer
from app.prompt import ChatMessage, Prompt

# A request may wait this long for the first byte; a local server loading a model is slow.
TIMEOUT_S = 120.0
CONNECT_TIMEOUT_S = 10.0


class RemoteBackend:
    """Generation by a remote OpenAI-compatible endpoint, one request per reply."""

    def __init__(
        self,
        endpoint: RemoteEndpoint,
        gate: EgressGate,
        api_key: str | None = None,
        *,
        timeout: float = TIMEOUT_S,
    ) -> None:
        self.endpoint = endpoint
        self.name = f"{endpoint.model} @ {endpoint.host}"
        self._gate = gate
        self._key = api_key or ""
        self._local = threading.local()
        self._http = httpx2.Client(
            # No proxy, netrc or certificates from the environment: the request goes to the
            # endpoint the person configured, and nowhere else (no redirects either).
            trust_env=False,
            follow_redirects=False,
            timeout=httpx2.Timeout(timeout, connect=CONNECT_TIMEOUT_S),
            event_hooks={"request": [self._on_request]},
        )
        self._client = openai.OpenAI(
            api_key=self._key or "no-key",
            base_url=endpoint.base_url,
            max_retries=0,  # a retry would be a second request the person did not see
            http_client=self._http,
        )

    def close(self) -> None:
        self._client.close()

    def stream(
        self,
        prompt: Prompt | list[ChatMessage],
        params: GenerationParams,
        *,
        conversation_id: int | None = None,
    ) -> Generation:
        """Start the request on a worker thread; a refusal or failure arrives as an error
        from the generation before any token. Messages alone are a prompt without
        passages."""
        request = prompt if isinstance(prompt, Prompt) else Prompt(list(prompt))
        generation = Generation()
        worker = threading.Thread(
            target=self._run,
            args=(request, params, conversation_id, generation),
            name=f"remote:{self.endpoint.name}",
            daemon=True,
        )
        worker.start()
        return generation

    # worker thread -------------------------------------------------------------------

    def _run(
        self,
        prompt: Prompt,
        params: GenerationParams,
        conversation_id: int | None,
        gen: Generation,
    ) -> None:
        clearance: Clearance | None = None
        self._local.wrote = False
        try:
            clearance = self._gate.clear(self.endpoint, prompt, conversation_id)
            self._local.clearance = clearance
            try:
                with self._gate.door(clearance):
                    done = self._generate(clearance, params, gen)
            finally:
                self._local.clearance = None
            # The ledger is told before the reply ends, so whoever waits for it sees both.
            self._settle(clearance, Outcome.SENT, "stopped by you" if gen.cancelled else "")
            gen.put(done)
        except CarrelError as exc:
            self._settle(clearance, self._failed(), exc.message)
            gen.put(exc)
        except Exception as exc:
            self._settle(clearance, self._failed(), self._detail(exc))
            gen.put(self._failure(exc))
        finally:
            gen.close()

    def _failed(self) -> Outcome:
        """Failed before or after the request's first byte left (httpcore's trace)."""
        wrote = bool(getattr(self._local, "wrote", False))
        return Outcome.FAILED_SENT if wrote else Outcome.FAILED_UNSENT

    def _settle(self, clearance: Clearance | None, outcome: Outcome, reason: str) -> None:
        if clearance is not None and clearance.sent:
            self._gate.ledger.settle(clearance.sent[-1].id, outcome, reason)

    def _trace(self, event: str, _info: dict[str, Any]) -> None:
        """httpcore's trace: once the request's headers start out, bytes have left."""
        if event.endswith("send_request_headers.started"):
            self._local.wrote = True

    def _request_args(self, clearance: Clearance, params: GenerationParams) -> dict[str, Any]:
        args: dict[str, Any] = {
            "model": self.endpoint.model,
            "messages": [{"role": m.role, "content": m.content} for m in clearance.messages],
            "stream": True,
            # The final chunk then carries the usage (prompt and completion tokens), where
            # the server reports it (OpenAI, vLLM, llama.cpp's llama-server, `carrel serve`);
            # servers that do not (llama-cpp-python's) ignore it and stream as before.
            "stream_options": {"include_usage": True},
            "temperature": params.temperature,
            "top_p": params.top_p,
            "max_tokens": params.max_tokens,
        }
        if params.seed >= 0:
            args["seed"] = params.seed
        if self.endpoint.kind == EndpointKind.SELF_HOSTED:
            # llama.cpp and vLLM servers take these; closed vendors reject unknown fields.
            args["extra_body"] = {
                "top_k": params.top_k,
                "min_p": params.min_p,
                "repeat_penalty": params.repeat_penalty,
            }
        return args

    def _generate(self, clearance: Clearance, params: GenerationParams, gen: Generation) -> Done:
        t0 = time.perf_counter()
        stream = self._client.chat.completions.create(**self._request_args(clearance, params))
        restorer = Restorer(clearance.mapping)
        raw: list[str] = []
        chunks = 0
        t_first = t_last = 0.0
        finish = ""
        usage: Any = None
        try:
            for chunk in stream:
                if gen.cancelled:
                    break
                usage = getattr(chunk, "usage", None) or usage
                if not chunk.choices:
                    continue
                choice = chunk.choices[0]
                text = choice.delta.content or ""
                finish = choice.finish_reason or finish
                if not text:
                    continue
                t_last = time.perf_counter()
                if not raw:
                    t_first = t_last
                raw.append(text)
                chunks += 1
                shown = restorer.feed(text)
                if shown:
                    gen.put(TokenEvent(shown))
        finally:
            stream.close()
        tail = restorer.flush()
        if tail:
            gen.put(TokenEvent(tail))
        stopped = gen.cancelled
        decode_s = t_last - t_first
        # Without the server's usage, each streamed piece counts as one token.
        completion = int(getattr(usage, "completion_tokens", 0) or 0) or chunks
        stats = GenerationStats(
            model=self.endpoint.model,
            prompt_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
            completion_tokens=completion,
            ttft_ms=(t_first - t0) * 1000 if raw else 0.0,
            tokens_per_s=(completion - 1) / decode_s if completion > 1 and decode_s > 0 else 0.0,
            total_ms=(time.perf_counter() - t0) * 1000,
            stopped=stopped,
            finish_reason="stopped" if stopped else finish,
        )
        return Done(clearance.mapping.restore("".join(raw)), stats)

    def _on_request(self, request: httpx2.Request) -> None:
        """The last moment before bytes leave: no clearance, no request; with one, the
        ledger row for these exact bytes is written first."""
        clearance: Clearance | None = getattr(self._local, "clearance", None)
        if clearance is None or request.url.host != self.endpoint.host:
            raise EgressRefusedError(request.url.host)
        # Identification headers (OS, architecture, Python version) are not the
        # endpoint's business.
        for name in [h for h in request.headers if h.lower().startswith("x-stainless-")]:
            del request.headers[name]
        self._gate.record_sent(clearance, request.read())
        request.extensions = {**request.extensions, "trace": self._trace}

    def _failure(self, exc: BaseException) -> CarrelError:
        refused = _refusal(exc)
        if refused is not None:
            return refused
        return RemoteFailedError(self.endpoint.host, self._detail(exc))

    @staticmethod
    def _detail(exc: BaseException) -> str:
        """A few words for the person and the ledger: "HTTP 401", "cannot connect"."""
        if _refusal(exc) is not None:
            return "refused by Carrel's network guard"
        if isinstance(exc, openai.APIStatusError):
            return f"HTTP {exc.status_code}"
        if isinstance(exc, openai.APITimeoutError):
            return "no answer in time"
        if isinstance(exc, openai.APIConnectionError):
            return f"cannot connect ({exc.__cause__})" if exc.__cause__ else "cannot connect"
        return type(exc).__name__


def _refusal(exc: BaseException) -> EgressRefusedError | None:
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, EgressRefusedError):
            return cause
        cause = cause.__cause__ or cause.__context__
    return None

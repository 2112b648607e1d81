"""`ServerCore`: what the server's routes ask of Carrel, through the Workbench only.

Models, collections, search, embeddings and the preparation of a chat reply (grounding,
sampling, the privacy check) live here as blocking calls; the routes in `app.server.app`
run them off the event loop. Nothing here builds a store, an index or a model: each call
goes to the Workbench's services, so the server shares the GUI's and the CLI's model owner
thread, collections and ledger.

Privacy: the server has no person to ask, so a request for a remote model, or a route that
would send this one off the device first, is refused without anything leaving, and the
refusal is written to the egress ledger with the origin "server".
"""

from __future__ import annotations

import base64
import struct
from typing import Any

from app.engine.backend import Done
from app.engine.router import Route
from app.privacy.ledger import Origin
from app.server.completions import CompletionRequest
from app.server.errors import ApiError, bad_request
from app.server.grounding import citation_json, grounded, replace_collection, retrieve
from app.server.jobs import Work
from app.server.options import ServerOptions
from app.server.requests import ChatRequest
from app.server.scheduler import ModelScheduler
from app.workbench import Workbench

MAX_SEARCH_K = 50
MAX_EMBED_INPUTS = 256
REMOTE_PREFIX = "remote:"
NOBODY_TO_ASK = "nobody to ask for consent"


class ServerCore:
    """The server's side of the Workbench (see the module)."""

    def __init__(self, wb: Workbench, options: ServerOptions) -> None:
        self.wb = wb
        self.options = options
        self.scheduler = ModelScheduler(
            wb,
            default=options.model,
            idle_s=options.idle_unload_s,
            max_pending=options.max_pending,
        )

    def close(self) -> None:
        self.scheduler.close()

    # models -----------------------------------------------------------------------------

    def models(self) -> list[dict[str, Any]]:
        loaded = self.scheduler.loaded
        return [
            {
                "id": info.name,
                "object": "model",
                "created": int(info.path.stat().st_mtime) if info.path.exists() else 0,
                "owned_by": "carrel",
                "loaded": info.name == loaded,
                "size": info.size,
            }
            for info in self.wb.models()
        ]

    # chat -------------------------------------------------------------------------------

    def prepare(self, body: dict[str, Any]) -> tuple[ChatRequest, Work, list[dict[str, Any]]]:
        """Read a chat request, refuse what would leave, retrieve its passages (blocking)."""
        request = ChatRequest.parse(body, self.options.max_tokens_cap)
        self._check_route(request.model, body.get("route"))
        messages = request.messages
        citations: list[dict[str, Any]] = []
        if request.collections:
            hits = retrieve(self.wb, request.collections, messages[-1].content)
            messages, numbered = grounded(messages, hits)
            citations = [citation_json(c) for c in numbered]
        from app.server.chat import constraints_of

        work = Work(
            model=request.model,
            messages=messages,
            params=self.wb.params_for(request.overrides),
            constraints=constraints_of(request),
        )
        return request, work, citations

    def prepare_completion(self, body: dict[str, Any]) -> tuple[CompletionRequest, list[Work]]:
        """Read a text completion request and refuse what would leave (blocking)."""
        request = CompletionRequest.parse(body, self.options.max_tokens_cap)
        self._check_route(request.model, body.get("route"))
        return request, request.works(self.wb.params_for(request.overrides))

    def _check_route(self, model: str, route: Any) -> None:
        if route not in (None, *list(Route)):
            raise bad_request("'route' must be local-only, local-first or remote-first.", "route")
        endpoints = {e.name: e for e in self.wb.privacy.endpoints() if e.enabled}
        wanted = model.removeprefix(REMOTE_PREFIX) if model.startswith(REMOTE_PREFIX) else ""
        if not wanted and (route in (None, Route.LOCAL_ONLY) or not endpoints):
            return
        endpoint = endpoints.get(wanted or next(iter(endpoints)))
        if endpoint is not None:
            self.wb.privacy.ledger.record(
                endpoint=endpoint.name,
                host=endpoint.host,
                kind=str(endpoint.kind),
                model=endpoint.model,
                size=0,
                sha256="",
                redactions=0,
                conversation_id=None,
                consent="refused",
                outcome="refused",
                reason=NOBODY_TO_ASK,
                origin=Origin.SERVER,
            )
        if wanted:
            raise ApiError(
                403,
                f"'{model}' is a remote model, and the local server never sends anything off "
                "this machine: there is no person here to approve it. Ask it from the Carrel "
                "window, or name a local model.",
                code="remote_refused",
                param="model",
            )
        # local-first / remote-first: answered on this device; the refusal is recorded.

    def answer(self, collection: str, question: str, max_tokens: int) -> dict[str, Any]:
        """A cited answer from `collection` (blocking): the MCP `ask` tool."""
        body = {
            "messages": [{"role": "user", "content": question}],
            "collections": [collection],
            "max_tokens": max_tokens,
        }
        _, work, citations = self.prepare(body)
        done = self.run(work)
        return {"answer": done.text.strip(), "model": done.stats.model, "citations": citations}

    def run(self, work: Work) -> Done:
        """Generate `work` to its end on the model's owner thread (blocking)."""
        with self.scheduler.use(work.model) as backend:
            done: Done | None = None
            for event in backend.stream(work.messages, work.params, work.constraints):
                if isinstance(event, Done):
                    done = event
        assert done is not None, "a reply always ends with Done"
        return done

    # collections ------------------------------------------------------------------------

    def collections(self) -> list[dict[str, Any]]:
        private = set(self.wb.privacy.policy.on_device_only)
        return [
            {
                "id": c.name,
                "object": "collection",
                "embedder": c.embedder,
                "dim": c.dim,
                "reranker": c.reranker,
                "on_device_only": c.name in private,
                "files": len(self.wb.documents.files(c.name)),
            }
            for c in self.wb.documents.collections()
        ]

    def search(self, name: str, body: dict[str, Any]) -> dict[str, Any]:
        query = body.get("query")
        if not isinstance(query, str) or not query.strip():
            raise bad_request("'query' must be a non-empty string.", "query")
        k = body.get("k", 10)
        if not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= MAX_SEARCH_K:
            raise bad_request(f"'k' must be an integer from 1 to {MAX_SEARCH_K}.", "k")
        mode = body.get("mode", "hybrid")
        if mode not in ("hybrid", "dense", "bm25"):
            raise bad_request("'mode' must be hybrid, dense or bm25.", "mode")
        files = body.get("files")
        if files is not None and not (
            isinstance(files, list) and all(isinstance(f, str) for f in files)
        ):
            raise bad_request("'files' must be a list of paths.", "files")
        found = self.wb.documents.search(query, name, k, files, mode)
        return {
            "object": "list",
            "collection": name,
            "data": [citation_json(replace_collection(c, name), n) for n, c in enumerate(found, 1)],
        }

    # embeddings -------------------------------------------------------------------------

    def embeddings(self, body: dict[str, Any]) -> dict[str, Any]:
        """Vectors from a collection's embedder: `model` (or `collection`) names it."""
        name = body.get("collection") or body.get("model")
        if not isinstance(name, str) or not name:
            raise bad_request("'model' must name a collection, whose embedder is used.", "model")
        raw = body.get("input")
        texts = [raw] if isinstance(raw, str) else raw
        if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
            raise bad_request("'input' must be a string or a list of strings.", "input")
        if len(texts) > MAX_EMBED_INPUTS:
            raise bad_request(f"At most {MAX_EMBED_INPUTS} inputs per request.", "input")
        encoding = body.get("encoding_format", "float")
        if encoding not in ("float", "base64"):
            raise bad_request("'encoding_format' must be float or base64.", "encoding_format")
        embedder = self.wb.documents.embedder_of(name)
        vectors = embedder.embed(texts)
        data = [
            {"object": "embedding", "index": i, "embedding": _encoded(v, encoding)}
            for i, v in enumerate(vectors)
        ]
        return {
            "object": "list",
            "data": data,
            "model": embedder.name,
            "usage": {"prompt_tokens": 0, "total_tokens": 0},
        }


def _encoded(vector: list[float], encoding: str) -> list[float] | str:
    if encoding == "float":
        return [float(x) for x in vector]
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode("ascii")

"""`Workbench`: the one facade the GUI and the command line both use.

It wires settings, store, model registry and the loaded backend together by passing
objects to constructors. It never imports Qt; blocking calls (`load_model`, iterating a
`Reply`) are meant for worker threads.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from app import export, netguard
from app.config import Paths, Settings, load_settings, save_settings
from app.engine.backend import ChatMessage, Done, Event, Generation, GenerationParams
from app.engine.llama import LlamaBackend, LoadOptions
from app.engine.placement import Placement
from app.engine.router import Route, RoutedGeneration
from app.errors import CarrelError, NoModelLoadedError
from app.library.hub import HubClient
from app.library.registry import ModelInfo, ModelRegistry
from app.library.service import ModelLibrary
from app.privacy.gate import Passage
from app.privacy.service import Privacy
from app.rag.answer import ANSWER_SOURCES as SOURCES
from app.rag.answer import build_messages
from app.rag.retrieve import Citation
from app.rag.service import Documents
from app.store import Conversation, Message, Store

if TYPE_CHECKING:  # openai takes 0.3 s to import: only when a remote is used
    from app.engine.remote import RemoteBackend

TITLE_LENGTH = 48
# The keyring account (service "carrel") that holds a Hugging Face token.
HUB_TOKEN_ACCOUNT = "huggingface-hub"


def index_server_account(collection: str) -> str:
    """The key-store account of the API key of a collection's Qdrant server."""
    return f"qdrant-{collection}"


NEW_TITLE = "New conversation"


class Reply(Iterator[Event]):
    """A reply streaming into a conversation. Iterate it for events; `cancel()` from any
    thread stops it between tokens. When it ends, the assistant message (partial and
    marked stopped if cancelled) is written to the store before `Done` is returned."""

    def __init__(
        self,
        store: Store,
        conversation_id: int,
        generation: Generation,
        params: GenerationParams,
        citations: list[dict[str, Any]] | None = None,
    ) -> None:
        self._store = store
        self.conversation_id = conversation_id
        self._generation = generation
        self._params = params
        # The numbered sources the model was given, stored with the reply as [n] → file, page.
        self.citations = citations or []
        self.message: Message | None = None

    def cancel(self) -> None:
        self._generation.cancel()

    def __iter__(self) -> Reply:
        return self

    def __next__(self) -> Event:
        event = next(self._generation)
        if isinstance(event, Done):
            answered = getattr(self._generation, "answered_by", None)
            if answered is not None:
                event.stats.model = answered.model
                event.stats.endpoint = answered.endpoint
                event.stats.badge = answered.badge
                event.stats.fallback_reason = answered.fallback_reason
            self.message = self._store.add_message(
                self.conversation_id,
                "assistant",
                event.text,
                model=event.stats.model,
                params=self._params.as_dict(),
                stats={**event.stats.as_dict(), "citations": self.citations}
                if self.citations
                else event.stats.as_dict(),
                stopped=event.stats.stopped,
            )
        return event


class Workbench:
    """Carrel's core: models, conversations and replies, free of any GUI."""

    def __init__(
        self,
        paths: Paths,
        settings: Settings,
        store: Store,
        registry: ModelRegistry,
        privacy: Privacy,
        documents: Documents,
        library: ModelLibrary | None = None,
    ) -> None:
        self.paths = paths
        self.settings = settings
        self.store = store
        self.registry = registry
        self.privacy = privacy
        self.documents = documents
        documents.server_key = lambda name: self.secret(index_server_account(name))
        self.library = library or ModelLibrary(
            paths,
            store,
            registry,
            hub=HubClient(token=self.hub_token, allow=netguard.install().allow, log=privacy.ledger),
        )
        # Typed by the person for the encrypted key vault; kept in memory only.
        self.vault_passphrase: str | None = None
        self._remotes: dict[str, RemoteBackend] = {}
        self._backend: LlamaBackend | None = None
        self._lock = threading.Lock()
        self._active: Reply | None = None

    @classmethod
    def open(cls, paths: Paths | None = None) -> Workbench:
        paths = (paths or Paths.default()).ensure()
        settings = load_settings(paths)
        store = Store(paths.database)
        privacy = Privacy(paths, store, guard=netguard.install())
        documents = Documents(paths, store)
        return cls(paths, settings, store, ModelRegistry(paths.models_dir), privacy, documents)

    def close(self) -> None:
        self.unload()
        for remote in self._remotes.values():
            remote.close()
        self._remotes.clear()
        self.documents.close()
        self.library.close()
        self.store.close()

    def secret(self, account: str) -> str | None:
        """A token or key from the key store (keyring or unlocked vault), never a file;
        None when there is none or the store is locked."""
        try:
            return self.privacy.keys(self.vault_passphrase).get(account)
        except CarrelError:
            return None

    def hub_token(self) -> str | None:
        """The Hugging Face token for gated repositories."""
        return self.secret(HUB_TOKEN_ACCOUNT)

    def use_index_server(self, collection: str, url: str, prefix: str = "carrel_") -> None:
        """Point a collection at the team's Qdrant server (empty `url`: back on this disk).
        Refused for a collection marked on-device only: its text must not leave."""
        if url and collection in self.privacy.policy.on_device_only:
            raise CarrelError(
                f"The collection '{collection}' is marked on-device only, so it cannot live on "
                "a server. Unmark it in Settings → On-device only first."
            )
        self.documents.use_server(collection, url, prefix)

    def save_settings(self) -> None:
        save_settings(self.paths, self.settings)

    # models ----------------------------------------------------------------------------

    def models(self) -> list[ModelInfo]:
        return self.registry.list()

    @property
    def loaded_model(self) -> ModelInfo | None:
        backend = self._backend
        return backend.info if backend is not None else None

    @property
    def backend(self) -> LlamaBackend | None:
        return self._backend

    @property
    def placement(self) -> Placement | None:
        """Where the loaded model runs, as llama.cpp reported it (None: nothing loaded)."""
        backend = self._backend
        return backend.placement if backend is not None else None

    def load_options(self, name: str, overrides: dict[str, Any] | None = None) -> LoadOptions:
        """How `name` loads: the settings' defaults, then the library's options for the
        model, then `overrides` (a conversation's "load" params, `carrel chat` options)."""
        s = self.settings.model
        defaults = LoadOptions(
            context_length=s.context_length, threads=s.threads, gpu_layers=s.gpu_layers
        )
        return self.library.load_options(name, defaults, overrides)

    def load_model(
        self, name_or_path: str, *, warmup: bool = False, overrides: dict[str, Any] | None = None
    ) -> ModelInfo:
        """Load a model (blocking), closing the one loaded before; raises a `CarrelError`
        that says why if it cannot. The previous model stays loaded if the new one fails."""
        info = self.registry.resolve(name_or_path)
        options = dataclasses.replace(self.load_options(info.name, overrides), warmup=warmup)
        with self._lock:
            if self._active is not None:
                self._active.cancel()
            previous, self._backend = self._backend, None
            if previous is not None:
                previous.close()
            try:
                self._backend = LlamaBackend(info, options)
            except Exception:
                if previous is not None:
                    self._backend = LlamaBackend(previous.info, previous.options)
                raise
        return info

    def unload(self) -> None:
        with self._lock:
            if self._backend is not None:
                self._backend.close()
                self._backend = None

    # replies ---------------------------------------------------------------------------

    def params_for(self, overrides: dict[str, Any] | None = None) -> GenerationParams:
        return GenerationParams.from_settings(self.settings.sampling, overrides)

    def complete(
        self, messages: list[ChatMessage], params: GenerationParams | None = None
    ) -> Generation:
        """A reply to messages that are not stored (the `carrel chat` command)."""
        backend = self._backend
        if backend is None:
            raise NoModelLoadedError
        return backend.stream(messages, params or self.params_for())

    def reply(
        self,
        conversation_id: int,
        text: str,
        overrides: dict[str, Any] | None = None,
        *,
        ask_remote: bool = False,
    ) -> Reply:
        """Store the person's message and start the reply to the whole conversation.

        The conversation's `route` (in its params; on-device only by default) decides
        whether an enabled remote endpoint may answer; anything that would leave goes
        through the privacy gate.
        """
        backend = self._backend
        conversation = self.store.conversation(conversation_id)
        route = Route(conversation.params.get("route", Route.LOCAL_ONLY))
        remote = self._remote_for(conversation) if route != Route.LOCAL_ONLY else None
        if backend is None and remote is None:
            raise NoModelLoadedError
        params = self.params_for({**conversation.params, **(overrides or {})})
        self.store.add_message(conversation_id, "user", text)  # kept even if a reload fails
        if backend is not None:
            backend = self._loaded_as(backend, conversation.params.get("load"))
        if conversation.title == NEW_TITLE:
            self.store.update_conversation(conversation_id, title=_title_from(text))
        if backend is not None:
            self.store.update_conversation(conversation_id, model=backend.name)
        history = self.history(conversation)
        hits = self._retrieve(conversation, text)
        if hits:
            history = _grounded(history, text, [c for _, c in hits])
        generation: Generation
        if remote is None and backend is not None:
            # On-device only: straight to the model's owner thread, no router in between.
            generation = backend.stream(history, params)
        else:
            passages = [Passage(c.text, name) for name, c in hits]
            generation = self._routed(
                backend, remote, route, history, params, conversation_id, ask_remote, passages
            )
        citations = [
            {"n": n, "collection": name, **c.as_dict()} for n, (name, c) in enumerate(hits, 1)
        ]
        reply = Reply(self.store, conversation_id, generation, params, citations)
        self._active = reply
        return reply

    def _loaded_as(self, backend: LlamaBackend, load: dict[str, Any] | None) -> LlamaBackend:
        """The loaded model, reloaded first when the conversation's load options (or the
        model's own, changed since) differ from those it was loaded with."""
        wanted = self.load_options(backend.info.name, load)
        if dataclasses.replace(backend.options, warmup=False) == wanted:
            return backend
        self.load_model(backend.info.name, overrides=load)
        return self._backend or backend

    def _routed(
        self,
        backend: LlamaBackend | None,
        remote: RemoteBackend | None,
        route: Route,
        history: list[ChatMessage],
        params: GenerationParams,
        conversation_id: int,
        ask_remote: bool,
        passages: list[Passage],
    ) -> RoutedGeneration:
        router = self.privacy.router(backend, route, remote)
        return router.stream(
            history,
            params,
            conversation_id=conversation_id,
            passages=passages,
            ask_remote=ask_remote,
        )

    def _retrieve(self, conversation: Conversation, text: str) -> list[tuple[str, Citation]]:
        """The best passages for `text` from the collections the conversation is tied to."""
        names: list[str] = list(conversation.params.get("collections") or [])
        hits = [(name, c) for name in names for c in self.documents.search(text, name, SOURCES)]
        hits.sort(key=lambda hit: -hit[1].score)
        return hits[:SOURCES]

    def _remote_for(self, conversation: Conversation) -> RemoteBackend | None:
        """The enabled endpoint the conversation names (or the first enabled one)."""
        wanted = conversation.params.get("remote", "")
        enabled = [e for e in self.privacy.endpoints() if e.enabled]
        chosen = next((e for e in enabled if e.name == wanted), None) if wanted else None
        chosen = chosen or (enabled[0] if enabled else None)
        if chosen is None:
            return None
        if chosen.name not in self._remotes:
            keys = self.privacy.keys(self.vault_passphrase)
            self._remotes[chosen.name] = self.privacy.remote(chosen.name, keys)
        return self._remotes[chosen.name]

    def forget_remotes(self) -> None:
        """Drop cached remote backends (after a key or endpoint changed)."""
        for remote in self._remotes.values():
            remote.close()
        self._remotes.clear()

    def history(self, conversation: Conversation) -> list[ChatMessage]:
        messages: list[ChatMessage] = []
        if conversation.system_prompt.strip():
            messages.append(ChatMessage("system", conversation.system_prompt))
        for m in self.store.messages(conversation.id):
            if m.role in ("user", "assistant") and m.text:
                messages.append(ChatMessage("user" if m.role == "user" else "assistant", m.text))
        return messages

    # conversations ---------------------------------------------------------------------

    def new_conversation(self, title: str = NEW_TITLE) -> Conversation:
        loaded = self.loaded_model
        return self.store.create_conversation(
            title=title,
            system_prompt=self.settings.model.system_prompt,
            model=loaded.name if loaded else "",
        )

    def export_markdown(self, conversation_id: int) -> str:
        return export.markdown(self.store, conversation_id)

    def export_json(self, conversation_id: int) -> dict[str, Any]:
        return export.as_json(self.store, conversation_id)


def _grounded(
    history: list[ChatMessage], question: str, citations: list[Citation]
) -> list[ChatMessage]:
    """The conversation with its newest message replaced by numbered sources + question,
    and the citing instruction added to the system prompt."""
    instruction, sources = build_messages(question, citations)
    head = history[:-1]
    if head and head[0].role == "system":
        system = ChatMessage("system", f"{head[0].content}\n\n{instruction.content}")
        head = head[1:]
    else:
        system = instruction
    return [system, *head, sources]


def _title_from(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= TITLE_LENGTH else line[: TITLE_LENGTH - 1].rstrip() + "…"

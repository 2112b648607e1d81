"""`Workbench`: the one entrance the GUI and the command line both use.

It wires settings, store, model registry and the loaded backend together by passing
objects to constructors, and exposes the services a face uses: `library` (models on
disk and the hub), `documents` (collections), `privacy` (endpoints, keys, the gate and the
ledger) and `store` (conversations). It never imports Qt; blocking calls (`load_model`,
iterating a `Reply`) are meant for worker threads.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from app import answer_steps, export, netguard
from app.bundle import Bundles
from app.citation import Citation
from app.config import Paths, Settings, changed, load_settings, save_settings
from app.engine.backend import Generation, GenerationParams, InFlight
from app.engine.devices import SystemReport, devices, gpu_memory_of, system_report
from app.engine.llama import LlamaBackend
from app.engine.placement import Placement
from app.engine.router import Route, RoutedGeneration, Router
from app.errors import CarrelError, NoModelLoadedError, ReplyInProgressError
from app.library.hub import HubClient
from app.library.load_options import LoadOptions
from app.library.registry import ModelInfo, ModelRegistry
from app.library.service import ModelLibrary
from app.netguard import NetGuard
from app.privacy.service import Privacy
from app.prompt import ANSWER_SOURCES, ChatMessage, Prompt
from app.rag.service import Documents
from app.remotes import RemoteBackends
from app.replies import Answer, Reply, ReplyEnd
from app.store import Conversation, Message, Store
from app.turns import NEW_TITLE, Turns

if TYPE_CHECKING:  # openai takes 0.3 s to import: only when a remote is used
    from app.engine.remote import RemoteBackend

# The keyring account (service "carrel") that holds a Hugging Face token.
HUB_TOKEN_ACCOUNT = "huggingface-hub"


def index_server_account(collection: str) -> str:
    """The key-store account of the API key of a collection's Qdrant server."""
    return f"qdrant-{collection}"


# How a retrieval model's role reads in a sentence.
_KIND = {"embedder": "an embedding", "reranker": "a reranking"}


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
        guard: NetGuard | None = None,
    ) -> None:
        self.paths = paths
        # The process's network guard: hub actions open it for the hub while they run.
        self.guard = guard or netguard.install()
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
            hub=HubClient(token=self.hub_token, allow=self.guard.allow, log=privacy.ledger),
            gpu=lambda: gpu_memory_of(devices()),  # ggml's devices, for fit verdicts
        )
        # Called with the section after each `change_settings`.
        self.settings_listeners: list[Callable[[str], None]] = []
        self.remotes = RemoteBackends(privacy)
        self._backend: LlamaBackend | None = None
        self._lock = threading.Lock()
        self._active: Reply | None = None
        # Told of every conversation reply as it ends (`ReplyEnd`): usage instrumentation.
        self.reply_listeners: list[Callable[[ReplyEnd], None]] = []
        self._replies = InFlight()  # the person's replies (window, command line)
        # Send, regenerate, continue, edit and resend, and the variants they leave.
        self.turns = Turns(self)

    @classmethod
    def open(cls, paths: Paths | None = None) -> Workbench:
        paths = (paths or Paths.default()).ensure()
        settings = load_settings(paths)
        store = Store(paths.database)
        guard = netguard.install()
        privacy = Privacy(paths, store, guard=guard)
        documents = Documents(paths, store, guard=guard)
        registry = ModelRegistry(paths.models_dir)
        return cls(paths, settings, store, registry, privacy, documents, guard=guard)

    def close(self) -> None:
        self.unload()
        self.remotes.forget()
        self.documents.close()
        self.library.close()
        self.store.close()

    @property
    def vault_passphrase(self) -> str | None:
        """The key vault's passphrase as typed this session (memory only)."""
        return self.privacy.passphrase

    @vault_passphrase.setter
    def vault_passphrase(self, value: str | None) -> None:
        self.privacy.passphrase = value
        self.remotes.forget()

    def secret(self, account: str) -> str | None:
        """A token or key from the key store (keyring or unlocked vault), never a file;
        None when there is none or the store is locked."""
        try:
            return self.privacy.keys().get(account)
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

    def change_settings(self, section: str, **values: Any) -> Settings:
        """Change settings, e.g. `change_settings("model", context_length=8192)`: checked
        as the settings file is (a wrong key or type raises `SettingsError` and changes
        nothing), saved, then told to each of `settings_listeners` with the section."""
        self.settings = changed(self.settings, section, values)
        save_settings(self.paths, self.settings)
        for listener in list(self.settings_listeners):
            listener(section)
        return self.settings

    def bundles(self) -> Bundles:
        """Air-gap bundles of this library's models and collections (`app.bundle`)."""
        return Bundles(self.library, self.documents)

    # models ----------------------------------------------------------------------------

    def models(self) -> list[ModelInfo]:
        """The models that can chat (embedding and reranking GGUFs are left out)."""
        return [m for m in self.registry.list() if m.role == "chat"]

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

    @staticmethod
    def system_report() -> SystemReport:
        """The llama.cpp build here, the devices ggml lists with their memory, the CPU
        features and threads (`carrel system`, the Models page); asks ggml: seconds."""
        return system_report()

    def load_options(self, name: str, overrides: dict[str, Any] | None = None) -> LoadOptions:
        """How `name` loads: the settings' defaults, then the library's options for the
        model, then `overrides` (a conversation's "load" params, `carrel chat` options)."""
        s = self.settings.model
        defaults = LoadOptions(
            context_length=s.context_length, threads=s.threads, gpu_layers=s.gpu_layers
        )
        return self.library.load_options(name, defaults, overrides)

    def load_model(
        self,
        name_or_path: str,
        *,
        warmup: bool = False,
        overrides: dict[str, Any] | None = None,
        interrupt: bool = True,
    ) -> ModelInfo:
        """Load a model (blocking), closing the one loaded before; raises a `CarrelError`
        that says why if it cannot. The previous model stays loaded if the new one fails.
        The person's reply in progress is stopped, or with `interrupt=False` (the local
        server) left alone: then `ReplyInProgressError` is raised and nothing changes."""
        info = self.registry.resolve(name_or_path)
        if info.role != "chat":
            raise CarrelError(
                f"'{info.name}' is {_KIND[info.role]} model, not a chat model: choose it for "
                "a collection (carrel retrieval embedder|reranker) and a chat model here."
            )
        options = dataclasses.replace(self.load_options(info.name, overrides), warmup=warmup)
        with self._lock:
            if not interrupt and self.replying:
                raise ReplyInProgressError
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

    @property
    def replying(self) -> bool:
        """A reply started for the person is still being generated (or waits for it)."""
        return bool(self._replies)

    def params_for(self, overrides: dict[str, Any] | None = None) -> GenerationParams:
        return GenerationParams.from_settings(self.settings.sampling, overrides)

    def complete(
        self, messages: list[ChatMessage], params: GenerationParams | None = None
    ) -> Generation:
        """A reply to messages that are not stored (the `carrel chat` command)."""
        backend = self._backend
        if backend is None:
            raise NoModelLoadedError
        return self._replies.add(backend.stream(messages, params or self.params_for()))

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
        through the privacy gate. A conversation tied to collections is answered from
        their best passages, numbered, each in the request once (`app.prompt`).
        """
        return self.turns.reply(conversation_id, text, overrides, ask_remote=ask_remote)

    def start_reply(
        self,
        conversation: Conversation,
        history: list[ChatMessage],
        question: str,
        params: GenerationParams,
        parent_id: int,
        *,
        ask_remote: bool = False,
    ) -> Reply:
        """Start the reply that follows message `parent_id`, given the branch up to it
        (`history`); the `Turns` service calls it for send, edit and regenerate."""
        backend = self._backend
        route = Route(conversation.params.get("route", Route.LOCAL_ONLY))
        remote = self._remote_for(conversation) if route != Route.LOCAL_ONLY else None
        if backend is None and remote is None:
            raise NoModelLoadedError
        if backend is not None:  # the conversation's own load options, if it has any
            backend = self._loaded_as(backend, conversation.params.get("load"))
            self.store.update_conversation(conversation.id, model=backend.name)
        collections: list[str] = list(conversation.params.get("collections") or [])
        prompt = Prompt.asking(history, self._retrieve(collections, question))
        generation: Generation
        if remote is None and backend is not None:
            # On-device only: straight to the model's owner thread, no router in between.
            generation = backend.stream(prompt.messages(), params)
        else:
            generation = self._routed(
                backend, remote, route, prompt, params, conversation.id, ask_remote
            )
        reply = Reply(
            self.store, conversation.id, generation, params, list(prompt.passages), parent_id
        )
        reply.listeners = self.reply_listeners
        self._active = reply
        self._replies.add(generation)
        return reply

    def ready_for(self, conversation: Conversation) -> None:
        """Raise `NoModelLoadedError` unless a model or a remote may answer it."""
        route = Route(conversation.params.get("route", Route.LOCAL_ONLY))
        if self._backend is None and (
            route == Route.LOCAL_ONLY or self._remote_for(conversation) is None
        ):
            raise NoModelLoadedError

    def ask(self, question: str, collection: str, k: int = ANSWER_SOURCES) -> Answer:
        """Answer `question` from a collection's best `k` passages with the loaded model
        (blocking), citing them by number."""
        citations = answer_steps.search(self.documents.search, [collection], question, k)
        prompt = Prompt.asking([ChatMessage("user", question)], citations, grounded=True)
        return Answer.of(self.complete(prompt.messages()), list(prompt.passages))

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
        prompt: Prompt,
        params: GenerationParams,
        conversation_id: int,
        ask_remote: bool,
    ) -> RoutedGeneration:
        router = Router(backend, remote if route != Route.LOCAL_ONLY else None, route)
        return router.stream(prompt, params, conversation_id=conversation_id, ask_remote=ask_remote)

    def _retrieve(self, collections: list[str], text: str) -> list[Citation]:
        """The best passages for `text` from the collections a conversation is tied to;
        each step is told to the thread's listener (`app.answer_steps`)."""
        return answer_steps.search(self.documents.search, collections, text, ANSWER_SOURCES)

    def _remote_for(self, conversation: Conversation) -> RemoteBackend | None:
        """The enabled endpoint the conversation names (or the first enabled one)."""
        return self.remotes.named_or_first(conversation.params.get("remote", ""))

    def remote_backend(self, name: str) -> RemoteBackend:
        """The backend of endpoint `name` (built once, until its endpoint or key changes);
        every request it makes goes through the privacy gate and into the ledger."""
        return self.remotes.get(name)

    def history(
        self, conversation: Conversation, branch: list[Message] | None = None
    ) -> list[ChatMessage]:
        """The conversation as a model reads it: the system prompt, then the shown branch
        (or `branch`, a path of its messages)."""
        messages: list[ChatMessage] = []
        if conversation.system_prompt.strip():
            messages.append(ChatMessage("system", conversation.system_prompt))
        for m in self.store.messages(conversation.id) if branch is None else branch:
            if m.role in ("user", "assistant") and m.text:
                messages.append(ChatMessage("user" if m.role == "user" else "assistant", m.text))
        return messages

    # conversations ---------------------------------------------------------------------

    def new_conversation(self, title: str = NEW_TITLE) -> Conversation:
        """A conversation with the settings' system prompt and route (and remote endpoint,
        when the route allows one)."""
        loaded = self.loaded_model
        chosen = self.settings.model
        params: dict[str, Any] = {}
        if chosen.route != Route.LOCAL_ONLY:
            params = {"route": chosen.route, "remote": chosen.remote}
        return self.store.create_conversation(
            title=title,
            system_prompt=chosen.system_prompt,
            model=loaded.name if loaded else "",
            params=params,
        )

    def export_markdown(self, conversation_id: int) -> str:
        return export.markdown(self.store, conversation_id)

    def export_json(self, conversation_id: int) -> dict[str, Any]:
        return export.as_json(self.store, conversation_id)

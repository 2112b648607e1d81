"""`carrel self-check`: does this install work, here, with no network? One line per check.

It loads the default model and generates a few tokens, embeds and indexes a small document
Carrel carries (`resources/selfcheck/`) and searches it, checks the key store, checks that
the network guard refuses an address off this machine (by raising the very audit event a
connection raises, so no socket call is made and no packet can leave), and says which GPU
backend llama.cpp has. All of it happens in a throw-away Carrel home inside the cache folder
(`CARREL_HOME` moves it too), so the person's collections, conversations and settings are
never touched; it is deleted at the end. The GUI runs the same under Help → Self-check….
"""

from __future__ import annotations

import logging
import shutil
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from app import netguard
from app.config import Paths, load_settings
from app.engine.backend import Done, GenerationParams
from app.errors import CarrelError
from app.library.registry import ModelRegistry
from app.prompt import ChatMessage
from app.resources import resource
from app.workbench import Workbench

log = logging.getLogger(__name__)

DOCUMENT = ("selfcheck", "carrel-self-check.md")
QUESTION = "How many storms did the keeper count in the first year?"
ANSWER = "forty-one storms"
COLLECTION = "self-check"
# An address of TEST-NET-1 (RFC 5737): never routed, and never asked for anyway.
OFF_DEVICE = ("192.0.2.1", 443)
TOKENS = 8


@dataclass
class CheckResult:
    """One check: its name, whether it passed, what it found, how long it took."""

    name: str
    ok: bool
    detail: str
    seconds: float = 0.0

    def describe(self) -> str:
        mark = "ok" if self.ok else "FAIL"
        return f"{mark:<4}  {self.name:<13} {self.detail} ({self.seconds:.1f} s)"

    def as_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


def gpu_backend() -> str:
    """What llama.cpp will run on, as ggml itself reports it (`app.engine.devices`): the
    build's backend and the GPUs it sees with their free memory. A GPU build that sees no
    GPU passes too (models then run on the CPU); the line says so."""
    from app.engine.devices import MIB, short_name, system_report

    report = system_report()
    if report.gpus:
        gpus = ", ".join(
            f"{d.name} {short_name(d.description)} ({d.free / MIB:,.0f} MiB free)"
            for d in report.gpus
        )
        return f"{report.build} build of llama.cpp; models run on {gpus}"
    if report.build != "CPU":
        return f"{report.build} build of llama.cpp, but it sees no GPU here: models run on the CPU"
    return "CPU build of llama.cpp (no GPU backend): models run on the CPU"


class SelfCheck:
    """The checks, run one after another in a throw-away home under `paths.cache_dir`.
    `run` calls `on_result` with each `CheckResult` as it is known (a GUI worker turns that
    into a signal); `cancel` is looked at between checks."""

    def __init__(self, paths: Paths | None = None) -> None:
        self.paths = paths or Paths.default()

    def default_model(self) -> Path:
        """The file of the person's default model (the shipped one unless they chose)."""
        name = load_settings(self.paths).model.default
        registry = ModelRegistry(self.paths.models_dir)
        if not registry.list():
            # A package built --without-model, before the person adds one.
            raise CarrelError(
                "no model installed (this Carrel came without one): add a GGUF with "
                "'carrel models import FILE' or a bundle with 'carrel bundle import FILE'"
            )
        return registry.resolve(name).path

    def run(
        self,
        on_result: Callable[[CheckResult], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> list[CheckResult]:
        results: list[CheckResult] = []

        def record(result: CheckResult) -> CheckResult:
            results.append(result)
            if on_result is not None:
                on_result(result)
            return result

        checks: list[tuple[str, Callable[[], str]]] = [
            ("network guard", check_guard),
            ("GPU backend", gpu_backend),
        ]
        for name, fn in checks:
            record(_timed(name, fn))
        with self._scratch() as wb:
            record(_timed("key store", lambda: check_keys(wb)))
            for name, step in (
                ("model", lambda: self.check_model(wb)),
                ("documents", lambda: check_documents(wb)),
                ("search", lambda: check_search(wb)),
            ):
                if cancel is not None and cancel.is_set():
                    record(CheckResult(name, False, "not run: stopped"))
                    continue
                if name == "search" and not results[-1].ok:
                    record(CheckResult(name, False, "not run: the documents check failed"))
                    continue
                record(_timed(name, step))
        return results

    @contextmanager
    def _scratch(self) -> Iterator[Workbench]:
        """A Workbench on a fresh home under the cache folder, deleted afterwards."""
        self.paths.cache_dir.mkdir(parents=True, exist_ok=True)
        home = Path(tempfile.mkdtemp(prefix="self-check-", dir=self.paths.cache_dir))
        try:
            wb = Workbench.open(Paths.under(home))
            try:
                yield wb
            finally:
                wb.close()
        finally:
            shutil.rmtree(home, ignore_errors=True)

    def check_model(self, wb: Workbench) -> str:
        path = self.default_model()
        started = time.perf_counter()
        info = wb.load_model(str(path))
        loaded = time.perf_counter() - started
        params = GenerationParams(temperature=0.0, max_tokens=TOKENS, seed=1)
        started = time.perf_counter()
        events = wb.complete([ChatMessage("user", "Say hello.")], params)
        done = next((e for e in events if isinstance(e, Done)), None)
        took = time.perf_counter() - started  # the first reply of a process warms llama.cpp up
        wb.unload()
        if done is None or done.stats.completion_tokens < 1:
            raise CarrelError(f"{info.name} loaded but generated nothing")
        tokens = done.stats.completion_tokens
        return f"{info.name}: loaded in {loaded:.1f} s, generated {tokens} tokens in {took:.1f} s"


def _timed(name: str, fn: Callable[[], str]) -> CheckResult:
    started = time.perf_counter()
    try:
        detail, ok = fn(), True
    except CarrelError as exc:
        detail, ok = exc.message, False
    except Exception as exc:  # a check that breaks is a failed check, with the reason
        log.exception("self-check %s failed", name)
        detail, ok = f"unexpected error: {type(exc).__name__}: {exc}", False
    return CheckResult(name, ok, detail, time.perf_counter() - started)


def check_guard() -> str:
    """The guard refuses a connection off this machine before it is attempted."""
    guard = netguard.install()
    host, port = OFF_DEVICE
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sys.audit("socket.connect", sock, OFF_DEVICE)
        except netguard.EgressRefusedError:
            if host not in guard.refused:
                raise CarrelError("the guard refused, but did not record it") from None
            guard.refused.remove(host)
            return f"refused {host}:{port} before any packet was sent"
    raise CarrelError(f"a connection to {host}:{port} was NOT refused: the guard is not active")


def check_keys(wb: Workbench) -> str:
    """The key store the person's policy names works: a throw-away key written, read back
    and cleared; with no system keyring, the encrypted vault is checked instead."""
    from app.privacy.errors import KeyringUnavailableError
    from app.privacy.keys import Keys

    account = f"self-check-{time.time_ns()}"
    try:
        keys, where = Keys.system(), "system keyring"
    except KeyringUnavailableError:
        vault = wb.paths.data_dir / "self-check.vault"
        keys, where = Keys.vault(vault, "self-check"), "encrypted vault (no system keyring here)"
    keys.set(account, "carrel-self-check-secret")
    try:
        if keys.get(account) != "carrel-self-check-secret":
            raise CarrelError(f"the {where} gave back another value than was stored")
    finally:
        keys.clear(account)
    return f"{where}: a key stored, read back and removed"


def check_documents(wb: Workbench) -> str:
    document = resource(*DOCUMENT)
    if not document.is_file():
        raise CarrelError(f"the self-check document is missing ({document}); reinstall Carrel")
    report = wb.documents.add([document], COLLECTION)
    chunks = sum(f.chunks for f in report.files)
    if chunks == 0:
        reasons = "; ".join(f.reason for f in report.files if f.reason) or "no passages"
        raise CarrelError(f"the document was not indexed: {reasons}")
    embedder = wb.documents.embedder
    runtime = getattr(embedder, "active_runtime", "")
    on = f" ({RUNTIME_NAMES.get(runtime, runtime)})" if runtime else ""
    return f"embedded and indexed {chunks} passages with {embedder.name}{on}"


# How the self-check names the embedder's runtime (`SentenceEmbedder.active_runtime`).
RUNTIME_NAMES = {
    "openvino": "OpenVINO",
    "openvino-int8": "OpenVINO, int8",
    "onnx-int8": "onnxruntime, int8",
    "bf16": "torch, bf16",
    "int8": "torch, int8",
    "fp32": "torch, fp32",
}


def check_search(wb: Workbench) -> str:
    hits = wb.documents.search(QUESTION, COLLECTION, k=3)
    if not hits or ANSWER not in " ".join(hits[0].text.split()):
        found = hits[0].text[:60] if hits else "nothing"
        raise CarrelError(f"the best hit for a known question was wrong: {found!r}")
    return f"the known question found its passage first (score {hits[0].score:.2f})"

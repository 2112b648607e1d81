"""A local stand-in for the Hugging Face hub: enough of its HTTP protocol for Carrel.

It serves real GGUF files under made-up repository names from a `ThreadingHTTPServer` on
127.0.0.1 (port 0), in a thread. Knobs let a test corrupt one byte, require a token (401),
stall a body after N bytes until released (to kill a download mid-way), throttle, and
count the body bytes it served.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

# The repositories the shared `hub` fixture (tests/support/fixtures.py) serves.
SMOL_REPO = "carrel-test/SmolLM2-135M-Instruct-GGUF"
SMOL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
GEMMA_REPO = "carrel-test/gemma-3-270m-it-GGUF"
GEMMA_FILE = "gemma-3-270m-Q4_K_M.gguf"


@dataclass
class FakeRepo:
    """A repository: its files (path in repo → file on disk), card licence and figures."""

    id: str
    files: dict[str, Path]
    license: str = "apache-2.0"
    gated: bool = False
    downloads: int = 0
    likes: int = 0
    last_modified: str = "2026-01-01T00:00:00.000Z"
    sha: str = ""
    hashes: dict[str, str] = field(default_factory=dict)
    # "gguf", or "sentence-transformers" for a retrieval model's repository (served whole,
    # subfolders included, its small files outside LFS as the hub keeps them).
    library: str = "gguf"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


class FakeHub:
    """The server and its knobs; `url` is what `HF_ENDPOINT` should be set to."""

    def __init__(self) -> None:
        self.repos: dict[str, FakeRepo] = {}
        self.token: str | None = None  # when set, every request must carry it (else 401)
        self.corrupt: dict[str, int] = {}  # path in repo → offset of a flipped byte
        self.throttle: int | None = None  # bytes/s for bodies
        self.stall_after: int | None = None  # body bytes sent before waiting on `release`
        self.release = threading.Event()
        self.stalled = threading.Event()
        self.served: dict[str, int] = {}  # path in repo → body bytes sent
        self.requests: list[tuple[str, str, str]] = []  # (method, path, Range header)
        self.targets: list[str] = []  # every request's path with its query, as received
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def add_repo(self, repo_id: str, files: dict[str, Path], **kw: Any) -> FakeRepo:
        repo = FakeRepo(repo_id, files, **kw)
        repo.sha = hashlib.sha1(repo_id.encode()).hexdigest()
        repo.hashes = {name: _sha256(p) for name, p in files.items()}
        self.repos[repo_id] = repo
        return repo

    def bytes_served(self, path: str | None = None) -> int:
        with self._lock:
            return sum(self.served.values()) if path is None else self.served.get(path, 0)

    def count(self, path: str, n: int) -> None:
        with self._lock:
            self.served[path] = self.served.get(path, 0) + n

    def start(self) -> FakeHub:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


@contextmanager
def running_hub() -> Iterator[FakeHub]:
    hub = FakeHub().start()
    try:
        yield hub
    finally:
        hub.stop()


# Files of a retrieval model's repository larger than this are in LFS (weights).
LFS_FROM = 100_000


def repo_files(folder: Path) -> dict[str, Path]:
    """Every file under `folder` by its path in a repository (for `FakeHub.add_repo`)."""
    return {str(p.relative_to(folder)): p for p in sorted(folder.rglob("*")) if p.is_file()}


def _model_json(repo: FakeRepo, blobs: bool) -> dict[str, Any]:
    siblings = []
    for name, path in repo.files.items():
        entry: dict[str, Any] = {"rfilename": name}
        if blobs:
            size = path.stat().st_size
            if repo.library == "gguf" or size > LFS_FROM:
                entry.update(
                    size=size,
                    blobId=hashlib.sha1(name.encode()).hexdigest(),
                    lfs={"size": size, "sha256": repo.hashes[name], "pointerSize": 134},
                )
            else:  # a small file in git itself: the hub gives its blob id, no SHA-256
                data = path.read_bytes()
                blob = hashlib.sha1(f"blob {len(data)}\0".encode() + data).hexdigest()
                entry.update(size=size, blobId=blob)
        siblings.append(entry)
    return {
        "_id": repo.sha[:24],
        "id": repo.id,
        "modelId": repo.id,
        "author": repo.id.split("/")[0],
        "sha": repo.sha,
        "lastModified": repo.last_modified,
        "private": False,
        "gated": "manual" if repo.gated else False,
        "disabled": False,
        "downloads": repo.downloads,
        "likes": repo.likes,
        "tags": [repo.library, f"license:{repo.license}"],
        "library_name": repo.library,
        "cardData": {"license": repo.license},
        "siblings": siblings,
    }


def _handler(hub: FakeHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _json(self, value: Any, status: int = 200) -> None:
            body = json.dumps(value).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _error(self, status: int, message: str) -> None:
            self._json({"error": message}, status)

        def do_HEAD(self) -> None:
            self.do_GET()

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            path = unquote(url.path)
            query = parse_qs(url.query)
            with hub._lock:
                hub.requests.append((self.command, path, self.headers.get("Range", "")))
                hub.targets.append(self.path)
            if hub.token is not None and self.headers.get("Authorization") != f"Bearer {hub.token}":
                self._error(401, "Access to this model is restricted.")
                return
            if path == "/api/models":
                self._search(query)
            elif path.startswith("/api/models/"):
                self._model(path[len("/api/models/") :], query)
            elif "/resolve/" in path:
                self._resolve(path.lstrip("/"))
            else:
                self._error(404, "Not found")

        def _search(self, query: dict[str, list[str]]) -> None:
            text = query.get("search", [""])[0].lower()
            found = [r for r in hub.repos.values() if text in r.id.lower()]
            sort = query.get("sort", ["downloads"])[0]
            key = {"likes": "likes", "last_modified": "last_modified"}.get(sort, "downloads")
            found.sort(key=lambda r: getattr(r, key), reverse=True)
            limit = int(query.get("limit", ["1000"])[0])
            self._json([_model_json(r, False) for r in found[:limit]])

        def _model(self, rest: str, query: dict[str, list[str]]) -> None:
            parts = rest.split("/")
            repo = hub.repos.get("/".join(parts[:2]))
            if repo is None:
                self._error(404, "Repository not found")
                return
            if len(parts) >= 4 and parts[2] == "tree":
                entries = [
                    {
                        "type": "file",
                        "oid": hashlib.sha1(n.encode()).hexdigest(),
                        "size": p.stat().st_size,
                        "path": n,
                        "lfs": {
                            "oid": repo.hashes[n],
                            "size": p.stat().st_size,
                            "pointerSize": 134,
                        },
                    }
                    for n, p in repo.files.items()
                ]
                self._json(entries)
                return
            self._json(_model_json(repo, "blobs" in query))

        def _resolve(self, rest: str) -> None:
            head, _, name = rest.partition("/resolve/")
            _rev, _, file = name.partition("/")
            repo = hub.repos.get(head)
            if repo is None or file not in repo.files:
                self.send_response(404)
                self.send_header("X-Error-Code", "EntryNotFound")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            source = repo.files[file]
            size = source.stat().st_size
            start, end = 0, size - 1
            rng = self.headers.get("Range", "")
            if rng.startswith("bytes="):
                a, _, b = rng[6:].partition("-")
                start = int(a) if a else 0
                end = min(int(b), size - 1) if b else size - 1
                if start >= size:
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{size}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
            else:
                self.send_response(200)
            self.send_header("Content-Length", str(end - start + 1))
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("X-Repo-Commit", repo.sha)
            self.send_header("ETag", f'"{repo.hashes[file]}"')
            self.send_header("X-Linked-Size", str(size))
            self.send_header("X-Linked-Etag", f'"{repo.hashes[file]}"')
            self.end_headers()
            if self.command == "HEAD":
                return
            with suppress(BrokenPipeError, ConnectionResetError):
                self._send_body(file, source, start, end - start + 1)

        def _send_body(self, file: str, source: Path, start: int, count: int) -> None:
            fast = hub.throttle is None and hub.stall_after is None and file not in hub.corrupt
            with source.open("rb") as f:
                if fast:
                    sent = 0
                    while sent < count:
                        n = os.sendfile(self.wfile.fileno(), f.fileno(), start + sent, count - sent)
                        if n == 0:
                            break
                        sent += n
                        hub.count(file, n)
                    return
                f.seek(start)
                pos, left, began = start, count, time.monotonic()
                sent_here = 0
                while left > 0:
                    chunk = bytearray(f.read(min(left, 256 * 1024)))
                    bad = hub.corrupt.get(file)
                    if bad is not None and pos <= bad < pos + len(chunk):
                        chunk[bad - pos] ^= 0xFF
                    if hub.stall_after is not None and sent_here + len(chunk) > hub.stall_after:
                        chunk = chunk[: max(hub.stall_after - sent_here, 0)]
                        if chunk:
                            self.wfile.write(chunk)
                            hub.count(file, len(chunk))
                        self.wfile.flush()
                        hub.stalled.set()
                        hub.release.wait(60)
                        self.close_connection = True
                        return  # the connection ends here: the client sees a short body
                    self.wfile.write(chunk)
                    hub.count(file, len(chunk))
                    pos += len(chunk)
                    left -= len(chunk)
                    sent_here += len(chunk)
                    if hub.throttle:
                        ahead = sent_here / hub.throttle - (time.monotonic() - began)
                        if ahead > 0:
                            time.sleep(ahead)

    return Handler

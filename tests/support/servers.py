"""Real servers on loopback for the remote tests: llama-cpp-python's OpenAI-compatible
server, and a recording proxy in front of it that keeps every request body it received."""

from __future__ import annotations

import http.client
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

# The key the session's llama-cpp-python server expects (tests/conftest.py starts it).
REMOTE_API_KEY = "sk-carrel-test-Zq81-SECRET-7c3d"
HOP_HEADERS = {"connection", "transfer-encoding", "keep-alive", "content-length"}


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _die_with_parent() -> None:
    """In the child: ask Linux to end it when the test process dies, so a crashed or killed
    test run leaves no model server behind."""
    if sys.platform == "linux":
        import ctypes
        import signal

        pr_set_pdeathsig = 1
        ctypes.CDLL(None).prctl(pr_set_pdeathsig, signal.SIGTERM)


def wait_ready(port: int, proc: subprocess.Popen[bytes], deadline_s: float = 120.0) -> None:
    """Poll /v1/models until it answers (the process may still be loading the model)."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"llama_cpp.server exited with {proc.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/v1/models", headers={"Authorization": "Bearer probe"})
            conn.getresponse().read()
            conn.close()
            return
        except OSError:
            threading.Event().wait(0.1)  # the server is not listening yet
    raise RuntimeError("llama_cpp.server did not become ready")


@dataclass
class LlamaServer:
    """`python -m llama_cpp.server` serving SmolLM2 on a free loopback port."""

    model: Path
    api_key: str
    log: Path
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> LlamaServer:
        self.port = free_port()
        out = self.log.open("wb")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "llama_cpp.server",
                "--model",
                str(self.model),
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--api_key",
                self.api_key,
                "--n_ctx",
                "2048",
                "--n_threads",
                "2",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent,
        )
        out.close()
        wait_ready(self.port, self.proc)
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class RecordingProxy:
    """Forwards to `upstream_port` and keeps each request exactly as it arrived."""

    upstream_port: int
    host: str = "127.0.0.1"
    received: list[Received] = field(default_factory=list)
    port: int = 0
    _server: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    def start(self) -> RecordingProxy:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                proxy.received.append(Received(self.command, self.path, headers, body))
                up = http.client.HTTPConnection("127.0.0.1", proxy.upstream_port, timeout=120)
                fwd = {k: v for k, v in headers.items() if k.lower() not in HOP_HEADERS}
                up.request(self.command, self.path, body=body or None, headers=fwd)
                resp = up.getresponse()
                data = resp.read()
                up.close()
                self.send_response(resp.status)
                for k, v in resp.getheaders():
                    if k.lower() not in HOP_HEADERS:
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(data)

            do_GET = _forward
            do_POST = _forward

        self._server = ThreadingHTTPServer((self.host, 0), Handler)
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

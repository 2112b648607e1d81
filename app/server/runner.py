"""`LocalServer`: the server started and stopped from a face — the CLI, the window, a test.

It binds its socket itself (port 0 picks a free one, which tests and the benchmark use),
then runs uvicorn on a thread of its own so the caller's thread (the GUI's, or the CLI's
waiting for Ctrl+C) stays free. Stopping lets replies in progress end, cancels none of the
work of the model's owner thread, and unloads a model the server loaded.
"""

from __future__ import annotations

import logging
import socket
import threading

from app.server.app import build_app
from app.server.options import ServerOptions, ServerSetupError
from app.server.requestlog import RequestLog
from app.server.service import ServerCore
from app.workbench import Workbench

log = logging.getLogger(__name__)

# Seconds a stop waits for streams in progress before it closes their connections.
GRACE_S = 5


class LocalServer:
    """The OpenAI-compatible server of one Workbench. `requests` is its live log."""

    def __init__(self, wb: Workbench, options: ServerOptions) -> None:
        options.check()
        self.options = options
        self.requests = RequestLog()
        self.core = ServerCore(wb, options)
        self._server: object | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self.port = options.port

    @property
    def url(self) -> str:
        host = f"[{self.options.host}]" if ":" in self.options.host else self.options.host
        return f"http://{host}:{self.port}/v1"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> LocalServer:
        """Bind and serve on a thread; returns once the socket listens (or raises a
        `ServerSetupError` that says why it cannot)."""
        import uvicorn

        family = socket.AF_INET6 if ":" in self.options.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.options.host, self.options.port))
        except OSError as exc:
            sock.close()
            raise ServerSetupError(
                f"Cannot listen on {self.options.host}:{self.options.port} ({exc.strerror}). "
                "Another program (or another Carrel) may use that port: pick another with "
                "--port."
            ) from exc
        sock.listen(128)
        self.port = sock.getsockname()[1]
        self._socket = sock
        config = uvicorn.Config(
            build_app(self.core, self.requests),
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=GRACE_S,
            lifespan="off",
        )
        server = uvicorn.Server(config)
        self._server = server
        self._thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="server", daemon=True
        )
        self._thread.start()
        log.info("Serving on %s", self.url)
        return self

    def wait(self) -> None:
        """Block until the server stops (the CLI's foreground)."""
        if self._thread is not None:
            while self._thread.is_alive():
                self._thread.join(timeout=0.5)

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is not None and thread is not None:
            server.should_exit = True  # type: ignore[attr-defined]
            thread.join(timeout=GRACE_S + 5)
        if self._socket is not None:
            self._socket.close()
            self._socket = None
        self._server = self._thread = None
        self.core.close()

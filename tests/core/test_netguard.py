"""The guard refuses off-device connections before any packet is sent."""

import socket
import threading
from collections.abc import Iterator

import pytest

from app.netguard import EgressRefusedError
from tests.conftest import GUARD


@pytest.fixture
def listener() -> Iterator[int]:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]
    accepted: list[socket.socket] = []
    t = threading.Thread(target=lambda: accepted.append(server.accept()[0]), daemon=True)
    t.start()
    yield port
    t.join(timeout=5)
    server.close()
    for conn in accepted:
        conn.close()


def test_loopback_is_allowed(listener: int) -> None:
    with socket.create_connection(("127.0.0.1", listener), timeout=5):
        pass


def test_off_device_is_refused_before_connecting() -> None:
    # 127.0.0.2 is loopback too; declaring it off-device shows a refusal without any
    # traffic leaving the machine. Nothing listens there: a real attempt would be refused
    # by the kernel with ECONNREFUSED, which is not the error we see.
    GUARD.treat_as_off_device("127.0.0.2")
    before = len(GUARD.refused)
    s = socket.socket()
    try:
        with pytest.raises(EgressRefusedError, match=r"127\.0\.0\.2"):
            s.connect(("127.0.0.2", 9))
    finally:
        s.close()
        GUARD._off_device.discard("127.0.0.2")
        del GUARD.refused[before:]


def test_allow_opens_a_destination_only_while_it_runs() -> None:
    GUARD.treat_as_off_device("127.0.0.2")
    before = len(GUARD.refused)
    try:
        with GUARD.allow("127.0.0.2"):
            GUARD.check(("127.0.0.2", 443), socket.AF_INET)
        with pytest.raises(EgressRefusedError):
            GUARD.check(("127.0.0.2", 443), socket.AF_INET)
    finally:
        GUARD._off_device.discard("127.0.0.2")
        del GUARD.refused[before:]


def test_unix_sockets_are_local() -> None:
    GUARD.check("/run/whatever.sock", socket.AF_UNIX)

"""Privacy costs: redaction throughput, the gate's added latency per request, and the
network guard's overhead per connection.

- Redaction: MB/s over a 10 MB text of prose with personal data sprinkled in, against the
  redactor Carrel had before issue 15 (`legacy_redact`, one hand-written pattern) and
  `json.dumps` of the same text (a pass every request makes anyway), runs interleaved.
- Gate latency: `EgressGate.clear` (redaction, preview, consent, no network) on a typical
  request (system prompt, 8 turns, 5 retrieved passages, ~12 KB), against `json.dumps`.
- Guard: loopback connections per second in fresh subprocesses with and without the audit
  hook (it cannot be removed once installed), runs interleaved.

    python -m tests.bench.bench_privacy [--mb 10] [--connections 3000] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from app.citation import Citation
from app.privacy.gate import Consent, EgressGate
from app.privacy.ledger import Ledger
from app.privacy.policy import EndpointKind, PrivacyPolicy, RemoteEndpoint
from app.privacy.redact import RedactionMap, Redactor
from app.prompt import ChatMessage, Prompt
from app.store import Store
from tests.bench import legacy_redact

_PROSE = (
    "the contract states that payment is due within thirty days of the invoice date and "
    "that either party may end the agreement with notice in writing version 3.11 of the "
    "report lists 42 items on 2024-05-17 while the meeting at 10:30 discussed budgets"
)
WORDS = _PROSE.split()
PII = [
    "ada.lovelace@example.org",
    "+44 20 7946 0958",
    "GB82 WEST 1234 5698 7654 32",
    "4111 1111 1111 1111",
    "192.168.10.4",
    "fe80::1:2:3:4",
    "Nightjar",
]


def make_text(n_bytes: int, seed: int = 7) -> str:
    rng = random.Random(seed)
    parts: list[str] = []
    size = 0
    while size < n_bytes:
        w = rng.choice(PII) if rng.random() < 0.01 else rng.choice(WORDS)
        parts.append(w)
        size += len(w) + 1
    return " ".join(parts)


def bench_redaction(mb: int, runs: int) -> dict[str, float]:
    text = make_text(mb * 1_000_000)
    terms, patterns = ["Nightjar"], [r"ACME-\d+"]
    redactor = Redactor(terms=terms, patterns=patterns, region="GB")
    redactor.redact(text[:200_000], RedactionMap())  # imports and first-use caches
    times: dict[str, list[float]] = {"new": [], "old": [], "json": []}
    hits = old_hits = 0
    for _ in range(runs):
        t0 = time.perf_counter()
        json.dumps(text)
        times["json"].append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        _, old_hits = legacy_redact.redact(text, terms, patterns)
        times["old"].append(time.perf_counter() - t0)
        m = RedactionMap()
        t0 = time.perf_counter()
        redactor.redact(text, m)
        times["new"].append(time.perf_counter() - t0)
        hits = m.hits
    size = len(text.encode()) / 1e6
    best = {k: min(v) for k, v in times.items()}
    return {
        "text_mb": round(size, 2),
        "redactions": hits,
        "redactions_before_issue_15": old_hits,
        "redact_mb_per_s": round(size / best["new"], 1),
        "before_issue_15_mb_per_s": round(size / best["old"], 1),
        "speed_vs_before": round(best["old"] / best["new"], 2),
        "json_dumps_mb_per_s": round(size / best["json"], 1),
    }


def bench_gate(requests: int) -> dict[str, float]:
    rng = random.Random(3)
    system = "You are a careful assistant for Nightjar. " * 4
    turns = [
        ChatMessage("user" if i % 2 == 0 else "assistant", make_text(600, seed=i)) for i in range(8)
    ]
    passages = [
        Citation(f"/notes/{i}.md", text=make_text(1500, seed=100 + i), collection="notes")
        for i in range(5)
    ]
    messages = [ChatMessage("system", system), *turns]
    prompt = Prompt.asking(messages, passages)
    sent = prompt.messages()
    endpoint = RemoteEndpoint("b", "http://127.0.0.1:9/v1", "m", EndpointKind.SELF_HOSTED, True)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "b.sqlite3")
        policy = PrivacyPolicy(redact_terms=["Nightjar"])
        gate = EgressGate(policy, Ledger(store), lambda _p: Consent.ONCE)
        payload_size = len(json.dumps([m.content for m in sent]))
        gate_us, ref_us = [], []
        for _ in range(requests):
            t0 = time.perf_counter()
            json.dumps([{"role": m.role, "content": m.content} for m in sent])
            ref_us.append((time.perf_counter() - t0) * 1e6)
            t0 = time.perf_counter()
            gate.clear(endpoint, prompt, conversation_id=rng.randrange(1000))
            gate_us.append((time.perf_counter() - t0) * 1e6)
        store.close()
    return {
        "request_kb": round(payload_size / 1000, 1),
        "gate_clear_us_p50": round(statistics.median(gate_us), 1),
        "gate_clear_us_p95": round(sorted(gate_us)[int(0.95 * len(gate_us))], 1),
        "json_dumps_us_p50": round(statistics.median(ref_us), 1),
    }


GUARD_CHILD = """
import socket, sys, threading, time
n, guarded = int(sys.argv[1]), sys.argv[2] == "1"
if guarded:
    from app import netguard
    netguard.install()
server = socket.socket()
server.bind(("127.0.0.1", 0))
server.listen(512)
port = server.getsockname()[1]
def accept():
    for _ in range(n):
        server.accept()[0].close()
t = threading.Thread(target=accept, daemon=True)
t.start()
t0 = time.perf_counter()
for _ in range(n):
    s = socket.socket()
    s.connect(("127.0.0.1", port))
    s.close()
elapsed = time.perf_counter() - t0
t.join()
print(elapsed / n * 1e6)
"""


def bench_guard(connections: int, runs: int) -> dict[str, float]:
    root = Path(__file__).parents[2]
    times: dict[str, list[float]] = {"0": [], "1": []}
    for _ in range(runs):
        for guarded in ("0", "1"):
            out = subprocess.run(
                [sys.executable, "-c", GUARD_CHILD, str(connections), guarded],
                cwd=root,
                capture_output=True,
                text=True,
                check=True,
            )
            times[guarded].append(float(out.stdout.strip()))
    plain, guarded_us = statistics.median(times["0"]), statistics.median(times["1"])
    return {
        "connections_per_run": connections,
        "connect_us_without_guard": round(plain, 1),
        "connect_us_with_guard": round(guarded_us, 1),
        "guard_overhead_us": round(guarded_us - plain, 1),
        "guard_ratio": round(guarded_us / plain, 2),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=10)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--connections", type=int, default=3000)
    a = ap.parse_args()
    summary = {
        "machine": f"{platform.machine()} {platform.python_version()}",
        "redaction": bench_redaction(a.mb, a.runs),
        "gate": bench_gate(a.requests),
        "guard": bench_guard(a.connections, a.runs),
    }
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()

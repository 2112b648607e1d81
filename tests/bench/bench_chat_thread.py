"""What the reply actions cost at the end of a reply and when a variant is shown:
`python -m tests.bench.bench_chat_thread`, printed as JSON.

Since issue 17 each message has action links (copy, regenerate, continue, edit, ‹ n/m ›).
At the end of a reply the window renders the reply in place and adds the links of it and
of the message it answers (`end_reply` with `turns`): measured against the same render
without links (the path before, the reference), interleaved in one run, for
conversations of 10, 50 and 200 exchanges of ~1,000-character Markdown replies, layout
included. Showing another variant (or opening a conversation) renders the whole branch
again (`Turns.thread` + `show_thread`): measured too. Not collected by pytest.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from PySide6.QtWidgets import QApplication

from app.branches import Branches
from app.store import Store
from app.ui.chat_view import ChatView

REPLY = (
    "Here is what to check:\n\n- the **cable** at both ends\n- the `dmesg` output\n"
    "- the disk's SMART data\n\nThen run:\n\n```sh\nsmartctl -a /dev/sda\n```\n\n"
    "If a line says *FAILING_NOW*, replace the disk before the array degrades further; "
    "a rebuild onto a new disk takes hours and reads every other disk in full.\n"
) * 2
ROUNDS = 7


def conversation(store: Store, exchanges: int) -> int:
    c = store.create_conversation("bench")
    for i in range(exchanges):
        store.add_message(c.id, "user", f"Question {i}: what should I check?")
        store.add_message(c.id, "assistant", REPLY, stats={"tokens_per_s": 80.0})
    return c.id


def main() -> int:
    app = QApplication.instance() or QApplication(sys.argv)
    view = ChatView()
    view.resize(900, 700)
    view.show()
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "bench.sqlite3")
        branches = Branches(store)
        sizes = {n: conversation(store, n) for n in (10, 50, 200)}
        for n, cid in sizes.items():
            old: list[float] = []
            new: list[float] = []
            whole: list[float] = []
            for _ in range(ROUNDS):  # interleaved: the machine is shared and noisy
                for links, into in ((False, old), (True, new)):
                    thread = branches.thread(cid)
                    view.show_thread(thread[:-2])
                    view.add_user_message(thread[-2].message.text)
                    view.begin_reply()
                    view.append_stream(REPLY)
                    app.processEvents()
                    t0 = time.perf_counter()
                    turns = branches.thread(cid)[-2:] if links else []
                    view.end_reply(REPLY, "bench · 80 tok/s", False, turns=turns)
                    view.document().documentLayout().documentSize()
                    app.processEvents()
                    into.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                view.show_thread(branches.thread(cid))
                view.document().documentLayout().documentSize()
                app.processEvents()
                whole.append(time.perf_counter() - t0)
            results[f"{n}_exchanges"] = {
                "end_of_reply_before_ms": round(statistics.median(old) * 1000, 1),
                "end_of_reply_with_links_ms": round(statistics.median(new) * 1000, 1),
                "ratio": round(statistics.median(new) / statistics.median(old), 2),
                "show_variant_or_open_ms": round(statistics.median(whole) * 1000, 1),
            }
        store.close()
    view.close()
    print(
        json.dumps(
            {
                "machine": platform.processor() or platform.machine(),
                "load_average": [round(x, 1) for x in os.getloadavg()],
                "rounds": ROUNDS,
                **results,
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

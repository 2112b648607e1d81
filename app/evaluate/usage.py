"""Instrumentation of everyday use: every conversation reply's model, route, latency,
tokens and failure kind, kept in this machine's store (`eval_usage`) and never sent
anywhere; summarised per model and route over time, exported as CSV.

`UsageLog.attach(workbench)` hooks it where replies end (`Workbench.reply_listeners`).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.evaluate.schema import COMPONENT, EVALUATE_MIGRATIONS
from app.replies import ReplyEnd
from app.store import Store

if TYPE_CHECKING:
    from app.workbench import Workbench

PERIODS = {"day": "%Y-%m-%d", "week": "%G-W%V", "month": "%Y-%m"}


@dataclass(frozen=True)
class UsageRow:
    """One line of the summary: a period, a model and route, and their figures."""

    period: str
    model: str
    route: str
    replies: int
    failures: int
    mean_ms: float
    mean_ttft_ms: float
    tokens_in: int
    tokens_out: int

    def describe(self) -> str:
        return (
            f"{self.period}  {self.model} [{self.route}]: {self.replies} replies, "
            f"{self.failures} failed, {self.mean_ms / 1000:.1f} s mean, "
            f"{self.tokens_in} tokens in, {self.tokens_out} out"
        )


class UsageLog:
    """The usage table: written as replies end, read as a summary."""

    def __init__(self, store: Store) -> None:
        self.store = store
        store.migrate(COMPONENT, EVALUATE_MIGRATIONS)
        self._workbench: Workbench | None = None

    def attach(self, workbench: Workbench) -> None:
        """Record every reply of `workbench` from now on (once, however often called)."""
        listeners = workbench.reply_listeners
        if any(isinstance(getattr(f, "__self__", None), UsageLog) for f in listeners):
            return
        self._workbench = workbench
        workbench.reply_listeners.append(self.on_reply)

    def on_reply(self, end: ReplyEnd) -> None:
        route = ""
        if self._workbench is not None:
            try:
                c = self._workbench.store.conversation(end.conversation_id)
                route = str(c.params.get("route", "local-only"))
            except Exception:  # a conversation deleted meanwhile: the reply still counts
                route = ""
        s = end.stats
        self.record(
            model=s.model if s else "",
            route=route,
            endpoint=s.endpoint if s else "",
            total_ms=s.total_ms if s else 0.0,
            ttft_ms=s.ttft_ms if s else 0.0,
            tokens_in=s.prompt_tokens if s else 0,
            tokens_out=s.completion_tokens if s else 0,
            failure=end.failure or ("stopped" if s and s.stopped else ""),
        )

    def record(
        self,
        *,
        model: str,
        route: str,
        endpoint: str = "",
        total_ms: float = 0.0,
        ttft_ms: float = 0.0,
        tokens_in: int = 0,
        tokens_out: int = 0,
        failure: str = "",
        at: float | None = None,
    ) -> None:
        with self.store.transaction() as db:
            db.execute(
                "INSERT INTO eval_usage (at, model, route, endpoint, total_ms, ttft_ms,"
                " tokens_in, tokens_out, failure) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    at if at is not None else time.time(),
                    model,
                    route,
                    endpoint,
                    total_ms,
                    ttft_ms,
                    tokens_in,
                    tokens_out,
                    failure,
                ),
            )

    def summary(self, period: str = "day") -> list[UsageRow]:
        """Per period (day, week, month, in local time), model and route."""
        fmt = PERIODS[period]
        groups: dict[tuple[str, str, str], list[tuple[float, float, int, int, str]]] = {}
        for r in self.store.query("SELECT * FROM eval_usage ORDER BY at"):
            when = dt.datetime.fromtimestamp(r["at"]).strftime(fmt)
            key = (when, r["model"] or "(none)", r["route"] or "?")
            groups.setdefault(key, []).append(
                (r["total_ms"], r["ttft_ms"], r["tokens_in"], r["tokens_out"], r["failure"])
            )
        rows = []
        for (when, model, route), vals in groups.items():
            ok = [v for v in vals if v[4] in ("", "stopped")]
            rows.append(
                UsageRow(
                    period=when,
                    model=model,
                    route=route,
                    replies=len(vals),
                    failures=len(vals) - len(ok),
                    mean_ms=sum(v[0] for v in ok) / len(ok) if ok else 0.0,
                    mean_ttft_ms=sum(v[1] for v in ok) / len(ok) if ok else 0.0,
                    tokens_in=sum(v[2] for v in vals),
                    tokens_out=sum(v[3] for v in vals),
                )
            )
        return rows

    def export_csv(self) -> str:
        """Every recorded reply, one row each (times in UTC)."""
        out = io.StringIO()
        cols = ["at", "model", "route", "endpoint", "total_ms", "ttft_ms"]
        cols += ["tokens_in", "tokens_out", "failure"]
        w = csv.writer(out)
        w.writerow(cols)
        for r in self.store.query("SELECT * FROM eval_usage ORDER BY at"):
            at = dt.datetime.fromtimestamp(r["at"], dt.UTC).isoformat()
            w.writerow([at, *(r[c] for c in cols[1:])])
        return out.getvalue()

"""A run's results summed up per contestant (and per task within it): the table of the
report, the points of its plots, and what the routing policy chooses from."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any

from app.evaluate.runs import METRICS, Result


@dataclass(frozen=True)
class Summary:
    """One contestant's figures over a run (or over one task of it). `quality` is the
    share of answers containing the expected answer where items have one, else the mean
    similarity, else the citation support rate: the one number plots and routing use."""

    contestant: str
    task: str
    answers: int
    errors: int
    ttft_ms: float | None
    total_ms: float | None
    tokens_per_s: float | None
    tokens_in: int
    tokens_out: int
    peak_rss_mb: float | None
    cost: float
    retrieval_hit: float | None
    citation_support: float | None
    contains_expected: float | None
    similarity: float | None
    judge: float | None

    @property
    def quality(self) -> float | None:
        for value in (self.contains_expected, self.similarity, self.citation_support):
            if value is not None:
                return value
        return None

    def row(self) -> dict[str, Any]:
        """The CSV row and HTML table row."""
        out: dict[str, Any] = {
            "contestant": self.contestant,
            "task": self.task,
            "answers": self.answers,
            "errors": self.errors,
            "quality": _r(self.quality),
        }
        for name in METRICS:
            out[name] = _r(getattr(self, name))
        return out


def _r(v: Any) -> Any:
    return round(v, 4) if isinstance(v, float) else v


def _mean(values: list[Any]) -> float | None:
    nums = [float(v) for v in values if v is not None]
    return statistics.fmean(nums) if nums else None


def summarise(results: list[Result], tasks: dict[int, str] | None = None) -> list[Summary]:
    """Per contestant (task ""), and per (task, contestant) when `tasks` (item → task)
    names more than one task."""
    groups: dict[tuple[str, str], list[Result]] = {}
    for r in results:
        groups.setdefault(("", r.contestant), []).append(r)
        if tasks and len(set(tasks.values())) > 1:
            groups.setdefault((tasks.get(r.item_id, ""), r.contestant), []).append(r)
    out = []
    for (task, who), rs in groups.items():
        ok = [r for r in rs if not r.error]
        col = {k: [r.metrics.get(k) for r in ok] for k in ok[0].metrics} if ok else {}

        def mean(name: str, col: dict[str, list[Any]] = col) -> float | None:
            return _mean(col.get(name, []))

        peaks = [v for v in col.get("peak_rss_mb", []) if v is not None]
        out.append(
            Summary(
                contestant=who,
                task=task,
                answers=len(ok),
                errors=len(rs) - len(ok),
                ttft_ms=mean("ttft_ms"),
                total_ms=mean("total_ms"),
                tokens_per_s=mean("tokens_per_s"),
                tokens_in=int(sum(v or 0 for v in col.get("tokens_in", []))),
                tokens_out=int(sum(v or 0 for v in col.get("tokens_out", []))),
                peak_rss_mb=max(peaks) if peaks else None,
                cost=float(sum(v or 0 for v in col.get("cost", []))),
                retrieval_hit=mean("retrieval_hit"),
                citation_support=mean("citation_support"),
                contains_expected=mean("contains_expected"),
                similarity=mean("similarity"),
                judge=mean("judge"),
            )
        )
    return sorted(out, key=lambda s: (s.task, s.contestant))

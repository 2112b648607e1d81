"""A run's report: a self-contained HTML file (table, inline SVG plots drawn by
`app.evaluate.svg`, win rates, perplexity, the suggested routes, the judge's prompt) and
a CSV of every answer with its figures."""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from html import escape

from app.evaluate import svg
from app.evaluate.contestants import Contestant
from app.evaluate.perplexity import Perplexity
from app.evaluate.review import WinRate
from app.evaluate.routing import Rule
from app.evaluate.runs import METRICS, Result, Run
from app.evaluate.sets import TestSet
from app.evaluate.summary import Summary

CSS = """
body { font-family: sans-serif; margin: 2em; color: #222; max-width: 1200px; }
table { border-collapse: collapse; margin: 1em 0; font-size: 13px; }
th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: right; }
th:first-child, td:first-child { text-align: left; }
.plots { display: flex; flex-wrap: wrap; gap: 1em; }
.plot { border: 1px solid #eee; background: #fff; }
pre { background: #f6f6f6; padding: 1em; white-space: pre-wrap; }
"""


@dataclass
class Report:
    """Everything a report shows about one run."""

    run: Run
    test_set: TestSet
    summaries: list[Summary]
    results: list[Result]
    win_rates: list[WinRate] = field(default_factory=list)
    perplexities: list[Perplexity] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)

    def overall(self) -> list[Summary]:
        return [s for s in self.summaries if s.task == ""]

    def html(self) -> str:
        name = {c.key: c.describe() for c in self.run.contestants}
        overall = self.overall()
        when = dt.datetime.fromtimestamp(self.run.created_at).strftime("%Y-%m-%d %H:%M")
        out = [
            "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
            f"<title>Carrel evaluation: run {self.run.id}</title><style>{CSS}</style></head><body>",
            f"<h1>Evaluation run {self.run.id}: {escape(self.test_set.name)}</h1>",
            f"<p>Collection <b>{escape(self.test_set.collection or '—')}</b>, "
            f"{len(self.test_set.usable())} questions, {len(self.run.contestants)} contestants, "
            f"started {when}, {escape(self.run.status)}.</p>",
            "<h2>Results</h2>",
            _table(overall, name),
            "<h2>Plots</h2><div class='plots'>",
        ]
        points = [
            (name.get(s.contestant, s.contestant), (s.total_ms or 0) / 1000, s.quality or 0.0)
            for s in overall
        ]
        out.append(
            svg.scatter(
                "Quality against latency", points, "mean seconds per answer", "quality", 1.0
            )
        )
        out.append(
            svg.bars(
                "Tokens per second",
                [(name.get(s.contestant, s.contestant), s.tokens_per_s or 0) for s in overall],
                "tok/s",
            )
        )
        mem = [(name.get(s.contestant, s.contestant), s.peak_rss_mb) for s in overall]
        out.append(svg.bars("Peak memory", [(n, v) for n, v in mem if v is not None], "MiB"))
        out.append(
            svg.bars("Cost", [(name.get(s.contestant, s.contestant), s.cost) for s in overall], "")
        )
        if self.perplexities:
            out.append(
                svg.bars(
                    "Tokens scored per second per quant level",
                    [(f"{p.model}", p.tokens_per_s) for p in self.perplexities],
                    "tok/s",
                )
            )
        out.append("</div>")
        if self.perplexities:
            out.append("<h2>Quantization loss on this collection</h2><table><tr>")
            out.append("<th>model</th><th>quant</th><th>perplexity</th><th>tokens</th>")
            out.append("<th>size MiB</th><th>tokens/s scored</th></tr>")
            for p in self.perplexities:
                out.append(
                    f"<tr><td>{escape(p.model)}</td><td>{escape(p.quant)}</td>"
                    f"<td>{p.perplexity:.3f}</td><td>{p.tokens}</td>"
                    f"<td>{p.size_bytes / 2**20:.0f}</td><td>{p.tokens_per_s:.0f}</td></tr>"
                )
            out.append("</table>")
        if self.win_rates:
            out.append("<h2>Blind review</h2><table><tr><th>contestant</th><th>comparisons</th>")
            out.append("<th>win rate</th><th>95% CI</th><th>both bad</th></tr>")
            for w in self.win_rates:
                out.append(
                    f"<tr><td>{escape(name.get(w.contestant, w.contestant))}</td>"
                    f"<td>{w.comparisons}</td><td>{w.rate:.0%}</td>"
                    f"<td>{w.low:.0%}–{w.high:.0%}</td><td>{w.both_bad}</td></tr>"
                )
            out.append("</table>")
        if self.rules:
            out.append("<h2>Suggested routes</h2><ul>")
            out += [f"<li>{escape(r.describe())}</li>" for r in self.rules]
            out.append("</ul>")
        judge = self.run.settings.get("judge_prompt")
        if judge:
            out.append(f"<h2>Judge</h2><p>{escape(str(self.run.settings.get('judge')))}</p>")
            out.append(f"<pre>{escape(str(judge))}</pre>")
        out.append("</body></html>")
        return "\n".join(out)

    def csv(self) -> str:
        """One row per answer: item, question, contestant, answer, error and every figure."""
        questions = {i.id: i for i in self.test_set.items}
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(
            ["item", "task", "question", "expected", "contestant", "answer", "error", *METRICS]
        )
        for r in self.results:
            item = questions.get(r.item_id)
            w.writerow(
                [
                    r.item_id,
                    item.task if item else "",
                    item.question if item else "",
                    item.expected if item else "",
                    r.contestant,
                    r.answer,
                    r.error,
                    *(r.metrics.get(k) for k in METRICS),
                ]
            )
        return buf.getvalue()


def _table(rows: list[Summary], name: dict[str, str]) -> str:
    cols = [
        ("quality", "quality", "{:.2f}"),
        ("ttft_ms", "TTFT ms", "{:.0f}"),
        ("total_ms", "total ms", "{:.0f}"),
        ("tokens_per_s", "tokens/s", "{:.1f}"),
        ("tokens_in", "tokens in", "{}"),
        ("tokens_out", "tokens out", "{}"),
        ("peak_rss_mb", "peak MiB", "{:.0f}"),
        ("cost", "cost", "{:.4f}"),
        ("retrieval_hit", "retrieval hit", "{:.0%}"),
        ("citation_support", "citation support", "{:.0%}"),
        ("contains_expected", "contains expected", "{:.0%}"),
        ("similarity", "similarity", "{:.2f}"),
        ("judge", "judge", "{:.2f}"),
    ]
    head = "".join(f"<th>{escape(label)}</th>" for _, label, _ in cols)
    out = [f"<table><tr><th>contestant</th><th>answers</th><th>errors</th>{head}</tr>"]
    for s in rows:
        cells = []
        for attr, _, fmt in cols:
            v = getattr(s, attr)
            cells.append(f"<td>{fmt.format(v) if v is not None else '—'}</td>")
        label = name.get(s.contestant) or Contestant.parse(s.contestant).describe()
        out.append(
            f"<tr><td>{escape(label)}</td><td>{s.answers}</td><td>{s.errors}</td>{''.join(cells)}</tr>"
        )
    out.append("</table>")
    return "".join(out)

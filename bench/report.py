"""Results to the docs: the JSON each run merges into, the tables and the plot drawn from it.

Sizes are run one at a time (10k in minutes, 1M in an hour), so the JSON
keeps every size measured so far, each with its date, and a run replaces
only its own. The tables go between two markers in docs/benchmarks.md and
in the README, whose other text is written by hand.
"""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.queries import CLASSES
from bench.stats import markdown_table, ms

ROOT = Path(__file__).resolve().parent.parent
BEGIN = "<!-- tables written by python -m bench: begin -->"
END = "<!-- tables written by python -m bench: end -->"
# The targets the search is held to (p95 over HTTP, HTTP over SQL, import at 1M).
TARGET_P95_MS = 30.0
TARGET_RATIO = 1.3
TARGET_IMPORT_ITEMS = 1_000_000
TARGET_IMPORT_SECONDS = 60.0
# The site's search p95 with a backlog pending, against none pending.
TARGET_BACKLOG_RATIO = 1.2
ALTERNATIVES = [("generated column", "generated column"), ("on the fly", "SearchVector on the fly")]

Results = dict[str, Any]


@dataclass(frozen=True)
class Docs:
    """The files a run writes, under the repository or a scratch copy of it."""

    root: Path

    @classmethod
    def at(cls, root: Path) -> Docs:
        """The docs under ``root``; what a scratch root lacks is copied from the repository first."""
        docs = cls(root)
        for path in (docs.results, docs.markdown, docs.readme):
            if not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(ROOT / path.relative_to(root), path)
        return docs

    @property
    def results(self) -> Path:
        return self.root / "docs" / "benchmarks.json"

    @property
    def markdown(self) -> Path:
        return self.root / "docs" / "benchmarks.md"

    @property
    def plot(self) -> Path:
        return self.root / "docs" / "benchmarks.png"

    @property
    def readme(self) -> Path:
        return self.root / "README.md"

    def write(self, results: Results) -> None:
        """The JSON, then the tables and the plot drawn from it."""
        self.results.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")
        self.markdown.write_text(fill(self.markdown.read_text(), render(results)))
        self.readme.write_text(fill(self.readme.read_text(), readme_table(results)))
        plot(results, self.plot)


def load(path: Path) -> Results:
    return json.loads(path.read_text()) if path.exists() else {"machine": {}, "sizes": {}}


def merge(results: Results, size: int, result: dict[str, Any], machine: dict[str, str]) -> Results:
    """``results`` with this size's figures in place of its old ones; other sizes and the before kept."""
    return {**results, "machine": machine, "sizes": {**results.get("sizes", {}), str(size): result}}


def fill(text: str, tables: str) -> str:
    """``text`` with what lies between the markers replaced by ``tables``."""
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        raise ValueError(f"the markers {BEGIN!r} and {END!r} are missing or out of order")
    return text[: start + len(BEGIN)] + "\n\n" + tables.strip() + "\n\n" + text[end:]


def label(size: int) -> str:
    return f"{size / 1_000_000:g}M" if size >= 1_000_000 else f"{size / 1_000:g}k" if size >= 1_000 else str(size)


def _sizes(results: Results) -> list[int]:
    return sorted(int(size) for size in results["sizes"])


def _p(latency: dict[str, Any] | None, key: str = "p95") -> float | None:
    """A percentile, infinite for a timeout, None when not measured."""
    if latency is None:
        return None
    return math.inf if latency.get("timeout") else float(latency[key])


def _site(latency: dict[str, Any] | None) -> str:
    """HTTP p95 (SQL p95)."""
    return f"{ms(latency['http']['p95'])} ({ms(latency['sql']['p95'])})" if latency else "-"


def _alternative(result: dict[str, Any], name: str, cls: str) -> str:
    return ms(_p(result.get("alternatives", {}).get(name, {}).get(cls)))


def readme_table(results: Results) -> str:
    """The largest size: HTTP p95 per class, the previous release's and the alternatives' beside it."""
    size = _sizes(results)[-1]
    r = results["sizes"][str(size)]
    before = results.get("before", {}).get(str(size), {}).get("site", {})
    headers = ["class", *(["previous release"] if before else []), "now", *(title for _, title in ALTERNATIVES)]
    rows = []
    for cls in CLASSES:
        row: list[object] = [cls]
        if before:
            row.append(_site(before.get(cls)))
        row.append(_site(r["site"].get(cls)))
        row += [_alternative(r, name, cls) for name, _ in ALTERNATIVES]
        rows.append(row)
    return (
        f"p95 at {size:,} items, ms, HTTP (SQL); {r['rounds']} rounds of each query, measured {r['measured_at']}:\n\n"
        + markdown_table(headers, rows)
    )


def render(results: Results) -> str:
    """The generated part of docs/benchmarks.md."""
    sizes = _sizes(results)
    m = results.get("machine", {})
    out = [
        f"Measured on {m.get('cpu')}, {m.get('cores')} cores, {m.get('memory')}, {m.get('os')}; PostgreSQL "
        f"{m.get('postgresql')} (shared_buffers {m.get('shared_buffers')}, work_mem {m.get('work_mem')}); "
        f"Python {m.get('python')}, Django {m.get('django')}.",
        "",
        "![p95 latency against catalog size, per query class](benchmarks.png)",
    ]
    sections: list[tuple[str, str | None]] = [
        ("p95 per class and size, ms, HTTP (SQL)", _summary(results, sizes)),
        (f"Targets at {label(sizes[-1])}", _targets(results["sizes"][str(sizes[-1])], sizes[-1])),
        ("Rank safety and the judgement set", _rank_safety(results, sizes)),
        ("Before and after, p95 ms, HTTP (SQL)", _before_after(results, sizes)),
        ("Build, refresh, edits, memory", _build(results, sizes)),
        ("Pending edits: the search with none and with a backlog pending", _backlog(results, sizes)),
    ]
    sections += [(f"Under load at {label(n)}", _throughput(results["sizes"][str(n)])) for n in sizes]
    sections += [(f"The worst searches at {label(n)}", _worst(results["sizes"][str(n)])) for n in sizes]
    sections += [(_size_heading(results["sizes"][str(n)], n), _size(results["sizes"][str(n)])) for n in sizes]
    for heading, body in sections:
        if body:
            out += ["", f"### {heading}", "", body]
    return "\n".join(out)


def _summary(results: Results, sizes: list[int]) -> str:
    largest = results["sizes"][str(sizes[-1])]
    growth = [f"growth {label(sizes[0])}-{label(sizes[-1])}"] if len(sizes) > 1 else []
    headers = [
        "class",
        *map(label, sizes),
        *growth,
        *(f"{label(sizes[-1])} {title}" for _, title in ALTERNATIVES),
    ]
    rows = [
        [
            cls,
            *(_site(results["sizes"][str(n)]["site"].get(cls)) for n in sizes),
            *([_growth(results, sizes, cls)] if growth else []),
            *(_alternative(largest, name, cls) for name, _ in ALTERNATIVES),
        ]
        for cls in CLASSES
    ]
    return markdown_table(headers, rows)


def _growth(results: Results, sizes: list[int], cls: str) -> str:
    """The exponent k of HTTP p95 ~ size^k between the smallest and largest size: 1 is linear."""
    first, last = (_p(results["sizes"][str(n)]["site"].get(cls, {}).get("http")) for n in (sizes[0], sizes[-1]))
    if not first or not last or math.isinf(first) or math.isinf(last):
        return "-"
    return f"{math.log(last / first) / math.log(sizes[-1] / sizes[0]):.2f}"


def _verdict(met: bool) -> str:
    return "met" if met else "**not met**"


def _targets(r: dict[str, Any], size: int) -> str:
    rows = []
    for cls in CLASSES:
        if site := r["site"].get(cls):
            http, sql = site["http"]["p95"], site["sql"]["p95"]
            ratio = http / sql if sql else math.nan
            rows.append(
                [cls, ms(http), _verdict(http <= TARGET_P95_MS), f"{ratio:.2f}", _verdict(ratio <= TARGET_RATIO)]
            )
    headers = ["class", "HTTP p95", f"<= {TARGET_P95_MS:.0f} ms", "HTTP/SQL p95", f"<= {TARGET_RATIO}x"]
    table = markdown_table(headers, rows)
    if size == TARGET_IMPORT_ITEMS:
        seconds = r["build"]["import_seconds"]
        table += (
            f"\n\nImport of {size:,} items: {seconds:.0f} s (<= {TARGET_IMPORT_SECONDS:.0f} s): "
            + _verdict(seconds <= TARGET_IMPORT_SECONDS)
            + "."
        )
    if (ratio := _backlog_ratio(r.get("backlog", {}))) is not None:
        table += (
            f"\n\nSearch p95 with {r['backlog']['items']:,} edits pending: {ratio:.2f}x that with none "
            f"(<= {TARGET_BACKLOG_RATIO}x): " + _verdict(ratio <= TARGET_BACKLOG_RATIO) + "."
        )
    return table


def _backlog_ratio(backlog: dict[str, Any]) -> float | None:
    """The search's p95 under the backlog over its p95 with none pending (None for runs that did not measure it)."""
    if "none_pending" not in backlog:
        return None
    return float(backlog["stored_overlay"]["p95"] / backlog["none_pending"]["p95"])


def _rank_safety(results: Results, sizes: list[int]) -> str:
    rows = []
    for size in sizes:
        r = results["sizes"][str(size)]
        safety, judged = r["rank_safety"], r["judgements"]
        scores = "skipped" if "skipped" in judged else f"{judged['success_at_5']:.3f} / {judged['mrr_at_10']:.3f}"
        rows.append(
            [
                label(size),
                safety["queries"],
                f"{safety['mean_overlap']:.3f}",
                f"{safety['min_overlap']:.3f}",
                ms(safety["tiered"]["p50"]),
                ms(safety["tiered"]["p95"]),
                ms(safety["exhaustive"]["p50"]),
                ms(safety["exhaustive"]["p95"]),
                scores,
            ]
        )
    headers = ["size", "queries", "overlap@10 mean", "min", "served p50", "p95", "every match p50", "p95"]
    return markdown_table([*headers, "judgement set success@5 / MRR@10"], rows)


def _before_after(results: Results, sizes: list[int]) -> str | None:
    before = results.get("before", {})
    measured = [size for size in sizes if str(size) in before]
    if not measured:
        return None
    headers = ["class"] + [f"{label(n)} {when}" for n in measured for when in ("before", "now")]
    rows = [
        [cls]
        + [
            cell
            for n in measured
            for cell in (_site(before[str(n)]["site"].get(cls)), _site(results["sizes"][str(n)]["site"].get(cls)))
        ]
        for cls in CLASSES
    ]
    return markdown_table(headers, rows)


def _build(results: Results, sizes: list[int]) -> str:
    rows = []
    for size in sizes:
        r = results["sizes"][str(size)]
        b = r["build"]
        rows.append(
            [
                label(size),
                f"{b['import_seconds']:.1f}",
                f"{b['index_seconds']:.1f}",
                f"{b['index_mb']:,.0f}",
                # Runs before merges were timed a compaction only.
                f"{r['refresh_seconds']:.1f} ({r.get('refresh_kind', 'compaction')})",
                f"{r.get('compaction_seconds', r['refresh_seconds']):.1f}",
                f"{r['edit_commit_ms']:.1f}",
                f"{r['visible_ms']:.2f}",
                f"{r['rss_mb']:.0f}",
                f"{r['generated_column_seconds']:.1f}",
            ]
        )
    headers = [
        "size",
        "import (s)",
        "index build (s)",
        "index (MB)",
        "the worker's refresh after 1,000 edits (s)",
        "compaction after them (s)",
        "edit commit (ms)",
        "commit to found (ms)",
        "web worker RSS (MB)",
        "generated column build (s)",
    ]
    return markdown_table(headers, rows)


def _backlog(results: Results, sizes: list[int]) -> str | None:
    rows = []
    for size in sizes:
        if backlog := results["sizes"][str(size)].get("backlog"):
            stored, live = backlog["stored_overlay"], backlog["live_overlay"]
            none = backlog.get("none_pending")
            ratio = _backlog_ratio(backlog)
            rows.append(
                [
                    label(size),
                    f"{backlog['items']:,}",
                    f"{backlog['edit_seconds']:.2f}",
                    f"{ms(none['p50'])} / {ms(none['p95'])}" if none else "-",
                    f"{ms(stored['p50'])} / {ms(stored['p95'])}",
                    f"{ratio:.2f}" if ratio is not None else "-",
                    f"{ms(live['p50'])} / {ms(live['p95'])}",
                    f"{backlog['live_timeouts']:,}" if "live_timeouts" in backlog else "-",
                ]
            )
    if not rows:
        return None
    headers = [
        "size",
        "pending items",
        "edit transaction (s)",
        "none pending p50 / p95",
        "pending p50 / p95",
        "p95 ratio",
        "computed per query p50 / p95",
        "its timeouts",
    ]
    return markdown_table(headers, rows)


def _throughput(r: dict[str, Any]) -> str | None:
    """Clients against requests/s and p95, and where the CPU went (bench/throughput.py)."""
    if "throughput" not in r:
        return None
    headers = ["clients", "requests/s", "p50 (ms)", "p95 (ms)", "errors", "CPU cores: web", "PostgreSQL", "other"]
    rows = [
        [
            str(level["clients"]),
            f"{level['requests_per_second']:.1f}",
            ms(level["p50_ms"]),
            ms(level["p95_ms"]),
            str(level["errors"]),
            f"{level['web_cores']:.2f}",
            f"{level['database_cores']:.2f}",
            f"{level['other_cores']:.2f}",
        ]
        for level in r["throughput"]
    ]
    return markdown_table(headers, rows)


def _worst(r: dict[str, Any]) -> str | None:
    if "worst" not in r:
        return None
    rows = []
    for row in r["worst"]:
        options = ", ".join(f"{key} {_listed(row[key])}" for key in ("categories", "page") if key in row)
        rows.append([f"`{row['query']}`", options, f"{row['ms']:,.0f}", row["outcome"]])
    return markdown_table(["query (first 60 characters)", "options", "ms", "outcome"], rows, align="llrl")


def _size_heading(r: dict[str, Any], size: int) -> str:
    return f"{label(size)} items, measured {r['measured_at']}"


def _size(r: dict[str, Any]) -> str:
    shares = ", ".join(f"`{word}` {share:.0%}" for word, share in r["common_shares"].items())
    queries = max(len(texts) for texts in r["cases"].values())
    facts = (
        f"{r.get('catalog', 'synthetic')}; {r['rounds']} rounds of {queries} queries a class; load average "
        f"{r['load_before']:.1f} before timing, {r['load_after']:.1f} after; common terms: {shares or 'none'}."
    )
    rows = []
    for cls in CLASSES:
        if site := r["site"].get(cls):
            http, django, sql = site["http"], site["django"], site["sql"]
            ratio = http["p95"] / sql["p95"] if sql["p95"] else math.nan
            rows.append(
                [
                    cls,
                    *(ms(http[p]) for p in ("p50", "p95", "p99")),
                    ms(django["p95"]),
                    *(ms(sql[p]) for p in ("p50", "p95", "p99")),
                    f"{ratio:.2f}",
                    *(_alternative(r, name, cls) for name, _ in ALTERNATIVES),
                ]
            )
    headers = ["class", "HTTP p50", "p95", "p99", "in process p95", "SQL p50", "p95", "p99", "HTTP/SQL p95"]
    table = markdown_table([*headers, *(f"{title} p95" for _, title in ALTERNATIVES)], rows)
    cases = "; ".join(f"{cls}: " + ", ".join(f"`{text}`" for text in texts) for cls, texts in r["cases"].items())
    return f"{facts}\n\n{table}\n\nQueries: {cases}"


def plot(results: Results, path: Path) -> None:
    """p95 against catalog size, one panel per query class: the site and the alternatives."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = _sizes(results)
    series: list[tuple[str, Callable[[dict[str, Any], str], float | None], str, str]] = [
        ("searchsite HTTP", lambda r, c: _p(r["site"].get(c, {}).get("http")), "C0", "-"),
        ("searchsite SQL", lambda r, c: _p(r["site"].get(c, {}).get("sql")), "C0", ":"),
        *(
            (title, lambda r, c, name=name: _p(r.get("alternatives", {}).get(name, {}).get(c)), color, style)
            for (name, title), color, style in zip(ALTERNATIVES, ("C2", "C3"), ("--", "-."), strict=True)
        ),
    ]
    fig, axes = plt.subplots(2, 5, figsize=(20, 7.5), sharex=True, sharey=True)
    for ax, cls in zip(axes.flat, CLASSES, strict=True):
        for title, value, color, style in series:
            points = [(n, value(results["sizes"][str(n)], cls)) for n in sizes]
            finite = [(n, v) for n, v in points if v is not None and math.isfinite(v)]
            ax.plot([n for n, _ in finite], [v for _, v in finite], style, color=color, marker="o", label=title)
            timeouts = [n for n, v in points if v is not None and math.isinf(v)]
            ax.plot(timeouts, [1e4] * len(timeouts), "x", color=color)
        ax.axhline(TARGET_P95_MS, color="grey", linewidth=0.8)
        ax.set_title(cls)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.grid(True, which="both", alpha=0.2)
    for ax in axes[1]:
        ax.set_xlabel("items")
    for ax in axes[:, 0]:
        ax.set_ylabel("p95 (ms)")
    axes.flat[0].legend(fontsize=8, loc="upper left")
    fig.suptitle(f"p95 against catalog size; grey line: the {TARGET_P95_MS:.0f} ms target; x at 10 s: timed out")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def _listed(value: object) -> str:
    return ", ".join(map(str, value)) if isinstance(value, list) else str(value)

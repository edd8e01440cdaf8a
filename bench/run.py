"""The search benchmark suite: one command, every size, the site and the alternatives side by side.

For each size N it generates a synthetic catalog (bench/synthetic.py, cached
under the --work folder), imports it into a fresh database with the real
importer, builds the index with the real refresh, then times each query class
three ways at once, query after query: through HTTP (gunicorn serving
``/api/search``), in process (``document_search``), and the SQL alone (the
statements document_search sent, replayed). Then the freshness figures (a
one-item edit's commit and how soon another connection finds it; a concurrent
refresh after 1,000 edits), and the two usual alternatives on the same data.
Results merge into docs/benchmarks.json; docs/benchmarks.md and .png are
rewritten from it.

    .venv/bin/python -m bench.run --sizes 10000 100000 1000000 [--rounds R] [--work DIR]
"""

from __future__ import annotations

import argparse
import datetime
import math
import os
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from bench import database, rank_safety, report
from bench.queries import CLASSES, Case, choose_cases
from bench.stats import Latency, ms

DEFAULT_WORK = Path("/tmp/searchsite-bench")
# An alternative's statement running longer than this counts as a timeout.
ALTERNATIVE_TIMEOUT_MS = 10_000
# Wall time an alternative may spend on one class before the rest is skipped.
ALTERNATIVE_CLASS_BUDGET_SECONDS = 20.0
REFRESH_EDITS = 1_000


def synthetic_catalog(size: int, work: Path) -> Path:
    """The catalog file for this size, generated once and reused (same seed, same records)."""
    path = work / f"synthetic-{size}.jsonl.gz"
    if not path.exists():
        work.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial.gz")
        subprocess.run([sys.executable, "-m", "bench.synthetic", str(size), str(partial)], check=True)
        partial.rename(path)
    return path


def time_site(cases: list[Case], rounds: int) -> tuple[dict[str, dict[str, Latency]], float]:
    """HTTP, in-process and SQL timings per class, interleaved query by query; and the worker's RSS."""
    from bench.server import WebServer
    from bench.sqltiming import capture, replay
    from catalog.search.query import document_search

    statements = {case: capture(**case.search_kwargs()) for case in cases}
    samples: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    name = database.connection_database()
    with WebServer(database.database_url(name)) as web:
        for case in cases:  # warm the worker and its connection
            web.get(case.api_path())
        for _ in range(rounds):
            for case in cases:
                samples[case.cls]["http"].append(web.timed_get(case.api_path()))
                started = time.perf_counter()
                document_search(**case.search_kwargs())  # type: ignore[arg-type]
                samples[case.cls]["django"].append((time.perf_counter() - started) * 1000)
                samples[case.cls]["sql"].append(replay(statements[case]))
        rss = web.worker_rss_mb()
    latencies = {cls: {kind: Latency.of(values) for kind, values in kinds.items()} for cls, kinds in samples.items()}
    return latencies, rss


def time_alternative(search: Any, cases: list[Case], rounds: int) -> dict[str, dict[str, Any]]:
    """p50/p95/p99 per class, or a timeout; a class stops early once it has used its budget."""
    from django.db import OperationalError, connection, transaction

    results: dict[str, dict[str, Any]] = {}
    for cls in CLASSES:
        class_cases = [case for case in cases if case.cls == cls]
        samples: list[float] = []
        timed_out = False
        started_class = time.perf_counter()
        for _ in range(rounds):
            for case in class_cases:
                try:
                    with transaction.atomic():
                        with connection.cursor() as cursor:
                            cursor.execute(f"SET LOCAL statement_timeout = {ALTERNATIVE_TIMEOUT_MS}")
                        started = time.perf_counter()
                        search(case)
                        samples.append((time.perf_counter() - started) * 1000)
                except OperationalError:  # QueryCanceled: the statement timeout
                    timed_out = True
                    break
                if time.perf_counter() - started_class > ALTERNATIVE_CLASS_BUDGET_SECONDS:
                    break
            if timed_out or time.perf_counter() - started_class > ALTERNATIVE_CLASS_BUDGET_SECONDS:
                break
        if timed_out:
            results[cls] = {"timeout": True, "samples": len(samples)}
        elif samples:
            results[cls] = Latency.of(samples).as_json()
    return results


def judgement_score() -> dict[str, float]:
    """The judgement set on this catalog: its real packages are there among the synthetic ones."""
    from catalog.search.quality import evaluate, load_judgements, site_search

    report = evaluate(load_judgements(), site_search)
    return {"success_at_5": report.success_at_5, "mrr_at_10": report.mrr_at_10}


def time_freshness(*, refresh: bool) -> dict[str, float]:
    """A one-item edit's commit and visibility; a concurrent refresh after REFRESH_EDITS edits.

    The refresh recomputes every document (minutes at 1M items): ``refresh=False`` skips it.
    """
    from bench.freshness import commit_to_searchable, make_backlog
    from catalog.search.refresh import connect, refresh_index

    with connect() as editor:
        commit_ms, visible_ms = commit_to_searchable(editor)
        figures = {"edit_commit_ms": statistics.median(commit_ms), "visible_ms": statistics.median(visible_ms)}
        if refresh:
            # One refresh claims those 20 edits and the backlog.
            make_backlog(editor, REFRESH_EDITS)
            started = time.perf_counter()
            refresh_index(editor)
            figures["refresh_seconds"] = time.perf_counter() - started
    return figures


def run_size(
    size: int, *, rounds: int, work: Path, skip_alternatives: bool, skip_refresh: bool, reuse: bool
) -> dict[str, Any]:
    from bench import alternatives

    name = database.database_name(size)
    print(f"# {size:,} items: database {name}", file=sys.stderr)
    catalog = synthetic_catalog(size, work)
    previous = report.load()["sizes"].get(str(size), {})
    if reuse and previous.get("build"):
        database.use_database(name)
        alternatives.drop_generated_column()
        build = previous["build"]
    else:
        database.recreate_database(name)
        build = database.build(catalog).__dict__
    cases, shares = choose_cases()
    print(f"  common terms: {shares}", file=sys.stderr)
    database.settle()
    load_before = os.getloadavg()[0]
    site, rss = time_site(cases, rounds)
    load_after = os.getloadavg()[0]
    for cls in CLASSES:
        if cls in site:
            http, sql = site[cls]["http"], site[cls]["sql"]
            print(
                f"  {cls:13} HTTP p50 {ms(http.p50):>7} p95 {ms(http.p95):>7} | SQL p50 {ms(sql.p50):>7} "
                f"p95 {ms(sql.p95):>7}",
                file=sys.stderr,
            )
    safety = rank_safety.measure().as_json()
    print(
        f"  rank safety: overlap@10 mean {safety['mean_overlap']:.3f} min {safety['min_overlap']:.3f} over "
        f"{safety['queries']} queries; tiered p95 {ms(safety['tiered']['p95'])}, "
        f"exhaustive p95 {ms(safety['exhaustive']['p95'])}",
        file=sys.stderr,
    )
    judged = judgement_score()
    print(f"  judgement set: success@5 {judged['success_at_5']:.3f}, MRR@10 {judged['mrr_at_10']:.3f}", file=sys.stderr)
    freshness = time_freshness(refresh=not skip_refresh)
    if "refresh_seconds" not in freshness:
        freshness["refresh_seconds"] = previous.get("refresh_seconds", math.nan)
    result: dict[str, Any] = {
        "measured_at": datetime.date.today().isoformat(),
        "build": build,
        "rounds": rounds,
        "common_shares": shares,
        "cases": {
            cls: [
                c.text
                + (f" (page {c.page})" if c.page != 1 else "")
                + "".join(f" [category={v}]" for v in c.categories)
                + "".join(f" [tag={v}]" for v in c.tags)
                for c in cases
                if c.cls == cls
            ]
            for cls in CLASSES
        },
        "site": {cls: {kind: lat.as_json() for kind, lat in kinds.items()} for cls, kinds in site.items()},
        "rss_mb": rss,
        "rank_safety": safety,
        "judgements": judged,
        "load_before": load_before,
        "load_after": load_after,
        **freshness,
    }
    if not skip_alternatives:
        alt: dict[str, Any] = {}
        alt["on the fly"] = time_alternative(alternatives.search_on_the_fly, cases, max(1, rounds // 3))
        result["generated_column_seconds"] = alternatives.add_generated_column()
        alt["generated column"] = time_alternative(alternatives.search_generated_column, cases, rounds)
        alternatives.drop_generated_column()
        result["alternatives"] = alt
        for label, classes in alt.items():
            line = ", ".join(f"{cls} {'timeout' if v.get('timeout') else ms(v['p95'])}" for cls, v in classes.items())
            print(f"  {label} p95: {line}", file=sys.stderr)
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--rounds", type=int, default=10, help="times each query runs per size (default 10)")
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK, help="where generated catalogs are kept")
    parser.add_argument("--skip-alternatives", action="store_true", help="time the site only")
    parser.add_argument(
        "--skip-refresh", action="store_true", help="skip timing REFRESH ... CONCURRENTLY (minutes at 1M)"
    )
    parser.add_argument(
        "--reuse", action="store_true", help="keep a size's database and its build figures (search changes only)"
    )
    args = parser.parse_args(argv)
    database.setup_django()
    results = report.load()
    for size in args.sizes:
        result = run_size(
            size,
            rounds=args.rounds,
            work=args.work,
            skip_alternatives=args.skip_alternatives,
            skip_refresh=args.skip_refresh,
            reuse=args.reuse,
        )
        if args.skip_alternatives and "alternatives" in results["sizes"].get(str(size), {}):
            result["alternatives"] = results["sizes"][str(size)]["alternatives"]
            result["generated_column_seconds"] = results["sizes"][str(size)].get("generated_column_seconds", math.nan)
        results["machine"] = database.machine()
        results["sizes"][str(size)] = result
        report.save(results)
        report.MARKDOWN.write_text(report.render(results))
        report.plot(results)
        print(f"  written to {report.MARKDOWN} and {report.PLOT}", file=sys.stderr)


if __name__ == "__main__":
    main()

"""The benchmark: build a catalog of one size, time everything side by side, write the figures.

    make bench SIZE=100000
    .venv/bin/python -m bench --size 100000 [--rounds R] [--output DIR] [--work DIR]
    .venv/bin/python -m bench --catalog FILE [...]

Without --catalog the catalog is synthetic (bench/synthetic.py), drawn from
the full Debian catalog in ../shared when it is there and from the demo's
packages otherwise, and kept under --work for the next run. It is imported
into a database of its own (bench/database.py: reused while current), then
timed: the query classes over HTTP, in process and as SQL, query after query;
rank safety; the judgement set; the worst searches; the two usual
alternatives; an edit's cost and visibility, the overlay against its
alternative, the refresh. The size's results are merged into
docs/benchmarks.json and the tables and plot rendered from it.
docs/benchmarks.md says what each figure means.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import os
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench import database, report, synthetic
from bench.queries import CLASSES, Case, choose_cases
from bench.stats import Latency, ms

DEFAULT_WORK = Path("/tmp/searchsite-bench")
DEFAULT_ROUNDS = 10


def source_catalog(full: Path, demo: Path) -> Path:
    """The catalog the synthetic one follows: the full one when present, else the demo's (a fresh clone)."""
    return full if full.exists() else demo


def synthetic_catalog(size: int, source: Path, work: Path) -> Path:
    """The synthetic catalog of this size, generated once per source and generator, then reused."""
    digest = hashlib.sha256(source.read_bytes() + Path(synthetic.__file__).read_bytes()).hexdigest()[:12]
    path = work / f"synthetic-{size}-{digest}.jsonl.gz"
    if not path.exists():
        work.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial.gz")
        # A process of its own: the generator forks workers, and this one holds database connections.
        command = [sys.executable, "-m", "bench.synthetic", str(size), str(partial), "--source", str(source)]
        subprocess.run(command, check=True)
        partial.rename(path)
    return path


def time_site(cases: list[Case], rounds: int) -> tuple[dict[str, dict[str, Latency]], float]:
    """HTTP, in-process and SQL timings per class, interleaved query by query; and the worker's RSS."""
    from bench.server import WebServer
    from bench.sqltiming import capture, replay
    from catalog.search.query import document_search

    statements = {case: capture(**case.search_kwargs()) for case in cases}
    samples: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    with WebServer(database.database_url()) as web:
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


def judgement_score(full: Path) -> dict[str, Any]:
    """The judgement set on this catalog, whose real packages come from the full catalog."""
    from catalog.search.quality import evaluate, load_judgements, site_search

    if not full.exists():
        return {"skipped": f"{full} is absent: the judgement set names packages of the full catalog"}
    scores = evaluate(load_judgements(), site_search)
    return {"success_at_5": scores.success_at_5, "mrr_at_10": scores.mrr_at_10}


def measure(cases: list[Case], shares: dict[str, float], rounds: int, full: Path) -> dict[str, Any]:
    """Every figure of one size, each printed next to what it is compared with as it is measured."""
    from bench import alternatives, freshness, rank_safety, throughput, worst

    database.settle()
    load_before = os.getloadavg()[0]
    site, rss = time_site(cases, rounds)
    load_after = os.getloadavg()[0]
    for cls, kinds in site.items():
        http, sql = kinds["http"], kinds["sql"]
        print(
            f"  {cls:13} HTTP p50 {ms(http.p50):>7} p95 {ms(http.p95):>7} | "
            f"SQL p50 {ms(sql.p50):>7} p95 {ms(sql.p95):>7}"
        )
    print(f"  under load, {throughput.SECONDS:.0f} s a level, gunicorn with {throughput.WORKERS} workers:")
    load = throughput.measure(cases, database.database_url())
    safety = rank_safety.measure().as_json()
    print(
        f"  rank safety: overlap@10 mean {safety['mean_overlap']:.3f} min {safety['min_overlap']:.3f} over "
        f"{safety['queries']} queries; tiered p95 {ms(safety['tiered']['p95'])} | every match p95 "
        f"{ms(safety['exhaustive']['p95'])}"
    )
    judged = judgement_score(full)
    print(f"  judgement set: {judged}")
    worst_rows = worst.measure()
    for row in worst_rows:
        print(f"  worst {row['ms']:>7.0f} ms {row['outcome']:<24} {row['query'][:40]!r}")
    timings, column_seconds = alternatives.measure(cases, rounds)
    for cls in CLASSES:
        cells = [f"site SQL p95 {ms(site[cls]['sql'].p95)}"] + [
            f"{label} {'timeout' if by_class[cls].get('timeout') else ms(by_class[cls]['p95'])}"
            for label, by_class in timings.items()
            if cls in by_class
        ]
        print(f"  {cls:13} " + " | ".join(cells))
    fresh = freshness.measure(sorted({case.text for case in cases if case.text}), max(1, rounds // 3))
    backlog = fresh["backlog"]
    print(
        f"  edit commit {fresh['edit_commit_ms']:.1f} ms, searchable {fresh['visible_ms']:.2f} ms after; "
        f"search p95 {ms(backlog['none_pending']['p95'])} with none pending, {ms(backlog['stored_overlay']['p95'])} "
        f"with {backlog['items']:,} | computing them per query {ms(backlog['live_overlay']['p95'])} "
        f"({backlog['live_timeouts']} timeouts); the worker's refresh of {freshness.MERGED:,} "
        f"({fresh['refresh_kind']}) "
        f"{fresh['refresh_seconds']:.1f} s | compaction {fresh['compaction_seconds']:.1f} s"
    )
    return {
        "measured_at": datetime.date.today().isoformat(),
        "rounds": rounds,
        "common_shares": shares,
        "cases": {cls: [case.label() for case in cases if case.cls == cls] for cls in CLASSES},
        "site": {cls: {kind: latency.as_json() for kind, latency in kinds.items()} for cls, kinds in site.items()},
        "rss_mb": rss,
        "throughput": load,
        "load_before": load_before,
        "load_after": load_after,
        "rank_safety": safety,
        "judgements": judged,
        "worst": worst_rows,
        "alternatives": timings,
        "generated_column_seconds": column_seconds,
        **fresh,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--size", type=int, help="items in the synthetic catalog")
    what.add_argument("--catalog", type=Path, help="a catalog file to import as it is, instead")
    parser.add_argument(
        "--rounds", type=int, default=DEFAULT_ROUNDS, help=f"runs of each query (default {DEFAULT_ROUNDS})"
    )
    parser.add_argument(
        "--output", type=Path, default=report.ROOT, help="where README.md and docs/ are written (default: here)"
    )
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK, help=f"synthetic catalogs (default {DEFAULT_WORK})")
    args = parser.parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # progress, also into a log file
    if args.size is not None and args.size < 1:
        parser.error("--size must be at least 1")
    database.setup_django()
    from catalog.management.commands.demo import DEMO_CATALOG
    from catalog.search.quality import FULL_CATALOG

    if args.catalog:
        catalog, size, described = args.catalog, synthetic.count_records(args.catalog), args.catalog.name
    else:
        source = source_catalog(FULL_CATALOG, DEMO_CATALOG)
        catalog, size, described = (
            synthetic_catalog(args.size, source, args.work),
            args.size,
            f"synthetic, from {source.name}",
        )
    name = database.database_name(size)
    print(f"# {size:,} items ({described}): database {name}")
    build, reused = database.prepare(name, catalog)
    if reused:
        print(f"  reused: built from this catalog by this code ({build.import_seconds:.1f} s import)")
    cases, shares = choose_cases()
    result = {"catalog": described, "build": asdict(build), **measure(cases, shares, args.rounds, FULL_CATALOG)}
    database.record(name, catalog, build)
    docs = report.Docs.at(args.output)
    results = report.merge(report.load(docs.results), size, result, database.machine())
    docs.write(results)
    print(f"  written: {docs.results}, {docs.markdown}, {docs.readme}, {docs.plot}")

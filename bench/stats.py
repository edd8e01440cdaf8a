"""Percentiles and Markdown tables: the arithmetic every benchmark report shares.

Kept apart from the timing code so that it can be tested without a database.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


def percentile(samples: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) by linear interpolation between closest ranks.

    The same definition as numpy's default and ``statistics.quantiles(method="inclusive")``,
    but defined for one sample too: a benchmark that timed out after one run still reports.
    """
    if not samples:
        raise ValueError("no samples")
    if not 0 <= q <= 100:
        raise ValueError(f"q must be between 0 and 100, got {q}")
    ordered = sorted(samples)
    position = (len(ordered) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass(frozen=True)
class Latency:
    """p50/p95/p99 of a set of timings, in milliseconds."""

    p50: float
    p95: float
    p99: float
    samples: int

    @classmethod
    def of(cls, samples: Sequence[float]) -> Latency:
        return cls(percentile(samples, 50), percentile(samples, 95), percentile(samples, 99), len(samples))

    def as_json(self) -> dict[str, float]:
        return {"p50": self.p50, "p95": self.p95, "p99": self.p99, "samples": self.samples}


def ms(value: float | None) -> str:
    """A latency as a table shows it: 3 significant figures are all that a rerun reproduces."""
    if value is None:
        return "-"
    if math.isinf(value):
        return "timeout"
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[object]], *, align: str = "") -> str:
    """A GitHub Markdown table; ``align`` holds one of l/r per column (default: first left, rest right)."""
    align = align or "l" + "r" * (len(headers) - 1)
    if len(align) != len(headers):
        raise ValueError("align needs one letter per column")
    for row in rows:
        if len(row) != len(headers):
            raise ValueError(f"row {row!r} has {len(row)} cells for {len(headers)} columns")
    rule = ["---:" if a == "r" else "---" for a in align]
    lines = [headers, rule, *([str(cell) for cell in row] for row in rows)]
    return "\n".join("| " + " | ".join(str(cell) for cell in line) + " |" for line in lines)

"""Where a search's time goes: each benchmark query's plan, by part of the statement.

    .venv/bin/python -m bench.profile [--size N]

Runs ``EXPLAIN (ANALYZE)`` of every benchmark query with words as the site runs
it (``catalog.search.explain``), on the benchmark database of that size (as
``python -m bench`` built it) or, without ``--size``, on the current database,
and prints each part of search.sql's time: the words' readings (the ``query``
CTE), the tiers of candidates (the three dearest named), the nearest items, the
blend, the count and facets, and the rest (snippets, facets' ordering,
corrections). A plan times a CTE where it is first read: the count reads the
words first, the blend reads the tiers and the nearest items, so each part here
is its CTE's time less those. docs/benchmarks.md records a run.
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass

from bench import database
from bench.stats import markdown_table, ms

# search.sql's tiers, in the order each reads the one before.
TIERS = (
    "named",
    "typed_top",
    "name_top",
    "typed_middle",
    "name_middle",
    "typed_low",
    "short_top",
    "name_low",
    "short_middle",
    "elsewhere_top",
    "short_low",
    "candidates",
)
_CTE = re.compile(r"^\s*CTE (\w+)$")
_TOTAL = re.compile(r"actual time=[\d.]+\.\.([\d.]+) ")


@dataclass(frozen=True)
class Profile:
    """One search's statement, in ms, by part (each part without the CTEs it read first)."""

    planning: float
    execution: float
    words: float
    tiers: dict[str, float]
    nearest: float
    blend: float
    count: float
    rest: float

    @classmethod
    def of(cls, plan: str) -> Profile:
        """The parts of an ``EXPLAIN (ANALYZE)`` of search.sql."""
        lines = plan.splitlines()
        total = {match[1]: _total(lines[n + 1]) for n, line in enumerate(lines) if (match := _CTE.match(line))}
        tiers, before = {}, 0.0
        for name in TIERS:
            tiers[name], before = total[name] - before, total[name]
        words, nearest = total["query"], total["nearest"]
        blend = total["blended"] - total["candidates"] - nearest
        count = total["counted"] - words
        top = _total(next(line for line in lines if _TOTAL.search(line) and not line.startswith(" ")))
        return cls(
            planning=_summary(plan, "Planning"),
            execution=_summary(plan, "Execution"),
            words=words,
            tiers=tiers,
            nearest=nearest,
            blend=blend,
            count=count,
            rest=top - words - total["candidates"] - nearest - blend - count,
        )

    def dearest_tiers(self, n: int = 3) -> str:
        """The tiers that took longest, with their ms (those under 1 ms left out)."""
        dearest = sorted(self.tiers.items(), key=lambda tier: -tier[1])[:n]
        return ", ".join(f"{name} {ms(seconds)}" for name, seconds in dearest if seconds >= 1)


def _total(line: str) -> float:
    """A plan node's total time; 0 for one never executed."""
    match = _TOTAL.search(line)
    return float(match[1]) if match else 0.0


def _summary(plan: str, what: str) -> float:
    match = re.search(rf"^{what} Time: ([\d.]+) ms$", plan, re.MULTILINE)
    return float(match[1]) if match else 0.0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, help="the benchmark database of this many items (default: the current one)")
    args = parser.parse_args(argv)
    database.setup_django()
    if args.size is not None:
        database.use_built(args.size)
    from bench.queries import choose_cases
    from catalog.search.explain import explain_search

    rows = []
    for case in choose_cases()[0]:
        if not case.text:  # browsing runs browse.sql, whose plan has no tiers
            continue
        # The second run's: the first warms the caches, as a connection serving searches has them.
        plans = [
            explain_search(text=case.text, page=case.page, categories=case.categories, tags=case.tags).plan
            for _ in range(2)
        ]
        profile = Profile.of(plans[-1])
        rows.append(
            [
                case.cls,
                f"`{case.label()}`",
                ms(profile.planning),
                ms(profile.execution),
                ms(profile.words),
                ms(sum(profile.tiers.values())),
                profile.dearest_tiers(),
                ms(profile.nearest),
                ms(profile.blend),
                ms(profile.count),
                ms(profile.rest),
            ]
        )
    headers = ["class", "query", "planning", "execution", "words", "tiers", "dearest tiers", "nearest", "blend"]
    print(markdown_table([*headers, "count and facets", "rest"], rows))


if __name__ == "__main__":
    main()

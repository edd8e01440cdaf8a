"""Generate a synthetic catalog of any size that reads like the real Debian one.

Search speed depends on what the text looks like: how many distinct words
there are, how skewed their frequencies are, how long summaries and
descriptions run, how tags and sections spread. A benchmark on lorem ipsum
would measure another workload, so every field here is drawn from the
empirical distribution of the real catalog: summary and description words
from their own unigram frequencies, lengths, paragraph counts, sections with
their tag sets, homepages, versions, priorities and sizes from the values
real records hold.

The real records come first when the target is at least the size of the
source, so that queries for real packages keep finding them; a smaller
target is a seeded sample of the real records. The output is the JSONL that
``manage.py import_catalog`` reads. The module needs no Django, so it runs
anywhere the source file is. Usage:

    python -m bench.synthetic 1000000 /tmp/synthetic-1m.jsonl.gz [--seed S] [--source PATH]
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
import time
from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

from tqdm import tqdm

T = TypeVar("T")

DEFAULT_SOURCE = Path(__file__).resolve().parents[1].parent / "shared/data/debian-bookworm-packages.jsonl.gz"
GZIP_MAGIC = b"\x1f\x8b"
# Item.summary's max_length; sampled words can add up to more than any real summary.
SUMMARY_MAX_LENGTH = 500
# Item.name's max_length.
NAME_MAX_LENGTH = 200
# A name part can start a name: the import format wants names like [a-z0-9][a-z0-9+.-]*.
NAME_PART = re.compile(r"[a-z0-9][a-z0-9+.]*")
# Records generated per step: large enough to amortise the bulk draws, small
# enough to keep memory flat at any target size.
BATCH_SIZE = 10_000


def draw[T](rng: random.Random, population: Sequence[T], k: int) -> list[T]:
    """k uniform draws with replacement from population.

    Drawing uniformly from every observed occurrence (every word of every
    summary, every record's length) is drawing from the empirical
    distribution itself, with no weights to build. It is also three times as
    fast as ``random.choices`` with ``cum_weights``, whose per-draw bisection
    in Python would make a million records take over a minute: here the
    random bytes come from one call and the indexing runs in C. Reducing 64
    random bits modulo the population size biases no value by more than
    2**-40.
    """
    offsets = array("Q", rng.randbytes(8 * k))
    return list(map(population.__getitem__, map(len(population).__rmod__, offsets)))


@dataclass(frozen=True)
class Distributions:
    """What the real catalog looks like, as lists of observed values to draw from."""

    summary_words: list[str]
    description_words: list[str]
    summary_lengths: list[int]
    # (words, paragraphs) of each description: long descriptions have more paragraphs.
    description_shapes: list[tuple[int, int]]
    # Real descriptions are wrapped text; the line breaks only matter to someone reading it.
    words_per_line: int
    name_parts: list[str]
    name_part_counts: list[int]
    # Together, because tags follow sections (games have game:: tags).
    sections_and_tags: list[tuple[str, list[str]]]
    homepages: list[str]
    versions: list[str]
    priorities: list[str]
    installed_sizes: list[int]

    @classmethod
    def from_records(cls, records: Sequence[dict[str, Any]]) -> Distributions:
        # One str object per distinct word: millions of references, not millions of strings.
        vocabulary: dict[str, str] = {}
        summary_words: list[str] = []
        description_words: list[str] = []
        description_shapes: list[tuple[int, int]] = []
        description_lines = 0
        name_parts: list[str] = []
        name_part_counts: list[int] = []
        for record in records:
            words = record["summary"].split()
            summary_words.extend(vocabulary.setdefault(word, word) for word in words)
            description = record.get("description", "")
            words = description.split()
            description_words.extend(vocabulary.setdefault(word, word) for word in words)
            paragraphs = sum(1 for paragraph in description.split("\n\n") if paragraph.strip())
            description_shapes.append((len(words), paragraphs))
            description_lines += sum(1 for line in description.splitlines() if line.strip())
            parts = [part for part in record["name"].split("-") if NAME_PART.fullmatch(part)]
            name_parts.extend(parts)
            if parts:
                name_part_counts.append(len(parts))
        return cls(
            summary_words=summary_words,
            description_words=description_words,
            summary_lengths=[len(record["summary"].split()) for record in records],
            description_shapes=description_shapes,
            words_per_line=max(1, round(len(description_words) / max(1, description_lines))),
            name_parts=name_parts,
            name_part_counts=name_part_counts,
            sections_and_tags=[(record["section"], record.get("tags", [])) for record in records],
            homepages=[record.get("homepage", "") for record in records],
            versions=[record.get("version", "") for record in records],
            priorities=[record.get("priority", "optional") for record in records],
            installed_sizes=[record.get("installed_size_kb", 0) for record in records],
        )


def read_catalog(path: Path) -> list[dict[str, Any]]:
    """The records of a catalog file, plain or gzipped, like the importer reads it."""
    with path.open("rb") as raw:
        compressed = raw.read(2) == GZIP_MAGIC
    opener = gzip.open if compressed else open
    with opener(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def generate(source: Sequence[dict[str, Any]], n: int, *, seed: int = 0) -> Iterator[dict[str, Any]]:
    """n records: the source first (or a seeded sample of it), then synthetic ones.

    The same source, n and seed give the same records, so a benchmark can be
    rerun on exactly the same data.
    """
    rng = random.Random(seed)
    if n <= len(source):
        for index in sorted(rng.sample(range(len(source)), n)):
            yield source[index]
        return
    yield from source
    distributions = Distributions.from_records(source)
    taken = {record["name"] for record in source}
    suffixes: dict[str, int] = {}
    remaining = n - len(source)
    while remaining:
        batch = min(BATCH_SIZE, remaining)
        yield from _batch(rng, distributions, batch, taken, suffixes)
        remaining -= batch


def _batch(
    rng: random.Random,
    dist: Distributions,
    size: int,
    taken: set[str],
    suffixes: dict[str, int],
) -> Iterator[dict[str, Any]]:
    """size synthetic records; every field is drawn in bulk for the whole batch."""
    summary_lengths = draw(rng, dist.summary_lengths, size)
    summary_words = draw(rng, dist.summary_words, sum(summary_lengths))
    shapes = draw(rng, dist.description_shapes, size)
    description_words = draw(rng, dist.description_words, sum(words for words, _ in shapes))
    part_counts = draw(rng, dist.name_part_counts, size)
    name_parts = draw(rng, dist.name_parts, sum(part_counts))
    sections_and_tags = draw(rng, dist.sections_and_tags, size)
    homepages = draw(rng, dist.homepages, size)
    versions = draw(rng, dist.versions, size)
    priorities = draw(rng, dist.priorities, size)
    installed_sizes = draw(rng, dist.installed_sizes, size)
    summary_at = description_at = name_at = 0
    for i in range(size):
        count = part_counts[i]
        name = _unique_name("-".join(name_parts[name_at : name_at + count]), taken, suffixes)
        name_at += count
        count = summary_lengths[i]
        summary = _summary(summary_words[summary_at : summary_at + count])
        summary_at += count
        count, paragraphs = shapes[i]
        words = description_words[description_at : description_at + count]
        description_at += count
        section, tags = sections_and_tags[i]
        yield {
            "name": name,
            "version": versions[i],
            "section": section,
            "summary": summary,
            "description": _description(words, paragraphs, dist.words_per_line),
            "tags": tags,
            "homepage": homepages[i],
            "source": name,
            "installed_size_kb": installed_sizes[i],
            "priority": priorities[i],
        }


def _unique_name(name: str, taken: set[str], suffixes: dict[str, int]) -> str:
    """name, or name-2, name-3, ... for the first one not taken.

    Common parts make common names ("python3-dev" comes up again and
    again); numbering them keeps the real parts searchable instead of
    tagging every name with a unique serial.
    """
    base = name
    if len(base) > NAME_MAX_LENGTH - 12:  # leaves room for any suffix
        base = base[: NAME_MAX_LENGTH - 12].rstrip("+.-")
    candidate = base
    while candidate in taken:
        suffixes[base] = suffixes.get(base, 1) + 1
        candidate = f"{base}-{suffixes[base]}"
    taken.add(candidate)
    return candidate


def _summary(words: list[str]) -> str:
    summary = " ".join(words)
    if len(summary) > SUMMARY_MAX_LENGTH:
        summary = summary[: SUMMARY_MAX_LENGTH + 1].rsplit(" ", 1)[0][:SUMMARY_MAX_LENGTH]
    return summary


def _description(words: list[str], paragraphs: int, words_per_line: int) -> str:
    """words as wrapped lines in up to `paragraphs` blank-line-separated paragraphs."""
    if not words:
        return ""
    per_paragraph = -(-len(words) // max(1, paragraphs))
    return "\n\n".join(
        "\n".join(
            " ".join(words[line : line + words_per_line])
            for line in range(start, min(start + per_paragraph, len(words)), words_per_line)
        )
        for start in range(0, len(words), per_paragraph)
    )


def write_catalog(records: Iterator[dict[str, Any]], path: Path, *, total: int) -> None:
    """Write records as JSONL, gzipped (fastest level) when path ends in .gz.

    Level 1 compresses this text about tenfold already; higher levels cost
    more time than the space they save is worth for a throwaway file.
    """
    handle: BinaryIO
    if path.suffix == ".gz":
        handle = gzip.open(path, "wb", compresslevel=1)
    else:
        handle = path.open("wb")
    with handle, tqdm(total=total, unit=" records", unit_scale=True) as bar:
        lines: list[str] = []
        for record in records:
            lines.append(json.dumps(record))
            if len(lines) == BATCH_SIZE:
                handle.write(("\n".join(lines) + "\n").encode())
                bar.update(len(lines))
                lines.clear()
        if lines:
            handle.write(("\n".join(lines) + "\n").encode())
            bar.update(len(lines))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("n", type=int, help="number of records to write")
    parser.add_argument("out", type=Path, help="output file (.jsonl, or .jsonl.gz to gzip it)")
    parser.add_argument("--seed", type=int, default=0, help="same seed, same catalog (default 0)")
    parser.add_argument(
        "--source", type=Path, default=DEFAULT_SOURCE, help=f"the real catalog (default {DEFAULT_SOURCE})"
    )
    args = parser.parse_args(argv)
    if args.n < 1:
        parser.error("n must be at least 1")
    started = time.perf_counter()
    source = read_catalog(args.source)
    write_catalog(generate(source, args.n, seed=args.seed), args.out, total=args.n)
    elapsed = time.perf_counter() - started
    print(f"wrote {args.n:,} records to {args.out} in {elapsed:.1f} s")


if __name__ == "__main__":
    main()

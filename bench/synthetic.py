"""Generate a synthetic catalog of any size that reads like the real Debian one.

Search speed depends on what the text looks like: how many distinct words
there are, how skewed their frequencies are, how long summaries and
descriptions run, how tags and sections spread. A benchmark on lorem ipsum
would measure another workload, so every field here is drawn from the
empirical distribution of the real catalog: summary and description words
from their own unigram frequencies, lengths and paragraph counts, sections
with their tag sets, homepages, versions, priorities and sizes from the
values real records hold, names from the parts real names are made of.

The real records come first when the target is at least the size of the
source, so that queries for real packages keep finding them; a smaller
target is a seeded sample of the real records. The output is the JSONL that
``manage.py import_catalog`` reads. The module needs no Django, so it runs
anywhere the source file is. The benchmark (``python -m bench``) runs it;
by hand:

    python -m bench.synthetic 1000000 /tmp/synthetic-1m.jsonl.gz --source CATALOG [--seed S]
"""

from __future__ import annotations

import argparse
import gzip
import json
import multiprocessing
import random
import re
import time
from array import array
from collections.abc import Iterable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from functools import partial
from itertools import chain
from math import isqrt
from pathlib import Path
from typing import IO, Any, NamedTuple

from tqdm import tqdm

GZIP_MAGIC = b"\x1f\x8b"
# Item.summary's max_length: sampled words can add up to more than any real summary.
SUMMARY_MAX_LENGTH = 500
# Item.name's max_length, less room for a "-<number>" that makes a name unique.
NAME_BASE_MAX_LENGTH = 200 - 12
# A name part that may start a name: the import format wants [a-z0-9][a-z0-9+.-]*.
NAME_PART = re.compile(r"[a-z0-9][a-z0-9+.]*")
# Synthetic records are made in chunks of this many, each from its own seeded
# generator, so the output does not depend on how many processes made it.
CHUNK_SIZE = 10_000


class WordPool:
    """Every word occurrence of one field of the real catalog, to draw runs of words from.

    A million records need some 60 million words, and drawing them one at a
    time (``random.choices``, with or without ``cum_weights``) costs more
    than 400 ns a word in Python: over 25 s of CPU for words alone. Instead
    a record's n words are the pool's words at a random offset and a random
    stride: one slice, copied in C, about 60 ns a word. Every occurrence is
    equally likely to be picked, so every word keeps its real frequency,
    rare ones included.

    For the picks to be unrelated, like independent draws from the unigram
    distribution, neighbours in the pool must come from unrelated texts.
    Shuffling millions of words would take seconds of Python; instead the
    texts are put in random order and read column by column, as if written
    in rows of about sqrt(size) words, which puts a row of words (more than
    almost any one text holds) between neighbours. With offsets and strides
    both random, two records practically never share a run of words either.
    """

    def __init__(self, texts: Sequence[list[str]], rng: random.Random) -> None:
        shuffled = list(chain.from_iterable(rng.sample(texts, len(texts))))
        self._size = len(shuffled)
        row = max(1, isqrt(self._size))
        pool = list(chain.from_iterable(shuffled[column::row] for column in range(row)))
        self._pool = pool + pool  # a run from any offset never wraps around

    def take(self, n: int, randomness: int) -> list[str]:
        """n words, at the offset and stride that a random 64-bit number picks."""
        if n == 0:
            return []
        randomness, offset = divmod(randomness, self._size)
        stride = 1 + randomness % (self._size // n)  # n * stride <= size: n different positions
        return self._pool[offset : offset + n * stride : stride]


class Template(NamedTuple):
    """What a synthetic record takes from a real one: everything but its words and name."""

    summary_words: int
    description_words: int
    paragraphs: int
    section: str
    tags: list[str]
    homepage: str
    version: str
    priority: str
    installed_size_kb: int
    # The real record's reverse_depends: most items 0, a few very high.
    popularity: int


@dataclass(frozen=True)
class Distributions:
    """What the real catalog looks like: its word pools, name parts and templates.

    Each synthetic record copies the lengths, section, tags and other values
    of one real record drawn at random: every field keeps its real
    distribution, and so does what goes together (a game's section, tags
    and size; a library's short description).
    """

    summary_words: WordPool
    description_words: WordPool
    name_parts: list[str]
    name_part_counts: list[int]
    templates: list[Template]

    @classmethod
    def from_records(cls, records: Sequence[dict[str, Any]], rng: random.Random) -> Distributions:
        # One str object per distinct word: millions of references, not millions of strings.
        vocabulary: dict[str, str] = {}
        summaries: list[list[str]] = []
        descriptions: list[list[str]] = []
        name_parts: list[str] = []
        name_part_counts: list[int] = []
        templates: list[Template] = []
        for record in records:
            summary = record["summary"].split()
            summaries.append(list(map(vocabulary.setdefault, summary, summary)))
            description = record.get("description", "")
            words = description.split()
            descriptions.append(list(map(vocabulary.setdefault, words, words)))
            parts = [part for part in record["name"].split("-") if NAME_PART.fullmatch(part)]
            name_parts.extend(parts)
            if parts:
                name_part_counts.append(len(parts))
            templates.append(
                Template(
                    summary_words=len(summary),
                    description_words=len(words),
                    paragraphs=sum(1 for paragraph in description.split("\n\n") if paragraph.strip()),
                    section=record["section"],
                    tags=record.get("tags", []),
                    homepage=record.get("homepage", ""),
                    version=record.get("version", ""),
                    priority=record.get("priority", "optional"),
                    installed_size_kb=record.get("installed_size_kb", 0),
                    popularity=record.get("reverse_depends", 0),
                )
            )
        return cls(
            summary_words=WordPool(summaries, rng),
            description_words=WordPool(descriptions, rng),
            name_parts=name_parts,
            name_part_counts=name_part_counts,
            templates=templates,
        )


class Chunk(NamedTuple):
    """The work of one worker call: the names are chosen centrally, to be unique."""

    seed: int
    index: int  # type: ignore[assignment]  # a field's name, not tuple.index
    names: list[str]


def read_catalog(path: Path) -> list[dict[str, Any]]:
    """The records of a catalog file, plain or gzipped, like the importer reads it."""
    with _open_catalog(path) as handle:
        return [json.loads(line) for line in handle if line.strip()]


def count_records(path: Path) -> int:
    """How many records a catalog file holds, without parsing them."""
    with _open_catalog(path) as handle:
        return sum(1 for line in handle if line.strip())


def _open_catalog(path: Path) -> IO[str]:
    with path.open("rb") as raw:
        compressed = raw.read(2) == GZIP_MAGIC
    return gzip.open(path, "rt", encoding="utf-8") if compressed else path.open(encoding="utf-8")


def generate(source: Sequence[dict[str, Any]], n: int, *, seed: int = 0) -> Iterator[dict[str, Any]]:
    """n records: the source first (or a seeded sample of it), then synthetic ones.

    The same source, n and seed give the same records, so a benchmark can be
    rerun on exactly the same data; ``write_catalog`` writes these records.
    """
    leading, distributions, chunks = _plan(source, n, seed)
    yield from leading
    for chunk in chunks:
        yield from _synthesize(distributions, chunk)


def write_catalog(
    source: Sequence[dict[str, Any]],
    n: int,
    path: Path,
    *,
    seed: int = 0,
    processes: int | None = None,
) -> None:
    """Write ``generate(source, n, seed=seed)`` as JSONL, gzipped when path ends in .gz.

    Chunks are made and compressed in worker processes (``processes``, by
    default one per CPU; 1 makes them in this process) and written in order.
    Each gzipped chunk is a gzip member of its own: concatenated members are
    one valid gzip file. Level 1 already shrinks this text almost threefold;
    higher levels would cost more time than the space is worth for a
    benchmark file.
    """
    compress = path.suffix == ".gz"
    leading, distributions, chunks = _plan(source, n, seed)
    with ExitStack() as stack:
        handle = stack.enter_context(path.open("wb"))
        encoded: Iterator[bytes]
        if distributions is None or processes == 1:
            encoded = map(partial(_encode_chunk, distributions, compress), chunks)
        else:
            # Forked workers inherit the word pools (some 60 MB) instead of unpickling them.
            context = multiprocessing.get_context("fork")
            pool = stack.enter_context(
                context.Pool(processes, initializer=_init_worker, initargs=(distributions, compress))
            )
            encoded = pool.imap(_encode_in_worker, chunks)
        bar = stack.enter_context(tqdm(total=n, unit=" records", unit_scale=True))
        handle.write(_encode(leading, compress))
        bar.update(len(leading))
        for data, size in zip(encoded, _chunk_sizes(n - len(leading)), strict=True):
            handle.write(data)
            bar.update(size)


def _plan(
    source: Sequence[dict[str, Any]], n: int, seed: int
) -> tuple[Sequence[dict[str, Any]], Distributions | None, Iterator[Chunk]]:
    """The real records to write first, and the chunks of synthetic ones to add."""
    rng = random.Random(seed)
    if n <= len(source):
        return [source[index] for index in sorted(rng.sample(range(len(source)), n))], None, iter(())
    distributions = Distributions.from_records(source, rng)
    taken = {record["name"] for record in source}
    return source, distributions, _chunks(distributions, n - len(source), seed, taken)


def _chunk_sizes(total: int) -> Iterator[int]:
    for start in range(0, total, CHUNK_SIZE):
        yield min(CHUNK_SIZE, total - start)


def _chunks(distributions: Distributions, total: int, seed: int, taken: set[str]) -> Iterator[Chunk]:
    """Chunks with unique names, from real name parts ("python3", "dev", ...).

    Names are made here, in one process, because only one place can know
    every name taken; common combinations get numbered (python3-dev-2).
    """
    rng = random.Random(f"{seed}:names")
    suffixes: dict[str, int] = {}
    for index, size in enumerate(_chunk_sizes(total)):
        counts = rng.choices(distributions.name_part_counts, k=size)
        parts = rng.choices(distributions.name_parts, k=sum(counts))
        names: list[str] = []
        start = 0
        for count in counts:
            names.append(_unique_name("-".join(parts[start : start + count]), taken, suffixes))
            start += count
        yield Chunk(seed, index, names)


def _unique_name(name: str, taken: set[str], suffixes: dict[str, int]) -> str:
    """name, or the first of name-2, name-3, ... that is not taken."""
    if len(name) > NAME_BASE_MAX_LENGTH:
        name = name[:NAME_BASE_MAX_LENGTH].rstrip("+.-")
    candidate = name
    while candidate in taken:
        suffixes[name] = suffixes.get(name, 1) + 1
        candidate = f"{name}-{suffixes[name]}"
    taken.add(candidate)
    return candidate


def _synthesize(distributions: Distributions | None, chunk: Chunk) -> Iterator[dict[str, Any]]:
    """The records of one chunk, all drawn from one generator of its own."""
    assert distributions is not None  # there are chunks only when there are distributions
    rng = random.Random(f"{chunk.seed}:{chunk.index}")
    templates = rng.choices(distributions.templates, k=len(chunk.names))
    # Two random 64-bit numbers a record, one for each run of words.
    randomness = iter(array("Q", rng.randbytes(16 * len(chunk.names))))
    summary_words = distributions.summary_words
    description_words = distributions.description_words
    for name, template in zip(chunk.names, templates, strict=True):
        summary = summary_words.take(template.summary_words, next(randomness))
        description = description_words.take(template.description_words, next(randomness))
        yield {
            "name": name,
            "version": template.version,
            "section": template.section,
            "summary": _summary(summary),
            "description": _description(description, template.paragraphs),
            "tags": template.tags,
            "homepage": template.homepage,
            "source": name,
            "installed_size_kb": template.installed_size_kb,
            "priority": template.priority,
            "popularity": template.popularity,
        }


def _summary(words: list[str]) -> str:
    summary = " ".join(words)
    if len(summary) > SUMMARY_MAX_LENGTH:
        summary = summary[: SUMMARY_MAX_LENGTH + 1].rsplit(" ", 1)[0][:SUMMARY_MAX_LENGTH]
    return summary


def _description(words: list[str], paragraphs: int) -> str:
    """words in up to `paragraphs` paragraphs of about equal length, blank lines between.

    A paragraph is one line: line breaks inside it mean nothing to search,
    and wrapping would only cost time.
    """
    if not words:
        return ""
    per_paragraph = -(-len(words) // max(1, paragraphs))
    return "\n\n".join(" ".join(words[start : start + per_paragraph]) for start in range(0, len(words), per_paragraph))


def _encode(records: Iterable[dict[str, Any]], compress: bool) -> bytes:
    data = "".join(json.dumps(record) + "\n" for record in records).encode()
    return gzip.compress(data, compresslevel=1, mtime=0) if compress else data


def _encode_chunk(distributions: Distributions | None, compress: bool, chunk: Chunk) -> bytes:
    return _encode(_synthesize(distributions, chunk), compress)


_worker_state: tuple[Distributions, bool] | None = None


def _init_worker(distributions: Distributions, compress: bool) -> None:
    global _worker_state
    _worker_state = (distributions, compress)


def _encode_in_worker(chunk: Chunk) -> bytes:
    assert _worker_state is not None  # set by _init_worker
    return _encode_chunk(*_worker_state, chunk)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("n", type=int, help="number of records to write")
    parser.add_argument("out", type=Path, help="output file (.jsonl, or .jsonl.gz to gzip it)")
    parser.add_argument("--seed", type=int, default=0, help="same seed, same catalog (default 0)")
    parser.add_argument("--source", type=Path, required=True, help="the real catalog whose distributions to follow")
    args = parser.parse_args(argv)
    if args.n < 1:
        parser.error("n must be at least 1")
    started = time.perf_counter()
    write_catalog(read_catalog(args.source), args.n, args.out, seed=args.seed)
    elapsed = time.perf_counter() - started
    print(f"wrote {args.n:,} records to {args.out} in {elapsed:.1f} s")


if __name__ == "__main__":
    main()

"""The synthetic catalog: importable, unique, reproducible, and shaped like its source.

The source is a small catalog written here, so these tests need neither
../shared nor a database.
"""

from __future__ import annotations

import gzip
import json
import random
import re
import statistics
from pathlib import Path
from typing import Any

import pytest

from bench.synthetic import generate, main, read_catalog, write_catalog
from catalog.importer import checked_records, validate_record

NAME = re.compile(r"[a-z0-9][a-z0-9+.-]*")
WORDS = (
    "library tool for the and of a data files python3 module command line interface "
    "server client network audio video image viewer editor text fast simple small "
    "development documentation plugin support GNOME KDE utilities package (transitional) "
    "Perl Ruby Haskell bindings runtime shared static kernel driver firmware"
).split()
SECTIONS = ["libs", "python", "devel", "games", "web", "sound", "utils"]
TAGS = ["role::program", "role::shared-lib", "devel::library", "interface::commandline", "use::gameplaying"]


def source_records(count: int = 50) -> list[dict[str, Any]]:
    """A small catalog with the variety that matters: lengths, paragraphs, tags, name parts."""
    rng = random.Random(1)
    records = []
    for index in range(count):
        paragraphs = [" ".join(rng.choices(WORDS, k=rng.randint(5, 40))) for _ in range(rng.randint(0, 3))]
        prefix = rng.choice(["python3", "lib", "golang", "node"])
        name_parts = [[f"pkg{index}"], [prefix, f"pkg{index}"], [prefix, f"pkg{index}", "dev"]][index % 3]
        records.append(
            {
                "name": "-".join(name_parts),
                "version": f"{index}.0-1",
                "section": rng.choice(SECTIONS),
                "summary": " ".join(rng.choices(WORDS, k=rng.randint(2, 12))),
                "description": "\n\n".join(paragraphs),
                "tags": rng.sample(TAGS, rng.randint(0, 3)),
                "homepage": rng.choice(["", f"https://example.org/{index}"]),
                "source": f"pkg{index}",
                "installed_size_kb": rng.randint(0, 50_000),
                "priority": rng.choice(["optional", "optional", "extra", "required"]),
            }
        )
    return records


@pytest.fixture
def source() -> list[dict[str, Any]]:
    return source_records()


@pytest.fixture
def source_file(tmp_path: Path, source: list[dict[str, Any]]) -> Path:
    path = tmp_path / "source.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.writelines(json.dumps(record) + "\n" for record in source)
    return path


def test_records_are_importable_with_unique_names(source: list[dict[str, Any]]) -> None:
    records = list(generate(source, 2000, seed=3))

    assert len(records) == 2000
    assert len({record["name"] for record in records}) == 2000
    for record in records:
        assert NAME.fullmatch(record["name"]), record["name"]
        popularity = record.get("popularity", record.get("reverse_depends", 0))
        expected = {key: value for key, value in record.items() if key != "reverse_depends"}
        assert validate_record(record) == {**expected, "tags": sorted(record["tags"]), "popularity": popularity}


def test_same_seed_same_catalog(source: list[dict[str, Any]]) -> None:
    first = list(generate(source, 2000, seed=7))

    assert list(generate(source, 2000, seed=7)) == first
    assert list(generate(source, 2000, seed=8)) != first


def test_lengths_and_vocabulary_follow_the_source(source: list[dict[str, Any]]) -> None:
    synthetic = list(generate(source, 2000, seed=0))[len(source) :]

    for field in ("summary", "description"):
        real = statistics.mean(len(record[field].split()) for record in source)
        made = statistics.mean(len(record[field].split()) for record in synthetic)
        assert made == pytest.approx(real, rel=0.3), field
    vocabulary = {word for record in source for word in (record["summary"] + " " + record["description"]).split()}
    assert {word for record in synthetic for word in record["summary"].split()} <= vocabulary
    assert {record["section"] for record in synthetic} <= set(SECTIONS)
    assert any("\n\n" in record["description"] for record in synthetic)


def test_a_larger_catalog_starts_with_the_source(source: list[dict[str, Any]]) -> None:
    records = list(generate(source, 2000, seed=0))

    assert records[: len(source)] == source


def test_a_smaller_catalog_is_a_sample_of_the_source(source: list[dict[str, Any]]) -> None:
    records = list(generate(source, 20, seed=0))

    assert len(records) == 20
    assert all(record in source for record in records)
    assert len({record["name"] for record in records}) == 20
    assert list(generate(source, 20, seed=0)) == records


@pytest.mark.parametrize("suffix", [".jsonl", ".jsonl.gz"])
def test_written_file_is_what_generate_gives(tmp_path: Path, source: list[dict[str, Any]], suffix: str) -> None:
    """Worker processes make the file chunk by chunk; it must not change a record."""
    path = tmp_path / f"synthetic{suffix}"

    write_catalog(source, 25_000, path, seed=5, processes=2)

    assert read_catalog(path) == list(generate(source, 25_000, seed=5))
    with path.open("rb") as handle:
        assert (handle.read(2) == b"\x1f\x8b") == (suffix == ".jsonl.gz")


def test_command_line(tmp_path: Path, source_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "synthetic.jsonl.gz"

    main(["3000", str(out), "--seed", "2", "--source", str(source_file)])

    assert "wrote 3,000 records" in capsys.readouterr().out
    with gzip.open(out, "rt", encoding="utf-8") as handle:
        assert len(list(checked_records(enumerate(handle, start=1)))) == 3000

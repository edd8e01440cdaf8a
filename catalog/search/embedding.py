"""Item vectors: what an item is about, as a point of an embedding model's space (semantic ranking).

The model is wordllama's 256-dimension static embeddings (``l2_supercat``),
whose weights ship inside its wheel: nothing is downloaded, ever, and a text
embeds in microseconds on a CPU (README says why this model). An item's vector
embeds its name and summary (adding the description made results worse) and
lives in a source table, ``ItemVector``, that the search document reads like
any other column (``sql/search_document.sql``).

Who computes them: the import, for the items it loads, and the refresher's
loop, for edited items, just before each refresh (worker.py). Until then an
edited item is found by its words at once (its pending document), and by
meaning a refresh later: the document shows a vector only while it matches the
item's text (``text_hash``), never a stale one.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg
from django.db import models
from pgvector.django import VectorField
from pgvector.psycopg import register_vector
from tqdm import tqdm

from catalog.search.index import DIMENSIONS
from catalog.search.triggers import pending_triggers

if TYPE_CHECKING:
    import numpy as np
    from wordllama import WordLlama

# Texts embedded and written per round trip: a bar step, and bounded memory at a million items.
BATCH_SIZE = 5000


class ItemVector(models.Model):
    """An item's vector, and a hash of the text it was computed from (to tell a stale one)."""

    # No constraint in the database: SQL that deletes or truncates items needs
    # not know of vectors (the ORM deletes them with their item); a vector left
    # behind is never read, since the document joins vectors to items.
    item = models.OneToOneField(
        "catalog.Item", on_delete=models.CASCADE, db_constraint=False, primary_key=True, related_name="vector"
    )
    vector = VectorField(dimensions=DIMENSIONS)
    text_hash = models.CharField(max_length=32, help_text="md5 of the name and summary embedded")

    class Meta:
        db_table = "catalog_itemvector"
        # A new vector reaches the search as any edit does: a pending document, then the refresh.
        triggers = pending_triggers(changed_items="SELECT item_id FROM {rows}")

    def __str__(self) -> str:
        return f"{self.item_id}: {self.text_hash}"


@functools.cache
def model() -> WordLlama:
    """Loaded once per process, on first use (half a second): only searches and imports need it.

    wordllama looks for its tokenizer in ``wordllama/tokenizer/`` and, not
    finding it, would download it; the wheel ships it in ``tokenizers/``, which
    the package folder given as its cache finds. ``disable_download`` makes
    sure a broken install fails here rather than reaching for the network.
    """
    import wordllama

    return wordllama.WordLlama.load(cache_dir=Path(wordllama.__file__).parent, disable_download=True)


def embed(texts: list[str]) -> np.ndarray:
    """Unit vectors (so cosine distance is what pgvector's HNSW index orders by), one row per text."""
    return model().embed(texts, norm=True)


def item_text(name: str, summary: str) -> str:
    """What an item's vector embeds."""
    return f"{name}: {summary}"


# The items the next refresh will claim (edited, or requested by an import)
# whose vector is missing or was computed from other text. The document
# compares the same hash (search_document.sql).
STALE_SQL = """
    SELECT item.id, item.name, item.summary, md5(item.name || E'\\n' || item.summary)
    FROM catalog_item AS item
    LEFT JOIN catalog_itemvector AS vector ON vector.item_id = item.id
    WHERE item.id IN (
        SELECT item_id FROM catalog_searchpending WHERE NOT merged
        UNION SELECT item_id FROM catalog_searchrefreshrequest WHERE item_id IS NOT NULL
    )
      AND vector.text_hash IS DISTINCT FROM md5(item.name || E'\\n' || item.summary)
    ORDER BY item.id
"""
CREATE_STAGING_SQL = (
    "CREATE TEMPORARY TABLE catalog_vector_staging (item_id bigint PRIMARY KEY, text_hash text, vector vector)"
)
COPY_STAGING_SQL = "COPY catalog_vector_staging (item_id, text_hash, vector) FROM STDIN (FORMAT BINARY)"
# Only the rows whose vector changes: an unchanged one would queue its item for nothing.
UPSERT_SQL = """
    INSERT INTO catalog_itemvector AS current (item_id, text_hash, vector)
    SELECT staged.item_id, staged.text_hash, staged.vector FROM catalog_vector_staging AS staged
    JOIN catalog_item AS item ON item.id = staged.item_id
    ON CONFLICT (item_id) DO UPDATE SET text_hash = EXCLUDED.text_hash, vector = EXCLUDED.vector
    WHERE current.text_hash IS DISTINCT FROM EXCLUDED.text_hash
"""


def vectors_update(connection: psycopg.Connection[Any], *, progress: bool = False) -> int:
    """Embed the stale vectors of the items the next refresh claims, in batches; how many were written.

    Runs in the caller's transaction (the import's, whose items wait for the
    refresh it requests), or in one of its own on an autocommit connection
    (the worker's, before each refresh). The vectors are written through a
    staging table, by binary COPY: formatting 256 floats as text per item cost
    more than embedding them.
    """
    register_vector(connection)  # numpy arrays in and out of vector columns, binary for COPY
    with connection.transaction(), connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM ({STALE_SQL}) AS stale")
        (total,) = cursor.fetchone()  # type: ignore[misc]
        if not total:
            return 0
        cursor.execute(CREATE_STAGING_SQL)
        # Read in batches from a server-side cursor: a million names and summaries stay on the server.
        with (
            connection.cursor(name="catalog_stale_vectors") as stale,
            tqdm(total=total, desc="embedding", unit=" items", disable=None if progress else True) as bar,
        ):
            stale.execute(STALE_SQL)
            while batch := stale.fetchmany(BATCH_SIZE):
                vectors = embed([item_text(name, summary) for _, name, summary, _ in batch])
                _copy(cursor, ((id, digest, vector) for (id, _, _, digest), vector in zip(batch, vectors, strict=True)))
                bar.update(len(batch))
        cursor.execute(UPSERT_SQL)
        written = cursor.rowcount
        cursor.execute("DROP TABLE catalog_vector_staging")
    return written


def _copy(cursor: psycopg.Cursor[Any], rows: Iterable[tuple[int, str, np.ndarray]]) -> None:
    with cursor.copy(COPY_STAGING_SQL) as copy:
        copy.set_types(["int8", "text", "vector"])
        for row in rows:
            copy.write_row(row)


def query_vector(text: str) -> str:
    """The query's vector as pgvector's text form: a parameter of search.sql."""
    (vector,) = embed([text])
    return "[" + ",".join(f"{value:.6g}" for value in vector) + "]"

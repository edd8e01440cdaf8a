"""Import a catalog file (JSONL, plain or gzipped) into the source tables.

Every line is checked, and a file with bad lines is rejected whole, with each
bad line's number and reason. Checked lines are COPYed into a staging table as
they are read, so PostgreSQL stores them while Python checks the next ones; a
good file is then upserted by name, all in one transaction, and a bad one rolls
back having written nothing but the staging table. Rows whose content did not
change are left alone, so re-importing a file edits nothing.

An import is a bulk load: instead of computing each item's document in the
triggers (editors' path), it leaves them to the refresh it asks for, so its
items become searchable when that refresh commits.
"""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from django.db import connection, transaction
from tqdm import tqdm

from catalog.models import Category, Item, Tag
from catalog.search.embedding import vectors_update

GZIP_MAGIC = b"\x1f\x8b"
# Report at most this many bad lines: enough to fix a file, not a flood.
MAX_REPORTED_ERRORS = 100

# field: (required, max length or None)
TEXT_FIELDS: dict[str, tuple[bool, int | None]] = {
    "name": (True, Item._meta.get_field("name").max_length),
    "section": (True, Category._meta.get_field("name").max_length),
    "summary": (True, Item._meta.get_field("summary").max_length),
    "description": (False, None),
    "homepage": (False, Item._meta.get_field("homepage").max_length),
    "version": (False, Item._meta.get_field("version").max_length),
    "source": (False, Item._meta.get_field("source").max_length),
}
TAG_MAX_LENGTH = Tag._meta.get_field("name").max_length
PRIORITIES = frozenset(Item.Priority.values)
MAX_INSTALLED_SIZE = 2**31 - 1
# A record's popularity: its own field when it has one, else how many packages depend on it.
POPULARITY_FIELDS = ("popularity", "reverse_depends")


@dataclass(frozen=True)
class LineError:
    line: int
    reason: str
    # Where on the line, in characters from 1, when the reason is about a place
    # (bad JSON, a byte that is not UTF-8) rather than a field.
    column: int | None = None

    def __str__(self) -> str:
        column = f", column {self.column}" if self.column is not None else ""
        return f"line {self.line}{column}: {self.reason}"


class CatalogFileError(Exception):
    """The file cannot be imported; ``errors`` says why, line by line where it can."""

    def __init__(self, message: str, errors: list[LineError] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or []


@dataclass(frozen=True)
class ImportReport:
    records: int
    items_created: int
    items_updated: int


def catalog_import(*, path: Path, progress: bool = False) -> ImportReport:
    """Check and stage the file line by line, then upsert it, in one transaction.

    Streaming keeps no list of records: at a million lines, holding them all
    cost more in memory and garbage collection than checking them.
    """
    with transaction.atomic(), connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg's own cursor, for COPY
        # The triggers leave these items to the next refresh and ask for it now.
        raw.execute("SET LOCAL searchsite.defer_to_refresh = on")
        raw.execute(CREATE_STAGING_SQL)
        records = 0
        with raw.copy(COPY_STAGING_SQL) as stream:
            for record in checked_records(_read_lines(path, progress=progress)):
                stream.write_row([record[column] for column in STAGING_COLUMNS])
                records += 1
        report = _upsert(raw, records=records)
        # The vectors of the items it changed, embedded in the same transaction:
        # the refresh it asks for indexes them with their words.
        vectors_update(raw.connection, progress=progress)
        # Statistics of what it loaded, for the plans of the refresh it asks for:
        # left to autovacuum, a table last analyzed empty still looks empty, and
        # the refresh joins it row by row (the whole catalog's took 22 minutes
        # instead of about 3 in the suite, its vectors' table "empty" at 9,106 pages).
        raw.execute(ANALYZE_SQL)
        # Dropped now, not on commit: an enclosing transaction may import again,
        # or edit, and its edits must go through the triggers as usual.
        raw.execute("DROP TABLE catalog_staging")
        raw.execute("SET LOCAL searchsite.defer_to_refresh = off")
    return report


def _read_lines(path: Path, *, progress: bool) -> Iterator[tuple[int, bytes]]:
    """The file's lines as bytes: each is decoded on its own, so that a bad byte has a line and a column.

    Text mode decodes in blocks, and its error's position counts from the
    start of a block: neither the line nor the column of the bad byte.
    """
    try:
        with path.open("rb") as raw:
            compressed = raw.read(2) == GZIP_MAGIC
        handle: IO[bytes] = gzip.open(path, "rb") if compressed else path.open("rb")  # type: ignore[assignment]
        with handle, tqdm(desc="reading", unit=" lines", disable=None if progress else True) as bar:
            for number, line in enumerate(handle, start=1):
                bar.update()
                yield number, line
    except (OSError, EOFError, zlib.error) as exc:  # Missing, unreadable, corrupt or truncated.
        raise CatalogFileError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None


def checked_records(lines: Iterable[tuple[int, bytes | str]]) -> Iterator[dict[str, Any]]:
    """Yield each record as it is checked; at the end, raise with every bad line.

    A consumer must treat what it got as void if this raises: records are
    yielded until the first bad line, which may be the last line of the file.
    The error says how many good records came before the first bad line, so
    that a reader knows how far the file is sound.
    """
    errors: list[LineError] = []
    first_seen: dict[str, int] = {}
    good_before_first_error = 0
    for number, line in lines:
        try:
            text = line.decode("utf-8") if isinstance(line, bytes) else line
        except UnicodeDecodeError as exc:
            assert isinstance(line, bytes)  # only bytes fail to decode
            column = len(line[: exc.start].decode("utf-8")) + 1  # The bytes before the first bad one are good.
            errors.append(LineError(number, f"not UTF-8 text ({exc.reason})", column))
            continue
        if not text.strip():
            continue
        try:
            record = validate_record(json.loads(text))
        except json.JSONDecodeError as exc:
            errors.append(LineError(number, f"not valid JSON ({exc.msg})", exc.colno))
            continue
        except ValueError as exc:
            errors.append(LineError(number, str(exc)))
            continue
        if (earlier := first_seen.setdefault(record["name"], number)) != number:
            errors.append(LineError(number, f"duplicate name {record['name']!r} (first on line {earlier})"))
            continue
        if not errors:
            good_before_first_error += 1
            yield record
    if errors:
        shown = errors[:MAX_REPORTED_ERRORS]
        more = f"; the first {len(shown)} are listed" if len(errors) > len(shown) else ""
        raise CatalogFileError(
            f"{len(errors)} bad line(s), nothing imported ({good_before_first_error} good record(s) "
            f"read before the first, line {errors[0].line}{more})",
            shown,
        )
    if not first_seen:
        raise CatalogFileError("the file holds no records, nothing imported")


def validate_record(data: Any) -> dict[str, Any]:
    """One record, normalised; ValueError names the first problem found."""
    if not isinstance(data, dict):
        raise ValueError(f"expected a JSON object, got {type(data).__name__}")
    record: dict[str, Any] = {}
    for field, (required, max_length) in TEXT_FIELDS.items():
        record[field] = _text(data, field, required=required, max_length=max_length)
    if any(char.isspace() for char in record["name"]):
        raise ValueError(f"name {record['name']!r} contains white space")
    tags = data.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(tag, str) and tag.strip() for tag in tags):
        raise ValueError("tags must be a list of non-empty strings")
    for tag in tags:
        _check_text("tags", tag, TAG_MAX_LENGTH)
    record["tags"] = sorted({tag.strip() for tag in tags})
    size = data.get("installed_size_kb", 0)
    if not isinstance(size, int) or isinstance(size, bool) or not 0 <= size <= MAX_INSTALLED_SIZE:
        raise ValueError(f"installed_size_kb must be a whole number from 0 to {MAX_INSTALLED_SIZE}")
    record["installed_size_kb"] = size
    record["popularity"] = _popularity(data)
    priority = data.get("priority", Item.Priority.OPTIONAL)
    if not isinstance(priority, str) or priority not in PRIORITIES:  # A list or object is unhashable.
        raise ValueError(f"priority must be one of {', '.join(sorted(PRIORITIES))}, got {priority!r}")
    record["priority"] = priority
    return record


def _popularity(data: dict[str, Any]) -> int:
    field = next((field for field in POPULARITY_FIELDS if field in data), POPULARITY_FIELDS[0])
    value = data.get(field, 0)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_INSTALLED_SIZE:
        raise ValueError(f"{field} must be a whole number from 0 to {MAX_INSTALLED_SIZE}")
    return value


def _text(data: dict[str, Any], field: str, *, required: bool, max_length: int | None) -> str:
    value = data.get(field, "")
    if not isinstance(value, str):
        raise ValueError(f"{field} must be a string, got {type(value).__name__}")
    value = value.strip() if field != "description" else value
    if required and not value:
        raise ValueError(f"{field} is missing or empty")
    _check_text(field, value, max_length)
    return value


def _check_text(field: str, value: str, max_length: int | None) -> None:
    if "\x00" in value:
        raise ValueError(f"{field} contains a NUL character")
    if max_length is not None and len(value) > max_length:
        raise ValueError(f"{field} is longer than {max_length} characters")


STAGING_COLUMNS = [
    "name",
    "section",
    "summary",
    "description",
    "homepage",
    "version",
    "source",
    "installed_size_kb",
    "priority",
    "popularity",
    "tags",
]

CREATE_STAGING_SQL = """
    CREATE TEMPORARY TABLE catalog_staging (
        name text, section text, summary text, description text, homepage text,
        version text, source text, installed_size_kb integer, priority text, popularity integer,
        tags text[]
    )
"""
COPY_STAGING_SQL = f"COPY catalog_staging ({', '.join(STAGING_COLUMNS)}) FROM STDIN"

UPSERT_SQL = [
    """
    INSERT INTO catalog_category (name)
    SELECT DISTINCT section FROM catalog_staging
    ON CONFLICT (name) DO NOTHING
    """,
    """
    INSERT INTO catalog_tag (name)
    SELECT DISTINCT unnest(tags) FROM catalog_staging
    ON CONFLICT (name) DO NOTHING
    """,
]

# Rows that did not change are not touched: no write, no trigger, no refresh.
# The result: how many items it created and updated, counted where they are.
ITEM_UPSERT_SQL = """
    WITH upserted AS (
        INSERT INTO catalog_item AS item (
            name, summary, description, category_id, homepage, version, source,
            installed_size_kb, priority, popularity, updated_at
        )
        SELECT s.name, s.summary, s.description, c.id, s.homepage, s.version, s.source,
               s.installed_size_kb, s.priority, s.popularity, now()
        FROM catalog_staging AS s JOIN catalog_category AS c ON c.name = s.section
        ON CONFLICT (name) DO UPDATE SET
            summary = EXCLUDED.summary, description = EXCLUDED.description,
            category_id = EXCLUDED.category_id, homepage = EXCLUDED.homepage,
            version = EXCLUDED.version, source = EXCLUDED.source,
            installed_size_kb = EXCLUDED.installed_size_kb, priority = EXCLUDED.priority,
            popularity = EXCLUDED.popularity, updated_at = EXCLUDED.updated_at
        WHERE (item.summary, item.description, item.category_id, item.homepage, item.version,
               item.source, item.installed_size_kb, item.priority, item.popularity)
              IS DISTINCT FROM
              (EXCLUDED.summary, EXCLUDED.description, EXCLUDED.category_id, EXCLUDED.homepage,
               EXCLUDED.version, EXCLUDED.source, EXCLUDED.installed_size_kb, EXCLUDED.priority,
               EXCLUDED.popularity)
        RETURNING (xmax = 0) AS created
    )
    SELECT count(*) FILTER (WHERE created), count(*) FILTER (WHERE NOT created) FROM upserted
"""

TAG_LINK_SQL = [
    # Links the file no longer lists for an item it names.
    """
    DELETE FROM catalog_itemtag AS link
    USING catalog_item AS item, catalog_staging AS s, catalog_tag AS tag
    WHERE link.item_id = item.id AND item.name = s.name AND link.tag_id = tag.id
      AND NOT tag.name = ANY (s.tags)
    """,
    """
    INSERT INTO catalog_itemtag (item_id, tag_id)
    SELECT item.id, tag.id
    FROM catalog_staging AS s
    CROSS JOIN LATERAL unnest(s.tags) AS t(name)
    JOIN catalog_item AS item ON item.name = s.name
    JOIN catalog_tag AS tag ON tag.name = t.name
    ON CONFLICT (item_id, tag_id) DO NOTHING
    """,
]


# A first load (no items yet) follows PostgreSQL's "Populating a Database": it
# drops the foreign keys and plain indexes of the tables it fills and restores
# them after, so that each costs one validating join or one sorted build instead
# of a check (at commit) or an index insertion per row. Unique indexes stay: the
# upserts need them. Only when empty: dropping takes an exclusive lock, which
# would stop everyone reading a catalog in use. Each row: (drop, restore).
FIRST_LOAD_DROPS_SQL = """
    WITH loaded (tab) AS (VALUES ('catalog_item'::regclass), ('catalog_itemtag'::regclass))
    SELECT format('ALTER TABLE %s DROP CONSTRAINT %I', conrelid::regclass, conname),
           format('ALTER TABLE %s ADD CONSTRAINT %I %s', conrelid::regclass, conname, pg_get_constraintdef(oid))
    FROM pg_constraint JOIN loaded ON conrelid = tab
    WHERE contype = 'f' AND NOT EXISTS (SELECT FROM catalog_item)
    UNION ALL
    SELECT format('DROP INDEX %s', indexrelid::regclass), pg_get_indexdef(indexrelid)
    FROM pg_index JOIN loaded ON indrelid = tab
    WHERE NOT indisunique AND NOT EXISTS (SELECT FROM catalog_item)
"""

# The tables an import fills, which the search document joins (search_document.sql).
ANALYZE_SQL = "ANALYZE catalog_category, catalog_tag, catalog_item, catalog_itemtag, catalog_itemvector"


def _upsert(cursor: Any, *, records: int) -> ImportReport:
    for statement in UPSERT_SQL:
        cursor.execute(statement)
    # The upserts below stay upserts: correct even if someone adds items meanwhile.
    cursor.execute(FIRST_LOAD_DROPS_SQL)
    dropped = cursor.fetchall()
    for drop, _ in dropped:
        cursor.execute(drop)
    cursor.execute(ITEM_UPSERT_SQL)
    created, updated = cursor.fetchone()
    for statement in TAG_LINK_SQL:
        cursor.execute(statement)
    for _, restore in dropped:
        cursor.execute(restore)
    return ImportReport(
        records=records,
        items_created=created,
        items_updated=updated,
    )

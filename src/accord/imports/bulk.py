"""Set-based reads and writes for imports, on SQLite and PostgreSQL.

The ORM costs tens of microseconds per object, so an import writes through the DB-API
cursor: one query fetches a chunk's existing rows, COPY (PostgreSQL) or multi-row INSERTs
(SQLite) write its new ones, and one statement updates its changed ones. Ids are reserved
before the insert so stage transitions can point at new contacts without a second lookup.
Callers run every write inside `transaction.atomic()`: on SQLite that holds the write lock
(BEGIN IMMEDIATE), which is what makes reserving ids from the table's sequence safe.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from django.db import connection, transaction
from django.db.models import Model

# SQLite's page cache while an import runs, in KiB (see Bulk.fast_commits).
IMPORT_CACHE_KIB = 256 * 1024
# Helper threads SQLite's sorter may use while it builds an index (the machine has two cores).
_SQLITE_SORT_THREADS = 2
# SQLite allows 250,000 bound values per statement in this build, older builds 32,766.
_SQLITE_VALUES_PER_STATEMENT = 30_000


class Bulk:
    """Vendor-specific bulk statements on Django's default connection."""

    def __init__(self) -> None:
        connection.ensure_connection()
        self.vendor = connection.vendor
        self.sqlite = self.vendor == "sqlite"
        # Seconds each index rebuilt by restore_indexes took (wall time), for benchmarks.
        self.rebuilt: dict[str, float] = {}

    def cursor(self):
        # The DB-API cursor of Django's own connection: same transaction, none of the
        # wrapper's per-call query rewriting, which costs milliseconds on 30,000 placeholders.
        connection.ensure_connection()
        return connection.connection.cursor()

    def datetime(self, value: dt.datetime | None):
        """Return a datetime as this database stores and returns it (SQLite: naive UTC text)."""
        if value is None or not self.sqlite:
            return value
        if value.tzinfo is not dt.UTC:
            value = value.astimezone(dt.UTC)
        # str() of a UTC datetime ends in "+00:00"; Django stores the naive part.
        return str(value)[:-6]

    @contextmanager
    def fast_commits(self) -> Iterator[None]:
        """Commit chunks without waiting for the disk each time; make them all durable at the end.

        Also give SQLite a page cache that holds a large table's indexes for the import.

        SQLite here runs with synchronous=FULL: every commit waits for an fsync, ~0.1 s on
        this kind of disk, which would cost more than writing the rows. An import can always
        run again, so a chunk lost to a power cut is harmless; syncing the write-ahead log
        before the import reports success makes every chunk durable, as its frames are
        appended in order. (A checkpoint would do too, but waits for every reader.)
        PostgreSQL's commits are cheap enough as they are.
        """
        # Inside a caller's transaction the chunks are savepoints: there is no commit to speed up
        # (and SQLite refuses to change the setting there).
        if not self.sqlite or connection.in_atomic_block:
            yield
            return
        cursor = self.cursor()
        (mode,) = cursor.execute("PRAGMA synchronous").fetchone()
        (cache,) = cursor.execute("PRAGMA cache_size").fetchone()
        cursor.execute("PRAGMA synchronous = NORMAL")
        # A million contacts carry ~300 MB of indexes; with the connection's usual 64 MiB
        # cache most inserts would re-read index pages from the OS. The page cache only
        # grows as pages are used, and goes back when the import ends.
        cursor.execute(f"PRAGMA cache_size = {-IMPORT_CACHE_KIB}")
        try:
            yield
            wal = Path(f"{connection.settings_dict['NAME']}-wal")
            if wal.exists():
                descriptor = os.open(wal, os.O_RDONLY)
                try:
                    os.fsync(descriptor)
                finally:
                    os.close(descriptor)
        finally:
            cursor.execute(f"PRAGMA synchronous = {int(mode)}")
            cursor.execute(f"PRAGMA cache_size = {int(cache)}")
            cursor.close()

    @contextmanager
    def indexes_built_after(self, models: Sequence[type[Model]]) -> Iterator[None]:
        """Drop the models' non-unique indexes for a large load; build them again after.

        Both databases insert each row into every index of its table, one B-tree descent
        each, and with a million rows most descents miss the cache; CREATE INDEX sorts the
        table once, several times cheaper. Unique indexes stay: they are what keeps one
        contact per email while the load and other writers run. Readers meanwhile get the
        right rows, only slower; the indexes come back one per transaction (each blocks other
        writers for a second or two at a million rows) when the load ends, fails, or, if the
        process was killed, when the next import starts (`restore_indexes`). Chunks still
        commit one by one.
        """
        if connection.in_atomic_block:
            yield
            return
        present = self._index_names(models)
        cursor = self.cursor()
        try:
            with transaction.atomic():
                for name in self._secondary_indexes(models):
                    if name in present:
                        cursor.execute(f'DROP INDEX "{name}"')
        finally:
            cursor.close()
        try:
            yield
        finally:
            self.restore_indexes(models)

    def restore_indexes(self, models: Sequence[type[Model]]) -> list[str]:
        """Build the models' non-unique indexes that are missing; return their names."""
        present = self._index_names(models)
        missing = {name: sql for name, sql in self._secondary_indexes(models).items() if name not in present}
        if not missing:
            return []
        cursor = self.cursor()
        try:
            if self.sqlite:
                # CREATE INDEX sorts the table; with helper threads SQLite's sorter uses the
                # second core for part of it.
                (threads,) = cursor.execute("PRAGMA threads").fetchone()
                cursor.execute(f"PRAGMA threads = {_SQLITE_SORT_THREADS}")
            for name, sql in missing.items():
                started = time.perf_counter()
                with transaction.atomic():
                    cursor.execute(sql)
                self.rebuilt[name] = time.perf_counter() - started
            if self.sqlite:
                cursor.execute(f"PRAGMA threads = {int(threads)}")
        finally:
            cursor.close()
        return list(missing)

    def _index_names(self, models: Sequence[type[Model]]) -> set[str]:
        tables = [model._meta.db_table for model in models]
        if self.sqlite:
            sql = "SELECT name FROM sqlite_master WHERE type = 'index' AND " + self.any_of("tbl_name")  # noqa: S608 (a fixed condition on a bound parameter)
        else:
            sql = "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND " + self.any_of("tablename")  # noqa: S608 (same)
        return {name for (name,) in self.fetch(sql, [self.list_param(tables)])}

    @staticmethod
    def _secondary_indexes(models: Sequence[type[Model]]) -> dict[str, str]:
        # The statements migrate runs for the models' indexes (field, foreign-key and Meta
        # indexes, not unique constraints), so a rebuilt index is the one migrations made.
        editor = connection.schema_editor()
        return {
            str(statement.parts["name"]).strip('"'): str(statement)
            for model in models
            for statement in editor._model_indexes_sql(model)
        }

    def param(self, sql: str) -> str:
        return sql.replace("%s", "?") if self.sqlite else sql

    def any_of(self, expression: str) -> str:
        """Return a condition matching `expression` against one list parameter (see `list_param`)."""
        if self.sqlite:
            return f"{expression} IN (SELECT value FROM json_each(?))"  # noqa: S608 (table and column names come from model metadata)
        return f"{expression} = ANY(%s)"

    def list_param(self, values: Sequence):
        return json.dumps(list(values)) if self.sqlite else list(values)

    def fetch(self, sql: str, params: Sequence = ()) -> list[tuple]:
        cursor = self.cursor()
        try:
            cursor.execute(self.param(sql), params)
            return cursor.fetchall()
        finally:
            cursor.close()

    def reserve_ids(self, model: type[Model], count: int) -> list[int]:
        """Reserve `count` primary keys for rows about to be inserted in this transaction."""
        if count == 0:
            return []
        table = model._meta.db_table
        if self.sqlite:
            # AUTOINCREMENT never reuses an id, so start after both the sequence and the max;
            # no other writer can take one before the insert, as this transaction holds the lock.
            (last,) = self.fetch(
                "SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = %s), 0),"  # noqa: S608 (table and column names come from model metadata)
                f" coalesce((SELECT max(id) FROM {table}), 0))",
                [table],
            )[0]
            return list(range(last + 1, last + 1 + count))
        rows = self.fetch(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [table, count],
        )
        return [row[0] for row in rows]

    def insert(self, model: type[Model], columns: Sequence[str], rows: Sequence[Sequence]) -> None:
        """Insert rows (tuples in `columns` order, values already in database form)."""
        if not rows:
            return
        table = model._meta.db_table
        names = ", ".join(columns)
        cursor = self.cursor()
        try:
            if self.sqlite:
                # Full batches share one multi-row statement and the remainder goes row by row:
                # a statement per remainder size would leave thousands of distinct
                # 30,000-placeholder statements in sqlite3's statement cache and in ours.
                per_statement = max(1, _SQLITE_VALUES_PER_STATEMENT // len(columns))
                full = len(rows) - len(rows) % per_statement
                if full:
                    statement = _sqlite_insert(table, names, len(columns), per_statement)
                    for start in range(0, full, per_statement):
                        cursor.execute(
                            statement,
                            [value for row in rows[start : start + per_statement] for value in row],
                        )
                if full < len(rows):
                    cursor.executemany(_sqlite_insert(table, names, len(columns), 1), rows[full:])
            else:
                with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
        finally:
            cursor.close()

    def update(self, model: type[Model], columns: Sequence[str], rows: Sequence[Sequence]) -> None:
        """Update rows by id; each row is (id, *values in `columns` order)."""
        if not rows:
            return
        table = model._meta.db_table
        cursor = self.cursor()
        try:
            if self.sqlite:
                assignments = ", ".join(f"{column} = ?" for column in columns)
                cursor.executemany(
                    f"UPDATE {table} SET {assignments} WHERE id = ?",  # noqa: S608 (table and column names come from model metadata)
                    [(*row[1:], row[0]) for row in rows],
                )
            else:
                types = [_array_type(model, "id"), *(_array_type(model, c) for c in columns)]
                arrays = [list(values) for values in zip(*rows, strict=True)]
                assignments = ", ".join(f"{column} = v.{column}" for column in columns)
                unnest = ", ".join(f"%s::{kind}[]" for kind in types)
                cursor.execute(
                    f"UPDATE {table} AS t SET {assignments} FROM unnest({unnest}) "  # noqa: S608 (table and column names come from model metadata)
                    f"AS v(id, {', '.join(columns)}) WHERE t.id = v.id",
                    arrays,
                )
        finally:
            cursor.close()


@cache
def _sqlite_insert(table: str, names: str, width: int, count: int) -> str:
    row = "(" + ", ".join("?" * width) + ")"
    return f"INSERT INTO {table} ({names}) VALUES " + ", ".join([row] * count)  # noqa: S608 (table and column names come from model metadata)


@cache
def _array_type(model: type[Model], column: str) -> str:
    # get_field accepts "owner_id" as well as "owner"; a foreign key's column type is its target's.
    field = model._meta.get_field(column)
    if field.is_relation:
        return field.target_field.rel_db_type(connection)
    return field.rel_db_type(connection) if field.primary_key else field.db_type(connection)

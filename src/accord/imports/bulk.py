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
import logging
import os
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from django.db import OperationalError, connection, transaction
from django.db.models import Model

# SQLite's page cache while an import runs, in KiB (see Bulk.fast_commits).
IMPORT_CACHE_KIB = 256 * 1024
# Helper threads SQLite's sorter may use while it builds an index (the machine has two cores).
_SQLITE_SORT_THREADS = 2
# Connections that build indexes and validate keys at once after a PostgreSQL bulk load: one a
# core of the machine the figures were taken on. Each sorts in memory up to _PG_BUILD_MEMORY
# (a million contacts' widest index sorts in ~100 MB; the default 64 MB spills to disk).
_PG_BUILDERS = 2
_PG_BUILD_MEMORY = "256MB"
# How long dropping indexes and keys before a bulk load waits for another transaction's lock.
_LOCK_TIMEOUT = "5s"
# SQLite allows 250,000 bound values per statement in this build, older builds 32,766.
_SQLITE_VALUES_PER_STATEMENT = 30_000


logger = logging.getLogger(__name__)


class Bulk:
    """Vendor-specific bulk statements on Django's default connection."""

    def __init__(self) -> None:
        connection.ensure_connection()
        self.vendor = connection.vendor
        self.sqlite = self.vendor == "sqlite"
        # Seconds each index build or key validation of `restore` took (wall time), and the
        # whole restore's wall time (builds run side by side on PostgreSQL), for benchmarks.
        self.rebuilt: dict[str, float] = {}
        self.rebuilt_wall = 0.0

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
        PostgreSQL's chunks commit with synchronous_commit off, so the server's WAL writer
        flushes a chunk's log on the other core while the next chunk is read; the last,
        synchronous commit flushes the log up to itself, and so every chunk before it.
        """
        # Inside a caller's transaction the chunks are savepoints: there is no commit to speed up
        # (and SQLite refuses to change the setting there).
        if connection.in_atomic_block:
            yield
            return
        if not self.sqlite:
            with self._asynchronous_commits():
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
    def _asynchronous_commits(self) -> Iterator[None]:
        cursor = self.cursor()
        try:
            cursor.execute("SHOW synchronous_commit")
            (mode,) = cursor.fetchone()
            cursor.execute("SET synchronous_commit = off")
            try:
                yield
                cursor.execute("SET synchronous_commit = on")
                with transaction.atomic():
                    # A transaction id makes the commit write (and wait for) a commit record.
                    cursor.execute("SELECT pg_current_xact_id()")
            finally:
                cursor.execute("SELECT set_config('synchronous_commit', %s, false)", [mode])
        finally:
            cursor.close()

    @contextmanager
    def built_after_load(self, models: Sequence[type[Model]]) -> Iterator[None]:
        """Drop the models' non-unique indexes and, on PostgreSQL, their foreign keys for a large
        load; build them again after.

        Both databases insert each row into every index of its table, one B-tree descent
        each, and with a million rows most descents miss the cache; CREATE INDEX sorts the
        table once, several times cheaper. On PostgreSQL every inserted row also queues a
        foreign-key check per reference, run at commit (Django's keys are deferred): ~100 µs a
        contact with its transition and assignment, against well under a second per key to
        validate a million rows at the end. This is pg_restore's order: data, then indexes,
        then constraints. Unique indexes stay: they are what keeps one contact per email while
        the load and other writers run. Readers meanwhile get the right rows, only slower; the
        indexes and keys come back when the load ends, fails, or, if the process was killed,
        when the next import starts (`restore`). Chunks still commit one by one.
        """
        if connection.in_atomic_block:
            yield
            return
        try:
            self._drop(models)
        except (OperationalError, connection.Database.OperationalError):
            # (The driver's own error: the statements run on its cursor, see `cursor`.)
            # Another transaction held one of the tables (or a table a key refers to) longer than
            # the lock timeout: load with everything in place rather than queue every other
            # writer behind this one.
            logger.warning("Bulk load with indexes kept: a table stayed locked for %s", _LOCK_TIMEOUT)
        try:
            yield
        finally:
            self.restore(models)

    def _drop(self, models: Sequence[type[Model]]) -> None:
        present = self._index_names(models)
        keys = self._present_foreign_keys(models)
        cursor = self.cursor()
        try:
            with transaction.atomic():
                if not self.sqlite:
                    # DROP takes an exclusive lock on the table, and a key's drop on the table
                    # it refers to (users, accounts, campaigns) as well, for an instant; waiting
                    # behind a long reader would stop every writer queued behind it.
                    cursor.execute(f"SET LOCAL lock_timeout = '{_LOCK_TIMEOUT}'")
                for name in self._secondary_indexes(models):
                    if name in present:
                        cursor.execute(f'DROP INDEX "{name}"')
                for name, (table, _) in self._foreign_keys(models).items():
                    if name in keys:
                        cursor.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
        finally:
            cursor.close()

    def restore(self, models: Sequence[type[Model]]) -> list[str]:
        """Build the models' missing non-unique indexes and foreign keys; return their names.

        Indexes first, then keys: adding a key NOT VALID takes an instant, and validating it
        (a scan of the table, which only stops schema changes, not writers) runs on the same
        connections as the index builds, several at once on PostgreSQL.
        """
        present = self._index_names(models)
        indexes = [(name, sql) for name, sql in self._secondary_indexes(models).items() if name not in present]
        keys = self._present_foreign_keys(models)
        wanted = self._foreign_keys(models)
        added = [(name, sql) for name, (_, sql) in wanted.items() if name not in keys]
        unvalidated = [
            (name, f'ALTER TABLE "{table}" VALIDATE CONSTRAINT "{name}"')
            for name, (table, _) in wanted.items() if not keys.get(name, False)
        ]
        if not indexes and not unvalidated:
            return []
        started = time.perf_counter()
        self._run_each(indexes)
        if added:
            cursor = self.cursor()
            try:
                for _, sql in added:
                    with transaction.atomic():
                        cursor.execute(f"{sql} NOT VALID")
            finally:
                cursor.close()
        for failure in self._run_each(unvalidated):
            # A row refers to a user, account or campaign deleted while the keys were off.
            # The key stays NOT VALID (it still checks every new row) and the next import
            # validates it again.
            logger.warning("A foreign key could not be validated after a bulk load: %s", failure)
        self.rebuilt_wall += time.perf_counter() - started
        return [name for name, _ in indexes] + [name for name, _ in added]

    def _run_each(self, statements: list[tuple[str, str]]) -> list[str]:
        """Run each statement in its own transaction; record each one's wall time in `rebuilt`.

        Return the foreign keys that failed to validate (see `_run_on_connections`).
        """
        if not statements:
            return []
        if self.sqlite:
            cursor = self.cursor()
            try:
                # CREATE INDEX sorts the table; with helper threads SQLite's sorter uses the
                # second core for part of it. One connection: SQLite has one writer at a time.
                (threads,) = cursor.execute("PRAGMA threads").fetchone()
                cursor.execute(f"PRAGMA threads = {_SQLITE_SORT_THREADS}")
                for name, sql in statements:
                    started = time.perf_counter()
                    with transaction.atomic():
                        cursor.execute(sql)
                    self.rebuilt[name] = time.perf_counter() - started
                cursor.execute(f"PRAGMA threads = {int(threads)}")
            finally:
                cursor.close()
            return []
        return _run_on_connections(statements, self.rebuilt)

    def _index_names(self, models: Sequence[type[Model]]) -> set[str]:
        tables = [model._meta.db_table for model in models]
        if self.sqlite:
            sql = "SELECT name FROM sqlite_master WHERE type = 'index' AND " + self.any_of("tbl_name")  # noqa: S608 (a fixed condition on a bound parameter)
        else:
            sql = "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND " + self.any_of("tablename")  # noqa: S608 (same)
        return {name for (name,) in self.fetch(sql, [self.list_param(tables)])}

    def _present_foreign_keys(self, models: Sequence[type[Model]]) -> dict[str, bool]:
        """Return the models' foreign keys present in the database, and whether each is validated."""
        if self.sqlite:
            return {}
        return dict(self.fetch(
            "SELECT conname, convalidated FROM pg_constraint WHERE contype = 'f'"
            " AND conrelid = ANY(%s::regclass[])",
            [[model._meta.db_table for model in models]],
        ))

    def _foreign_keys(self, models: Sequence[type[Model]]) -> dict[str, tuple[str, str]]:
        """Return the foreign keys migrate makes for the models: name → (table, ADD statement).

        None on SQLite, whose keys are part of the table (and checked by a cheap probe of the
        referenced primary key).
        """
        if self.sqlite:
            return {}
        editor = connection.schema_editor()
        keys = {}
        for model in models:
            for field in model._meta.local_concrete_fields:
                if field.remote_field is not None and field.db_constraint:
                    statement = editor._create_fk_sql(model, field, "_fk_%(to_table)s_%(to_column)s")
                    keys[str(statement.parts["name"]).strip('"')] = (model._meta.db_table, str(statement))
        return keys

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


def _run_on_connections(statements: list[tuple[str, str]], seconds: dict[str, float]) -> list[str]:
    """Run PostgreSQL statements (index builds, key validations) on parallel connections.

    Return the foreign keys that failed to validate, each with the error.

    Different indexes of one table build at once (each CREATE INDEX takes a SHARE lock, which
    other builds share), and so do validations (SHARE UPDATE EXCLUSIVE on the table,
    ROW SHARE on the referenced one). Each is a sort or a scan of a table bound by one core.
    """
    import psycopg

    queue = list(reversed(statements))
    lock = threading.Lock()
    errors: list[BaseException] = []
    violations: list[str] = []
    params = connection.get_connection_params()

    def work() -> None:
        with psycopg.connect(**params, autocommit=True) as conn:
            conn.execute(f"SET maintenance_work_mem = '{_PG_BUILD_MEMORY}'")
            while True:
                with lock:
                    if not queue or errors:
                        return
                    name, sql = queue.pop()
                started = time.perf_counter()
                try:
                    conn.execute(sql)
                except psycopg.errors.ForeignKeyViolation as error:
                    with lock:
                        violations.append(f"{name}: {error}")
                    continue
                except BaseException as error:
                    with lock:
                        errors.append(error)
                    return
                with lock:
                    seconds[name] = time.perf_counter() - started

    threads = [threading.Thread(target=work, name=f"accord-import-build-{n}")
               for n in range(min(_PG_BUILDERS, len(statements)))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return violations


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

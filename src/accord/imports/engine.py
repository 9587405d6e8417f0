"""The import loop: read a file in chunks, check each row, upsert each chunk in one transaction.

A reader thread parses and checks the next chunk while the database writes the current one
(SQLite and psycopg release the GIL while they work). Chunks commit one by one, so an import
killed half-way keeps what it wrote, and running it again re-upserts the same rows: the rows
already written come out unchanged.

A person, company, deal or cost that appears twice in one file is taken once: a later row
with exactly the same values counts as unchanged, one with different values is rejected
naming the row it repeats. Applying both would make a second run of the same file undo and
redo the first row's values (and record stage changes) every time; which row is right is
the user's call, and the error report shows both.
"""

from __future__ import annotations

import csv
import datetime as dt
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from accord.imports.bulk import Bulk
from accord.imports.parallel import CHILD_PROCESS_BYTES, can_fork, in_child_process
from accord.imports.presets import (
    Layout,
    header_cells_needed,
    parse_mapping,
    resolve_layout,
    without_summary_lines,
)
from accord.imports.reading import CsvSource, Encoding, ImportRefused
from accord.imports.values import Parser, too_long

# Each chunk costs a few queries and a commit whatever its size; 10,000 rows keep those
# under a tenth of the time while a chunk's memory stays in the tens of megabytes.
CHUNK_ROWS = 10_000
# The summary (and --json) lists this many errors; the error report holds all of them.
LISTED_ERRORS = 1_000
# Cells that exports write for "no value".
EMPTY_CELLS = frozenset({"n/a", "na", "-", "--", "null", "none", "#n/a"})


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message}


@dataclass
class ImportProgress:
    rows: int
    bytes_read: int
    bytes_total: int
    created: int
    updated: int
    unchanged: int
    rejected: int


@dataclass
class ImportSummary:
    """What an import did (or, for a dry run, would do)."""

    kind: str
    file: str
    preset: str
    preset_detected: bool
    encoding: str
    delimiter: str
    dry_run: bool
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    error_report: str | None = None
    seconds: float = 0.0
    # CPU seconds per phase when the fast path ran (contacts_fast.Phases), for benchmarks.
    phases: Any = None

    def as_json(self) -> dict[str, Any]:
        """Return the machine-readable summary `accord import --json` prints."""
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "errors": [error.as_dict() for error in self.errors],
        }

    def as_result(self) -> dict[str, Any]:
        """Return everything a Job keeps about the import."""
        return {
            **self.as_json(),
            "kind": self.kind,
            "file": self.file,
            "preset": self.preset,
            "encoding": self.encoding,
            "delimiter": self.delimiter,
            "dry_run": self.dry_run,
            "rows": self.rows,
            "ignored_columns": self.ignored_columns,
            "error_report": self.error_report,
            "seconds": round(self.seconds, 3),
        }


@dataclass
class Rejection:
    row: int
    cells: list[str] | str  # as in Prepared
    errors: list[tuple[str, str]]


@dataclass
class Prepared:
    """A row whose cells all parsed: its values by field, ready to diff against the database."""

    row: int
    # The raw cells, for the error report; joined in one string when the row was read in the
    # child process (see row_cells).
    cells: list[str] | str
    values: dict[str, Any]


@dataclass
class Batch:
    rows: list[Prepared] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    repeats: int = 0
    records: int = 0
    bytes_read: int = 0


@dataclass
class Outcome:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[Rejection] = field(default_factory=list)


class SeenKeys:
    """Remember every key an import has taken and the row that took it, in 20 bytes a key.

    Python sets would cost ~150 bytes a key; sorted numpy runs, merged as they grow
    (a log-structured merge), keep a million-row file's index near 20 MB. Runs stop
    merging at MAX_RUN keys, so the buffers a merge needs stay the same size however
    long the file is, at the price of one more binary search per 64k keys.
    """

    MAX_RUN = 1 << 16

    def __init__(self) -> None:
        self._runs: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []

    def lookup(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return (first row or -1, digest) for each key."""
        rows = np.full(len(keys), -1, dtype=np.int32)
        digests = np.zeros(len(keys), dtype=np.int64)
        for run_keys, run_rows, run_digests in self._runs:
            at = np.searchsorted(run_keys, keys)
            at[at == len(run_keys)] = 0
            hit = (run_keys[at] == keys) & (rows < 0)
            rows[hit] = run_rows[at[hit]]
            digests[hit] = run_digests[at[hit]]
        return rows, digests

    def add(self, keys: np.ndarray, rows: np.ndarray, digests: np.ndarray) -> None:
        order = np.argsort(keys, kind="stable")
        self._runs.append((keys[order], rows[order].astype(np.int32), digests[order]))
        while len(self._runs) > 1:
            older, newer = self._runs[-2], self._runs[-1]
            size = len(older[0]) + len(newer[0])
            if len(older[0]) > 2 * len(newer[0]) or size > self.MAX_RUN:
                break
            self._runs[-2:] = []
            merged = [np.concatenate([a, b]) for a, b in zip(older, newer, strict=True)]
            order = np.argsort(merged[0], kind="stable")
            self._runs.append(tuple(part[order] for part in merged))


@dataclass
class Context:
    by: Any
    file_name: str
    dry_run: bool
    now: dt.datetime
    tz: dt.tzinfo

    @property
    def reason(self) -> str:
        return f"Imported from {self.file_name}"[:500]


class Importer:
    """Parse, check and upsert one kind of record. Subclasses name their fields' parsers,
    their identities (the keys a row is matched by) and how a chunk is applied."""

    kind = ""

    def __init__(self, *, layout: Layout, context: Context) -> None:
        self.layout = layout
        self.context = context
        self.steps: list[tuple[str, int, str, Parser]] = []
        self._seen: dict[str, SeenKeys] = {}

    # --- set up in the calling thread (may query the database) ---------------------------

    def load(self) -> None:
        parsers = self.parsers()
        self.steps = [
            (target, index, self.layout.header[index], parsers[target])
            for target, index in self.layout.columns.items()
            if target in parsers
        ]

    def parsers(self) -> dict[str, Parser]:
        raise NotImplementedError

    # --- in the reader thread: no database ---------------------------------------------

    def check(self, values: dict[str, Any]) -> list[tuple[str, str]] | None:
        """Derive values from others and check rules that span fields; return errors."""
        return None

    def identities(self, values: dict[str, Any]) -> list[tuple[str, Any]]:
        """Return the (identity name, value) pairs that make two rows the same record."""
        raise NotImplementedError

    def prepare(self, records: list[tuple[int, list[str]]], *, repeats: bool = True) -> Batch:
        """Parse and check a chunk of records column by column.

        `repeats=False` skips the comparison with earlier rows of the file, for rows whose
        keys the caller knows occur once.

        Column-wise, a repetitive column (stage, owner, country) costs one dictionary look-up
        per row and one parse per distinct cell, and a text column one length check; a
        per-cell function call would cost several times more.
        """
        batch = Batch(records=len(records))
        if not records:
            return batch
        width = len(self.layout.header)
        table = [cells if len(cells) >= width else [*cells, *[""] * (width - len(cells))]
                 for _, cells in records]
        targets: list[str] = []
        columns: list[list[Any]] = []
        errors_at: dict[int, list[tuple[str, str]]] = {}
        for target, index, column, parse in self.steps:
            cells = [row[index].strip() for row in table]
            targets.append(target)
            columns.append(_parse_column(cells, column, parse, errors_at))
        check = self.check
        for position, values_row in enumerate(zip(*columns, strict=True)):
            row, cells = records[position]
            errors = errors_at.get(position)
            if errors:
                batch.rejected.append(Rejection(row, cells, errors))
                continue
            values = {t: value for t, value in zip(targets, values_row, strict=True) if value is not _MISSING}
            errors = check(values)
            if errors:
                batch.rejected.append(Rejection(row, cells, errors))
            else:
                batch.rows.append(Prepared(row, cells, values))
        if repeats:
            self._drop_repeats(batch)
        return batch

    def _drop_repeats(self, batch: Batch) -> None:
        rows = batch.rows
        if not rows:
            return
        digests = [hash(tuple(item.values.items())) for item in rows]
        keys_of = [self.identities(item.values) for item in rows]
        if self._all_new(rows, keys_of, digests):
            return
        earlier: dict[tuple[str, Any], int] = {}
        seen_before: dict[str, tuple[np.ndarray, np.ndarray, dict[int, int]]] = {}
        for name in {name for keys in keys_of for name, _ in keys}:
            positions = [i for i, keys in enumerate(keys_of) for n, _ in keys if n == name]
            hashes = np.array(
                [hash(value) for keys in keys_of for n, value in keys if n == name], dtype=np.int64
            )
            found_rows, found_digests = self._seen.setdefault(name, SeenKeys()).lookup(hashes)
            hits = {positions[j]: j for j in np.flatnonzero(found_rows >= 0).tolist()}
            seen_before[name] = (found_rows, found_digests, hits)
        kept: list[Prepared] = []
        new_keys: dict[str, list[tuple[int, int, int]]] = {}
        for i, item in enumerate(rows):
            first: tuple[int, int, str, Any] | None = None
            for name, value in keys_of[i]:
                found_rows, found_digests, hits = seen_before[name]
                if i in hits:
                    j = hits[i]
                    first = (int(found_rows[j]), int(found_digests[j]), name, value)
                    break
                if (name, value) in earlier:
                    k = earlier[(name, value)]
                    first = (rows[k].row, digests[k], name, value)
                    break
            if first is None:
                for name, value in keys_of[i]:
                    earlier[(name, value)] = i
                    new_keys.setdefault(name, []).append((hash(value), item.row, digests[i]))
                kept.append(item)
            elif first[1] == digests[i]:
                batch.repeats += 1
            else:
                row, _, name, value = first
                batch.rejected.append(Rejection(item.row, item.cells, [(
                    self.layout.column(name),
                    f"same {self.kind[:-1]} as row {row} ({name.replace('_', ' ')} {value}) with "
                    "different values; keep one row per record and import it again",
                )]))
        batch.rows = kept
        for name, entries in new_keys.items():
            array = np.array(entries, dtype=np.int64)
            self._seen[name].add(array[:, 0], array[:, 1], array[:, 2])

    def _all_new(self, rows: list[Prepared], keys_of: list[list[tuple[str, Any]]],
                 digests: list[int]) -> bool:
        """Remember the chunk's keys and return True when no row repeats an earlier one.

        The usual case, checked with set sizes and one look-up per key; only a chunk with
        repeats goes through the row-by-row comparison.
        """
        by_name: dict[str, tuple[list[int], list[Any]]] = {}
        for position, keys in enumerate(keys_of):
            for name, value in keys:
                entry = by_name.get(name)
                if entry is None:
                    entry = by_name[name] = ([], [])
                entry[0].append(position)
                entry[1].append(value)
        hashed: dict[str, tuple[np.ndarray, list[int]]] = {}
        for name, (positions, values) in by_name.items():
            if len(set(values)) != len(values):
                return False
            hashes = np.fromiter(map(hash, values), dtype=np.int64, count=len(values))
            seen = self._seen.get(name)
            if seen is not None and (seen.lookup(hashes)[0] >= 0).any():
                return False
            hashed[name] = (hashes, positions)
        for name, (hashes, positions) in hashed.items():
            self._seen.setdefault(name, SeenKeys()).add(
                hashes,
                np.fromiter((rows[p].row for p in positions), dtype=np.int64, count=len(positions)),
                np.fromiter((digests[p] for p in positions), dtype=np.int64, count=len(positions)),
            )
        return True

    # --- in the calling thread ---------------------------------------------------------

    def columnar(self, source: CsvSource) -> Any | None:
        """Return the column-wise fast path for this file, or None to read it row by row."""
        return None

    def writing(self, *, file_bytes: int) -> AbstractContextManager[None]:
        """Return what surrounds the whole load (see ContactImporter's bulk load)."""
        return nullcontext()

    # --- in the calling thread, inside the chunk's transaction ---------------------------

    def apply(self, batch: Batch, *, write: bool) -> Outcome:
        raise NotImplementedError

    def forget(self) -> None:
        """Drop caches of database state, after a chunk was rolled back."""


_MISSING: Any = object()
# Joins a row's cells for the trip to the parent process: one string pickles far faster than
# a list of them. A row holding this character itself travels as a list.
_CELL_SEPARATOR = "\x1f"


def row_cells(cells: list[str] | str) -> list[str]:
    """Return a row's cells, also when they came from the child process joined in one string."""
    return cells.split(_CELL_SEPARATOR) if isinstance(cells, str) else cells


def pack_batch(batch: Batch) -> tuple:
    """Return a batch in a form that pickles fast (see parallel.py).

    Each row's values travel as a tuple plus the index of its field names: rows of one file
    mostly share their set of fields, so those tuples of names are pickled once.
    """
    field_sets: dict[tuple[str, ...], int] = {}
    rows = []
    separator = _CELL_SEPARATOR
    for item in batch.rows:
        values = item.values
        names = tuple(values)
        index = field_sets.get(names)
        if index is None:
            index = field_sets[names] = len(field_sets)
        joined = separator.join(item.cells)
        cells = joined if joined.count(separator) == len(item.cells) - 1 else item.cells
        rows.append((item.row, cells, index, tuple(values.values())))
    return batch.records, batch.bytes_read, batch.repeats, batch.rejected, list(field_sets), rows


def unpack_batch(packed: tuple) -> Batch:
    records, bytes_read, repeats, rejected, field_sets, packed_rows = packed
    # The cells stay joined: only a row rejected while writing needs them (see row_cells).
    rows = [
        Prepared(row, cells, dict(zip(field_sets[index], values, strict=True)))
        for row, cells, index, values in packed_rows
    ]
    return Batch(rows=rows, rejected=rejected, repeats=repeats, records=records, bytes_read=bytes_read)


def _is_empty(raw: str) -> bool:
    return not raw or (len(raw) <= 4 and raw.lower() in EMPTY_CELLS)


def _parse_column(
    cells: list[str], column: str, parse: Parser, errors_at: dict[int, list[tuple[str, str]]]
) -> list[Any]:
    """Return one column's values (_MISSING where empty or invalid), noting errors by position."""
    memo = getattr(parse, "memo", None)
    if memo is not None:
        inner = parse.inner  # type: ignore[attr-defined]
        if len(memo) > parse.limit:  # type: ignore[attr-defined]
            memo.clear()
        distinct = set(cells)
        for raw in distinct.difference(memo):
            # Empty cells stay out of the memo, which the parser shares with its callers.
            if not _is_empty(raw):
                try:
                    memo[raw] = inner(raw)
                except ValueError as error:
                    memo[raw] = error
        values = [memo.get(raw, _MISSING) for raw in cells]
        bad = {raw for raw in distinct if isinstance(memo.get(raw), ValueError)}
        if bad:
            for position, raw in enumerate(cells):
                if raw in bad:
                    errors_at.setdefault(position, []).append((column, str(memo[raw])))
                    values[position] = _MISSING
        return values
    limit = getattr(parse, "max_length", None)
    if limit is not None:
        values = list(cells)
        for position, raw in enumerate(cells):
            if len(raw) <= 4 and _is_empty(raw):
                values[position] = _MISSING
        if max(map(len, cells)) > limit:
            for position, raw in enumerate(cells):
                if len(raw) > limit:
                    errors_at.setdefault(position, []).append((column, too_long(raw, limit)))
                    values[position] = _MISSING
        return values
    values = []
    append = values.append
    for position, raw in enumerate(cells):
        if len(raw) <= 4 and _is_empty(raw):
            append(_MISSING)
            continue
        try:
            append(parse(raw))
        except ValueError as error:
            errors_at.setdefault(position, []).append((column, str(error)))
            append(_MISSING)
    return values


class ErrorReport:
    """The rejected rows of an import as CSV: row, column, message, then the row's own cells."""

    def __init__(self, path: Path, header: list[str]) -> None:
        self.path = path
        self.header = header
        self._handle = None
        self._writer = None

    def write(self, rejections: Iterable[Rejection]) -> None:
        for rejection in rejections:
            if self._writer is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                # utf-8-sig: Excel, where most people will open it, then shows accents right.
                self._handle = self.path.open("w", newline="", encoding="utf-8-sig")
                self._writer = csv.writer(self._handle)
                self._writer.writerow(["row", "column", "message", *self.header])
            cells = row_cells(rejection.cells)
            for column, message in rejection.errors:
                self._writer.writerow([rejection.row, column, message, *cells])

    def close(self) -> str | None:
        if self._handle is None:
            return None
        self._handle.close()
        return str(self.path)


def default_report_path(source: Path) -> Path:
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S-%f")
    return Path(settings.MEDIA_ROOT) / "imports" / f"{source.stem}-errors-{stamp}.csv"


def chunked(records: Iterator[tuple[int, list[str]]], size: int) -> Iterator[list[tuple[int, list[str]]]]:
    chunk: list[tuple[int, list[str]]] = []
    for record in records:
        chunk.append(record)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


_DONE = object()


def prefetched(items: Iterator[Any], depth: int = 2) -> Iterator[Any]:
    """Produce `items` in a background thread, at most `depth` ahead of the consumer."""
    handoff: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def offer(item: Any) -> bool:
        # Every put watches `stop`: a consumer that failed takes nothing more, and a blocked
        # put would keep this thread, and the consumer's join, waiting forever.
        while not stop.is_set():
            try:
                handoff.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not offer(item):
                    return
            offer(_DONE)
        except BaseException as error:  # handed to the consumer, which re-raises it
            offer(error)

    worker = threading.Thread(target=produce, name="accord-import-reader", daemon=True)
    worker.start()
    try:
        while True:
            item = handoff.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        worker.join()


def apply_chunk(importer: Importer, batch: Batch, *, dry_run: bool) -> Outcome:
    """Apply one chunk in its own transaction; retry once if a concurrent writer took a key."""
    if dry_run:
        return importer.apply(batch, write=False)
    try:
        with transaction.atomic():
            return importer.apply(batch, write=True)
    except integrity_errors():
        importer.forget()
        with transaction.atomic():
            return importer.apply(batch, write=True)


def integrity_errors() -> tuple[type[Exception], ...]:
    """Return the errors a broken unique index raises, through Django's cursor or the driver's.

    The imports write through the driver's own cursor (see bulk.Bulk.cursor), whose errors
    Django does not translate.
    """
    return IntegrityError, connection.Database.IntegrityError


def run_import(
    *,
    importers: dict[str, type[Importer]],
    kind: str,
    path: Path | str,
    by=None,
    preset: str | None = None,
    mapping: list[str] | dict[str, str] | None = None,
    encoding: str | None = None,
    dry_run: bool = False,
    on_progress: Callable[[ImportProgress], None] | None = None,
    report_path: Path | None = None,
    chunk_rows: int | None = None,
    child_process: bool | None = None,
    fast_path: bool = True,
) -> ImportSummary:
    """Import one CSV file; see services.import_file.

    `child_process` reads and checks the file in a second process (default: for files of
    CHILD_PROCESS_BYTES and more, where fork is available). `fast_path` lets an importer
    check and write whole columns at once where the file allows it (contacts; not for dry
    runs, which read the database row by row as today); False reads every row one by one.
    """
    started = time.perf_counter()
    path = Path(path)
    if kind not in importers:
        raise ImportRefused(f"Unknown import kind {kind!r}; choose one of: {', '.join(importers)}.")
    with CsvSource(path, encoding=encoding, min_header_cells=header_cells_needed(kind)) as source:
        layout = resolve_layout(
            kind=kind, header=source.header, preset=preset, mapping=parse_mapping(mapping)
        )
        context = Context(
            by=by, file_name=path.name, dry_run=dry_run, now=timezone.now(),
            tz=timezone.get_default_timezone(),
        )
        importer = importers[kind](layout=layout, context=context)
        importer.load()
        summary = _summary(kind, path, layout, source.encoding, source.delimiter, dry_run)
        report = ErrorReport(report_path or default_report_path(path), source.header)

        def prepared() -> Iterator[Batch]:
            for records in chunked(without_summary_lines(source.records(), layout), chunk_rows or CHUNK_ROWS):
                batch = importer.prepare(records)
                batch.bytes_read = source.bytes_read
                yield batch

        fast = importer.columnar(source) if fast_path and not dry_run else None
        if fast is not None:
            try:
                with Bulk().fast_commits(), importer.writing(file_bytes=source.size):
                    summary = _run_fast_chunks(fast, report, summary, source, on_progress=on_progress)
            finally:
                summary.error_report = report.close()
                summary.phases = fast.phases
            summary.seconds = time.perf_counter() - started
            return summary
        if child_process is None:
            child_process = source.size >= CHILD_PROCESS_BYTES and can_fork()
        # Either way a thread takes the next chunk (from the child, or parsing it) while the
        # database writes this one.
        batches = prefetched(
            in_child_process(prepared, pack=pack_batch, unpack=unpack_batch) if child_process
            else prepared()
        )
        try:
            with Bulk().fast_commits(), importer.writing(file_bytes=source.size):
                summary = _run_chunks(importer, batches, report, summary, source,
                                      dry_run=dry_run, on_progress=on_progress)
        finally:
            summary.error_report = report.close()
    summary.seconds = time.perf_counter() - started
    return summary


def _run_fast_chunks(fast, report, summary, source, *, on_progress):
    """Apply the fast path's chunks, each in its own transaction (see apply_chunk)."""
    # One chunk checked ahead of the one being written: each holds its block's raw cells too.
    for chunk in prefetched(fast.chunks(), depth=1):
        fast.phases.read_check += chunk.seconds
        prepared = fast.prepare(chunk)
        try:
            with transaction.atomic():
                outcome, repeats = fast.apply(chunk, prepared, write=True)
        except integrity_errors():
            fast.forget()
            with transaction.atomic():
                outcome, repeats = fast.apply(chunk, prepared, write=True)
        _count(summary, report, outcome, [], chunk.rows, repeats)
        _report_progress(summary, source, chunk.bytes_read, on_progress)
    return summary


def _count(summary, report, outcome, rejected_before, records, repeats):
    rejected = [*rejected_before, *outcome.rejected]
    rejected.sort(key=lambda item: item.row)
    report.write(rejected)
    summary.rows += records
    summary.created += outcome.created
    summary.updated += outcome.updated
    summary.unchanged += outcome.unchanged + repeats
    summary.rejected += len(rejected)
    for rejection in rejected:
        for column, message in rejection.errors:
            if len(summary.errors) < LISTED_ERRORS:
                summary.errors.append(RowError(rejection.row, column, message))


def _report_progress(summary, source, bytes_read, on_progress):
    if on_progress:
        on_progress(ImportProgress(
            rows=summary.rows, bytes_read=bytes_read, bytes_total=source.size,
            created=summary.created, updated=summary.updated,
            unchanged=summary.unchanged, rejected=summary.rejected,
        ))


def _run_chunks(importer, batches, report, summary, source, *, dry_run, on_progress):
    for batch in batches:
        outcome = apply_chunk(importer, batch, dry_run=dry_run)
        _count(summary, report, outcome, batch.rejected, batch.records, batch.repeats)
        _report_progress(summary, source, batch.bytes_read, on_progress)
    return summary


def _summary(
    kind: str, path: Path, layout: Layout, encoding: Encoding, delimiter: str, dry_run: bool
) -> ImportSummary:
    return ImportSummary(
        kind=kind, file=str(path), preset=layout.preset, preset_detected=layout.preset_detected,
        encoding=str(encoding), delimiter=delimiter, dry_run=dry_run,
        ignored_columns=list(layout.ignored),
    )

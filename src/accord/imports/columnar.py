"""Read a CSV file as frames of string columns with polars, keeping each record's line number.

polars parses a block of records in multi-threaded native code, where `csv.reader` plus the
row-by-row checks cost ~60 µs of Python per row. What polars does not give is the line where
each record starts, which every error message names. It is found here with numpy: a record
ends at a newline outside quotes, that is, one preceded by an even number of quote
characters since the record began (standard CSV doubles a quote inside a quoted field, so
the parity holds). Blocks are cut at such a newline, so every block parses on its own and
memory stays flat.

Only what the per-row reader (`reading.CsvSource`) would read the same way goes through here:
UTF-8 or ASCII, no carriage return except before a newline, no header spanning lines, and
every block's record count matching what polars parsed (a stray quote in an unquoted field, or
a row with more cells than the header, makes polars refuse or disagree). Anything else raises
NotColumnar, and the caller reads the file with the per-row reader instead.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

# A block holds ~25,000 rows of a typical export: big enough that the per-chunk statements
# cost little per row, small enough that a chunk's frames stay in the tens of megabytes.
BLOCK_BYTES = 4 << 20
_NEWLINE, _QUOTE, _CR = 10, 34, 13
_CODECS = frozenset({"utf-8", "utf-8-sig"})


def _count_before(array: np.ndarray, byte: int, positions: np.ndarray) -> np.ndarray:
    """Count the occurrences of `byte` in `array` before each of `positions`."""
    # Searching the byte's positions costs a fraction of a running count over every byte of
    # the block (a 32 MiB int64 array per 4 MiB block, three times per block and pass).
    return np.searchsorted(np.flatnonzero(array == byte), positions)


class NotColumnar(Exception):
    """The file needs the per-row reader (see the module docstring)."""


@dataclass
class Block:
    """Consecutive records of the file: one string column per header column, c0 … cN-1."""

    table: pl.DataFrame
    # The line where each record starts, counting the header as line 1.
    lines: np.ndarray
    bytes_read: int


def column_name(index: int) -> str:
    return f"c{index}"


class ColumnarFile:
    """A CSV file the per-row reader has opened (its encoding, delimiter and header known)."""

    def __init__(self, path: Path, *, codec: str, delimiter: str, header_line: int, width: int,
                 block_bytes: int | None = None) -> None:
        if codec not in _CODECS or header_line != 1 or width == 0:
            raise NotColumnar(f"encoding {codec}, header on line {header_line}")
        self.path = path
        self.delimiter = delimiter
        self.width = width
        self.block_bytes = block_bytes or BLOCK_BYTES
        self.size = path.stat().st_size
        with path.open("rb") as handle:
            head = handle.read(1 << 20)
        start = 3 if head.startswith(b"\xef\xbb\xbf") else 0
        end = head.find(b"\n", start)
        if end < 0 or head[start:end].count(b'"') % 2:
            raise NotColumnar("the header line does not end within the first megabyte")
        self.data_offset = end + 1

    def blocks(self, columns: list[int] | None = None) -> Iterator[Block]:
        """Yield the file's records in blocks; only `columns` are parsed when given."""
        names = [column_name(i) for i in range(self.width)]
        line = 2  # where the block's first record starts
        with self.path.open("rb") as handle:
            handle.seek(self.data_offset)
            carry = b""
            while True:
                read = handle.read(self.block_bytes)
                data = carry + read
                if not data:
                    return
                at_end = not read
                cut = self._last_record_end(data, at_end)
                if cut is None:
                    if at_end:
                        raise NotColumnar("unterminated quoted field at the end of the file")
                    carry = data
                    continue
                body, carry = data[:cut], data[cut:]
                block, line = self._parse(body, line, names, columns)
                block.bytes_read = min(handle.tell(), self.size) - len(carry)
                if block.table.height:
                    yield block
                if at_end:
                    if carry:
                        raise NotColumnar("unterminated quoted field at the end of the file")
                    return

    @staticmethod
    def _last_record_end(data: bytes, at_end: bool) -> int | None:
        """Return the length of `data`'s complete records (through their last newline)."""
        if at_end:
            return len(data)
        array = np.frombuffer(data, dtype=np.uint8)
        newlines = np.flatnonzero(array == _NEWLINE)
        if not len(newlines):
            return None
        ends = newlines[(_count_before(array, _QUOTE, newlines) & 1) == 0]
        return int(ends[-1]) + 1 if len(ends) else None

    def _parse(self, body: bytes, line: int, names: list[str], columns: list[int] | None) -> tuple[Block, int]:
        array = np.frombuffer(body, dtype=np.uint8)
        if not body.isascii():
            try:
                body.decode("utf-8")
            except UnicodeDecodeError as error:
                raise NotColumnar(f"not UTF-8: {error.reason}") from None
        returns = np.flatnonzero(array == _CR)
        if len(returns) and (returns[-1] + 1 >= len(array) or (array[returns + 1] != _NEWLINE).any()):
            raise NotColumnar("a carriage return without a newline")
        newlines = np.flatnonzero(array == _NEWLINE)
        record_ends = newlines[(_count_before(array, _QUOTE, newlines) & 1) == 0] if len(newlines) else newlines
        if not len(record_ends) or record_ends[-1] != len(array) - 1:
            record_ends = np.append(record_ends, len(array))  # the file's last line, unterminated
        starts = np.concatenate(([0], record_ends[:-1] + 1))
        # Newlines before each record's start, within the block: its line offset.
        newlines_before = np.searchsorted(newlines, starts)
        lines = line + newlines_before
        spans = record_ends - starts
        crlf = (spans == 1) & (array[np.minimum(starts, len(array) - 1)] == _CR)
        blank = (spans == 0) | crlf
        if self.width > 1:
            # A line of spaces is a one-cell record the per-row reader skips; polars keeps it.
            delimiters = np.flatnonzero(array == ord(self.delimiter))
            inside = np.searchsorted(delimiters, record_ends) - np.searchsorted(delimiters, starts)
            for index in np.flatnonzero((inside == 0) & ~blank & (spans > 0)).tolist():
                if not body[starts[index] : record_ends[index]].strip():
                    blank[index] = True
        next_line = line + len(newlines) + (0 if body.endswith(b"\n") else 1)
        try:
            table = pl.read_csv(
                io.BytesIO(body), has_header=False, separator=self.delimiter,
                schema=dict.fromkeys((f"column_{i + 1}" for i in range(self.width)), pl.String),
                empty_string_is_null=False, quote_char='"', columns=columns, raise_if_empty=False,
            )
            table = table.rename({f"column_{i + 1}": names[i] for i in (columns or range(self.width))})
        except (pl.exceptions.PolarsError, ValueError) as error:
            raise NotColumnar(f"polars cannot read the block: {error}") from None
        if table.height != len(starts):
            raise NotColumnar(f"{table.height} records parsed where {len(starts)} were expected")
        keep = ~blank
        if blank.any():
            table = table.filter(pl.Series(keep))
            lines = lines[keep]
        return Block(table, lines, 0), next_line

"""Open a CSV file whatever tool wrote it: detect its encoding and delimiter, stream its records.

Records come one at a time from `csv.reader` over a buffered text stream, so memory does not
depend on the file's size; each carries the line number where it starts, counting the header
as line 1, which stays right when quoted fields hold newlines.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from accord.core.errors import ValidationFailed

SAMPLE_BYTES = 1 << 20
DELIMITERS = (",", ";", "\t")
# Exports with long notes or descriptions exceed csv's 128 KiB default.
csv.field_size_limit(16 << 20)


class ImportRefused(ValidationFailed):
    """The whole file cannot be imported: nothing was written."""


@dataclass(frozen=True)
class Encoding:
    codec: str
    reason: str

    def __str__(self) -> str:
        return f"{self.codec} ({self.reason})"


_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32", "UTF-32 byte-order mark"),
    (codecs.BOM_UTF32_BE, "utf-32", "UTF-32 byte-order mark"),
    (codecs.BOM_UTF8, "utf-8-sig", "UTF-8 byte-order mark"),
    (codecs.BOM_UTF16_LE, "utf-16", "UTF-16 byte-order mark"),
    (codecs.BOM_UTF16_BE, "utf-16", "UTF-16 byte-order mark"),
)


def detect_encoding(sample: bytes, *, whole_file: bool = True) -> Encoding:
    """Decide a file's encoding from its first bytes.

    A byte-order mark decides; otherwise the sample must decode as UTF-8 (a character cut
    at the sample's end is fine unless the sample is the whole file), else it is
    Windows-1252, the encoding of Excel's and Salesforce's "CSV" on Western systems, else
    Latin-1, which decodes any byte.
    """
    for bom, codec, reason in _BOMS:
        if sample.startswith(bom):
            return Encoding(codec, reason)
    # Without a UTF-16/32 byte-order mark, a NUL byte means a spreadsheet, archive or
    # program was uploaded: refuse it plainly rather than read its bytes as column names.
    if b"\x00" in sample:
        raise ImportRefused(
            "The file is not a text CSV file (it holds binary data). Save it as CSV, "
            "for instance with Excel's File › Save As › CSV UTF-8, and try again."
        )
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=whole_file)
    except UnicodeDecodeError:
        pass
    else:
        return Encoding("utf-8", "detected" if not sample.isascii() else "detected, plain ASCII")
    try:
        sample.decode("cp1252")
    except UnicodeDecodeError:
        return Encoding("latin-1", "detected: not UTF-8 nor Windows-1252")
    return Encoding("cp1252", "detected: not UTF-8, read as Windows-1252")


def _fallback_to_cp1252(error: UnicodeError) -> tuple[str, int]:
    # A file whose first megabyte is plain ASCII was judged UTF-8; a later "é" written by a
    # Windows tool is then one stray byte. Read such bytes as Windows-1252 instead of stopping
    # half-way through an import.
    if not isinstance(error, UnicodeDecodeError):
        raise error
    chunk = error.object[error.start : error.end]
    return bytes(chunk).decode("cp1252", errors="replace"), error.end


codecs.register_error("accord-cp1252", _fallback_to_cp1252)


def sniff_delimiter(header_line: str) -> str:
    """Pick the delimiter that splits the header line most often outside quotes (comma on a tie)."""
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for char in header_line:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(DELIMITERS, key=lambda d: (counts[d], d == ","))
    return best if counts[best] else ","


def _filled_cells(line: str) -> int:
    return sum(1 for cell in next(csv.reader([line], delimiter=sniff_delimiter(line)), []) if cell.strip())


class CsvSource:
    """An open CSV file: its encoding, delimiter, header, and a stream of numbered records."""

    def __init__(self, path: Path | str, *, encoding: str | None = None, min_header_cells: int = 1) -> None:
        self.path = Path(path)
        try:
            self._binary = self.path.open("rb")
        except OSError as error:
            raise ImportRefused(f"Cannot open {self.path}: {error.strerror}.") from None
        self.size = self.path.stat().st_size
        sample = self._binary.read(SAMPLE_BYTES)
        self._binary.seek(0)
        if encoding:
            try:
                codec = codecs.lookup(encoding).name
            except LookupError:
                self.close()
                raise ImportRefused(f"Unknown encoding {encoding!r}.") from None
            self.encoding = Encoding(codec, "given with --encoding")
        else:
            self.encoding = detect_encoding(sample, whole_file=len(sample) < SAMPLE_BYTES)
        errors = "accord-cp1252" if self.encoding.codec == "utf-8" and not encoding else "strict"
        self._text = io.TextIOWrapper(
            self._binary, encoding=self.encoding.codec, errors=errors, newline=""
        )
        try:
            first_line = self._text.readline()
        except UnicodeDecodeError as error:
            self.close()
            raise ImportRefused(
                f"The file is not {self.encoding.codec}: {error.reason}. Give the right --encoding."
            ) from None
        if not first_line.strip():
            self.close()
            raise ImportRefused("The file is empty: no header line.")
        # The BOM of a UTF-8 file re-saved by another tool can survive one decoding round.
        first_line = first_line.lstrip("\ufeff")
        self.header_line = 1
        self._lines: Iterator[str] = self._text
        lines = self._title_lines_then_header(first_line, min_header_cells)
        if lines:
            first_line, self.header_line = lines[-1], len(lines)
        self.delimiter = sniff_delimiter(first_line)
        self.header = [cell.strip() for cell in next(csv.reader([first_line], delimiter=self.delimiter))]
        self._reader = csv.reader(self._lines, delimiter=self.delimiter)

    def _title_lines_then_header(self, first_line: str, min_header_cells: int) -> list[str]:
        """Return the lines up to the header when title lines come first, else nothing.

        Ad platforms' reports put a title and a date range above the header: lines with fewer
        cells than the kind's header must have. Without such a header in the first 20 lines
        the first line stays the header, so a file missing a column gets the right refusal.
        """
        lines = [first_line]
        while _filled_cells(lines[-1]) < min_header_cells and len(lines) <= 20:
            try:
                following = self._text.readline()
            except UnicodeDecodeError:
                following = ""
            if not following:
                break
            lines.append(following)
        if len(lines) > 1 and _filled_cells(lines[-1]) >= min_header_cells:
            return lines
        # No header after titles: read again from the second line.
        self._lines = itertools.chain(lines[1:], self._text)
        return []

    def records(self) -> Iterator[tuple[int, list[str]]]:
        """Yield (line number, cells) for every non-blank record after the header."""
        reader = self._reader
        line = self.header_line
        try:
            for cells in reader:
                start = line + 1
                line = reader.line_num + self.header_line
                if cells and (len(cells) > 1 or cells[0].strip()):
                    yield start, cells
        except csv.Error as error:
            raise ImportRefused(f"Line {line + 1} cannot be read as CSV: {error}.") from None
        except UnicodeDecodeError as error:
            raise ImportRefused(
                f"Near line {line + 1} the file is not {self.encoding.codec} ({error.reason}); "
                "rows before it were imported. Run again with the right --encoding: rows "
                "already imported come out unchanged."
            ) from None

    @property
    def bytes_read(self) -> int:
        # The buffered reader's position runs ahead of the parser by at most one buffer.
        return min(self._binary.tell(), self.size)

    def close(self) -> None:
        self._binary.close()

    def __enter__(self) -> CsvSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

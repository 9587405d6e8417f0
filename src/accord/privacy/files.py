"""Personal data in files: the uploads, error reports and list exports Accord keeps in MEDIA_ROOT.

These files are working copies (an import's source, the rows it rejected, a list someone
downloaded), so Accord neither edits nor keeps them long: an erasure deletes every file that
names the erased person, and `purge_expired` deletes all of them after
ACCORD_FILE_RETENTION_DAYS. A job whose file is gone says so instead of offering a download.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from django.conf import settings

CHUNK = 4 * 2**20
# Identifiers worth searching a file for. First or last names alone are not: "anna" would
# delete half the exports. An email, a phone number, an external id or a full name is.
MIN_NEEDLE = 6


def stored_files() -> Iterator[Path]:
    """Yield every file under MEDIA_ROOT (uploads, import error reports, exports)."""
    root = Path(settings.MEDIA_ROOT)
    if root.is_dir():
        yield from (path for path in sorted(root.rglob("*")) if path.is_file())


def _encodings(needles: Iterable[str]) -> list[bytes]:
    # Uploads may be UTF-16 or Latin-1 (the importer reads both): search each spelling.
    result = set()
    for needle in needles:
        for encoding in ("utf-8", "utf-16-le", "latin-1"):
            try:
                result.add(needle.lower().encode(encoding))
            except UnicodeEncodeError:
                continue
    return sorted(result)


def names_any(path: Path, needles: list[bytes]) -> bool:
    """Return whether the file holds any of the needles, compared without regard to ASCII case."""
    overlap = max(map(len, needles)) - 1
    tail = b""
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            window = (tail + chunk).lower()
            if any(needle in window for needle in needles):
                return True
            tail = window[-overlap:] if overlap else b""
    return False


def files_naming(values: Iterable[str]) -> list[Path]:
    """Return the stored files that contain any of the person's identifying values."""
    needles = _encodings(value.strip() for value in values if len(value.strip()) >= MIN_NEEDLE)
    if not needles:
        return []
    return [path for path in stored_files() if names_any(path, needles)]


def delete(paths: Iterable[Path]) -> int:
    """Delete the files (those already gone are skipped) and any upload folder left empty; return how many went."""
    gone = 0
    for path in paths:
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        gone += 1
        parent = path.parent
        if parent.parent == Path(settings.MEDIA_ROOT) / "uploads" and not any(parent.iterdir()):
            parent.rmdir()
    return gone


def expired(*, days: int, keep: set[Path], now: float | None = None) -> list[Path]:
    """Return the stored files last written more than `days` days ago, except those in `keep`."""
    cutoff = (now if now is not None else time.time()) - days * 86_400
    keep = {path.resolve() for path in keep}
    return [path for path in stored_files() if path.stat().st_mtime < cutoff and path.resolve() not in keep]

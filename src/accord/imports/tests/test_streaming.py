import tracemalloc

import pytest

from accord.imports.services import import_file

pytestmark = pytest.mark.django_db


def write_contacts(path, rows: int):
    with path.open("w", encoding="utf-8") as handle:
        handle.write("Email,First Name,Last Name,Job Title\n")
        for n in range(rows):
            handle.write(f"person{n}@company{n % 997}.example,First{n},Last{n},Title {n % 13}\n")
    return path


def peak_bytes(path) -> int:
    tracemalloc.start()
    try:
        summary = import_file(kind="contacts", path=path, dry_run=True)
        return tracemalloc.get_traced_memory()[1], summary
    finally:
        tracemalloc.stop()


def test_memory_does_not_grow_with_the_file_beyond_the_repeat_index(tmp_path):
    small_peak, small = peak_bytes(write_contacts(tmp_path / "20k.csv", 20_000))
    large_peak, large = peak_bytes(write_contacts(tmp_path / "100k.csv", 100_000))

    assert (small.created, large.created) == (20_000, 100_000)
    # The rows themselves stream in chunks; only the index of keys already seen (to catch a
    # person listed twice) grows, by 24 bytes a key plus its merge buffer: 80,000 more rows
    # of ~70 bytes each would add 5.6 MB if they were held.
    assert large_peak - small_peak < 80_000 * 48
    assert large_peak < 1.5 * small_peak

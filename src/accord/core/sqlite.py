"""SQLite settings changed for the length of one piece of work on this thread's connection."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from django.db import connection


@contextlib.contextmanager
def pragmas(**values: int) -> Iterator[None]:
    """Set SQLite PRAGMAs on the connection for the block, then put back what they were.

    Nothing happens on PostgreSQL. Some PRAGMAs (`foreign_keys`) only take effect outside a
    transaction: the caller decides whether it can use them there.
    """
    if connection.vendor != "sqlite" or not values:
        yield
        return
    usual = {}
    with connection.cursor() as cursor:
        for name, value in values.items():
            cursor.execute(f"PRAGMA {name}")
            (usual[name],) = cursor.fetchone()
            cursor.execute(f"PRAGMA {name} = {int(value)}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            for name, value in usual.items():
                cursor.execute(f"PRAGMA {name} = {int(value)}")

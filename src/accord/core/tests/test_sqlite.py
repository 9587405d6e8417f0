import pytest
from django.db import connection

from accord.core import sqlite

pytestmark = pytest.mark.django_db


def read(name: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"PRAGMA {name}")
        return cursor.fetchone()[0]


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's settings")
def test_pragmas_hold_for_the_block_and_come_back_after_it_even_when_it_fails():
    usual = read("cache_size")

    with pytest.raises(RuntimeError), sqlite.pragmas(cache_size=-1234):
        inside = read("cache_size")
        raise RuntimeError

    assert (inside, read("cache_size")) == (-1234, usual)

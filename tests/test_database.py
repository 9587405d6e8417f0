import threading

import pytest
from django.db import connection, connections

from accord.capture.models import Account


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite settings")
@pytest.mark.django_db
def test_sqlite_runs_in_wal_mode_with_full_sync_and_foreign_keys():
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        journal = cursor.fetchone()[0]
        cursor.execute("PRAGMA synchronous")
        synchronous = cursor.fetchone()[0]
        cursor.execute("PRAGMA foreign_keys")
        foreign_keys = cursor.fetchone()[0]
    assert (journal, synchronous, foreign_keys) == ("wal", 2, 1)


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_queue_instead_of_failing():
    errors: list[Exception] = []

    def write(worker: int) -> None:
        try:
            for n in range(25):
                Account.objects.create(name=f"w{worker}-{n}", domain=f"w{worker}-{n}.example")
        except Exception as error:  # the assertion below reports it
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert Account.objects.count() == 100

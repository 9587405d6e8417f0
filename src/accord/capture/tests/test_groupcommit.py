"""Group commit on SQLite: requests' writes share one transaction, each answered after its commit.

On PostgreSQL each write runs in its own transaction on the caller's thread instead.
"""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import OperationalError, connection, transaction
from django.test import Client
from django.urls import reverse

from accord.capture import groupcommit, ratelimit
from accord.capture.models import Contact, RateLimitCounter, Touchpoint
from accord.capture.tests.factories import CaptureSourceFactory
from accord.core.errors import ValidationFailed

# Outside a test's wrapping transaction, so writes go to the process's writer thread.
pytestmark = pytest.mark.django_db(transaction=True)

sqlite_only = pytest.mark.skipif(connection.vendor != "sqlite", reason="the writer thread serves SQLite only")
postgresql_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's own transactions")


@pytest.fixture(autouse=True)
def stopped_writer():
    yield
    # Its connection must close before the test database can be dropped (PostgreSQL).
    groupcommit.stop()


def count(bucket: str):
    """Return a write counting one hit in `bucket`, and the outermost transaction it ran in."""

    def write():
        ratelimit.hit({bucket: 1_000})
        # The outermost atomic block itself (kept alive, so compared by identity).
        return connection.atomic_blocks[0], threading.current_thread().name

    return write


@sqlite_only
def test_writes_queued_while_the_writer_is_busy_share_one_transaction_and_all_commit():
    # Given the writer held up by a first write
    started, release = threading.Event(), threading.Event()

    def slow():
        started.set()
        release.wait(10)
        return count("first")()

    with ThreadPoolExecutor(6) as pool:
        first = pool.submit(groupcommit.run_in_transaction, slow)
        assert started.wait(10)
        # When five more requests write meanwhile
        queued = [pool.submit(groupcommit.run_in_transaction, count(f"b{n}")) for n in range(5)]
        _wait_until_queued(5)
        release.set()
        answers = [future.result(10) for future in queued]

    # Then they ran together in one transaction on the writer thread, after the first one's,
    # and every count is committed (read here through another connection)
    assert all(block is answers[0][0] for block, _ in answers)
    assert answers[0][0] is not first.result()[0]
    assert {thread for _, thread in answers} == {"accord-group-commit"}
    assert dict(RateLimitCounter.objects.values_list("bucket", "count")) == {
        "first": 1, "b0": 1, "b1": 1, "b2": 1, "b3": 1, "b4": 1,
    }


def _wait_until_queued(writes: int) -> None:
    deadline = time.monotonic() + 10
    while groupcommit.queued() < writes:
        assert time.monotonic() < deadline, "the writes never reached the writer"
        time.sleep(0.001)


@sqlite_only
def test_a_failing_write_rolls_back_alone_and_its_caller_gets_the_error():
    # Given three writes in one group, the middle one failing after it wrote
    started, release = threading.Event(), threading.Event()

    def hold():
        started.set()
        release.wait(10)

    def failing():
        ratelimit.hit({"failing": 1_000})
        raise ValidationFailed("Give an email address.", field="email")

    with ThreadPoolExecutor(4) as pool:
        pool.submit(groupcommit.run_in_transaction, hold)
        assert started.wait(10)
        before = pool.submit(groupcommit.run_in_transaction, count("before"))
        bad = pool.submit(groupcommit.run_in_transaction, failing)
        after = pool.submit(groupcommit.run_in_transaction, count("after"))
        _wait_until_queued(3)
        release.set()

        # Then the others are stored and the failing one's row is not
        assert before.result(10)[0] is after.result(10)[0]
        with pytest.raises(ValidationFailed) as error:
            bad.result(10)
    assert error.value.field == "email"
    assert sorted(RateLimitCounter.objects.values_list("bucket", flat=True)) == ["after", "before"]


def test_concurrent_form_posts_are_all_answered_and_all_stored():
    # Given a source (the clock stays in one rate-limit window: conftest)
    source = CaptureSourceFactory()
    url = reverse("capture-submit", args=[source.public_key])

    # When twenty people post at once
    def post(n: int) -> int:
        data = {"email": f"p{n}@example.org", "anonymous_id": f"vid-{n}"}
        try:
            return Client(REMOTE_ADDR="203.0.113.7").post(url, data, headers={"Accept": "application/json"}).status_code
        finally:
            connection.close()  # this thread's own, which read the source

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(post, range(20)))

    # Then each got its 201, and each person, touch and count is stored once
    assert statuses == [201] * 20
    assert Contact.objects.count() == 20
    assert Touchpoint.objects.filter(contact__isnull=False).count() == 20
    assert ratelimit.counted(f"key:{source.pk}") == 20


def test_inside_an_open_transaction_the_write_runs_in_the_callers_own():
    # Given a transaction already open on this thread
    with transaction.atomic():
        outer = connection.atomic_blocks[0]

        # When a write is run
        block, thread = groupcommit.run_in_transaction(count("nested"))

    # Then it ran here, in that transaction
    assert block is outer
    assert thread == threading.current_thread().name
    assert ratelimit.counted("nested") == 1


@sqlite_only
def test_a_write_caught_in_a_deadlock_rolls_the_group_back_and_every_write_is_stored_on_its_own():
    # Given a group whose second write loses a deadlock once (as against another process's group)
    started, release = threading.Event(), threading.Event()
    attempts = []

    def hold():
        started.set()
        release.wait(10)

    def deadlocked_once():
        attempts.append(threading.current_thread().name)
        ratelimit.hit({"retried": 1_000})
        if len(attempts) == 1:
            raise OperationalError("deadlock detected")
        return "stored"

    with ThreadPoolExecutor(4) as pool:
        pool.submit(groupcommit.run_in_transaction, hold)
        assert started.wait(10)
        before = pool.submit(groupcommit.run_in_transaction, count("before"))
        retried = pool.submit(groupcommit.run_in_transaction, deadlocked_once)
        after = pool.submit(groupcommit.run_in_transaction, count("after"))
        _wait_until_queued(3)
        release.set()

        # Then every caller gets its answer, and each write is stored once
        assert retried.result(10) == "stored"
        before.result(10), after.result(10)
    assert len(attempts) == 2
    assert dict(RateLimitCounter.objects.values_list("bucket", "count")) == {"before": 1, "retried": 1, "after": 1}


@postgresql_only
def test_on_postgresql_a_write_runs_in_its_own_transaction_on_the_callers_thread():
    # When a write is run outside any transaction
    block, thread = groupcommit.run_in_transaction(count("alone"))

    # Then it ran here, in a transaction that has committed by the time it answers
    assert thread == threading.current_thread().name
    assert not connection.in_atomic_block
    assert block is not None
    assert groupcommit.queued() == 0
    assert ratelimit.counted("alone") == 1


@postgresql_only
def test_on_postgresql_a_write_that_loses_a_deadlock_runs_again_and_both_writes_are_stored():
    # Given two writes that lock the same two rows in opposite orders, each waiting for the
    # other to take its first row (a real deadlock; PostgreSQL aborts one after deadlock_timeout)
    first_rows = threading.Barrier(2, timeout=10)
    attempts: list[str] = []

    def locking(first: str, second: str):
        def write():
            attempts.append(first)
            _upsert_row(first)
            if attempts.count(first) == 1:
                first_rows.wait()
            _upsert_row(second)
            return "stored"

        return write

    RateLimitCounter.objects.bulk_create(
        [RateLimitCounter(bucket="a", window_start=1, count=0), RateLimitCounter(bucket="b", window_start=1, count=0)]
    )

    def run(write):
        try:
            return groupcommit.run_in_transaction(write)
        finally:
            connection.close()

    # When both run at once
    with ThreadPoolExecutor(2) as pool:
        results = [pool.submit(run, locking("a", "b")), pool.submit(run, locking("b", "a"))]
        answers = [future.result(30) for future in results]

    # Then both callers get their answer, one of them after running a second time, and
    # each write counted once in each row
    assert answers == ["stored", "stored"]
    # (a retry can race the winner to the row and deadlock once more, losing either side)
    assert 3 <= len(attempts) <= 2 * groupcommit.ATTEMPTS
    assert dict(RateLimitCounter.objects.values_list("bucket", "count")) == {"a": 2, "b": 2}


def _upsert_row(bucket: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE capture_ratelimitcounter SET count = count + 1 WHERE bucket = %s AND window_start = 1", [bucket]
        )

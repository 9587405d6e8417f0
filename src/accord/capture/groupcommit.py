"""Group commit: many requests' writes in one SQLite transaction and one fsync.

SQLite has one writer at a time, and with `synchronous=FULL` every commit waits for the disk
(one fdatasync, about 4 ms on the benchmark machine). Committing each form post on its own
caps a server at a couple of hundred posts a second however fast the statements are, and the
writers that queue behind the lock wait in SQLite's busy handler, which sleeps in steps of up to
100 ms and so wakes long after the lock is free.

Here each web process has one writer thread. A request hands it a function (its whole write)
and waits. The writer takes every function queued by then, runs each in its own savepoint of
one transaction, commits once, and only then answers the requests: a request's answer still
means its rows are on disk, and one fsync covers them all. One function failing rolls back its
own savepoint only. The writers of different processes take turns through a blocking `flock`
on a file beside the database, so the kernel wakes the next one the moment the lock is free
instead of a busy handler polling for it.

PostgreSQL does not go through the writer: it has row locks and concurrent writers, and it
already shares one WAL flush among the transactions that commit together. Funnelling every
write of a process through one thread there only serialised them (measured: the writer spent
nearly all its time in statements waiting for the other process's group to release the
rate-limit rows, p50 178 ms at 200 posts/s). Each write runs in a transaction of its own on the
request's thread and connection, retried when PostgreSQL aborts it for a deadlock or a lock
timeout (nothing of it is stored then). Inside a transaction already open (tests, a service
calling another), the function runs within that transaction, on any database.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import queue
import random
import threading
import time
from collections.abc import Callable

from django.db import OperationalError, connection, transaction

logger = logging.getLogger(__name__)

# Bounds one transaction's time (and so the wait of the requests in it and behind it); a
# group of form posts this size holds the lock for a few tens of milliseconds.
MAX_GROUP = 64
# Checkpoint the WAL from a thread of its own this often, so no request waits for one.
CHECKPOINT_SECONDS = 1.0

_state_lock = threading.Lock()
_writer: _Writer | None = None


def run_in_transaction[T](write: Callable[[], T]) -> T:
    """Run `write` in a transaction, return its result once committed, or raise what it raised.

    `write` may run on another thread, sharing its transaction with other requests' writes
    (each in its own savepoint), so it must use the database only through Django's default
    connection and must not depend on thread-local state of its caller.
    """
    if connection.in_atomic_block:
        with transaction.atomic():
            return write()
    if connection.vendor != "sqlite":
        return _run_alone(write)
    return _writer_for_this_process().submit(write)


# SQLSTATEs after which PostgreSQL has rolled the transaction back and a retry may succeed:
# deadlock_detected, serialization_failure, lock_not_available.
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001", "55P03"})
ATTEMPTS = 3
RETRY_PAUSE = 0.02  # seconds, times the attempt number, at most


def run_statement[T](write: Callable[[], T]) -> T:
    """Run `write`, a single statement, as its own transaction; within a caller's, as part of it.

    PostgreSQL: a statement outside a transaction block commits by itself, so no BEGIN or
    COMMIT round trip is spent on it. Retried as run_in_transaction retries.
    """
    if connection.in_atomic_block:
        return write()
    return _run_alone(write, atomic=False)


def _run_alone[T](write: Callable[[], T], *, atomic: bool = True) -> T:
    for attempt in range(1, ATTEMPTS + 1):
        try:
            with transaction.atomic() if atomic else contextlib.nullcontext():
                return write()
        except OperationalError as error:
            if attempt == ATTEMPTS or getattr(error.__cause__, "sqlstate", None) not in RETRYABLE_SQLSTATES:
                raise
            logger.info("A write lost a deadlock or lock wait (attempt %d); running it again.", attempt)
            # A short random pause, so two writes that deadlocked do not retry in step and
            # deadlock again (seen under load, when both retried at once).
            time.sleep(random.uniform(0, RETRY_PAUSE * attempt))
    raise AssertionError("unreachable")


def stop() -> None:
    """Store what this process's writer has queued, close its connections and end its threads.

    The next write starts a new writer. For tests, and anything that must close every
    connection (PostgreSQL drops no database another connection holds open).
    """
    global _writer
    with _state_lock:
        writer, _writer = _writer, None
    if writer is not None and writer.pid == os.getpid():
        writer.stop()


def queued() -> int:
    """Return how many writes of this process wait for the writer to take them."""
    writer = _writer
    return writer.jobs.qsize() if writer is not None and writer.pid == os.getpid() else 0


def _writer_for_this_process() -> _Writer:
    global _writer
    with _state_lock:
        # A forked child (a gunicorn worker) inherits no threads: it starts its own writer.
        if _writer is None or _writer.pid != os.getpid():
            _writer = _Writer()
        return _writer


class _GroupAborted(Exception):
    """A write hit a deadlock or lock timeout: the group is rolled back and each write run alone."""


class _Job:
    __slots__ = ("done", "error", "result", "write")

    def __init__(self, write: Callable[[], object]) -> None:
        self.write = write
        self.done = threading.Event()
        self.result: object = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            with transaction.atomic():
                self.result = self.write()
        except BaseException as error:  # handed to the caller, who raises it; the writer lives on
            self.error = error


class _Writer:
    def __init__(self) -> None:
        self.pid = os.getpid()
        self.jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()  # None: stop
        self.lock_path = _lock_path()
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self._loop, name="accord-group-commit", daemon=True)]
        if self.lock_path:
            self.threads.append(
                threading.Thread(target=_checkpoint_loop, args=(self.stopping,), name="accord-wal-checkpoint", daemon=True)
            )
        for thread in self.threads:
            thread.start()

    def submit[T](self, write: Callable[[], T]) -> T:
        job = _Job(write)
        self.jobs.put(job)
        job.done.wait()
        if job.error is not None:
            raise job.error
        return job.result  # type: ignore[return-value]

    def stop(self) -> None:
        self.jobs.put(None)
        self.stopping.set()
        for thread in self.threads:
            thread.join()

    def _loop(self) -> None:
        lock_file = open(self.lock_path, "a+b") if self.lock_path else None  # noqa: SIM115 - closed on stop
        if lock_file is not None:
            with connection.cursor() as cursor:
                # The checkpoint thread copies the WAL back, so no group (and no request in it)
                # waits for the pages copied and the database file's fsync.
                cursor.execute("PRAGMA wal_autocheckpoint=0")
        stopped = False
        while not stopped:
            first = self.jobs.get()
            group = [first] if first is not None else []
            stopped = first is None
            try:
                with _exclusive(lock_file):
                    # Whatever queued while this process waited for its turn joins the group.
                    while group and len(group) < MAX_GROUP:
                        try:
                            job = self.jobs.get_nowait()
                        except queue.Empty:
                            break
                        if job is None:
                            stopped = True
                            break
                        group.append(job)
                    if group:
                        _commit_group(group)
            except Exception as error:
                # The lock file or the connection failed outside any one write: the writes not
                # answered yet get the error, and the writer carries on with the next group.
                logger.exception("The group-commit writer failed on a group of %d writes.", len(group))
                for job in group:
                    if job.result is None and job.error is None:
                        job.error = error
            for job in group:
                job.done.set()
        connection.close()
        if lock_file is not None:
            lock_file.close()


@contextlib.contextmanager
def _exclusive(lock_file):
    if lock_file is None:
        yield
        return
    fcntl.flock(lock_file, fcntl.LOCK_EX)  # blocks without holding the GIL
    try:
        yield
    finally:
        fcntl.flock(lock_file, fcntl.LOCK_UN)


def _commit_group(group: list[_Job]) -> None:
    """Run the jobs in one transaction; if it cannot commit, run each in a transaction of its own."""
    committed = False

    def mark_committed() -> None:
        nonlocal committed
        committed = True

    try:
        with transaction.atomic():
            # Registered first, so it runs first: a later hook that raises does not hide the commit.
            transaction.on_commit(mark_committed)
            for job in group:
                job.run()
                if isinstance(job.error, OperationalError):
                    # A deadlock with another process's group (PostgreSQL) or a lock wait
                    # that timed out: not this write's fault, so it is retried alone below.
                    raise _GroupAborted from job.error
    except Exception:
        if committed:
            logger.exception("A hook run after a group commit failed; the group is stored.")
            return
        logger.exception("A group of %d writes could not commit; storing each on its own.", len(group))
        connection.close_if_unusable_or_obsolete()
        for job in group:
            job.result, job.error = None, None
            job.run()
            # A job that failed was rolled back with its own savepoint; the connection stays usable.


def _lock_path() -> str:
    if connection.vendor != "sqlite":
        return ""
    name = str(connection.settings_dict["NAME"])
    if name.startswith("file:") or name == ":memory:":
        return ""
    return name + "-writelock"


def _checkpoint_loop(stopping: threading.Event) -> None:
    while not stopping.wait(CHECKPOINT_SECONDS):
        try:
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
        except Exception:
            logger.exception("The WAL checkpoint failed; retrying in %s s.", CHECKPOINT_SECONDS)
            connection.close_if_unusable_or_obsolete()
    connection.close()

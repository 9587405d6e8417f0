"""Run an import's reading and checking in a second process, so it uses the second core.

A thread only overlaps the parse with the database's own work (SQLite and psycopg release
Python's lock); the parse and the writer's Python code still take turns on one core. A
forked child reads and checks chunks on its own core and hands them over a pipe, pickled
column by column (a column of repeated values pickles as references to one object).

The child is forked, so it starts with everything the importer loaded (owners, campaigns,
the layout) and needs no database: the reading side never queries (see Importer.prepare).
It must not touch the parent's database connection either, and leaves with os._exit, which
closes nothing behind the parent's back. The pipe holds at most one chunk in flight, so
memory stays flat: a child that runs ahead blocks on the pipe until the parent takes a chunk.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import pickle
from collections.abc import Callable, Iterator
from typing import Any

# Below this size a file imports in a second or two, less than forking a child costs on top.
CHILD_PROCESS_BYTES = 4 << 20


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


class _Failed:
    """An exception raised in the child, carried to the parent."""

    def __init__(self, error: BaseException) -> None:
        try:
            pickle.dumps(error)
            self.error = error
        except Exception:
            self.error = RuntimeError(f"{type(error).__name__}: {error}")


_END = b"end"


def in_child_process(
    produce: Callable[[], Iterator[Any]],
    *,
    pack: Callable[[Any], Any] = lambda item: item,
    unpack: Callable[[Any], Any] = lambda item: item,
) -> Iterator[Any]:
    """Start a forked child that runs `produce()`; return an iterator over what it yields.

    `pack` turns an item into something cheap to pickle (in the child), `unpack` turns it
    back (in the parent). An exception in the child is raised in the parent, when the
    iterator reaches it. The fork happens here, in the calling thread, before any thread
    the caller starts to consume the iterator.
    """
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)

    def child() -> None:
        receiver.close()
        try:
            for item in produce():
                sender.send_bytes(pickle.dumps(pack(item), protocol=pickle.HIGHEST_PROTOCOL))
            sender.send_bytes(_END)
        except BrokenPipeError:
            pass  # the parent stopped reading (it failed, or was stopped): nothing to report
        except BaseException as error:
            with contextlib.suppress(OSError):  # the parent is gone: nobody to tell
                sender.send_bytes(pickle.dumps(_Failed(error), protocol=pickle.HIGHEST_PROTOCOL))
        finally:
            sender.close()
            # Skip interpreter shutdown: it would run atexit hooks and finalisers that belong
            # to the parent, such as closing its database connection.
            os._exit(0)

    process = context.Process(target=child, name="accord-import-reader", daemon=True)
    process.start()
    sender.close()
    return _received(process, receiver, unpack)


def _received(process, receiver, unpack: Callable[[Any], Any]) -> Iterator[Any]:
    try:
        while True:
            try:
                data = receiver.recv_bytes()
            except EOFError:
                raise RuntimeError(
                    f"The import's reading process stopped unexpectedly (exit code {process.exitcode})."
                ) from None
            if data == _END:
                return
            item = pickle.loads(data)  # noqa: S301 (our own child process wrote it)
            if isinstance(item, _Failed):
                raise item.error
            yield unpack(item)
    finally:
        receiver.close()
        process.join(timeout=5)
        if process.is_alive():
            process.kill()
            process.join()

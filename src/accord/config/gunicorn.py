"""Gunicorn settings for `accord serve` (given as `-c python:accord.config.gunicorn`).

The command line sets the bind address, workers and threads; this module holds what is the
same for every server: the access log's fields and the hooks.
"""

import gc

# The usual combined log, then the time gunicorn spent on the request in microseconds, from
# the request read to the answer written. Against a client's latency it tells time in the view
# from time queued in front of the workers (bench/bench_capture.py prints both).
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(D)s'


def when_ready(server) -> None:
    """Move everything the master preloaded out of the cyclic garbage collector's reach.

    The preloaded app (Django, every view, the analytics engine's pandas and scikit-learn) is
    a few hundred thousand objects that live as long as the process. Without this, each full
    collection in a worker walks all of them while holding the GIL, stalling every thread of
    the worker: measured 290–600 ms pauses (under load) during 200 form posts/s on
    PostgreSQL, 82 ms once frozen. The workers forked after this inherit the frozen heap.
    """
    gc.collect()
    gc.freeze()

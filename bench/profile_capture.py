"""Profile one public form post and one event batch through the WSGI app, in process.

Calls `accord.config.wsgi.application` directly with WSGI environ dicts, so each request
pays what it pays under gunicorn (middleware, opening and closing the database connection,
the view, the commit) without the network or a load generator in the way.

    .venv/bin/python bench/profile_capture.py                    # fresh SQLite data dir
    .venv/bin/python bench/profile_capture.py --database-url "$ACCORD_PG_URL"
    .venv/bin/python bench/profile_capture.py --database-url "$ACCORD_PG_URL" --phases 20   # CPU by phase

Prints CPU and wall time per request, queries per request, and the top functions by
cumulative time (cProfile).
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import pstats
import sys
import time
import uuid
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="", help="PostgreSQL URL; a fresh SQLite file if left out")
    parser.add_argument("--posts", type=int, default=2000, help="form posts to time")
    parser.add_argument("--batches", type=int, default=10, help="event batches of 1,000 to time")
    parser.add_argument("--top", type=int, default=25, help="functions to list from the profile")
    parser.add_argument("--sort", default="cumulative", help="pstats order: cumulative, tottime, …")
    parser.add_argument("--plain", action="store_true", help="time without cProfile (its overhead doubles the CPU)")
    parser.add_argument("--cpu", action="store_true",
                        help="profile CPU time, not wall time (waits for the database then cost nothing)")
    parser.add_argument("--phases", type=int, default=0,
                        help="time this many batches phase by phase instead: this process's CPU, the database "
                             "server's (PostgreSQL on this machine) and the WAL written, for each phase")
    args = parser.parse_args()

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from bench.bench_capture import seed, setup_django
    from bench.loadgen import batch_body, form_body

    setup_django(args.database_url, prefix="accord-profile-capture-")
    from django.db import connection
    from django.db.backends.signals import connection_created

    from accord.config.wsgi import application

    # Writes run on the process's group-commit writer thread, on a connection of its own:
    # every connection, this one and those opened later, reports its statements.
    connection.execute_wrappers.append(_record)
    connection_created.connect(
        lambda sender, connection, **kwargs: connection.execute_wrappers.append(_record), weak=False
    )

    token, key = seed()
    run = uuid.uuid4().hex[:8]

    def post_form(n: int) -> int:
        return _call(application, "POST", f"/capture/{key}/", form_body(run, n, people=5000),
                     content_type="application/x-www-form-urlencoded", accept="application/json")

    def post_batch(b: int) -> int:
        return _call(application, "POST", "/api/v1/events/batch", batch_body(run, b, contacts=20000),
                     content_type="application/json", authorization=f"Bearer {token}")

    if args.phases:
        _phases(args.phases, run)
        return 0
    for n in range(50):  # warm: first-use imports, compiled templates, cached statements
        _expect(post_form(-n - 1), 201)
    _expect(post_batch(-1), 200)
    if args.posts:
        _measure("form post", post_form, args.posts, expected=201, top=args.top, sort=args.sort, plain=args.plain,
                 cpu=args.cpu)
    if args.batches:
        _measure("event batch of 1,000", post_batch, args.batches, expected=200, top=args.top, sort=args.sort,
                 plain=args.plain, cpu=args.cpu)
    return 0


_recording: list[str] | None = None


def _phases(count: int, run: str) -> None:
    """Print where a batch of 1,000 spends its CPU, phase by phase, in this process and the server's backend.

    The phases are the event API's own steps, called directly (no HTTP, no authentication, no
    answer): decoding and checking the body, the reads and row building before the transaction
    (`ingestion.prepare`), the writes (`ingestion.store`: new people, links, the COPY) and the
    commit (on PostgreSQL the deferred foreign-key checks run then, one per touchpoint and key).
    The backend's CPU is read from /proc, so it is there only for a server on this machine.
    """
    from django.db import connection, transaction
    from django.utils import timezone

    from accord.capture import ingestion
    from accord.capture.schemas import events_from_json
    from bench.loadgen import batch_body

    postgres = connection.vendor == "postgresql"
    backend = None
    if postgres:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            backend = Path(f"/proc/{cursor.fetchone()[0]}/schedstat")

    def server_cpu() -> float:
        return int(backend.read_text().split()[0]) / 1e9 if backend and backend.exists() else 0.0

    def wal() -> int:
        if not postgres:
            return 0
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_current_wal_insert_lsn() - '0/0'::pg_lsn")
            return int(cursor.fetchone()[0])

    totals: dict[str, list[float]] = {}

    def timed(name: str, step):
        started = time.process_time(), server_cpu(), wal()
        result = step()
        ended = time.process_time(), server_cpu(), wal()
        sums = totals.setdefault(name, [0.0, 0.0, 0.0])
        for at in range(3):
            sums[at] += ended[at] - started[at]
        return result

    # The first batches create their 1,000 people each; the timed ones find them (the bench's mix
    # after its first 20 batches), so people are read, not created, as in a steady stream.
    bodies = [batch_body(run, b, contacts=20000) for b in range(20 + count)]
    # As `accord serve` does once it has loaded the app (accord.config.gunicorn): a full
    # collection then walks only what requests create.
    gc.collect()
    gc.freeze()
    for number, body in enumerate(bodies):
        if number == 20:
            totals.clear()
        events = timed("decode and check the body", lambda body=body: events_from_json(body))
        plan = timed("reads and rows (prepare)", lambda events=events: ingestion.prepare(events, now=timezone.now()))
        with transaction.atomic():
            timed("writes (store: COPY)", lambda plan=plan: ingestion.store(plan))
            started = time.process_time(), server_cpu(), wal()
        ended = time.process_time(), server_cpu(), wal()
        sums = totals.setdefault("commit (foreign-key checks)", [0.0, 0.0, 0.0])
        for at in range(3):
            sums[at] += ended[at] - started[at]
    print(f"event batch of 1,000 by phase, mean of {count} ({connection.vendor}); load average "
          f"{' '.join(Path('/proc/loadavg').read_text().split()[:3])}:")
    for name, (python, server, written) in totals.items():
        print(f"    {name:30s} Python {python / count * 1000:6.2f} ms, server {server / count * 1000:6.2f} ms CPU, "
              f"WAL {written / count / 1024:6.0f} KB")
    python, server, written = (sum(sums[at] for sums in totals.values()) for at in range(3))
    print(f"    {'all':30s} Python {python / count * 1000:6.2f} ms, server {server / count * 1000:6.2f} ms CPU, "
          f"WAL {written / count / 1024:6.0f} KB")


def _record(execute, sql, params, many, context):
    if _recording is not None:
        _recording.append(sql)
    return execute(sql, params, many, context)


def _measure(label: str, call, count: int, *, expected: int, top: int, sort: str = "cumulative",
             plain: bool = False, cpu: bool = False) -> None:
    global _recording
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _recording = recorded = []
    with CaptureQueriesContext(connection) as logged:
        _expect(call(10**6), expected)
    _recording = None
    # SQLite writes run on the group-commit thread's connection, which only the execute wrapper
    # sees; PostgreSQL runs everything on this thread, some of it on the driver's own cursor
    # (the form post), which passes no wrapper but is in this connection's query log.
    queries = [query["sql"] for query in logged.captured_queries] if connection.vendor == "postgresql" else recorded
    profile = cProfile.Profile(time.process_time) if cpu else cProfile.Profile()
    wall, cpu = time.perf_counter(), time.process_time()
    if not plain:
        profile.enable()
    for n in range(count):
        _expect(call(n), expected)
    profile.disable()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"{label}: {count:,} requests; {wall / count * 1000:.2f} ms wall, {cpu / count * 1000:.2f} ms CPU "
          f"per request ({'no profiler' if plain else 'under cProfile'}); {len(queries)} queries per request; "
          f"load average {' '.join(Path('/proc/loadavg').read_text().split()[:3])}:")
    for sql in queries:
        print(f"    {sql[:150]}")
    if plain:
        return
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats(sort).print_stats(top)
    print(out.getvalue())


def _call(application, method: str, path: str, body: bytes, *, content_type: str, accept: str = "",
          authorization: str = "") -> int:
    environ = {
        "REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": "", "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000", "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_TYPE": content_type, "CONTENT_LENGTH": str(len(body)), "HTTP_HOST": "127.0.0.1",
        "wsgi.input": io.BytesIO(body), "wsgi.url_scheme": "http", "wsgi.errors": sys.stderr,
        "wsgi.multithread": False, "wsgi.multiprocess": True, "wsgi.run_once": False,
    }
    if accept:
        environ["HTTP_ACCEPT"] = accept
    if authorization:
        environ["HTTP_AUTHORIZATION"] = authorization
    status: list[str] = []
    result = application(environ, lambda s, headers, exc_info=None: status.append(s))
    try:
        b"".join(result)
    finally:
        if hasattr(result, "close"):
            result.close()  # sends request_finished, which closes the connection as gunicorn does
    return int(status[0].split()[0])


def _expect(status: int, expected: int) -> None:
    if status != expected:
        raise SystemExit(f"expected {expected}, got {status}")


if __name__ == "__main__":
    raise SystemExit(main())

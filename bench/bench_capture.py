"""Benchmark capture over HTTP against a real `accord serve` (gunicorn sync workers).

(a) Batch ingestion: POST /api/v1/events/batch in batches of 1,000 from a few client threads,
    then count the stored touchpoints (no loss, no duplicates).
(b) Single capture: the public form endpoint at a fixed request rate; p50/p99 latency, errors,
    and the stored count afterwards.

    .venv/bin/python bench/bench_capture.py                       # fresh SQLite data dir
    .venv/bin/python bench/bench_capture.py --database-url "$ACCORD_PG_URL"

Loopback only; the server runs on its own port with a temporary data dir and is stopped at
the end.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HOST = "127.0.0.1"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="", help="PostgreSQL URL; a fresh SQLite file if left out")
    parser.add_argument("--port", type=int, default=8771)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--batches", type=int, default=200, help="batches of 1,000 in (a)")
    parser.add_argument("--clients", type=int, default=4, help="concurrent client threads in (a)")
    parser.add_argument("--contacts", type=int, default=20000, help="distinct people across the events")
    parser.add_argument("--rate", type=int, default=200, help="requests per second in (b)")
    parser.add_argument("--seconds", type=int, default=30, help="duration of (b)")
    args = parser.parse_args()

    data_dir = setup_django(args.database_url, prefix="accord-bench-capture-")
    token, key = seed()
    database = "PostgreSQL" if args.database_url else f"SQLite ({data_dir})"
    print(f"database: {database}; gunicorn sync workers: {args.workers}; port {args.port}")

    server = _serve(args.port, args.workers, data_dir)
    try:
        _wait_ready(args.port)
        _batch_run(args, token)
        _single_run(args, key)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=20)
    return 0


def setup_django(database_url: str, *, prefix: str) -> Path:
    """Point Accord at a fresh data dir (and PostgreSQL when given), set Django up, migrate."""
    data_dir = Path(tempfile.mkdtemp(prefix=prefix))
    os.environ["ACCORD_DATA_DIR"] = str(data_dir)
    os.environ.setdefault("ACCORD_SECRET_KEY", "bench-" + uuid.uuid4().hex)
    if database_url:
        os.environ["ACCORD_DATABASE_URL"] = database_url
    else:
        os.environ.pop("ACCORD_DATABASE_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "accord.config.settings"

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return data_dir


def seed() -> tuple[str, str]:
    from accord.accounts.models import User
    from accord.accounts.services import issue_api_token
    from accord.capture.models import Campaign, CaptureSource
    from accord.core.permissions import Role

    user = User.objects.create(username=f"bench-{uuid.uuid4().hex[:8]}", role=Role.MARKETING)
    _, token = issue_api_token(user=user, name="bench")
    for n in range(5):
        Campaign.objects.get_or_create(
            utm_campaign=f"bench-c{n}", defaults={"name": f"Bench {n}", "channel": "paid_search"}
        )
    source = CaptureSource.objects.create(
        name="Bench form", rate_limit_per_minute=1_000_000, ip_rate_limit_per_minute=1_000_000
    )
    return token, source.public_key


def _serve(port: int, workers: int, data_dir: Path) -> subprocess.Popen:
    log = open(data_dir / "server.log", "wb")  # noqa: SIM115 - lives as long as the server
    return subprocess.Popen(
        [sys.executable, "-m", "accord.cli", "serve", "--host", HOST, "--port", str(port), "--workers", str(workers)],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _wait_ready(port: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection(HOST, port, timeout=2)
            connection.request("GET", "/api/v1/openapi.json")
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("the server did not start")


def _post(port: int, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes, float]:
    started = time.perf_counter()
    connection = http.client.HTTPConnection(HOST, port, timeout=60)
    connection.request("POST", path, body=body, headers=headers)
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response.status, data, time.perf_counter() - started


def _batch_run(args, token: str) -> None:
    from accord.capture.models import Touchpoint

    run = uuid.uuid4().hex[:8]
    bodies = []
    for b in range(args.batches):
        events = []
        for i in range(1000):
            k = b * 1000 + i
            person = k % args.contacts
            events.append(
                {
                    "id": f"{run}-{k}",
                    "type": "page_view",
                    "occurred_at": "2026-03-01T09:30:00Z",
                    "email": f"p{person}@co{person % 997}.example",
                    "utm_source": "google",
                    "utm_medium": "cpc",
                    "utm_campaign": f"bench-c{k % 5}",
                    "url": f"https://www.example.com/page/{k % 50}",
                }
            )
        bodies.append(json.dumps({"events": events}).encode())
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    statuses: list[int] = []
    latencies: list[float] = []
    lock = threading.Lock()
    queue = iter(range(len(bodies)))

    def client() -> None:
        while True:
            with lock:
                index = next(queue, None)
            if index is None:
                return
            status, _, seconds = _post(args.port, "/api/v1/events/batch", bodies[index], headers)
            with lock:
                statuses.append(status)
                latencies.append(seconds)

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(args.clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    sent = len(bodies) * 1000
    stored = Touchpoint.objects.filter(external_id__startswith=f"{run}-").count()
    distinct = Touchpoint.objects.filter(external_id__startswith=f"{run}-").values("external_id").distinct().count()
    errors = sum(1 for status in statuses if status != 200)
    print(
        f"(a) batch ingestion: {sent:,} events in {len(bodies)} batches of 1,000, {args.clients} clients: "
        f"{elapsed:.2f} s = {sent / elapsed:,.0f} events/s; batch p50 {statistics.median(latencies) * 1000:.0f} ms, "
        f"max {max(latencies) * 1000:.0f} ms; non-200 answers: {errors}; stored {stored:,} "
        f"(distinct ids {distinct:,}; lost {sent - stored:,}, duplicated {stored - distinct:,})"
    )


def _single_run(args, key: str) -> None:
    from accord.capture.models import Touchpoint

    run = uuid.uuid4().hex[:8]
    total = args.rate * args.seconds
    path = f"/capture/{key}/"
    latencies: list[float] = []
    statuses: list[int] = []
    lock = threading.Lock()

    def send(n: int) -> None:
        body = urllib.parse.urlencode(
            {"email": f"s{run}-{n % 5000}@co{n % 300}.example", "first_name": "Bench",
             "utm_campaign": "bench-c1", "utm_medium": "cpc", "anonymous_id": f"{run}-{n}"}
        ).encode()
        try:
            status, _, seconds = _post(
                args.port, path, body,
                {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
            )
        except OSError:
            status, seconds = 0, 0.0
        with lock:
            statuses.append(status)
            latencies.append(seconds)

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=32) as pool:
        for n in range(total):
            # Open loop: requests leave on schedule whether or not earlier ones answered.
            delay = started + n / args.rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            pool.submit(send, n)
    elapsed = time.perf_counter() - started
    latencies.sort()
    errors = sum(1 for status in statuses if status != 201)
    stored = Touchpoint.objects.filter(anonymous_id__startswith=f"{run}-").count()
    p50 = latencies[len(latencies) // 2] * 1000
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
    print(
        f"(b) single capture at {args.rate}/s for {args.seconds} s (POST {path[:10]}…): {total:,} requests in "
        f"{elapsed:.1f} s; p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {latencies[-1] * 1000:.1f} ms; "
        f"errors {errors}; stored {stored:,} touchpoints (lost {total - stored:,})"
    )


if __name__ == "__main__":
    raise SystemExit(main())

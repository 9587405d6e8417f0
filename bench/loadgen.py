"""HTTP load generator for bench_capture.py, run as its own process so its CPU is its own.

Two modes, each printing one JSON line of results on stdout:

    open   ... --rate R --seconds S  form posts leave on a fixed schedule (request n at
           start + n/R) whether or not earlier ones were answered. Latency is measured from
           the scheduled send time, not from when the client got round to sending, so a
           server that falls behind shows its queueing in the percentiles instead of slowing
           the client down (coordinated omission).
    closed ... --clients C --batches B  C connections each send the next event batch as
           soon as the last one is answered: sustained throughput.

Asyncio with raw HTTP/1.1 over loopback: one request costs the client a few tens of
microseconds, so two hundred a second leave on time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import urllib.parse

HOST = "127.0.0.1"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["open", "closed"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--run", required=True, help="tag making this run's emails and ids unique")
    parser.add_argument("--key", default="", help="capture source public key (open)")
    parser.add_argument("--rate", type=int, default=200)
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--people", type=int, default=5000, help="distinct emails among the posts (open)")
    parser.add_argument("--token", default="", help="API token (closed)")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--batches", type=int, default=100)
    parser.add_argument("--contacts", type=int, default=20000, help="distinct people across the events (closed)")
    args = parser.parse_args()
    result = asyncio.run(_open(args) if args.mode == "open" else _closed(args))
    print(json.dumps(result), flush=True)
    return 0


async def _request(port: int, method: str, path: str, body: bytes, headers: dict[str, str]) -> int:
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        head = [f"{method} {path} HTTP/1.1", f"Host: {HOST}:{port}", f"Content-Length: {len(body)}",
                "Connection: close", *(f"{name}: {value}" for name, value in headers.items())]
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        await writer.drain()
        status_line = await reader.readline()
        await reader.read()  # to EOF: the answer is complete when the server closes
        return int(status_line.split()[1])
    finally:
        writer.close()


def form_body(run: str, n: int, *, people: int) -> bytes:
    """Return form post n of a run: a person among `people`, with a fresh visitor id."""
    return urllib.parse.urlencode(
        {"email": f"s{run}-{n % people}@co{n % 300}.example", "first_name": "Bench",
         "utm_campaign": "bench-c1", "utm_medium": "cpc", "anonymous_id": f"{run}-{n}"}
    ).encode()


async def _open(args) -> dict:
    loop = asyncio.get_running_loop()
    total = args.rate * args.seconds
    path = f"/capture/{args.key}/"
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
    bodies = [form_body(args.run, n, people=args.people) for n in range(total)]
    latencies: list[float] = [0.0] * total
    statuses: list[int] = [0] * total
    late_sends = 0

    async def one(n: int, scheduled: float) -> None:
        try:
            statuses[n] = await asyncio.wait_for(_request(args.port, "POST", path, bodies[n], headers), 60)
        except (OSError, TimeoutError, ValueError, IndexError):
            statuses[n] = 0
        latencies[n] = loop.time() - scheduled

    start = loop.time() + 0.1
    tasks = []
    for n in range(total):
        scheduled = start + n / args.rate
        delay = scheduled - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        elif delay < -0.001:
            late_sends += 1
        tasks.append(asyncio.create_task(one(n, scheduled)))
    await asyncio.gather(*tasks)
    elapsed = loop.time() - start
    ordered = sorted(latencies)
    return {
        "requests": total,
        "elapsed": elapsed,
        "p50_ms": ordered[total // 2] * 1000,
        "p90_ms": ordered[int(total * 0.90)] * 1000,
        "p99_ms": ordered[min(total - 1, int(total * 0.99))] * 1000,
        "max_ms": ordered[-1] * 1000,
        "statuses": {str(status): statuses.count(status) for status in set(statuses)},
        # Sends more than 1 ms behind schedule: the generator itself could not keep up.
        "late_sends": late_sends,
    }


def batch_body(run: str, b: int, *, contacts: int) -> bytes:
    """Return event batch b of a run: 1,000 page views by people among `contacts`."""
    events = []
    for i in range(1000):
        k = b * 1000 + i
        person = k % contacts
        events.append(
            {"id": f"{run}-{k}", "type": "page_view", "occurred_at": "2026-03-01T09:30:00Z",
             "email": f"p{person}@co{person % 997}.example", "utm_source": "google", "utm_medium": "cpc",
             "utm_campaign": f"bench-c{k % 5}", "url": f"https://www.example.com/page/{k % 50}"}
        )
    return json.dumps({"events": events}).encode()


async def _closed(args) -> dict:
    bodies = [batch_body(args.run, b, contacts=args.contacts) for b in range(args.batches)]
    headers = {"Authorization": f"Bearer {args.token}", "Content-Type": "application/json"}
    pending = iter(range(len(bodies)))
    latencies: list[float] = []
    statuses: list[int] = []

    async def client() -> None:
        for index in pending:
            sent = time.perf_counter()
            try:
                status = await asyncio.wait_for(
                    _request(args.port, "POST", "/api/v1/events/batch", bodies[index], headers), 120
                )
            except (OSError, TimeoutError, ValueError, IndexError):
                status = 0
            latencies.append(time.perf_counter() - sent)
            statuses.append(status)

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(args.clients)))
    elapsed = time.perf_counter() - started
    ordered = sorted(latencies)
    return {
        "batches": len(bodies),
        "events": len(bodies) * 1000,
        "elapsed": elapsed,
        "p50_ms": ordered[len(ordered) // 2] * 1000,
        "max_ms": ordered[-1] * 1000,
        "statuses": {str(status): statuses.count(status) for status in set(statuses)},
    }


if __name__ == "__main__":
    raise SystemExit(main())

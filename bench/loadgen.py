"""HTTP load generator for bench_capture.py, run as its own process so its CPU is its own.

Two modes, each printing one JSON line of results on stdout:

    open   ... --rate R --seconds S  form posts leave on a fixed schedule (request n at
           start + n/R) whether or not earlier ones were answered. Latency is measured from
           the scheduled send time, not from when the client got round to sending, so a
           server that falls behind shows its queueing in the percentiles instead of slowing
           the client down (coordinated omission).
    closed ... --clients C --batches B  C connections each send the next event batch as
           soon as the last one is answered: sustained throughput.

Raw HTTP/1.1 over loopback: the open mode from one thread of non-blocking sockets (a request
costs the client about a tenth of a millisecond, so two hundred a second leave on time without
taking much of the CPU the server needs), the closed mode with asyncio.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import selectors
import socket
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
    result = _open(args) if args.mode == "open" else asyncio.run(_closed(args))
    print(json.dumps(result), flush=True)
    return 0


async def _request(port: int, method: str, path: str, body: bytes, headers: dict[str, str]) -> int:
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        writer.write(_raw_request(method, path, port, body, headers))
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


def _open(args) -> dict:
    """Send form posts on a fixed schedule from one thread of non-blocking sockets.

    The requests are built before the clock starts, and each send, connect and read is one
    system call handled as the socket becomes ready: about a tenth of what asyncio's streams
    cost a request (~1 ms of this process's CPU a post, a fifth of a core at 200/s, taken
    from the two cores the server shares), so the measuring tool competes less with what it
    measures. The schedule and the latency's origin are unchanged.
    """
    total = args.rate * args.seconds
    path = f"/capture/{args.key}/"
    requests = [_raw_request("POST", path, args.port, form_body(args.run, n, people=args.people),
                             {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"})
                for n in range(total)]
    latencies: list[float] = [0.0] * total
    statuses: list[int] = [0] * total
    selector = selectors.DefaultSelector()
    pending: dict[socket.socket, _Exchange] = {}
    late_sends = 0
    start = time.monotonic() + 0.1
    sent = answered = 0

    def finish(exchange: _Exchange, status: int) -> None:
        nonlocal answered
        selector.unregister(exchange.sock)
        exchange.sock.close()
        del pending[exchange.sock]
        statuses[exchange.n] = status
        latencies[exchange.n] = time.monotonic() - exchange.scheduled
        answered += 1

    while answered < total:
        now = time.monotonic()
        while sent < total and start + sent / args.rate <= now:
            scheduled = start + sent / args.rate
            if now - scheduled > 0.001:
                late_sends += 1
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setblocking(False)
            sock.connect_ex((HOST, args.port))  # EINPROGRESS: writable once connected
            exchange = _Exchange(sent, scheduled, sock, requests[sent])
            pending[sock] = exchange
            selector.register(sock, selectors.EVENT_WRITE, exchange)
            sent += 1
        wait = start + sent / args.rate - time.monotonic() if sent < total else 1.0
        # epoll rounds a timeout up to whole milliseconds, which would send up to a millisecond
        # late: wait in it for the whole milliseconds only, and sleep off the rest when idle.
        ready = selector.select(max(0.0, math.floor(wait * 1000) / 1000))
        if not ready and sent < total:
            remaining = start + sent / args.rate - time.monotonic()
            if 0 < remaining < 0.001:
                time.sleep(remaining)
        for key, events in ready:
            exchange = key.data
            try:
                if events & selectors.EVENT_WRITE:
                    exchange.sock.send(exchange.request)  # a few hundred bytes: one send
                    selector.modify(exchange.sock, selectors.EVENT_READ, exchange)
                    continue
                chunk = exchange.sock.recv(65536)
            except OSError:
                finish(exchange, 0)
                continue
            if chunk:
                exchange.answer += chunk
                continue
            # The server closed the connection (Connection: close): the answer is complete.
            try:
                finish(exchange, int(exchange.answer.split(b" ", 2)[1]))
            except (IndexError, ValueError):
                finish(exchange, 0)
        now = time.monotonic()
        for exchange in [e for e in pending.values() if now - e.scheduled > 60]:
            finish(exchange, 0)
    elapsed = time.monotonic() - start
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


class _Exchange:
    __slots__ = ("answer", "n", "request", "scheduled", "sock")

    def __init__(self, n: int, scheduled: float, sock: socket.socket, request: bytes) -> None:
        self.n, self.scheduled, self.sock, self.request = n, scheduled, sock, request
        self.answer = b""


def _raw_request(method: str, path: str, port: int, body: bytes, headers: dict[str, str]) -> bytes:
    head = [f"{method} {path} HTTP/1.1", f"Host: {HOST}:{port}", f"Content-Length: {len(body)}",
            "Connection: close", *(f"{name}: {value}" for name, value in headers.items())]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


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

    started, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(client() for _ in range(args.clients)))
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    ordered = sorted(latencies)
    return {
        "batches": len(bodies),
        "events": len(bodies) * 1000,
        "elapsed": elapsed,
        # This process's CPU while sending, not building the bodies beforehand (a second of it
        # for a hundred batches, which the run does not compete with).
        "cpu": cpu,
        "p50_ms": ordered[len(ordered) // 2] * 1000,
        "max_ms": ordered[-1] * 1000,
        "statuses": {str(status): statuses.count(status) for status in set(statuses)},
    }


if __name__ == "__main__":
    raise SystemExit(main())

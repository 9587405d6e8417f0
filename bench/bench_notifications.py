"""Benchmark the notification outbox end to end, and the unread badge at volume.

(a) Publish: `publish_event` calls per second, each one event + one delivery row in its own
    transaction (what a domain's change pays).
(b) Deliver: real `accord worker --batch` processes send the queued webhooks to a local HTTP
    receiver; deliveries per second, and a check that each arrived once and in order per record.
(c) Badge: the unread count for one person in a table of many notifications (median of 200 calls),
    and the query plan's index.

    .venv/bin/python bench/bench_notifications.py                    # fresh SQLite data dir
    .venv/bin/python bench/bench_notifications.py --database-url "$ACCORD_PG_URL"

Loopback only. Record `uptime`'s load average with every figure: the machine is shared.
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class Receiver:
    def __init__(self) -> None:
        self.bodies: list[tuple[str, bytes]] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    receiver.bodies.append((self.headers["X-Accord-Delivery"], body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="", help="PostgreSQL URL; a fresh SQLite file if left out")
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--records", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2, help="worker processes in (b)")
    parser.add_argument("--notifications", type=int, default=500_000, help="rows in the inbox table for (c)")
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="accord-bench-notify-"))
    atexit.register(shutil.rmtree, data_dir, True)
    os.environ.update({
        "ACCORD_DATA_DIR": str(data_dir), "ACCORD_DATABASE_URL": args.database_url,
        "ACCORD_TASKS_IMMEDIATE": "false", "DJANGO_SETTINGS_MODULE": "accord.config.settings",
    })
    os.environ.setdefault("ACCORD_SECRET_KEY", "bench-only")
    # The receiver listens on loopback, which webhooks may reach only when allowed.
    os.environ.setdefault("ACCORD_WEBHOOK_ALLOW_PRIVATE", "127.0.0.0/8")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    call_command("migrate", verbosity=0)
    from accord.accounts.models import User
    from accord.notifications import selectors, services
    from accord.notifications.models import Delivery, Notification, WebhookSubscription

    database = "postgresql" if args.database_url else "sqlite"
    receiver = Receiver()
    WebhookSubscription.objects.create(name="bench", url=receiver.url, secret="whsec_bench",
                                       created_at=timezone.now())

    started = time.perf_counter()
    for n in range(args.events):
        services.publish_event(event_type="deal.stage_changed", record_key=f"deal:{n % args.records}",
                               payload={"record": n % args.records, "n": n // args.records})
    publish_s = time.perf_counter() - started

    env = {**os.environ}
    started = time.perf_counter()
    workers = [
        subprocess.Popen([sys.executable, "-m", "accord.cli", "worker", "--batch"], env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(args.workers)
    ]
    while len(receiver.bodies) < args.events and any(w.poll() is None for w in workers):
        time.sleep(0.05)
    for worker in workers:
        worker.wait()
    # A blocked delivery whose predecessor finished after every worker emptied the queue waits
    # for the sweep; run it (as the scheduler would, every 10 s) until everything is out.
    sweeps = 0
    while Delivery.objects.exclude(status=Delivery.Status.SENT).exists() and sweeps < 20:
        services.sweep()
        subprocess.run([sys.executable, "-m", "accord.cli", "worker", "--batch"], env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        sweeps += 1
    deliver_s = time.perf_counter() - started

    ids = [delivery_id for delivery_id, _ in receiver.bodies]
    order = defaultdict(list)
    for _, body in receiver.bodies:
        data = json.loads(body)["data"]
        order[data["record"]].append(data["n"])
    in_order = all(ns == sorted(ns) for ns in order.values())

    users = User.objects.bulk_create([User(username=f"u{n}", email=f"u{n}@x.example") for n in range(1000)])
    now = timezone.now()
    batch = []
    for n in range(args.notifications):
        batch.append(Notification(recipient=users[n % len(users)], kind="deal_won", title=f"n{n}",
                                  dedupe_key=f"bench:{n}", created_at=now,
                                  read_at=None if (n // len(users)) % 10 == 0 else now))
        if len(batch) == 10_000:
            Notification.objects.bulk_create(batch)
            batch = []
    Notification.objects.bulk_create(batch)
    user = users[7]
    timings = []
    for _ in range(200):
        t = time.perf_counter()
        count = selectors.unread_count(user=user)
        timings.append((time.perf_counter() - t) * 1000)
    query = Notification.objects.filter(recipient=user, read_at__isnull=True, in_inbox=True)
    with connection.cursor() as cursor:
        sql, params = query.only("id").query.sql_with_params()
        cursor.execute(("EXPLAIN QUERY PLAN " if database == "sqlite" else "EXPLAIN ") + sql, params)
        plan = " | ".join(str(row[-1] if database == "sqlite" else row[0]) for row in cursor.fetchall())

    print(json.dumps({
        "database": database,
        "publish_events_per_s": round(args.events / publish_s),
        "events": args.events, "records": args.records, "workers": args.workers,
        "deliver_seconds": round(deliver_s, 1), "deliveries_per_s": round(args.events / deliver_s),
        "received": len(ids), "distinct": len(set(ids)), "in_order_per_record": in_order,
        "extra_sweeps": sweeps,
        "badge_rows": args.notifications, "badge_unread_for_user": count,
        "badge_ms_median": round(statistics.median(timings), 3), "badge_plan": plan,
        "load_average": os.getloadavg(),
    }, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

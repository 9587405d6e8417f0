"""The scheduler inside `accord worker`: tick the schedule and run periodic tasks, on a thread.

Why a thread in the worker rather than another daemon: deployments run `accord worker` and
nothing else, and a `kill` of the worker takes its scheduler with it (no orphan ticking on).
Why its own thread and queue: a ten-minute import on the main worker must not hold up the
SLA checker, whose breach alerts are promised within 60 seconds.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime

from django.db import close_old_connections, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.crypto import get_random_string
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction

from accord.config.schedule import SCHEDULE, Periodic
from accord.sla.models import ScheduleEntry

PERIODIC_QUEUE = "periodic"
TICK_SECONDS = 1.0
logger = logging.getLogger("accord.scheduler")


def tick(*, now: datetime | None = None, schedule: tuple[Periodic, ...] = SCHEDULE) -> list[str]:
    """Enqueue every periodic task whose interval has passed; return the names enqueued.

    The claim is a conditional UPDATE of the entry's row, in the transaction that writes the
    queued task: of several workers ticking at once exactly one wins, and a crash between the
    two leaves neither.
    """
    now = now or timezone.now()
    ScheduleEntry.objects.bulk_create(
        [ScheduleEntry(name=entry.name) for entry in schedule], ignore_conflicts=True
    )
    enqueued = []
    for entry in schedule:
        with transaction.atomic():
            claimed = ScheduleEntry.objects.filter(name=entry.name).filter(
                Q(last_enqueued_at__isnull=True) | Q(last_enqueued_at__lte=now - entry.every)
            ).update(last_enqueued_at=now)
            if not claimed:
                continue
            # One waiting copy is enough: after an outage the queue must not hold a backlog of
            # identical checks.
            if DBTaskResult.objects.ready().filter(
                queue_name=PERIODIC_QUEUE, task_path=entry.task.module_path
            ).exists():
                continue
            entry.task.using(queue_name=PERIODIC_QUEUE).enqueue()
            enqueued.append(entry.name)
    return enqueued


class PeriodicWorker(Worker):
    """Tick, run every ready periodic task, sleep a second, forever.

    Subclasses db_worker's Worker for its `run_task` (result bookkeeping, signals) only; the
    loop is its own because Worker.run logs its start and stop on every pass in batch mode.
    """

    def run(self) -> None:
        while self.running:
            try:
                close_old_connections()
                tick()
                self.drain()
            except Exception:
                # The thread must outlive a locked database or a failing task: log and go on.
                logger.exception("periodic tick failed; retrying")
            finally:
                close_old_connections()
            time.sleep(self.interval)

    def drain(self) -> None:
        """Run every ready periodic task, claiming each as db_worker does so two workers share them."""
        tasks = DBTaskResult.objects.ready().filter(
            backend_name=self.backend_name, queue_name=PERIODIC_QUEUE
        )
        while self.running:
            with exclusive_transaction(tasks.db):
                task_result = tasks.get_locked()
                if task_result is None:
                    return
                task_result.claim(self.worker_id)
            self.run_task(task_result)


def start_scheduler(*, backend_name: str = "default") -> threading.Thread:
    """Start the ticker and periodic-task runner on a daemon thread; it ends with the process."""
    worker = PeriodicWorker(
        queue_names=[PERIODIC_QUEUE], interval=TICK_SECONDS, batch=False, backend_name=backend_name,
        startup_delay=False, max_tasks=None, worker_id=f"periodic-{get_random_string(20)}",
        excluded_queue_names=[],
    )
    thread = threading.Thread(target=worker.run, name="accord-scheduler", daemon=True)
    thread.start()
    return thread

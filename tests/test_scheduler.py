"""The worker's scheduler puts each periodic task on the queue at most once per interval."""

from datetime import UTC, datetime, timedelta

import pytest
from django.test import override_settings
from django_tasks_db.models import DBTaskResult

from accord.config.schedule import SCHEDULE
from accord.config.scheduler import PERIODIC_QUEUE, tick
from accord.sla.models import ScheduleEntry
from tests.worker import DB_TASKS

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


# The tests tick a schedule of the SLA checker alone, so adding a periodic task elsewhere
# doesn't change what they count.
ONLY_SLA = tuple(entry for entry in SCHEDULE if entry.name == "sla.check_clocks")


def queued():
    return list(DBTaskResult.objects.filter(queue_name=PERIODIC_QUEUE).values_list("task_path", flat=True))


def test_the_sla_checker_is_scheduled_every_15_seconds():
    entry = next(entry for entry in SCHEDULE if entry.name == "sla.check_clocks")

    assert entry.every == timedelta(seconds=15)
    assert entry.task.module_path == "accord.sla.tasks.check_clocks"


def test_the_handoff_sweeps_new_leads_every_minute_and_answers_breaches_every_15_seconds():
    entries = {entry.name: entry for entry in SCHEDULE}

    assert (entries["handoff.sweep_new_leads"].every, entries["handoff.sweep_new_leads"].task.module_path) == (
        timedelta(seconds=60), "accord.handoff.tasks.sweep_new_leads")
    assert (entries["handoff.reassign_breached_leads"].every,
            entries["handoff.reassign_breached_leads"].task.module_path) == (
        timedelta(seconds=15), "accord.handoff.tasks.reassign_breached_leads")


@override_settings(TASKS=DB_TASKS)
def test_a_task_is_enqueued_once_per_interval_however_often_workers_tick():
    first = tick(now=T0, schedule=ONLY_SLA)
    second = tick(now=T0 + timedelta(seconds=5), schedule=ONLY_SLA)  # another worker, same interval

    assert first == ["sla.check_clocks"]
    assert second == []
    assert queued() == ["accord.sla.tasks.check_clocks"]
    assert ScheduleEntry.objects.get(name="sla.check_clocks").last_enqueued_at == T0


@override_settings(TASKS=DB_TASKS)
def test_a_waiting_copy_is_not_doubled_but_the_next_interval_enqueues_once_it_ran():
    tick(now=T0, schedule=ONLY_SLA)

    while_waiting = tick(now=T0 + timedelta(seconds=15), schedule=ONLY_SLA)
    DBTaskResult.objects.update(status="SUCCESSFUL")
    after_it_ran = tick(now=T0 + timedelta(seconds=30), schedule=ONLY_SLA)

    assert while_waiting == []
    assert after_it_ran == ["sla.check_clocks"]
    assert len(queued()) == 2


def test_the_worker_sweeps_notification_deliveries_every_10_seconds_and_checks_digests_hourly():
    every = {entry.name: entry.every for entry in SCHEDULE}

    assert every["notifications.sweep_deliveries"] == timedelta(seconds=10)
    assert every["notifications.send_digests"] == timedelta(hours=1)

"""The real `accord worker` process runs the SLA checker on its own schedule.

Given clocks in the database, start the worker as people deploy it, and watch the alerts
arrive: within a minute of the due time, once each, even when the worker is killed with
SIGKILL in the middle of a pass and started again.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from accord.accounts.tests.factories import TeamFactory, UserFactory
from accord.capture.tests.factories import ContactFactory
from accord.core.permissions import Role
from accord.notifications.models import Notification
from accord.sla.models import SlaClock
from accord.sla.tests.factories import SlaClockFactory, SlaVersionFactory
from tests.worker import worker_database_url

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def start_worker(data_dir) -> subprocess.Popen:
    env = {
        **os.environ,
        "ACCORD_DATABASE_URL": worker_database_url(),
        "ACCORD_TASKS_IMMEDIATE": "false",
        "ACCORD_DATA_DIR": str(data_dir),
        "ACCORD_SECRET_KEY": "test-only",
    }
    # A file, not a pipe: a worker that logs more than a pipe holds would block on write.
    log = (data_dir / "worker.log").open("a")
    return subprocess.Popen(
        [sys.executable, "-m", "accord.cli", "worker"], env=env, stdout=log, stderr=log, text=True,
    )


def log_of(data_dir) -> str:
    return (data_dir / "worker.log").read_text()


def wait_for(condition, *, timeout: float, every: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every)
    return False


def stop(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


def rep_and_manager():
    team = TeamFactory(name="Sales")
    manager = UserFactory(role=Role.SALES_MANAGER, team=team)
    return UserFactory(role=Role.SALES_REP, team=team), manager


def breaches():
    return Notification.objects.filter(kind=Notification.Kind.SLA_BREACH)


def test_the_worker_process_alerts_a_breach_within_a_minute_of_its_due_time(tmp_path):
    rep, manager = rep_and_manager()
    due = timezone.now() + timedelta(seconds=3)
    clock = SlaClockFactory(owner=rep, contact=ContactFactory(owner=rep), started_at=due - timedelta(seconds=60))
    worker = start_worker(tmp_path)
    try:
        alerted = wait_for(lambda: breaches().count() == 2, timeout=150)
    finally:
        stop(worker)

    assert alerted, log_of(tmp_path)
    clock.refresh_from_db()
    assert clock.breached_at is not None
    assert max(breaches().values_list("created_at", flat=True)) - clock.due_at < timedelta(seconds=60)
    assert set(breaches().values_list("dedupe_key", flat=True)) == {
        f"sla:breach:{clock.pk}:{rep.pk}", f"sla:breach:{clock.pk}:{manager.pk}",
    }


def test_a_worker_killed_mid_check_and_restarted_loses_and_doubles_no_alert(tmp_path):
    rep, _ = rep_and_manager()
    version = SlaVersionFactory()
    overdue = timezone.now() - timedelta(minutes=5)
    contacts = ContactFactory.create_batch(1500, owner=rep)
    SlaClock.objects.bulk_create(
        SlaClockFactory.build(owner=rep, contact=contact, sla_version=version, started_at=overdue)
        for contact in contacts
    )
    expected = 2 * len(contacts)  # the owner and the manager, once per clock

    worker = start_worker(tmp_path)
    try:
        caught_mid_pass = wait_for(lambda: 0 < breaches().count() < expected, timeout=60, every=0.02)
        worker.send_signal(signal.SIGKILL)
        worker.wait()
    finally:
        stop(worker)
    alerted_before_kill = breaches().count()
    restarted = start_worker(tmp_path)
    try:
        # The killed run's task stays claimed; the next 15-second slot enqueues a fresh check.
        # Upper bounds, generous for a loaded machine: a quiet one finishes in seconds.
        finished = wait_for(lambda: not SlaClock.objects.filter(breached_at__isnull=True).exists(), timeout=240)
    finally:
        stop(restarted)

    assert caught_mid_pass and 0 < alerted_before_kill < expected
    assert finished, log_of(tmp_path)
    assert breaches().count() == expected
    assert breaches().values("dedupe_key").distinct().count() == expected
    assert SlaClock.objects.filter(breached_at__isnull=False).count() == len(contacts)

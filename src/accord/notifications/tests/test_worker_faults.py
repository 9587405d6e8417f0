"""Faults, with the real `accord worker` process: a receiver that is down for a while, and a
worker killed with SIGKILL in the middle of a batch. The test plays the scheduler's part by
calling the sweep between worker runs, with the clock moved past the retry delays."""

import json
import os
import signal
import time
from collections import defaultdict
from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone
from tests.worker import DB_TASKS, run_worker_until_idle, start_worker

from accord.accounts.tests.factories import UserFactory
from accord.core.permissions import Role
from accord.notifications import services
from accord.notifications.models import Delivery, Notification
from accord.notifications.tests.factories import WebhookSubscriptionFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def publish(records: int, per_record: int) -> None:
    with override_settings(TASKS=DB_TASKS):
        for n in range(per_record):
            for record in range(records):
                services.publish_event(event_type="deal.stage_changed", record_key=f"deal:{record}",
                                       payload={"record": record, "n": n})


def sweep(after: timedelta) -> dict:
    with override_settings(TASKS=DB_TASKS):
        return services.sweep(now=timezone.now() + after)


def arrivals_by_record(receiver) -> dict[int, list[int]]:
    """Return each record's event numbers in the order they first arrived (by delivery id)."""
    seen, order = set(), defaultdict(list)
    for request in receiver.received:
        delivery_id = request.headers["X-Accord-Delivery"]
        if delivery_id in seen:
            continue
        seen.add(delivery_id)
        data = json.loads(request.body)["data"]
        order[data["record"]].append(data["n"])
    return dict(order)


def test_events_held_while_the_receiver_is_down_arrive_once_each_and_in_order_when_it_returns(
    http_receiver, tmp_path
):
    subscription = WebhookSubscriptionFactory(url=http_receiver.url)
    http_receiver.secret = subscription.secret
    http_receiver.down()  # connections refused
    publish(records=3, per_record=5)

    refused = run_worker_until_idle(data_dir=tmp_path)
    assert refused.returncode == 0, refused.stderr
    heads = Delivery.objects.filter(attempts=1)
    assert heads.count() == 3  # one per record; the later events wait behind them
    assert set(heads.values_list("last_error", flat=True)) == {"ConnectionRefusedError: [Errno 111] Connection refused"}

    http_receiver.up()
    http_receiver.mode = "503"
    assert sweep(timedelta(minutes=10)) == {"released": 0, "queued": 3}
    busy = run_worker_until_idle(data_dir=tmp_path)
    assert busy.returncode == 0, busy.stderr
    assert http_receiver.refused_503 == 3
    assert http_receiver.received == []

    http_receiver.mode = "up"
    assert sweep(timedelta(hours=1)) == {"released": 0, "queued": 3}
    back = run_worker_until_idle(data_dir=tmp_path)
    assert back.returncode == 0, back.stderr

    assert len(http_receiver.received) == 15
    assert len({r.headers["X-Accord-Delivery"] for r in http_receiver.received}) == 15
    assert all(r.signature_ok for r in http_receiver.received)
    assert arrivals_by_record(http_receiver) == {0: [0, 1, 2, 3, 4], 1: [0, 1, 2, 3, 4], 2: [0, 1, 2, 3, 4]}
    assert Delivery.objects.exclude(status=Delivery.Status.SENT).count() == 0
    assert list(Delivery.objects.filter(attempts=3).values_list("record_key", flat=True).order_by("record_key")) == [
        "deal:0", "deal:1", "deal:2",
    ]


def test_a_worker_killed_mid_batch_and_restarted_loses_nothing_and_doubles_nothing(http_receiver, tmp_path):
    subscription = WebhookSubscriptionFactory(url=http_receiver.url)
    http_receiver.secret = subscription.secret
    http_receiver.delay = 0.1
    publish(records=4, per_record=8)

    worker = start_worker(data_dir=tmp_path)
    deadline = time.monotonic() + 60
    while http_receiver.count() < 8 and time.monotonic() < deadline and worker.poll() is None:
        time.sleep(0.02)
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)
    before_restart = http_receiver.count()
    assert 8 <= before_restart < 32, (tmp_path / "worker.log").read_text()

    recovered = sweep(timedelta(minutes=3))  # past the claim lease and the requeue delay
    restarted = run_worker_until_idle(data_dir=tmp_path)
    assert restarted.returncode == 0, restarted.stderr

    ids = [r.headers["X-Accord-Delivery"] for r in http_receiver.received]
    assert len(set(ids)) == 32, recovered  # nothing lost
    # Nothing doubled: at most the one message in flight at the kill (peer answered, worker
    # died before recording it) is sent again, with the same delivery id for the receiver to drop.
    assert len(ids) - len(set(ids)) <= 1
    assert all(r.signature_ok for r in http_receiver.received)
    assert arrivals_by_record(http_receiver) == {record: list(range(8)) for record in range(4)}
    assert Delivery.objects.exclude(status=Delivery.Status.SENT).count() == 0


def test_the_worker_process_emails_a_notification_through_the_smtp_server(smtp_server, tmp_path):
    rep = UserFactory(role=Role.SALES_REP, email="rep@example.com")
    with override_settings(TASKS=DB_TASKS):
        services.notify(recipient=rep, kind=Notification.Kind.SLA_WARNING,
                        title="Ada Lovelace: 1 hour left to follow up", dedupe_key="sla:1:warning",
                        url="/contacts/1/")

    done = run_worker_until_idle(data_dir=tmp_path, extra_env={
        "ACCORD_EMAIL_HOST": "127.0.0.1", "ACCORD_EMAIL_PORT": str(smtp_server.port),
        "ACCORD_PUBLIC_URL": "https://accord.example.com",
    })

    assert done.returncode == 0, done.stderr
    [message] = smtp_server.messages
    assert message["Subject"] == "Ada Lovelace: 1 hour left to follow up"
    assert "https://accord.example.com/contacts/1/" in message.get_body(("plain",)).get_content()
    assert Delivery.objects.get().status == Delivery.Status.SENT

"""Whole-base reads split their ranges over several connections and read what one connection reads.

The readers are other connections, which see only committed rows, so these tests commit.
"""

import datetime as dt
import threading

import numpy as np
import pytest
from django.db import connection, connections, transaction

from accord.capture.models import Contact, Touchpoint
from accord.capture.tests.factories import ContactFactory, TouchpointFactory
from accord.scoring import selectors, services
from accord.scoring.models import ContactScore, EngagementRollup, LeadScore
from accord.scoring.rules import parse_rules
from accord.scoring.tests.factories import ActivityFactory
from accord.scoring.tests.test_services import NOW, SIMPLE

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def a_small_base():
    for number in range(9):
        contact = ContactFactory(seniority="vp" if number % 2 else "manager",
                                 email=f"p{number}@{'rival.example' if number == 4 else 'buyer.example'}")
        for days in range(number % 3 + 1):
            TouchpointFactory(contact=contact, kind=Touchpoint.Kind.WEBINAR_ATTEND,
                              occurred_at=NOW - dt.timedelta(days=days))
        ActivityFactory(contact=contact, occurred_at=NOW - dt.timedelta(hours=number))


def read_everything(rules):
    columns = selectors.contact_columns(rules=rules, created=True, chunk=2)
    events = selectors.engagement_events(chunk=1)
    history = selectors.lifecycle_history()
    return columns, events, history


def test_a_whole_base_read_over_two_connections_returns_what_one_connection_reads(a_small_base, monkeypatch):
    rules = parse_rules(SIMPLE)
    used = set()
    original = selectors._read_range

    def noting_the_thread(*args):
        used.add(threading.current_thread().name)
        return original(*args)

    monkeypatch.setattr(selectors, "_read_range", noting_the_thread)
    columns, events, history = read_everything(rules)
    monkeypatch.setattr(selectors, "READERS", 1)
    one_columns, one_events, one_history = read_everything(rules)

    assert used and all(name.startswith("scoring-read") for name in used)
    assert len(columns.leads) == 9
    for name in ("contact_id", "industry", "size_band", "region", "seniority", "title_flags", "domain_flags"):
        assert np.array_equal(getattr(columns.leads, name), getattr(one_columns.leads, name)), name
    for name in ("score", "channel", "segment", "created_s"):
        assert np.array_equal(getattr(columns, name), getattr(one_columns, name)), name
    assert [len(part) for part in events] == [9 + 18, 9 + 18, 9 + 18]
    assert all(np.array_equal(part, one) for part, one in zip(events, one_events, strict=True))
    assert all(np.array_equal(history[key], one_history[key]) for key in ("transitions", "feedback"))


def test_a_read_inside_a_transaction_stays_on_the_callers_connection(a_small_base, monkeypatch):
    def no_other_connection(*args):
        raise AssertionError("read on another connection")

    monkeypatch.setattr(selectors, "_read_range", no_other_connection)

    with transaction.atomic():
        ContactFactory(seniority="vp")  # not committed: only this connection sees it
        columns = selectors.contact_columns(rules=parse_rules(SIMPLE), chunk=2)

    assert len(columns.leads) == 10


def test_each_reader_closes_its_connection_after_its_range(a_small_base, monkeypatch):
    readers = []
    original = selectors._read_range

    def keeping_the_connection(*args):
        result = original(*args)
        readers.append(connections["default"])  # this thread's connection
        return result

    monkeypatch.setattr(selectors, "_read_range", keeping_the_connection)

    selectors.contact_columns(rules=parse_rules(SIMPLE), chunk=2)

    assert len(readers) == 5  # nine consecutive ids in ranges of two
    assert all(reader is not connection and reader.connection is None for reader in readers)


def scores_by_contact():
    return (dict(ContactScore.objects.values_list("contact_id", "total")),
            sorted(LeadScore.objects.values_list("contact_id", "total", "fit", "engagement")))


def test_a_whole_base_rescore_outside_a_transaction_scores_as_one_inside_a_transaction_does(a_small_base):
    services.publish_rule_set(source=SIMPLE)
    with transaction.atomic():  # one connection, foreign keys checked row by row
        services.rescore(as_of=NOW)
    inside = scores_by_contact()
    ContactScore.objects.all().delete()
    LeadScore.objects.all().delete()
    EngagementRollup.objects.all().delete()

    result = services.rescore(as_of=NOW)  # contacts and touches read side by side

    assert result["read_every_touch"] is True and result["changed"] == 8  # the rival's stays 0: no row
    assert scores_by_contact() == inside
    assert len(inside[0]) == len(inside[1]) == 8


def test_a_contact_deleted_while_the_base_is_scored_keeps_no_score_and_the_key_checks_come_back(a_small_base):
    services.publish_rule_set(source=SIMPLE)
    doomed = Contact.objects.order_by("id")[5]

    def delete_once_read(done, total, message):
        if message.startswith("Scoring"):  # after the reads, before the save
            Contact.objects.filter(pk=doomed.pk).delete()

    result = services.rescore(as_of=NOW, progress=delete_once_read)

    assert result["changed"] == 8  # scored as read; the rival's stays 0
    assert not ContactScore.objects.filter(contact_id=doomed.pk).exists()
    assert not LeadScore.objects.filter(contact_id=doomed.pk).exists()
    assert ContactScore.objects.count() == LeadScore.objects.count() == 7
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA foreign_keys" if connection.vendor == "sqlite" else "SELECT 1")
        assert cursor.fetchone() == (1,)


def wal_frames() -> tuple[int, int]:
    """Return (frames in SQLite's WAL, frames of it already copied into the database file).

    Read from the shared-memory index without touching the database: its header's mxFrame
    (offset 16) and the checkpoint's nBackfill (offset 96), both native-endian u32.
    """
    with open(str(connection.settings_dict["NAME"]) + "-shm", "rb") as shm:
        header = shm.read(100)
    return int.from_bytes(header[16:20], "little"), int.from_bytes(header[96:100], "little")


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's write-ahead log")
def test_a_whole_base_rescore_leaves_copying_its_wal_back_to_a_thread_after_the_commit(a_small_base):
    services.publish_rule_set(source=SIMPLE)
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    result = services.rescore(as_of=NOW)
    services.wait_for_checkpoints()

    # A handful of pages is far below the 1,000 at which the committing connection would
    # have copied them itself: only the thread copied them back.
    frames, copied = wal_frames()
    assert 0 < frames < 1000
    assert copied == frames
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_autocheckpoint")
        assert cursor.fetchone() == (1000,)
    assert ContactScore.objects.count() == result["changed"] == 8

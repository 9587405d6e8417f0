"""The history's data migrations, run on rows stored the way the previous schema stored them."""

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from accord.capture.tests.factories import ContactFactory
from accord.scoring.models import LeadScore, ScoreRun

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("scoring", "0005_narrower_score_indexes")]
AFTER = [("scoring", "0006_score_runs")]
T1 = dt.datetime(2026, 5, 1, 2, 0, tzinfo=dt.UTC)
T2 = dt.datetime(2026, 5, 2, 2, 0, 0, 123456, tzinfo=dt.UTC)


def migrate(target):
    executor = MigrationExecutor(connection)
    executor.migrate(target)
    return executor.loader.project_state(target).apps


def test_the_run_migration_gives_each_stored_score_the_run_of_its_instant_and_versions():
    old = migrate(BEFORE).get_model("scoring", "LeadScore")
    a, b = ContactFactory(), ContactFactory()
    stored = [(a, T1, 1, None), (b, T1, 1, None), (a, T2, 2, 3), (b, T2, 2, None), (a, T1, 2, None)]
    for contact, at, rules, model in stored:
        old.objects.create(contact_id=contact.pk, total=7, fit=4, engagement=3, explanation={},
                           computed_at=at, rule_version=rules, model_version=model)

    migrate(AFTER)

    assert ScoreRun.objects.count() == 4
    rows = LeadScore.objects.order_by("id")
    assert [(s.contact_id, s.computed_at, s.rule_version, s.model_version) for s in rows] == [
        (contact.pk, at, rules, model) for contact, at, rules, model in stored]
    assert rows[0].run_id == rows[1].run_id != rows[4].run_id

"""Publishing rules, rescoring, training jobs and model versions, through the services."""

import argparse
import datetime as dt

import numpy as np
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accord.accounts.tests.factories import UserFactory
from accord.capture.models import Contact, Touchpoint
from accord.capture.tests.factories import AccountFactory, ContactFactory, TouchpointFactory
from accord.core.errors import PermissionDenied
from accord.core.models import Job
from accord.core.permissions import Role
from accord.core.yamldoc import InvalidDocument
from accord.scoring import cli, selectors, services
from accord.scoring.models import ContactScore, LeadScore, PredictiveModelVersion, ScoringRuleSet
from accord.scoring.tests.factories import ActivityFactory, PredictiveModelVersionFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC)
SIMPLE = """
fit:
  seniority: {vp: 20}
  email_domains:
    - {domains: [rival.example], points: -60, label: Competitor email domain}
engagement:
  half_life_days: 7
  touchpoints:
    webinar_attend: {points: 12}
  activities:
    meeting: {points: 10}
"""


def test_publishing_rules_stores_a_new_active_version():
    first = services.publish_rule_set(source=SIMPLE)
    second = services.publish_rule_set(source=SIMPLE.replace("vp: 20", "vp: 25"))

    assert (first.version, second.version) == (1, 2)
    assert list(ScoringRuleSet.objects.filter(is_active=True).values_list("version", flat=True)) == [2]
    assert second.parsed["fit"]["seniority"] == {"vp": 25}


def test_an_invalid_document_is_refused_and_nothing_changes():
    services.publish_rule_set(source=SIMPLE)

    with pytest.raises(InvalidDocument, match=r"line 3: fit\.seniority"):
        services.publish_rule_set(source="fit:\n  seniority:\n    king: 5\n")

    assert list(ScoringRuleSet.objects.values_list("version", "is_active")) == [(1, True)]


def test_an_older_rule_version_can_be_activated_again():
    services.publish_rule_set(source=SIMPLE)
    services.publish_rule_set(source=SIMPLE)

    services.activate_rule_set(version=1)

    assert selectors.active_rule_set().version == 1


def test_a_sales_rep_may_not_publish_rules():
    with pytest.raises(PermissionDenied):
        services.publish_rule_set(source=SIMPLE, by=UserFactory(role=Role.SALES_REP))
    assert not ScoringRuleSet.objects.exists()


def test_the_default_rules_are_published_when_none_exist():
    rules, version = services.active_rules()

    assert version == 1
    assert ScoringRuleSet.objects.get().source.startswith("# Accord's default lead-scoring rules")
    assert rules.fit.seniority["vp"] == 12


def test_a_rescore_updates_contact_scores_and_records_changed_ones_with_explanations():
    services.publish_rule_set(source=SIMPLE)
    vp = ContactFactory(seniority="vp")
    TouchpointFactory(contact=vp, kind=Touchpoint.Kind.WEBINAR_ATTEND, occurred_at=NOW - dt.timedelta(days=7))
    nobody = ContactFactory()

    result = services.rescore(as_of=NOW)

    # Only the score that moved from 0 is written: a contact without a row scores 0.
    assert scores_now() == {vp.pk: 26}
    assert nobody.pk not in scores_now()
    assert result == {"contacts": 2, "changed": 1, "rule_version": 1, "model_version": None,
                      "read_every_touch": True}
    score = LeadScore.objects.get()
    assert (score.contact_id, score.total, score.fit, score.engagement, score.rule_version) == (vp.pk, 26, 20, 6, 1)
    assert [item["text"] for item in score.explanation["up"]] == ["VP (+20)", "Attended a webinar 7 days ago (+6)"]
    assert score.explanation["predictive"] == "predictive model unavailable: no model has been trained yet"


def test_a_bulk_rescore_stores_the_numbers_of_each_changed_score_and_leaves_wording_to_the_reader(monkeypatch):
    services.publish_rule_set(source=SIMPLE)
    vp = ContactFactory(seniority="vp")
    TouchpointFactory(contact=vp, kind=Touchpoint.Kind.WEBINAR_ATTEND, occurred_at=NOW - dt.timedelta(days=7))
    other_vp = ContactFactory(seniority="vp")
    ContactFactory(email="a@rival.example")
    monkeypatch.setattr(services, "EXPLAIN_EAGERLY_UP_TO", 1)

    result = services.rescore(as_of=NOW)

    assert result["changed"] == 2
    rows = LeadScore.objects.order_by("contact_id").values_list(
        "contact_id", "total", "fit", "engagement", "run__rule_version", "predicted_probability", "explanation",
        "run__computed_at")
    assert list(rows) == [(vp.pk, 26, 20, 6, 1, None, {}, NOW), (other_vp.pk, 20, 20, 0, 1, None, {}, NOW)]


def test_a_bulk_rescore_upserts_the_scores_that_moved_in_chunks_and_leaves_the_others_alone(monkeypatch):
    services.publish_rule_set(source=SIMPLE)
    vp = ContactFactory(seniority="vp")
    TouchpointFactory(contact=vp, kind=Touchpoint.Kind.WEBINAR_ATTEND, occurred_at=NOW - dt.timedelta(days=7))
    other_vp = ContactFactory(seniority="vp")
    nobody = ContactFactory(score=0)
    demoted = ContactFactory(score=55)
    never_scored = ContactFactory()
    monkeypatch.setattr(services, "HISTORY_CHUNK", 2)

    with CaptureQueriesContext(connection) as queries:
        services.rescore(as_of=NOW)

    assert scores_now() == {vp.pk: 26, other_vp.pk: 20, nobody.pk: 0, demoted.pk: 0}
    # Three moved (the contact never scored stays at 0, without a row): two chunks on SQLite,
    # one statement of arrays on PostgreSQL.
    upserts = [q["sql"] for q in queries.captured_queries if "INTO scoring_contactscore" in q["sql"]]
    assert len(upserts) == (2 if connection.vendor == "sqlite" else 1)
    assert never_scored.pk not in scores_now()
    assert not [q["sql"] for q in queries.captured_queries if "UPDATE" in q["sql"] and "capture_contact" in q["sql"]]
    assert sorted(LeadScore.objects.values_list("contact_id", "total")) == sorted(
        [(vp.pk, 26), (other_vp.pk, 20), (demoted.pk, 0)])


def test_bulk_history_rows_carry_each_probability_beside_its_contact(monkeypatch):
    monkeypatch.setattr(services, "HISTORY_CHUNK", 2)  # two statements: the second reuses the table
    contacts = [ContactFactory() for _ in range(3)]
    ids = np.array([c.pk for c in contacts])
    probability = np.array([0.125, 0.0000012345678901234, 0.9999999999999999])

    services._insert_history(contact_ids=ids, total=np.array([5, 0, 100]), fit=np.array([-50, 0, 50]),
                             engagement=np.array([50, -50, 50]), probability=probability, model_version=3,
                             rule_version=2, explanations=None, computed_at=NOW)

    rows = LeadScore.objects.order_by("contact_id").values_list(
        "contact_id", "total", "fit", "engagement", "predicted_probability", "run__model_version", "run__rule_version")
    assert list(rows) == [(ids[0], 5, -50, 50, 0.125, 3, 2), (ids[1], 0, 0, -50, 0.0000012345678901234, 3, 2),
                          (ids[2], 100, 50, 50, 0.9999999999999999, 3, 2)]


def test_a_rescore_with_nothing_changed_writes_nothing():
    services.publish_rule_set(source=SIMPLE)
    ContactFactory(seniority="vp")
    services.rescore(as_of=NOW)

    result = services.rescore(as_of=NOW)

    assert result["changed"] == 0
    assert LeadScore.objects.count() == 1


def test_a_rescore_moving_most_scores_leaves_them_right_and_their_sort_index_in_place(monkeypatch):
    services.publish_rule_set(source=SIMPLE)
    vp, director = ContactFactory(seniority="vp", score=3), ContactFactory(seniority="director", score=3)
    monkeypatch.setattr(services, "REBUILD_SCORE_INDEX_ABOVE", 0)
    monkeypatch.setattr(services, "REBUILD_SCORE_INDEX_FROM", 0)

    services.rescore(as_of=NOW)

    assert scores_now() == {vp.pk: 20, director.pk: 0}
    with connection.cursor() as cursor:
        indexes = connection.introspection.get_constraints(cursor, ContactScore._meta.db_table)
    # On SQLite the contact is every entry's rowid (ScoreOrderIndex).
    expected = ["total"] if connection.vendor == "sqlite" else ["total", "contact_id"]
    assert indexes["contactscore_total"]["columns"] == expected


def test_negative_signals_lower_the_score_and_say_why():
    services.publish_rule_set(source=SIMPLE)
    rival = ContactFactory(seniority="vp", email="spy@sales.rival.example")
    ActivityFactory(contact=rival, occurred_at=NOW)

    score = services.score_contact(contact=rival, as_of=NOW)

    assert (score.fit, score.engagement, score.total) == (-40, 10, 0)
    assert rival.pk not in scores_now()  # 0, from 0: nothing to write
    assert score.explanation["down"] == [
        {"factor": "domain:0", "points": -60, "text": "Competitor email domain (−60)"}]


def test_touchpoints_in_the_future_of_the_scoring_instant_do_not_count():
    services.publish_rule_set(source=SIMPLE)
    contact = ContactFactory()
    TouchpointFactory(contact=contact, kind=Touchpoint.Kind.WEBINAR_ATTEND, occurred_at=NOW + dt.timedelta(days=1))

    assert services.score_contact(contact=contact, as_of=NOW).engagement == 0


def test_rescoring_takes_the_same_number_of_queries_for_few_or_many_contacts():
    services.publish_rule_set(source=SIMPLE)
    account = AccountFactory()
    # Scored before (a base never scored has no score range to read: one query fewer).
    for contact in ContactFactory.create_batch(2, account=account, seniority="vp", score=5):
        TouchpointFactory(contact=contact, occurred_at=NOW)
    with CaptureQueriesContext(connection) as few:
        services.rescore(as_of=NOW, full=True)
    with CaptureQueriesContext(connection) as few_nightly:
        services.rescore(as_of=NOW + dt.timedelta(days=1))
    ContactFactory.create_batch(30, account=account, seniority="vp")
    for contact in ContactFactory.create_batch(10):
        TouchpointFactory(contact=contact, occurred_at=NOW)

    with CaptureQueriesContext(connection) as many:
        services.rescore(as_of=NOW, full=True)
    with CaptureQueriesContext(connection) as many_nightly:
        services.rescore(as_of=NOW + dt.timedelta(days=1))

    # Reads: the active rules and model; contacts with their emails (MIN and MAX, one range);
    # accounts (MIN and MAX, one range); current scores (MIN and MAX, one range); the touch
    # watermarks; touchpoints (one range; activities have none); the latest model card.
    # Writes: one upsert of the scores that moved, the run and one INSERT batch of history, a count of the
    # contacts (any deleted since the read?) and the rollup replaced (a DELETE and an INSERT),
    # inside a savepoint. A nightly run with nothing new
    # reads the rollup instead of touchpoints and writes nothing (the savepoint stays). On
    # SQLite, three more: the page cache read, enlarged for the run and put back.
    extra = 3 if connection.vendor == "sqlite" else 0
    assert len(few) == len(many) == 19 + extra
    assert len(few_nightly) == len(many_nightly) == 13 + extra


def test_training_with_too_little_history_falls_back_to_rules_and_says_so(django_capture_on_commit_callbacks):
    marketer = UserFactory(role=Role.MARKETING)
    ContactFactory.create_batch(5)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        job = services.start_training(user=marketer)

    job.refresh_from_db()
    assert len(callbacks) == 1
    assert job.status == Job.Status.SUCCEEDED
    assert job.result["active"] is False
    assert job.result["unavailable"].startswith("predictive model unavailable: only 0 labelled leads")
    version = PredictiveModelVersion.objects.get()
    assert (version.is_active, version.artifact) == (False, None)
    contact = ContactFactory()
    explanation = services.score_contact(contact=contact).explanation
    assert explanation["predictive"] == version.unavailable_reason


def test_a_rep_may_not_start_training():
    with pytest.raises(PermissionDenied):
        services.start_training(user=UserFactory(role=Role.SALES_REP))
    assert not Job.objects.exists()


def test_an_older_model_version_can_be_activated_again():
    PredictiveModelVersionFactory(version=1)
    PredictiveModelVersionFactory(version=2, is_active=True)

    services.activate_model(version=1)

    assert list(PredictiveModelVersion.objects.filter(is_active=True).values_list("version", flat=True)) == [1]


def test_a_version_without_a_model_cannot_be_activated():
    PredictiveModelVersionFactory(version=1, is_active=True)
    PredictiveModelVersionFactory(version=2, artifact=None, unavailable_reason="predictive model unavailable: x")

    with pytest.raises(ValueError, match="cannot be activated"):
        services.activate_model(version=2)

    assert selectors.active_model().version == 1


def test_two_model_versions_compare_metric_by_metric():
    PredictiveModelVersionFactory(version=1, roc_auc=0.71)
    PredictiveModelVersionFactory(version=2, roc_auc=0.83, is_active=True)

    rows = {name: (a, b) for name, a, b in selectors.model_comparison(first=1, second=2)}

    assert rows["roc auc"] == ("0.7100", "0.8300")
    assert rows["top-decile lift"] == ("4.00", "4.00")
    assert rows["is active"] == ("False", "True")


def test_every_score_subcommand_answers_help(capsys):
    parser = argparse.ArgumentParser(prog="accord")
    cli.add_parser(parser.add_subparsers())
    for argv in (["score"], ["score", "rules"], ["score", "rules", "apply"], ["score", "rules", "show"],
                 ["score", "rescore"], ["score", "model"], ["score", "model", "train"],
                 ["score", "model", "list"], ["score", "model", "show"], ["score", "model", "compare"],
                 ["score", "model", "activate"]):
        with pytest.raises(SystemExit) as exit_:
            parser.parse_args([*argv, "--help"])
        assert exit_.value.code == 0
    assert "accord score model activate" in capsys.readouterr().out


CAPPED = SIMPLE.replace("webinar_attend: {points: 12}", "webinar_attend: {points: 12, max: 20}")


def scores_now() -> dict[int, int]:
    return dict(ContactScore.objects.values_list("contact_id", "total"))


def test_a_nightly_rescore_from_the_rollup_gives_the_scores_reading_every_touch_gives():
    services.publish_rule_set(source=CAPPED)
    day = dt.timedelta(days=1)
    vp, fan, newcomer = ContactFactory(seniority="vp"), ContactFactory(), ContactFactory()
    for days_ago in (1, 3, 9):
        TouchpointFactory(contact=fan, kind=Touchpoint.Kind.WEBINAR_ATTEND, occurred_at=NOW - days_ago * day)
    TouchpointFactory(contact=vp, kind=Touchpoint.Kind.WEBINAR_ATTEND, occurred_at=NOW - 2 * day)
    # A touch dated after the first run, already stored: it must count once it has happened.
    TouchpointFactory(contact=vp, kind=Touchpoint.Kind.WEBINAR_ATTEND, occurred_at=NOW + 2 * day)
    ActivityFactory(contact=vp, occurred_at=NOW - 4 * day)
    first = services.rescore(as_of=NOW)

    # Given touches and a meeting added after that rescore, and three days of decay…
    TouchpointFactory(contact=newcomer, kind=Touchpoint.Kind.WEBINAR_ATTEND, occurred_at=NOW + day)
    TouchpointFactory(contact=fan, kind=Touchpoint.Kind.WEBINAR_ATTEND, occurred_at=NOW + day)
    ActivityFactory(contact=newcomer, occurred_at=NOW + 2 * day)
    nightly = services.rescore(as_of=NOW + 3 * day)
    from_rollup = scores_now()
    history = list(LeadScore.objects.order_by("id").values_list("contact_id", "total"))

    # …the nightly run read only the new touches and scored exactly as a full read does.
    full = services.rescore(as_of=NOW + 3 * day, full=True)
    assert (first["read_every_touch"], nightly["read_every_touch"], full["read_every_touch"]) == (True, False, True)
    assert from_rollup == scores_now()
    assert full["changed"] == 0
    assert list(LeadScore.objects.order_by("id").values_list("contact_id", "total")) == history


def test_a_rescore_explains_changed_scores_with_the_real_touches_when_it_started_from_the_rollup():
    services.publish_rule_set(source=SIMPLE)
    vp = ContactFactory(seniority="vp")
    services.rescore(as_of=NOW)
    TouchpointFactory(contact=vp, kind=Touchpoint.Kind.WEBINAR_ATTEND, occurred_at=NOW)
    TouchpointFactory(contact=vp, kind=Touchpoint.Kind.WEBINAR_ATTEND, occurred_at=NOW)

    result = services.rescore(as_of=NOW + dt.timedelta(hours=1))

    latest = LeadScore.objects.filter(contact=vp).first()
    assert result["read_every_touch"] is False
    assert [item["text"] for item in latest.explanation["up"]] == ["Attended 2 webinars, latest today (+24)", "VP (+20)"]


@pytest.mark.parametrize("change", ["half_life", "age", "no_counts"])
def test_a_rollup_with_another_half_life_or_older_than_a_week_or_without_counts_is_rebuilt_from_every_touch(change):
    import io

    from accord.scoring.models import EngagementRollup

    services.publish_rule_set(source=SIMPLE)
    ContactFactory(seniority="vp")
    services.rescore(as_of=NOW)
    if change == "half_life":
        services.publish_rule_set(source=SIMPLE.replace("half_life_days: 7", "half_life_days: 14"))
    elif change == "age":
        EngagementRollup.objects.update(built_at=NOW - services.ROLLUP_MAX_AGE)
    else:
        # As stored before counts and latest times were kept.
        stored = np.load(io.BytesIO(bytes(EngagementRollup.objects.get().data)))
        buffer = io.BytesIO()
        np.savez(buffer, **{name: stored[name] for name in stored.files if name not in ("count", "latest_s")})
        EngagementRollup.objects.update(data=buffer.getvalue())

    result = services.rescore(as_of=NOW)

    assert result["read_every_touch"] is True
    assert EngagementRollup.objects.get().half_life_days == (14.0 if change == "half_life" else 7.0)


def test_scoring_one_contact_drops_the_score_its_instance_had_cached():
    services.publish_rule_set(source=SIMPLE)
    ContactFactory(seniority="vp", score=3)
    contact = Contact.objects.select_related("current_score").get()
    assert contact.current_score.total == 3

    services.score_contact(contact=contact, as_of=NOW)

    assert contact.current_score.total == 20

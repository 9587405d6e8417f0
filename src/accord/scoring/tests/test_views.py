"""The scoring pages: edit, validate and publish rules; diff and activate versions; model cards and rollback."""

import pytest
from django.urls import reverse

from accord.accounts.tests.factories import UserFactory
from accord.core.models import Job
from accord.core.permissions import Role
from accord.scoring import services
from accord.scoring.models import PredictiveModelVersion, ScoringRuleSet
from accord.scoring.tests.factories import PredictiveModelVersionFactory

pytestmark = pytest.mark.django_db

RULES = "fit:\n  seniority: {vp: 20}\n"
TYPO = "fit:\n  seniority: {vp: 20}\n  industry:\n    softwear: 10\n"


@pytest.fixture
def marketer(client):
    user = UserFactory(role=Role.MARKETING)
    client.force_login(user)
    return user


def test_a_marketer_sees_the_active_rules_and_every_version(client, marketer):
    services.publish_rule_set(source=RULES, by=marketer)

    response = client.get(reverse("scoring-rules"))

    assert response.status_code == 200
    assert response.context["active"].version == 1
    assert b"Version 1 is active" in response.content
    assert [v.version for v in response.context["versions"]] == [1]


def test_a_mistake_is_shown_next_to_its_line_and_nothing_is_published(client, marketer):
    services.publish_rule_set(source=RULES, by=marketer)

    response = client.post(reverse("scoring-rules"), {"source": TYPO, "based_on": 1, "action": "publish"})

    assert response.status_code == 422
    assert [str(p) for p in response.context["problems"]] == [
        "line 4: fit.industry: Value error, unknown industry 'softwear'; use one of 'software', 'financial', "
        "'healthcare', 'manufacturing', 'retail', 'education', 'professional', 'hospitality', 'logistics', "
        "'public', 'consumer', 'other'"]
    assert [line["number"] for line in response.context["lines"] if line["errors"]] == [4]
    assert b'data-testid="error-line-4"' in response.content
    assert list(ScoringRuleSet.objects.values_list("version", flat=True)) == [1]


def test_validating_a_good_document_says_so_and_publishes_nothing(client, marketer):
    response = client.post(reverse("scoring-rules"), {"source": RULES, "action": "validate"})

    assert response.status_code == 200
    assert b"The document is valid" in response.content
    assert not ScoringRuleSet.objects.exists()


def test_publishing_makes_a_new_active_version_and_starts_a_rescore_job(client, marketer, django_capture_on_commit_callbacks):
    services.publish_rule_set(source=RULES, by=marketer)

    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(reverse("scoring-rules"), {
            "source": RULES.replace("20", "25"), "based_on": 1, "action": "publish", "rescore": "on"})

    job = Job.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("job", args=[job.pk])
    assert (job.kind, job.created_by) == ("scoring.rescore", marketer)
    assert list(ScoringRuleSet.objects.filter(is_active=True).values_list("version", "created_by")) == [(2, marketer.pk)]


def test_posting_the_same_document_twice_adds_one_version(client, marketer):
    services.publish_rule_set(source=RULES, by=marketer)
    changed = {"source": RULES.replace("20", "25"), "based_on": 1, "action": "publish"}

    first = client.post(reverse("scoring-rules"), changed)
    second = client.post(reverse("scoring-rules"), changed)

    assert (first.status_code, second.status_code) == (302, 302)
    assert list(ScoringRuleSet.objects.values_list("version", flat=True)) == [2, 1]


def test_publishing_over_a_version_someone_else_published_meanwhile_is_refused(client, marketer):
    services.publish_rule_set(source=RULES, by=marketer)
    services.publish_rule_set(source=RULES.replace("20", "30"), by=UserFactory(role=Role.REVOPS_ADMIN))

    response = client.post(reverse("scoring-rules"), {
        "source": RULES.replace("20", "25"), "based_on": 1, "action": "publish"})

    assert response.status_code == 422
    assert "Rules v2 were published while you were editing v1" in response.context["form"].non_field_errors()[0]
    assert ScoringRuleSet.objects.count() == 2


def test_a_rep_reads_the_rules_but_may_not_change_them(client):
    services.publish_rule_set(source=RULES)
    client.force_login(UserFactory(role=Role.SALES_REP))

    page = client.get(reverse("scoring-rules"))
    post = client.post(reverse("scoring-rules"), {"source": TYPO, "action": "publish"})
    rescore = client.post(reverse("scoring-rescore"))

    assert page.status_code == 200
    assert b"Publish as a new version" not in page.content
    assert (post.status_code, rescore.status_code) == (403, 403)
    assert (ScoringRuleSet.objects.count(), Job.objects.count()) == (1, 0)


def test_the_diff_shows_the_lines_removed_and_added_between_two_versions(client, marketer):
    services.publish_rule_set(source=RULES, by=marketer)
    services.publish_rule_set(source=RULES.replace("20", "25"), by=marketer)

    response = client.get(reverse("scoring-rules-diff"), {"a": 1, "b": 2})

    assert response.status_code == 200
    assert [(line["kind"], line["text"]) for line in response.context["diff"] if line["kind"] != "hunk"] == [
        ("same", "fit:"), ("remove", "\u00a0\u00a0seniority:\u00a0{vp:\u00a020}"),
        ("add", "\u00a0\u00a0seniority:\u00a0{vp:\u00a025}")]


def test_an_unknown_version_in_the_diff_is_a_404_not_an_error(client, marketer):
    assert client.get(reverse("scoring-rules-diff"), {"a": 1, "b": "x"}).status_code == 404


def test_an_older_rules_version_can_be_made_active_again(client, marketer):
    services.publish_rule_set(source=RULES, by=marketer)
    services.publish_rule_set(source=RULES.replace("20", "25"), by=marketer)

    response = client.post(reverse("scoring-rules-activate"), {"version": 1})

    assert response.status_code == 302
    assert list(ScoringRuleSet.objects.filter(is_active=True).values_list("version", flat=True)) == [1]


def test_the_model_page_says_plainly_when_scoring_falls_back_to_rules(client, marketer):
    PredictiveModelVersionFactory(
        version=1, artifact=None, unavailable_reason="predictive model unavailable: only 37 labelled leads and 3 "
        "that converted; the model needs at least 200 and 20")

    response = client.get(reverse("scoring-model"))

    assert response.status_code == 200
    assert b"Scoring is falling back to rules." in response.content
    assert b"Predictive model unavailable: only 37 labelled leads" in response.content


def test_the_model_pages_take_a_fixed_number_of_queries(client, marketer, django_assert_num_queries):
    for version in range(1, 6):
        PredictiveModelVersionFactory(version=version, is_active=version == 5)

    # Session and user; the versions; the status.
    with django_assert_num_queries(4):
        assert client.get(reverse("scoring-model")).status_code == 200


def test_a_model_card_shows_its_metrics_lift_and_calibration(client, marketer):
    PredictiveModelVersionFactory(version=1, is_active=True, calibration={
        "predicted_mean": 0.05, "observed_rate": 0.04,
        "bins": [{"predicted": 0.02, "observed": 0.018, "n": 900}, {"predicted": 0.31, "observed": 0.29, "n": 100}]})

    response = client.get(reverse("scoring-model-card", args=[1]))

    assert response.status_code == 200
    assert response.context["lift_chart"]["datasets"] == [
        {"label": "Model v1", "data": [4.0, 2.0, 1.0, 1.0, 0.5, 0.5, 0.4, 0.3, 0.2, 0.1]},
        {"label": "Rule score", "data": [3.0, 2.0, 1.0, 1.0, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2]}]
    assert response.context["calibration_chart"]["labels"] == ["2%", "31%"]
    assert response.context["calibration_chart"]["datasets"][1] == {"label": "Observed %", "data": [1.8, 29.0]}
    assert b'id="chart-lift"' in response.content


def test_two_model_versions_are_compared_side_by_side(client, marketer):
    PredictiveModelVersionFactory(version=1, roc_auc=0.81)
    PredictiveModelVersionFactory(version=2, roc_auc=0.86, is_active=True)

    response = client.get(reverse("scoring-model-compare"), {"a": 1, "b": 2})

    assert response.status_code == 200
    assert ("roc auc", "0.8100", "0.8600") in response.context["rows"]


def test_rolling_back_makes_the_older_model_active(client, marketer):
    PredictiveModelVersionFactory(version=1)
    PredictiveModelVersionFactory(version=2, is_active=True)

    response = client.post(reverse("scoring-model-activate"), {"version": 1})

    assert response.status_code == 302
    assert list(PredictiveModelVersion.objects.filter(is_active=True).values_list("version", flat=True)) == [1]


def test_a_version_without_a_model_cannot_be_activated_and_the_page_says_why(client, marketer):
    PredictiveModelVersionFactory(version=1, artifact=None, unavailable_reason="predictive model unavailable: x")

    response = client.post(reverse("scoring-model-activate"), {"version": 1}, follow=True)

    assert response.status_code == 200
    assert b"cannot be activated" in response.content
    assert not PredictiveModelVersion.objects.filter(is_active=True).exists()


def test_retraining_runs_as_a_job_with_progress(client, marketer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(reverse("scoring-model-train"))

    job = Job.objects.get()
    assert (response.status_code, response["Location"]) == (302, reverse("job", args=[job.pk]))
    assert (job.kind, job.status) == ("scoring.train", Job.Status.QUEUED)


def test_retraining_for_won_deals_within_30_days_queues_that_label(client, marketer,
                                                                  django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        client.post(reverse("scoring-model-train"), {"outcome": "won", "horizon_days": "30"})

    job = Job.objects.get()
    assert job.params == {"outcome": "won", "horizon_days": 30}
    assert job.title == "Train the predictive lead score: won a deal within 30 days"


def test_a_horizon_out_of_range_is_refused_naming_the_field_and_queues_nothing(client, marketer):
    response = client.post(reverse("scoring-model-train"), {"outcome": "won", "horizon_days": "0"}, follow=True)

    assert response.status_code == 200
    assert b"within (days): Ensure this value is greater than or equal to 1." in response.content
    assert not Job.objects.exists()


def test_the_model_card_says_which_outcome_the_model_predicts(client, marketer):
    PredictiveModelVersionFactory(version=1, outcome="won a deal", horizon_days=30)

    response = client.get(reverse("scoring-model-card", args=[1]))

    assert b"Outcome: won a deal within 30 days." in response.content


def test_an_executive_may_view_the_model_but_not_retrain_it(client):
    client.force_login(UserFactory(role=Role.EXECUTIVE))

    assert client.get(reverse("scoring-model")).status_code == 200
    assert client.post(reverse("scoring-model-train")).status_code == 403
    assert not Job.objects.exists()

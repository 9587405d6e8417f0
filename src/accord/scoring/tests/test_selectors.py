"""The score explanation other pages call: stored, worded on read, never scored, with a model, scoped."""

import datetime as dt

import numpy as np
import pytest

from accord.accounts.tests.factories import UserFactory
from accord.capture.models import Contact, Touchpoint
from accord.capture.tests.factories import ContactFactory, TouchpointFactory
from accord.core.permissions import Role
from accord.scoring import predictive, selectors, services
from accord.scoring.models import ContactScore, LeadScore
from accord.scoring.rules import parse_rules
from accord.scoring.tests.factories import PredictiveModelVersionFactory
from accord.scoring.tests.test_predictive import START, synthetic_history
from accord.scoring.tests.test_services import NOW, SIMPLE

pytestmark = pytest.mark.django_db

def words(factors):
    return [(factor.code, factor.text, factor.label, factor.points) for factor in factors]


def a_vp_who_attended_a_webinar(email="vp@buyer.example"):
    vp = ContactFactory(seniority="vp", email=email)
    TouchpointFactory(contact=vp, kind=Touchpoint.Kind.WEBINAR_ATTEND, occurred_at=NOW - dt.timedelta(days=7))
    return vp


def rescore_again_in_bulk(monkeypatch):
    """Forget every score and rescore as a bulk run would: numbers stored, words left to the reader."""
    LeadScore.objects.all().delete()
    ContactScore.objects.all().delete()
    monkeypatch.setattr(services, "EXPLAIN_EAGERLY_UP_TO", 0)
    services.rescore(as_of=NOW)


def test_a_scored_contact_is_explained_by_its_rules_in_a_reps_words():
    services.publish_rule_set(source=SIMPLE)
    vp = a_vp_who_attended_a_webinar(email="vp@sales.rival.example")
    services.score_contact(contact=vp, as_of=NOW)

    explanation = selectors.score_explanation(contact_id=vp.pk)

    assert (explanation.score, explanation.fit, explanation.engagement) == (0, -40, 6)
    assert (explanation.source, explanation.source_kind, explanation.rule_version) == ("rules v1", "rules", 1)
    assert (explanation.probability, explanation.model_version, explanation.computed_at) == (None, None, NOW)
    assert explanation.summary == "VP"
    assert words(explanation.up) == [
        ("seniority", "VP", "VP (+20)", 20),
        ("webinar_attend", "Attended a webinar 7 days ago", "Attended a webinar 7 days ago (+6)", 6),
    ]
    assert words(explanation.down) == [
        ("domain:0", "Competitor email domain", "Competitor email domain (−60)", -60)]
    assert explanation.rule_up == explanation.up
    assert explanation.fallback == "predictive model unavailable: no model has been trained yet"


def test_a_score_from_a_bulk_rescore_is_worded_on_read_exactly_as_it_would_have_been_stored(monkeypatch):
    services.publish_rule_set(source=SIMPLE)
    vp = a_vp_who_attended_a_webinar()
    services.rescore(as_of=NOW)
    stored = selectors.score_explanation(contact_id=vp.pk)
    rescore_again_in_bulk(monkeypatch)
    assert LeadScore.objects.get().explanation == {}

    worded = selectors.score_explanation(contact_id=vp.pk)

    assert worded == stored


def test_a_contact_never_scored_is_worded_as_of_now_without_writing_anything():
    services.publish_rule_set(source=SIMPLE)
    contact = ContactFactory(seniority="vp")

    explanation = selectors.score_explanation(contact_id=contact.pk)

    assert (explanation.score, explanation.computed_at, explanation.source) == (20, None, "rules v1")
    assert words(explanation.up) == [("seniority", "VP", "VP (+20)", 20)]
    assert not LeadScore.objects.exists()


def test_a_rep_cannot_read_the_explanation_of_a_contact_outside_their_book():
    services.publish_rule_set(source=SIMPLE)
    rep, other_rep = UserFactory(role=Role.SALES_REP), UserFactory(role=Role.SALES_REP)
    theirs = ContactFactory(owner=other_rep)

    with pytest.raises(Contact.DoesNotExist):
        selectors.score_explanation(contact_id=theirs.pk, visible_to=rep)


@pytest.fixture
def trained_model():
    """A real model, trained on synthetic history with the default rules, stored as version 1."""
    rules = parse_rules(services.DEFAULT_RULES.read_text(encoding="utf-8"))
    history = synthetic_history()
    config = predictive.Config(snapshot_ages_days=(1,), max_iter=30)
    data = predictive.training_set(history, rules, config, as_of_s=START + 600 * 86_400)
    trained = predictive.train(data, config)
    baseline = [None if v != v else float(v) for v in trained.baseline.tolist()]
    return PredictiveModelVersionFactory(
        version=1, artifact=predictive.dumps(trained.model), features=data.names, is_active=True,
        params={"rules": rules.model_dump(mode="json"), "baseline": baseline},
    )


def test_with_a_model_in_charge_the_probability_and_its_reasons_explain_the_score(trained_model):
    services.active_rules()
    vp = a_vp_who_attended_a_webinar()
    services.rescore(as_of=NOW)
    score = LeadScore.objects.get(contact=vp)

    explanation = selectors.score_explanation(contact_id=vp.pk)

    assert (explanation.source, explanation.source_kind, explanation.model_version) == ("model v1", "model", 1)
    assert explanation.probability == score.predicted_probability
    assert 0 < explanation.probability < 1
    assert explanation.fallback is None
    assert all(f.label == f"{f.text} (+{f.points} pts)" and f.probability_delta > 0 for f in explanation.up)
    assert all(f.points <= 0 and f.probability_delta < 0 for f in explanation.down)
    assert explanation.rule_up[0].label == "VP (+12)"


def test_model_reasons_worded_on_read_match_the_ones_a_small_rescore_stores(trained_model, monkeypatch):
    services.active_rules()
    vp = a_vp_who_attended_a_webinar()
    services.rescore(as_of=NOW)
    stored = selectors.score_explanation(contact_id=vp.pk)
    rescore_again_in_bulk(monkeypatch)

    worded = selectors.score_explanation(contact_id=vp.pk)

    assert np.isclose(worded.probability, stored.probability)
    assert (worded.up, worded.down, worded.rule_up) == (stored.up, stored.down, stored.rule_up)


def test_too_little_history_is_the_stated_reason_when_no_model_is_in_charge():
    PredictiveModelVersionFactory(
        version=1, artifact=None, is_active=False,
        unavailable_reason="predictive model unavailable: only 37 labelled leads and 3 that converted; "
                           "the model needs at least 200 and 20")
    contact = ContactFactory()

    status = selectors.model_status()
    explanation = selectors.score_explanation(contact_id=contact.pk)

    assert (status.in_charge, status.version) == (False, None)
    assert explanation.fallback == status.reason
    assert explanation.fallback.startswith("predictive model unavailable: only 37 labelled leads")


def test_the_history_knows_when_each_contact_first_won_a_deal_it_is_on():
    from accord.deals.models import Deal
    from accord.deals.tests.factories import DealContactFactory, DealFactory

    buyer, bystander, loser = ContactFactory(), ContactFactory(), ContactFactory()
    first_win = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    DealContactFactory(contact=buyer, deal=DealFactory(status=Deal.Status.WON, closed_at=first_win))
    DealContactFactory(contact=buyer, deal=DealFactory(status=Deal.Status.WON,
                                                       closed_at=first_win + dt.timedelta(days=40)))
    DealContactFactory(contact=loser, deal=DealFactory(status=Deal.Status.LOST, closed_at=first_win))

    history = selectors.load_history(rules=parse_rules(SIMPLE))

    won = dict(zip(history.leads.contact_id.tolist(), history.first_won_s.tolist(), strict=True))
    assert won == {buyer.pk: int(first_win.timestamp()), bystander.pk: selectors.NEVER, loser.pk: selectors.NEVER}


COLUMN_RULES = parse_rules("""
fit:
  email_domains:
    - {domains: [rival.example], points: -60, label: Competitor}
    - {domains: [edu], points: -40, label: Student}
  title_keywords:
    - {keywords: [marketing], points: 5, label: Marketing}
""")


def test_one_read_of_contacts_gives_the_codes_and_flags_the_rules_and_model_need():
    from accord.capture.tests.factories import AccountFactory
    from accord.scoring.rules import CHANNELS, INDUSTRIES, REGIONS, SENIORITIES, SIZE_BANDS

    emea = AccountFactory(industry="financial", size_band="1-10", region="emea", segment="b2c")
    inherits = ContactFactory(account=emea, region="", seniority="vp", email="Ann@Sales.Rival.Example",
                              title="Head of Marketing", lead_source="webinar", score=42)
    own_region = ContactFactory(account=emea, region="apac", seniority="director", email="bo@cs.mit.edu")
    alone = ContactFactory(account=None, region="", seniority="", email=None, lead_source="referral")
    lookalike = ContactFactory(account=None, region="na", email="cy@notrival.example")

    columns = selectors.contact_columns(rules=COLUMN_RULES, created=True)

    leads = columns.leads
    assert leads.contact_id.tolist() == [inherits.pk, own_region.pk, alone.pk, lookalike.pk]
    assert leads.industry.tolist() == [INDUSTRIES.index("financial")] * 2 + [-1, -1]
    assert leads.size_band.tolist() == [SIZE_BANDS.index("1-10")] * 2 + [-1, -1]
    assert leads.region.tolist() == [REGIONS.index("emea"), REGIONS.index("apac"), -1, REGIONS.index("na")]
    assert leads.seniority.tolist() == [SENIORITIES.index("vp"), SENIORITIES.index("director"),
                                        SENIORITIES.index(""), SENIORITIES.index("")]
    assert leads.title_flags.tolist() == [1, 0, 0, 0]
    assert leads.domain_flags.tolist() == [1, 2, 0, 0]
    assert columns.score.tolist() == [42, 0, 0, 0]
    assert columns.channel.tolist() == [CHANNELS.index("webinar"), CHANNELS.index("paid_search"),
                                        CHANNELS.index("referral"), CHANNELS.index("paid_search")]
    assert columns.segment.tolist() == [1, 1, -1, -1]
    assert columns.created_s.tolist() == [int(c.created_at.timestamp()) for c in (inherits, own_region, alone, lookalike)]


def test_a_title_holding_a_line_break_is_matched_as_any_other_title():
    pasted = ContactFactory(title="Head of\nMarketing", email="a@b.example")
    plain = ContactFactory(title="Marketing Director", email="c@d.example")
    other = ContactFactory(title="CFO", email="e@f.example")

    columns = selectors.contact_columns(rules=COLUMN_RULES)

    assert columns.leads.contact_id.tolist() == [pasted.pk, plain.pk, other.pk]
    assert columns.leads.title_flags.tolist() == [1, 1, 0]
    assert columns.leads.domain_flags.tolist() == [0, 0, 0]


def test_reading_named_contacts_gives_the_same_columns_as_reading_everyone():
    ContactFactory(email="a@rival.example", seniority="vp")
    chosen = ContactFactory(email="b@x.rival.example", seniority="manager", title="Marketing lead")

    one = selectors.contact_columns(rules=COLUMN_RULES, contact_ids=[chosen.pk])
    every = selectors.contact_columns(rules=COLUMN_RULES)

    assert one.leads.contact_id.tolist() == [chosen.pk]
    for name in ("industry", "size_band", "region", "seniority", "title_flags", "domain_flags"):
        assert getattr(one.leads, name).tolist() == [getattr(every.leads, name)[1]], name


@pytest.mark.parametrize("eagerly", [True, False])
def test_a_rescore_from_the_rollup_explains_and_predicts_as_reading_every_touch_does(trained_model, monkeypatch,
                                                                                      eagerly):
    from accord.lifecycle.tests.factories import ActivityFactory

    services.active_rules()
    day = dt.timedelta(days=1)
    fan, vp, quiet = a_vp_who_attended_a_webinar("fan@buyer.example"), a_vp_who_attended_a_webinar(), ContactFactory()
    for days_ago, kind in ((2, Touchpoint.Kind.WEBINAR_ATTEND), (40, Touchpoint.Kind.PAGE_VIEW),
                           (400, Touchpoint.Kind.PAGE_VIEW), (5, Touchpoint.Kind.DEMO_REQUEST)):
        TouchpointFactory(contact=fan, kind=kind, occurred_at=NOW - days_ago * day)
    ActivityFactory(contact=vp, occurred_at=NOW - 3 * day)
    services.rescore(as_of=NOW)
    TouchpointFactory(contact=quiet, kind=Touchpoint.Kind.PAGE_VIEW, occurred_at=NOW + day)
    TouchpointFactory(contact=fan, kind=Touchpoint.Kind.PAGE_VIEW, occurred_at=NOW + day)
    if not eagerly:
        monkeypatch.setattr(services, "EXPLAIN_EAGERLY_UP_TO", 0)
    reads = []
    real_read = selectors.engagement_events
    monkeypatch.setattr(selectors, "engagement_events", lambda **kw: reads.append(kw) or real_read(**kw))

    services.rescore(as_of=NOW + 3 * day, always_record=True)
    from_rollup = {s.contact_id: (s.predicted_probability, s.explanation) for s in LeadScore.objects.filter(
        run__computed_at=NOW + 3 * day)}
    rollup_reads = [sorted(kw) for kw in reads]
    LeadScore.objects.filter(run__computed_at=NOW + 3 * day).delete()
    services.rescore(as_of=NOW + 3 * day, always_record=True, full=True)
    from_touches = {s.contact_id: (s.predicted_probability, s.explanation) for s in LeadScore.objects.filter(
        run__computed_at=NOW + 3 * day)}

    # One read of the touches added since the rollup; none of every touch or of the changed contacts'.
    assert rollup_reads == [["since", "until"]]
    assert sorted(from_rollup) == sorted(from_touches) == sorted([fan.pk, vp.pk, quiet.pk])
    for contact_id, (probability, explanation) in from_rollup.items():
        assert np.isclose(probability, from_touches[contact_id][0])
        assert explanation == from_touches[contact_id][1]
    assert ("up" in from_rollup[fan.pk][1]) is eagerly


def test_a_bulk_prediction_in_slices_on_two_threads_gives_each_contact_its_own_probability(trained_model,
                                                                                           monkeypatch):
    services.active_rules()
    contacts = [a_vp_who_attended_a_webinar(f"vp{n}@buyer.example") for n in range(3)]
    contacts += [ContactFactory(seniority="manager"), ContactFactory(seniority="student")]
    monkeypatch.setattr(services, "EXPLAIN_EAGERLY_UP_TO", 0)
    services.rescore(as_of=NOW, always_record=True)
    whole = dict(LeadScore.objects.values_list("contact_id", "predicted_probability"))
    LeadScore.objects.all().delete()
    monkeypatch.setattr(services, "PREDICT_CHUNK", 2)  # three slices, two at a time

    services.rescore(as_of=NOW, always_record=True)

    sliced = dict(LeadScore.objects.values_list("contact_id", "predicted_probability"))
    assert sorted(sliced) == sorted(c.pk for c in contacts)
    assert sliced == whole
    assert len(set(sliced.values())) > 1  # the slices did not all get one contact's probability

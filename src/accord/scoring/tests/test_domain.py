"""Rule maths on plain arrays, no database."""

import json

import numpy as np
import pytest

from accord.scoring import domain
from accord.scoring.rules import INDUSTRIES, SENIORITIES, SIZE_BANDS, parse_rules

RULES = """
fit:
  cap: 30
  floor: -50
  industry: {software: 10, education: -4}
  size_band: {"51-200": 8}
  region: {na: 2}
  seniority: {vp: 12, student: -40}
  title_keywords:
    - {keywords: [revenue], points: 5, label: Works in revenue}
  email_domains:
    - {domains: [rival.example], points: -60, label: Competitor email domain}
engagement:
  cap: 20
  floor: -30
  half_life_days: 10
  touchpoints:
    webinar_attend: {points: 12}
    page_view: {points: 1, max: 3}
    unsubscribe: {points: -20}
  activities:
    meeting: {points: 10}
total_cap: 90
"""


def kind(name):
    return domain.EVENT_KINDS.index(name)


def leads(n=1, **columns):
    base = {name: np.full(n, -1) for name in ("industry", "size_band", "region", "seniority")}
    base.update({"title_flags": np.zeros(n, np.int64), "domain_flags": np.zeros(n, np.int64)})
    base.update({k: np.asarray(v) for k, v in columns.items()})
    return domain.LeadColumns(contact_id=np.arange(1, n + 1), **base)


def events(*triples):
    if not triples:
        return domain.Events.empty()
    rows, kinds, ages = zip(*triples, strict=True)
    return domain.Events(np.array(rows), np.array([kind(k) for k in kinds]), np.array(ages, float))


@pytest.fixture
def rules():
    return parse_rules(RULES)


def test_each_fit_rule_adds_its_points(rules):
    lead = leads(industry=[INDUSTRIES.index("software")], size_band=[SIZE_BANDS.index("51-200")],
                 region=[0], seniority=[SENIORITIES.index("vp")], title_flags=[1])

    scores = domain.score_rules(rules, lead, events())

    # 10 + 8 + 2 + 12 + 5 = 37, capped at the fit cap of 30.
    assert scores.fit.tolist() == [30]
    assert scores.total.tolist() == [30]


def test_unknown_categories_score_nothing(rules):
    scores = domain.score_rules(rules, leads(), events())

    assert (scores.fit.tolist(), scores.engagement.tolist(), scores.total.tolist()) == ([0], [0], [0])


def test_negative_signals_subtract_down_to_the_floor(rules):
    student_at_competitor = leads(seniority=[SENIORITIES.index("student")], domain_flags=[1])

    scores = domain.score_rules(rules, student_at_competitor, events())

    assert scores.fit.tolist() == [-50]
    assert scores.total.tolist() == [0]


def test_an_event_loses_exactly_half_its_points_each_half_life(rules):
    lead = leads(3)
    ev = events((0, "webinar_attend", 0.0), (1, "webinar_attend", 10.0), (2, "webinar_attend", 20.0))

    scores = domain.score_rules(rules, lead, ev)

    assert domain.decay(np.array([0.0, 10.0, 20.0, 5.0]), 10).tolist() == [1.0, 0.5, 0.25, 2 ** -0.5]
    assert scores.engagement.tolist() == [12, 6, 3]


def test_a_kind_with_a_maximum_stops_adding_points(rules):
    ev = events(*[(0, "page_view", 0.0)] * 10)

    scores = domain.score_rules(rules, leads(), ev)

    assert scores.engagement.tolist() == [3]


def test_engagement_is_capped_and_the_total_too(rules):
    ev = events((0, "webinar_attend", 0.0), (0, "webinar_attend", 0.0), (0, "activity:meeting", 0.0))
    strong_fit = leads(industry=[INDUSTRIES.index("software")], seniority=[SENIORITIES.index("vp")],
                       size_band=[SIZE_BANDS.index("51-200")])

    scores = domain.score_rules(rules, strong_fit, ev)

    assert scores.engagement.tolist() == [20]
    assert scores.fit.tolist() == [30]
    assert scores.total.tolist() == [50]


def test_the_total_never_passes_the_total_cap():
    rules = parse_rules("fit: {cap: 100, industry: {software: 100}}\nengagement: {cap: 100}\ntotal_cap: 90\n")

    scores = domain.score_rules(rules, leads(industry=[INDUSTRIES.index("software")]), events())

    assert scores.total.tolist() == [90]


def test_an_unsubscribe_takes_points_away(rules):
    ev = events((0, "webinar_attend", 0.0), (0, "unsubscribe", 0.0))

    scores = domain.score_rules(rules, leads(), ev)

    assert scores.engagement.tolist() == [-8]


def test_events_after_the_as_of_instant_are_dropped():
    kept = domain.events_as_of(row=np.array([0, 0, 1]), kind=np.array([1, 1, 1]),
                               occurred_s=np.array([100, 300, 100]), as_of_s=np.array([200, 50]))

    assert kept.row.tolist() == [0]
    assert kept.age_days.tolist() == [100 / 86_400]


def test_the_explanation_names_the_top_factors_in_a_reps_words(rules):
    lead = leads(2, industry=[INDUSTRIES.index("software"), -1], size_band=[SIZE_BANDS.index("51-200"), -1],
                 seniority=[SENIORITIES.index("vp"), SENIORITIES.index("student")], domain_flags=[0, 0])
    ev = events((0, "webinar_attend", 3.2), (1, "unsubscribe", 1.0))

    scores = domain.score_rules(rules, lead, ev)
    first, second = (json.loads(text) for text in domain.explanation_json(scores, lead, rule_version=4))

    assert first["summary"] == "VP at a 51–200 software company"
    assert first["rule_version"] == 4
    assert [item["text"] for item in first["up"]] == [
        "VP (+12)", "Software company (+10)", "Attended a webinar 3 days ago (+10)"]
    assert first["down"] == []
    assert [item["text"] for item in second["down"]] == ["Student (−40)", "Unsubscribed from email yesterday (−19)"]
    assert second["up"] == []


def test_repeated_events_are_counted_in_the_sentence(rules):
    ev = events((0, "webinar_attend", 0.0), (0, "webinar_attend", 10.0))
    scores = domain.score_rules(rules, leads(), ev)

    [text] = domain.explanation_json(scores, leads(), rule_version=1)

    assert json.loads(text)["up"][0]["text"] == "Attended 2 webinars, latest today (+18)"


def test_many_leads_score_at_once(rules):
    n = 200_000
    rng = np.random.default_rng(0)
    lead = leads(n, industry=rng.integers(-1, 12, n), seniority=rng.integers(-1, 8, n))

    scores = domain.score_rules(rules, lead, events())

    assert scores.total.shape == (n,)
    assert scores.total.min() >= 0


def test_title_keywords_match_whole_words_in_any_case():
    rules = [["vp", "vice president"], ["cto"]]

    assert domain.title_flags("VP, Sales", rules) == 1
    assert domain.title_flags("Vice President of Marketing", rules) == 1
    assert domain.title_flags("Director of IT", rules) == 0
    assert domain.title_flags("CTO/Founder", rules) == 2


def test_email_domains_match_the_domain_and_its_subdomains_only():
    rules = [["rival.example"], ["edu"]]

    assert domain.domain_flags("rival.example", rules) == 1
    assert domain.domain_flags("sales.rival.example", rules) == 1
    assert domain.domain_flags("notrival.example", rules) == 0
    assert domain.domain_flags("cs.stanford.edu", rules) == 2


def test_emails_at_a_rules_domain_or_a_subdomain_are_found_in_any_case_and_nothing_else():
    rules = [["rival.example"], ["edu", "ac.uk"]]
    emails = b"\n".join([b"a@rival.example", b"b@other.example", b"C@Sales.RIVAL.example", b"",
                         b"d@notrival.example", b"e@cs.mit.edu", b"f@rival.example.org", b"g@ox.ac.uk"])

    lines, flags = domain.email_domain_flags(emails, rules)

    assert dict(zip(lines.tolist(), flags.tolist(), strict=True)) == {0: 1, 2: 1, 5: 2, 7: 2}


@pytest.mark.parametrize("ids", [
    [7, 7, 8, 9, 9, 262],  # steps of a byte: stored as the first id and the steps
    [7, 300, 301],  # a step of 293: 32 bits
    [2**33, 2**33 + 1],  # beyond 32 bits
    [5],
    [],
])
def test_ascending_ids_packed_for_the_rollup_come_back_as_they_were(ids):
    values = np.array(ids, dtype=np.int64)

    arrays = domain.packed_ids(values)
    back = domain.unpacked_ids(arrays)

    assert back.dtype == np.int64 and back.tolist() == ids
    assert sum(a.nbytes for a in arrays.values()) <= 8 * len(ids) + 8


def test_ids_stepping_by_less_than_a_byte_are_stored_a_byte_each():
    arrays = domain.packed_ids(np.arange(1000, 2000, 3, dtype=np.int64))

    assert set(arrays) == {"contact_first", "contact_step"}
    assert arrays["contact_step"].dtype == np.uint8 and arrays["contact_step"].nbytes == 334

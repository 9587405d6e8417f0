"""The rules document: validation with lines, and the vocabularies it checks against."""

import pytest

from accord.capture.models import Contact, Industry, SizeBand, Touchpoint
from accord.core.vocabulary import Channel, Region, Segment
from accord.core.yamldoc import InvalidDocument
from accord.lifecycle.models import Activity
from accord.scoring import rules
from accord.scoring.services import DEFAULT_RULES


def errors_of(source):
    with pytest.raises(InvalidDocument) as caught:
        rules.parse_rules(source)
    return [str(e) for e in caught.value.errors]


def test_the_shipped_default_rules_are_valid():
    document = rules.parse_rules(DEFAULT_RULES.read_text(encoding="utf-8"))

    assert document.fit.seniority["student"] < 0
    assert document.engagement.touchpoints["unsubscribe"].points < 0


def test_an_unknown_setting_is_refused_with_its_line():
    assert errors_of("fit:\n  cap: 50\n  bonus: 3\n") == ["line 3: fit.bonus: unknown setting"]


def test_an_unknown_industry_is_refused_with_its_line_and_the_choices():
    [error] = errors_of("fit:\n  industry:\n    softwear: 10\n")

    assert error.startswith("line 3: fit.industry: Value error, unknown industry 'softwear'; use one of 'software'")


def test_points_out_of_range_are_refused_with_their_line():
    source = "engagement:\n  touchpoints:\n    page_view:\n      points: 500\n"

    assert errors_of(source) == [
        "line 4: engagement.touchpoints.page_view.points: Input should be less than or equal to 100"]


def test_a_non_positive_half_life_is_refused():
    assert errors_of("engagement:\n  half_life_days: 0\n") == [
        "line 2: engagement.half_life_days: Input should be greater than 0"]


def test_a_floor_above_the_cap_is_refused():
    [error] = errors_of("fit:\n  cap: 10\n  floor: 20\n")

    assert "fit.floor (20) is above fit.cap (10)" in error


def test_the_vocabularies_match_the_models():
    assert set(rules.INDUSTRIES) == set(Industry.values)
    assert set(rules.SIZE_BANDS) == set(SizeBand.values)
    assert set(rules.REGIONS) == set(Region.values)
    assert set(rules.SENIORITIES) == set(Contact.Seniority.values)
    assert set(rules.TOUCHPOINT_KINDS) == set(Touchpoint.Kind.values)
    assert set(rules.ACTIVITY_KINDS) == set(Activity.Kind.values)
    assert set(rules.CHANNELS) == set(Channel.values)
    assert set(Segment.values) == {"b2b", "b2c"}

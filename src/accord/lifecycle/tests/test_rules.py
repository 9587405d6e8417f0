"""The routing document: what it accepts, and each mistake refused with its line and reason."""

import pytest

from accord.capture.models import Account, Industry, SizeBand
from accord.core.vocabulary import Region, Segment
from accord.core.yamldoc import InvalidDocument
from accord.lifecycle import rules
from accord.lifecycle.rules import parse_routing
from accord.lifecycle.services import DEFAULT_ROUTING


def errors(source: str) -> list[str]:
    with pytest.raises(InvalidDocument) as caught:
        parse_routing(source)
    return [str(error) for error in caught.value.errors]


def test_the_shipped_document_is_valid():
    document = parse_routing(DEFAULT_ROUTING.read_text())

    assert document.mql_threshold == 60
    assert document.rules == []


def test_a_full_document_parses_into_rules_in_order():
    document = parse_routing(
        "mql_threshold: 55\n"
        "rules:\n"
        "  - name: emea-enterprise\n"
        "    when: {region: [emea], size_band: ['1001-5000', '5000+']}\n"
        "    team: EMEA Enterprise\n"
        "  - name: rest\n"
        "    team: Inside Sales\n"
        "fallback_team: Inside Sales\n"
    )

    assert [rule.name for rule in document.rules] == ["emea-enterprise", "rest"]
    assert document.rules[0].when.size_band == ["1001-5000", "5000+"]
    assert document.team_names() == [(("rules", 0, "team"), "EMEA Enterprise"), (("rules", 1, "team"), "Inside Sales"),
                                      (("fallback_team",), "Inside Sales")]


def test_an_unknown_region_is_refused_on_its_line():
    assert errors("rules:\n  - name: a\n    team: X\n    when:\n      region: [mars]\n") == [
        "line 5: rules.0.when.region: Value error, unknown region 'mars'; use one of 'na', 'emea', 'apac', 'latam'"
    ]


def test_an_unknown_segment_industry_and_size_band_are_each_refused():
    found = errors("rules:\n  - name: a\n    team: X\n    when: {segment: [b2x], industry: [mining], "
                   "size_band: ['2-3']}\n")

    assert len(found) == 3
    assert all(line.startswith("line 4: rules.0.when.") for line in found)


def test_a_threshold_out_of_range_is_refused_on_its_line():
    assert errors("description: x\nmql_threshold: 120\n") == [
        "line 2: mql_threshold: Input should be less than or equal to 100"
    ]


def test_an_unknown_setting_is_refused_on_its_line():
    assert errors("mql_threshold: 60\nroute_by: magic\n") == ["line 2: route_by: unknown setting"]


def test_a_rule_without_a_team_is_refused():
    assert errors("rules:\n  - name: a\n") == ["line 2: rules.0.team: required setting is missing"]


def test_two_rules_with_one_name_are_refused():
    found = errors("rules:\n  - {name: a, team: X}\n  - {name: a, team: Y}\n")

    assert found == ["line 1: Value error, two rules are named 'a'; rule names must be unique"]


def test_a_working_day_that_is_not_a_weekday_is_refused():
    assert errors("working_hours:\n  days: [mon, funday]\n") == [
        "line 2: working_hours.days: Value error, unknown weekday 'funday'; use one of 'mon', 'tue', 'wed', "
        "'thu', 'fri', 'sat', 'sun'"
    ]


def test_working_hours_must_be_clock_times_with_start_before_end():
    assert errors('working_hours: {start: "9am"}\n') == [
        "line 1: working_hours.start: Value error, '9am' is not a time of day as HH:MM (24-hour)"
    ]
    assert errors('working_hours: {start: "18:00", end: "09:00"}\n') == [
        "line 1: working_hours: Value error, start (18:00) must be before end (09:00)"
    ]


def test_invalid_yaml_is_refused_with_its_line():
    assert errors("rules: [\n") [0].startswith("line 2: not valid YAML")


def test_working_hours_become_the_calendar_the_sla_module_takes():
    hours = parse_routing('working_hours: {days: [mon, sat], start: "08:30", end: "16:00"}\n').working_hours

    assert {day: [(a.isoformat("minutes"), b.isoformat("minutes")) for a, b in spans]
            for day, spans in hours.weekday_hours().items()} == {0: [("08:30", "16:00")], 5: [("08:30", "16:00")]}


def test_the_vocabularies_match_the_model_choices():
    assert set(rules.INDUSTRIES) == set(Industry.values)
    assert set(rules.SIZE_BANDS) == set(SizeBand.values)
    assert set(rules.REGIONS) == set(Region.values)
    assert set(rules.SEGMENTS) == set(Segment.values)
    assert Account._meta.get_field("segment").choices == Segment.choices

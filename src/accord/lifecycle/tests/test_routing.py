"""Routing, pure: precedence, territory rules, weighted round-robin fairness, capacity, away, working hours."""

from collections import Counter
from datetime import UTC, datetime

import pytest

from accord.lifecycle.routing import Lead, Rep, Router, pick_round_robin
from accord.lifecycle.rules import parse_routing

TEAMS = {"NA": 1, "EMEA": 2, "Enterprise": 3}
DOCUMENT = parse_routing(
    "rules:\n"
    "  - {name: enterprise, when: {size_band: ['1001-5000', '5000+'], segment: [b2b]}, team: Enterprise}\n"
    "  - {name: emea, when: {region: [emea, apac]}, team: EMEA}\n"
    "  - {name: na-software, when: {region: [na], industry: [software]}, team: NA}\n"
)
MONDAY_NOON = datetime(2026, 11, 23, 12, tzinfo=UTC)


def reps(*specs: tuple[int, int, int]) -> dict[int, Rep]:
    """Build reps from (user id, team id, capacity)."""
    return {uid: Rep(user_id=uid, team_id=team, capacity=cap, name=f"rep{uid}") for uid, team, cap in specs}


def router(people: dict[int, Rep], document=DOCUMENT) -> Router:
    return Router(document=document, reps=people, team_ids=TEAMS)


def test_a_rule_fires_on_region_and_the_lead_goes_to_that_teams_rep():
    decision = router(reps((10, 2, 5))).route(Lead(1, region="emea"))

    assert (decision.owner_id, decision.rule, decision.team_id) == (10, "rule:emea", 2)
    assert decision.reason.startswith("Rule 'emea' matched → team EMEA; round-robin by capacity picked rep10")


def test_segment_and_size_band_must_both_match_for_the_enterprise_rule():
    r = router(reps((10, 3, 5), (20, 2, 5)))

    assert r.route(Lead(1, region="emea", segment="b2b", size_band="5000+")).rule == "rule:enterprise"
    assert r.route(Lead(2, region="emea", segment="b2c", size_band="5000+")).rule == "rule:emea"


def test_industry_must_match_when_the_rule_names_it():
    r = router(reps((10, 1, 5)))

    assert r.route(Lead(1, region="na", industry="software")).owner_id == 10
    assert r.route(Lead(2, region="na", industry="retail")).rule == "unrouted"


def test_the_first_matching_rule_wins_in_document_order():
    decision = router(reps((10, 3, 5), (20, 2, 5))).route(
        Lead(1, region="emea", segment="b2b", size_band="1001-5000"))

    assert decision.rule == "rule:enterprise"


def test_no_matching_rule_and_no_fallback_leaves_the_lead_unassigned_with_the_reason():
    decision = router(reps((10, 1, 5))).route(Lead(1, region="latam"))

    assert decision.owner_id is None
    assert decision.reason == ("No routing rule matched and there is no fallback team; "
                               "the lead waits for a manager to assign it.")


def test_the_fallback_team_takes_what_no_rule_matches():
    document = parse_routing("rules: []\nfallback_team: NA\n")

    decision = router(reps((10, 1, 5)), document).route(Lead(1, region="latam"))

    assert (decision.owner_id, decision.rule) == (10, "fallback")


def test_the_contacts_own_owner_keeps_the_lead_before_any_rule():
    decision = router(reps((10, 2, 5), (99, 1, 5))).route(Lead(1, region="emea", owner_id=99))

    assert (decision.owner_id, decision.rule) == (99, "existing_owner")


def test_the_accounts_owner_comes_before_the_territory_rules():
    decision = router(reps((10, 2, 5), (77, 1, 5))).route(Lead(1, region="emea", account_owner_id=77))

    assert (decision.owner_id, decision.rule) == (77, "account_owner")
    assert decision.reason == "rep77 owns the account."


def test_an_away_account_owner_hands_the_lead_to_the_rules():
    people = reps((10, 2, 5), (77, 1, 5))
    people[77].is_away = True

    decision = router(people).route(Lead(1, region="emea", account_owner_id=77))

    assert (decision.owner_id, decision.rule) == (10, "rule:emea")


def test_an_owner_who_is_not_in_sales_hands_the_lead_to_the_rules():
    decision = router(reps((10, 2, 5))).route(Lead(1, region="emea", owner_id=555, account_owner_id=556))

    assert decision.owner_id == 10


def test_account_owner_first_can_be_switched_off():
    document = DOCUMENT.model_copy(update={"account_owner_first": False})

    decision = router(reps((10, 2, 5), (77, 1, 5)), document).route(Lead(1, region="emea", account_owner_id=77))

    assert decision.owner_id == 10


def test_weighted_round_robin_gives_each_rep_exactly_their_weight_in_every_cycle():
    people = list(reps((1, 1, 1), (2, 1, 2), (3, 1, 3)).values())
    credits: dict[int, int] = {}

    picks = [pick_round_robin(people, credits).user_id for _ in range(6000)]

    assert Counter(picks) == {1: 1000, 2: 2000, 3: 3000}
    # Every window of one cycle (the total weight, 6) holds each rep exactly weight times.
    for start in range(0, 6000, 6):
        assert Counter(picks[start:start + 6]) == {1: 1, 2: 2, 3: 3}


def test_weighted_round_robin_spreads_turns_instead_of_bunching_them():
    people = list(reps((1, 1, 1), (2, 1, 5)).values())
    credits: dict[int, int] = {}

    picks = [pick_round_robin(people, credits).user_id for _ in range(6)]

    assert picks == [2, 2, 1, 2, 2, 2]


def test_round_robin_over_many_leads_is_fair_by_capacity_and_carries_on_between_batches():
    people = reps((1, 1, 10_000), (2, 1, 20_000), (3, 1, 30_000))
    first = router(people)
    owners = [first.route(Lead(i, region="na", industry="software")).owner_id for i in range(3000)]
    # A second batch starts from the credits the first one left, as lifecycle.services stores them.
    second = Router(document=DOCUMENT, reps=people, team_ids=TEAMS, credits=first.credits)
    owners += [second.route(Lead(i, region="na", industry="software")).owner_id for i in range(3000, 6000)]

    assert Counter(owners) == {1: 1000, 2: 2000, 3: 3000}


def test_ties_go_to_the_lower_user_id_so_routing_is_deterministic():
    people = list(reps((5, 1, 1), (4, 1, 1)).values())

    assert [pick_round_robin(people, {}).user_id for _ in range(2)] == [4, 4]
    credits: dict[int, int] = {}
    assert [pick_round_robin(people, credits).user_id for _ in range(4)] == [4, 5, 4, 5]


def test_a_rep_at_capacity_is_skipped_and_the_rest_share_the_leads():
    people = reps((1, 1, 3), (2, 1, 10))
    people[1].open_load = 2
    r = router(people)

    owners = [r.route(Lead(i, region="na", industry="software")).owner_id for i in range(6)]

    assert owners == [2, 2, 1, 2, 2, 2]
    assert (people[1].open_load, people[1].has_room) == (3, False)


def test_an_away_rep_gets_no_leads():
    people = reps((1, 1, 5), (2, 1, 5))
    people[1].is_away = True
    r = router(people)

    assert [r.route(Lead(i, region="na", industry="software")).owner_id for i in range(6)] == [2] * 5 + [None]


def test_when_everyone_is_away_or_full_the_lead_waits_with_the_reason():
    people = reps((1, 1, 0), (2, 1, 5))
    people[2].is_away = True

    decision = router(people).route(Lead(1, region="na", industry="software"))

    assert decision.owner_id is None
    assert decision.team_id == 1
    assert decision.reason.endswith("every rep there is away or at capacity; the lead waits for a manager to assign it.")


def test_reps_inside_working_hours_are_preferred_to_those_outside():
    people = reps((1, 1, 5), (2, 1, 5))
    people[1].in_hours, people[1].opens_at = False, MONDAY_NOON
    r = router(people)

    assert {r.route(Lead(i, region="na", industry="software")).owner_id for i in range(4)} == {2}


def test_when_nobody_is_in_working_hours_the_rep_who_starts_first_gets_the_lead():
    people = reps((1, 1, 5), (2, 1, 5), (3, 1, 5))
    people[1].in_hours, people[1].opens_at = False, datetime(2026, 11, 23, 14, tzinfo=UTC)
    people[2].in_hours, people[2].opens_at = False, datetime(2026, 11, 23, 8, tzinfo=UTC)
    people[3].in_hours, people[3].opens_at = False, None

    decision = router(people).route(Lead(1, region="na", industry="software"))

    assert decision.owner_id == 2
    assert "nobody is in working hours, so it goes to who starts first (Mon 08:00 UTC)" in decision.reason


def test_managers_own_leads_but_take_no_round_robin_turns():
    people = reps((1, 1, 5), (2, 1, 5))
    people[2].takes_round_robin = False
    r = router(people)

    assert {r.route(Lead(i, region="na", industry="software")).owner_id for i in range(4)} == {1}
    assert r.route(Lead(9, region="na", owner_id=2)).owner_id == 2


def test_reassigning_by_rule_excludes_the_current_owner():
    r = router(reps((1, 1, 5), (2, 1, 5)))

    assert {r.route(Lead(i, region="na", industry="software"), exclude=[1]).owner_id for i in range(4)} == {2}


def test_picking_from_nobody_is_an_error():
    with pytest.raises(ValueError, match="no reps"):
        pick_round_robin([], {})

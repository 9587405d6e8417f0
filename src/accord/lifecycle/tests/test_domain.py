"""The stage machine: every move in the table, who may make it, and the reason a move is refused."""

import pytest

from accord.core.permissions import Role
from accord.core.vocabulary import LifecycleStage as S
from accord.lifecycle import domain
from accord.lifecycle.domain import MOVES, TABLE, refusal, stage_after_rejection

ALL_PAIRS = [(a, b) for a in S.values for b in S.values if a != b]


@pytest.mark.parametrize("move", MOVES, ids=lambda m: f"{m.from_stage}->{m.to_stage}")
def test_every_role_the_table_names_may_make_its_move(move):
    for role in move.roles:
        assert refusal(from_stage=move.from_stage, to_stage=move.to_stage, role=role) is None


@pytest.mark.parametrize("move", MOVES, ids=lambda m: f"{m.from_stage}->{m.to_stage}")
def test_every_role_the_table_leaves_out_is_refused_with_who_may(move):
    for role in set(Role) - move.roles - {Role.REVOPS_ADMIN}:
        reason = refusal(from_stage=move.from_stage, to_stage=move.to_stage, role=role)
        assert reason is not None and reason.startswith("Only ")
        assert f"from {S(move.from_stage).label} to {S(move.to_stage).label}" in reason


@pytest.mark.parametrize("move", MOVES, ids=lambda m: f"{m.from_stage}->{m.to_stage}")
def test_revenue_ops_may_make_every_move_in_the_table(move):
    assert refusal(from_stage=move.from_stage, to_stage=move.to_stage, role=Role.REVOPS_ADMIN) is None


@pytest.mark.parametrize("move", MOVES, ids=lambda m: f"{m.from_stage}->{m.to_stage}")
def test_only_the_rules_the_table_names_may_make_a_move(move):
    for rule in domain.RULES:
        reason = refusal(from_stage=move.from_stage, to_stage=move.to_stage, rule=rule)
        if rule in move.rules:
            assert reason is None
        else:
            assert reason == (f"The rule {rule!r} may not move a lead from {S(move.from_stage).label} "
                              f"to {S(move.to_stage).label}.")


@pytest.mark.parametrize(("frm", "to"), [pair for pair in ALL_PAIRS if pair not in TABLE])
def test_a_move_missing_from_the_table_is_refused_for_everyone_naming_where_the_lead_can_go(frm, to):
    for who in ({"role": Role.REVOPS_ADMIN}, {"role": Role.SALES_REP}, {"rule": domain.SCORE_THRESHOLD}):
        reason = refusal(from_stage=frm, to_stage=to, **who)
        assert reason.startswith(f"A lead cannot move from {S(frm).label} to {S(to).label}; ")


def test_a_superuser_may_make_any_move_in_the_table_but_none_outside_it():
    assert refusal(from_stage="lead", to_stage="mql", role=Role.EXECUTIVE, superuser=True) is None
    assert refusal(from_stage="lead", to_stage="customer", role=Role.EXECUTIVE, superuser=True) is not None


def test_a_lead_already_in_the_stage_is_refused_with_that_reason():
    assert refusal(from_stage="mql", to_stage="mql", role=Role.SALES_REP) == (
        "The lead is already in Marketing qualified (MQL).")


def test_an_unknown_stage_is_refused_by_name():
    assert refusal(from_stage="lead", to_stage="hot", role=Role.MARKETING) == "'hot' is not a lifecycle stage."


def test_the_refusal_names_what_the_lead_can_do_from_its_stage():
    reason = refusal(from_stage="mql", to_stage="customer", role=Role.SALES_REP)

    assert reason == ("A lead cannot move from Marketing qualified (MQL) to Customer; from Marketing qualified "
                      "(MQL) it can move to Sales accepted (SAL), Nurture / recycled, Disqualified.")


def test_exactly_one_of_role_and_rule_must_be_named():
    with pytest.raises(ValueError, match="exactly one"):
        refusal(from_stage="lead", to_stage="mql")
    with pytest.raises(ValueError, match="exactly one"):
        refusal(from_stage="lead", to_stage="mql", role=Role.MARKETING, rule=domain.SCORE_THRESHOLD)


def test_sales_cannot_make_a_lead_an_mql_by_hand_but_marketing_and_the_score_can():
    assert refusal(from_stage="lead", to_stage="mql", role=Role.SALES_REP) is not None
    assert refusal(from_stage="lead", to_stage="mql", role=Role.MARKETING) is None
    assert refusal(from_stage="lead", to_stage="mql", rule=domain.SCORE_THRESHOLD) is None


def test_marketing_cannot_accept_a_lead_for_sales():
    assert refusal(from_stage="mql", to_stage="sal", role=Role.MARKETING) == (
        "Only sales manager or sales rep (or revenue ops) may move a lead from Marketing qualified (MQL) "
        "to Sales accepted (SAL).")


@pytest.mark.parametrize(("outcome", "stage"), [("disqualify", S.DISQUALIFIED), ("nurture", S.NURTURE)])
def test_a_rejection_sends_the_lead_where_its_reasons_outcome_says(outcome, stage):
    assert stage_after_rejection(outcome) == stage


def test_an_unknown_rejection_outcome_is_refused():
    with pytest.raises(ValueError, match="'later' is not a rejection outcome"):
        stage_after_rejection("later")


def test_every_rejection_target_is_a_move_sales_may_make_from_mql():
    for target in (S.NURTURE, S.DISQUALIFIED):
        assert refusal(from_stage="mql", to_stage=target, role=Role.SALES_REP) is None


def test_next_stages_lists_the_table_in_order():
    assert domain.next_stages("sql") == [S.OPPORTUNITY, S.NURTURE, S.DISQUALIFIED]
    assert domain.next_stages("customer") == []

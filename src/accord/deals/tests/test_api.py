"""Deals and pipelines through the HTTP API."""

import datetime as dt
from decimal import Decimal

import pytest

from accord.accounts.tests.factories import TeamFactory, UserFactory
from accord.accounts.tests.test_api_client import api_as, errors_of
from accord.capture.tests.factories import AccountFactory, CampaignFactory
from accord.core.permissions import Role
from accord.deals.models import Deal, DealStageChange
from accord.deals.tests.factories import DealFactory, PipelineFactory, PipelineStageFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def stages():
    """Return the default pipeline's stages: discovery, proposal, won and lost."""
    pipeline = PipelineFactory(name="New business", is_default=True)
    return {
        "discovery": PipelineStageFactory(
            pipeline=pipeline, name="Discovery", order=1, probability="0.200"
        ),
        "proposal": PipelineStageFactory(
            pipeline=pipeline, name="Proposal", order=2, probability="0.600"
        ),
        "won": PipelineStageFactory(
            pipeline=pipeline, name="Won", order=3, probability="1.000", outcome="won"
        ),
        "lost": PipelineStageFactory(
            pipeline=pipeline, name="Lost", order=4, probability="0.000", outcome="lost"
        ),
    }


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["items"]]


# Create, read, update -------------------------------------------------------------------


def test_a_rep_creates_a_deal_in_the_default_pipelines_first_stage(stages):
    rep = UserFactory(role=Role.SALES_REP)
    account = AccountFactory(owner=rep)

    response = api_as(rep).post(
        "/deals",
        {"name": "Acme renewal", "account_id": account.pk, "amount": "12500.00", "currency": "EUR"},
    )

    assert response.status_code == 201
    body = response.json()
    assert body["stage"]["id"] == stages["discovery"].pk
    assert (body["status"], body["amount"], body["currency"]) == ("open", "12500.00", "EUR")
    assert body["owner"]["id"] == rep.pk
    deal = Deal.objects.get()
    assert deal.amount == Decimal("12500.00")
    change = DealStageChange.objects.get(deal=deal)
    assert (change.from_stage, change.to_stage, change.by_user) == (None, stages["discovery"], rep)


def test_a_deal_created_in_a_won_stage_is_won_and_closed(stages):
    response = api_as(UserFactory(role=Role.SALES_REP)).post(
        "/deals", {"name": "Signed", "stage_id": stages["won"].pk}
    )

    assert response.json()["status"] == "won"
    assert response.json()["closed_at"] is not None


def test_moving_a_deal_to_another_stage_records_the_move_and_follows_its_outcome(stages):
    rep = UserFactory(role=Role.SALES_REP)
    deal = DealFactory(owner=rep, stage=stages["discovery"])
    api = api_as(rep)

    to_proposal = api.patch(f"/deals/{deal.pk}", {"stage_id": stages["proposal"].pk})
    to_lost = api.patch(
        f"/deals/{deal.pk}", {"stage_id": stages["lost"].pk, "loss_reason": "price"}
    )

    assert to_proposal.json()["status"] == "open"
    assert (to_lost.json()["status"], to_lost.json()["loss_reason"]) == ("lost", "price")
    assert to_lost.json()["closed_at"] is not None
    moves = list(DealStageChange.objects.filter(deal=deal).values_list("from_stage", "to_stage"))
    assert moves == [
        (stages["discovery"].pk, stages["proposal"].pk),
        (stages["proposal"].pk, stages["lost"].pk),
    ]


def test_a_patch_without_a_stage_change_records_no_move(stages):
    rep = UserFactory(role=Role.SALES_REP)
    deal = DealFactory(owner=rep, stage=stages["discovery"])

    response = api_as(rep).patch(
        f"/deals/{deal.pk}", {"amount": "99.99", "close_date": "2027-01-31"}
    )

    assert response.status_code == 200
    deal.refresh_from_db()
    assert (deal.amount, deal.close_date) == (Decimal("99.99"), dt.date(2027, 1, 31))
    assert not DealStageChange.objects.exists()


def test_reopening_a_won_deal_clears_its_close_time(stages):
    rep = UserFactory(role=Role.SALES_REP)
    deal = DealFactory(owner=rep, stage=stages["won"], status="won")

    response = api_as(rep).patch(f"/deals/{deal.pk}", {"stage_id": stages["proposal"].pk})

    assert (response.json()["status"], response.json()["closed_at"]) == ("open", None)


# Pipeline and stage consistency ---------------------------------------------------------


def test_a_stage_of_another_pipeline_is_refused_naming_stage_id(stages):
    renewals = PipelineFactory(name="Renewals", is_default=False)
    foreign = PipelineStageFactory(pipeline=renewals, name="Due", order=1)
    rep = UserFactory(role=Role.SALES_REP)
    deal = DealFactory(owner=rep, stage=stages["discovery"])
    api = api_as(rep)

    created = api.post(
        "/deals",
        {"name": "X", "pipeline_id": stages["discovery"].pipeline_id, "stage_id": foreign.pk},
    )
    moved = api.patch(f"/deals/{deal.pk}", {"stage_id": foreign.pk})

    assert errors_of(created) == [("stage_id", "invalid")]
    assert errors_of(moved) == [("stage_id", "invalid")]
    assert Deal.objects.count() == 1
    deal.refresh_from_db()
    assert deal.stage == stages["discovery"]


def test_moving_to_another_pipeline_with_one_of_its_stages_works(stages):
    renewals = PipelineFactory(name="Renewals", is_default=False)
    due = PipelineStageFactory(pipeline=renewals, name="Due", order=1)
    rep = UserFactory(role=Role.SALES_REP)
    deal = DealFactory(owner=rep, stage=stages["discovery"])
    api = api_as(rep)

    without_stage = api.patch(f"/deals/{deal.pk}", {"pipeline_id": renewals.pk})
    with_stage = api.patch(f"/deals/{deal.pk}", {"pipeline_id": renewals.pk, "stage_id": due.pk})

    assert errors_of(without_stage) == [("pipeline_id", "invalid")]
    assert with_stage.json()["pipeline"]["id"] == renewals.pk


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "X", "pipeline_id": 999999}, "pipeline_id"),
        ({"name": "X", "stage_id": 999999}, "stage_id"),
        ({"name": "X", "account_id": 999999}, "account_id"),
        ({"name": "X", "source_campaign_id": 999999}, "source_campaign_id"),
        ({"name": "X", "owner_id": 999999}, "owner_id"),
        ({"name": "X", "amount": "-5"}, "amount"),
        ({"name": "X", "amount": "1e20"}, "amount"),
        ({"name": "X", "amount": "lots"}, "amount"),
        ({"name": "X", "probability": "1.5"}, "probability"),
        ({"name": "X", "currency": "usd"}, "currency"),
        ({"name": "X", "close_date": "next tuesday"}, "close_date"),
        ({"name": "X", "status": "won"}, "status"),
        ({"name": ""}, "name"),
    ],
    ids=[
        "unknown pipeline",
        "unknown stage",
        "unknown account",
        "unknown campaign",
        "unknown owner",
        "negative amount",
        "amount too large",
        "amount not a number",
        "probability above 1",
        "lower-case currency",
        "bad date",
        "status is read-only",
        "blank name",
    ],
)
def test_bad_deal_input_is_a_422_naming_the_field_and_creates_nothing(stages, body, field):
    response = api_as(UserFactory(role=Role.REVOPS_ADMIN)).post("/deals", body)

    assert response.status_code == 422
    assert [f for f, _ in errors_of(response)] == [field]
    assert not Deal.objects.exists()


def test_pipelines_list_their_stages_in_order(stages):
    response = api_as(UserFactory(role=Role.EXECUTIVE)).get("/pipelines")

    assert response.status_code == 200
    [pipeline] = response.json()
    assert [stage["name"] for stage in pipeline["stages"]] == [
        "Discovery",
        "Proposal",
        "Won",
        "Lost",
    ]


# Scope and permissions ------------------------------------------------------------------


def test_a_rep_sees_only_their_own_deals(stages):
    rep = UserFactory(role=Role.SALES_REP)
    own = DealFactory(owner=rep, stage=stages["discovery"])
    others = DealFactory(owner=UserFactory(role=Role.SALES_REP), stage=stages["discovery"])
    api = api_as(rep)

    assert ids(api.get("/deals")) == [own.pk]
    assert api.get(f"/deals/{others.pk}").status_code == 404


def test_a_rep_cannot_edit_another_reps_deal_and_it_stays_unchanged(stages):
    others = DealFactory(
        owner=UserFactory(role=Role.SALES_REP), stage=stages["discovery"], amount=100
    )

    response = api_as(UserFactory(role=Role.SALES_REP)).patch(
        f"/deals/{others.pk}", {"amount": "1"}
    )

    assert response.status_code == 404
    others.refresh_from_db()
    assert others.amount == Decimal("100")


def test_a_manager_sees_their_teams_deals(stages):
    team = TeamFactory(name="East")
    manager = UserFactory(role=Role.SALES_MANAGER, team=team)
    teams = DealFactory(owner=UserFactory(team=team), stage=stages["discovery"])
    DealFactory(owner=UserFactory(team=TeamFactory(name="West")), stage=stages["discovery"])

    assert ids(api_as(manager).get("/deals")) == [teams.pk]


def test_a_marketer_reads_deals_but_cannot_create_or_edit_them(stages):
    marketer = UserFactory(role=Role.MARKETING)
    deal = DealFactory(stage=stages["discovery"], name="Original")
    api = api_as(marketer)

    created = api.post("/deals", {"name": "Mine"})
    edited = api.patch(f"/deals/{deal.pk}", {"name": "Changed", "stage_id": stages["won"].pk})

    assert ids(api.get("/deals")) == [deal.pk]
    assert (created.status_code, edited.status_code) == (403, 403)
    assert errors_of(edited) == [(None, "forbidden")]
    deal.refresh_from_db()
    assert (deal.name, deal.stage) == ("Original", stages["discovery"])
    assert Deal.objects.count() == 1
    assert not DealStageChange.objects.exists()


def test_an_executive_cannot_create_or_edit_deals(stages):
    deal = DealFactory(stage=stages["discovery"], name="Original")
    api = api_as(UserFactory(role=Role.EXECUTIVE))

    created = api.post("/deals", {"name": "Mine"})
    edited = api.patch(f"/deals/{deal.pk}", {"name": "Changed"})

    assert (created.status_code, edited.status_code) == (403, 403)
    deal.refresh_from_db()
    assert deal.name == "Original"
    assert Deal.objects.count() == 1


def test_a_rep_may_not_give_a_deal_to_someone_else(stages):
    rep = UserFactory(role=Role.SALES_REP)
    deal = DealFactory(owner=rep, stage=stages["discovery"])

    response = api_as(rep).patch(f"/deals/{deal.pk}", {"owner_id": UserFactory().pk})

    assert errors_of(response) == [("owner_id", "forbidden")]
    deal.refresh_from_db()
    assert deal.owner == rep


# List, pagination and filters -----------------------------------------------------------


def test_deals_filter_by_status_owner_account_stage_and_pipeline(stages):
    admin = UserFactory(role=Role.REVOPS_ADMIN)
    owner = UserFactory()
    account = AccountFactory()
    won = DealFactory(stage=stages["won"], status="won")
    owned = DealFactory(owner=owner, stage=stages["discovery"])
    at_account = DealFactory(account=account, stage=stages["discovery"])
    in_proposal = DealFactory(stage=stages["proposal"])
    renewals_stage = PipelineStageFactory(
        pipeline=PipelineFactory(name="Renewals", is_default=False), name="Due"
    )
    renewal = DealFactory(stage=renewals_stage)
    api = api_as(admin)

    assert ids(api.get("/deals", {"status": "won"})) == [won.pk]
    assert ids(api.get("/deals", {"owner_id": owner.pk})) == [owned.pk]
    assert ids(api.get("/deals", {"account_id": account.pk})) == [at_account.pk]
    assert ids(api.get("/deals", {"stage_id": stages["proposal"].pk})) == [in_proposal.pk]
    assert ids(api.get("/deals", {"pipeline_id": renewals_stage.pipeline_id})) == [renewal.pk]


def test_deals_filter_by_close_date_range_inclusive(stages):
    march = DealFactory(stage=stages["discovery"], close_date=dt.date(2026, 3, 31))
    april = DealFactory(stage=stages["discovery"], close_date=dt.date(2026, 4, 1))
    DealFactory(stage=stages["discovery"], close_date=None)
    api = api_as(UserFactory(role=Role.REVOPS_ADMIN))

    assert ids(api.get("/deals", {"close_date_from": "2026-04-01"})) == [april.pk]
    assert ids(api.get("/deals", {"close_date_to": "2026-03-31"})) == [march.pk]
    both = api.get("/deals", {"close_date_from": "2026-03-31", "close_date_to": "2026-04-01"})
    assert set(ids(both)) == {march.pk, april.pk}


def test_the_deal_list_pages_newest_first_with_a_total_count(stages):
    deals = DealFactory.create_batch(5, stage=stages["discovery"])
    newest_first = [d.pk for d in sorted(deals, key=lambda d: (d.created_at, d.pk), reverse=True)]

    response = api_as(UserFactory(role=Role.REVOPS_ADMIN)).get("/deals", {"limit": 3, "offset": 3})

    assert response.json()["count"] == 5
    assert ids(response) == newest_first[3:]


def test_the_deal_and_pipeline_lists_cost_a_fixed_number_of_queries(
    stages, django_assert_num_queries
):
    rep = UserFactory(role=Role.SALES_REP)
    for _ in range(4):
        DealFactory(
            owner=rep,
            stage=stages["proposal"],
            account=AccountFactory(),
            source_campaign=CampaignFactory(),
        )
    api = api_as(rep)
    api.get("/me")  # stamps last_used_at, which happens once a minute

    # token lookup, count, page (account, pipeline, stage, owner and campaign joined in)
    with django_assert_num_queries(3):
        deals = api.get("/deals")
    # token lookup, pipelines, their stages
    with django_assert_num_queries(3):
        api.get("/pipelines")

    assert deals.json()["count"] == 4

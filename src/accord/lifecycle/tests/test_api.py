"""The rejection taxonomy over the API: everyone reads it, its editors change it, mistakes name the field."""

import pytest

from accord.accounts.tests.factories import UserFactory
from accord.accounts.tests.test_api_client import api_as, errors_of
from accord.core.permissions import Role
from accord.lifecycle.models import RejectionReason

pytestmark = pytest.mark.django_db


def test_a_rep_reads_the_active_reasons_in_order():
    response = api_as(UserFactory(role=Role.SALES_REP)).get("/rejection-reasons")

    assert response.status_code == 200
    assert [r["code"] for r in response.json()][:3] == ["bad_data", "not_decision_maker", "no_budget"]
    assert response.json()[0] == {"code": "bad_data", "label": "Bad contact data", "outcome": "disqualify",
                                  "description": RejectionReason.objects.get(code="bad_data").description,
                                  "note_required": False, "is_active": True, "order": 1, "retired_at": None}


def test_revenue_ops_adds_edits_retires_and_reorders_a_reason():
    client = api_as(UserFactory(role=Role.REVOPS_ADMIN))

    created = client.post("/rejection-reasons", {"code": "wrong_region", "label": "Wrong region",
                                                 "outcome": "disqualify"})
    edited = client.patch("/rejection-reasons/wrong_region", {"label": "Outside our regions", "outcome": "nurture",
                                                              "note_required": True})
    retired = client.post("/rejection-reasons/no_need/retire")
    active = [r["code"] for r in client.get("/rejection-reasons").json()]
    reordered = client._send("put", "/rejection-reasons/order", {"codes": list(reversed(active))}, None)
    everything = client.get("/rejection-reasons?include_retired=true").json()

    assert (created.status_code, edited.status_code, retired.status_code, reordered.status_code) == (
        201, 200, 200, 200)
    assert (edited.json()["label"], edited.json()["outcome"], edited.json()["note_required"]) == (
        "Outside our regions", "nurture", True)
    assert retired.json()["is_active"] is False and "no_need" not in active
    assert [r["code"] for r in everything] == [*reversed(active), "no_need"]


def test_a_rep_may_not_add_a_reason_and_a_duplicate_code_is_refused_by_field():
    refused = api_as(UserFactory(role=Role.SALES_REP)).post(
        "/rejection-reasons", {"code": "x", "label": "X", "outcome": "nurture"})
    duplicate = api_as(UserFactory(role=Role.MARKETING)).post(
        "/rejection-reasons", {"code": "no_budget", "label": "Again", "outcome": "nurture"})
    bad_outcome = api_as(UserFactory(role=Role.MARKETING)).post(
        "/rejection-reasons", {"code": "x", "label": "X", "outcome": "later"})

    assert refused.status_code == 403
    assert (duplicate.status_code, errors_of(duplicate)) == (409, [("code", "conflict")])
    assert (bad_outcome.status_code, [f for f, _ in errors_of(bad_outcome)]) == (422, ["outcome"])
    assert not RejectionReason.objects.filter(code="x").exists()


def test_an_unknown_code_is_not_found():
    response = api_as(UserFactory(role=Role.REVOPS_ADMIN)).post("/rejection-reasons/nope/retire")

    assert response.status_code == 404

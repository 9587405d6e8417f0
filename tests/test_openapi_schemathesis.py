"""Fuzz every API operation from its own OpenAPI document: no input may cause a server error.

The WSGI app runs in-process on the test's database connection, so the rows seeded here
(inside the test transaction) are what the API reads and writes. A well-formed id in a path
is aimed at a seeded row, so fuzzed PATCH bodies reach the update services rather than
stopping at a 404; malformed ids (0, negative, too large, not a number) are sent as generated.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance
from schemathesis.config import SchemathesisConfig

from accord.accounts.schemas import MAX_ID
from accord.accounts.services import issue_api_token
from accord.accounts.tests.factories import TeamFactory, UserFactory
from accord.capture.tests.factories import (
    AccountFactory,
    CampaignFactory,
    ContactFactory,
    CostEntryFactory,
)
from accord.config.wsgi import application
from accord.core.permissions import Role
from accord.deals.tests.factories import DealFactory, PipelineStageFactory
from accord.lifecycle.tests.factories import LeadFeedbackFactory
from accord.sla.tests.factories import SlaVersionFactory
from accord.web.exports import start_list_export

# The coverage phase adds ~2,000 systematic boundary cases (about a minute); it passes, and
# runs when ACCORD_FUZZ_COVERAGE=1. The default run keeps to random positive and negative cases.
CONFIG = SchemathesisConfig.from_dict(
    {"phases": {"coverage": {"enabled": os.environ.get("ACCORD_FUZZ_COVERAGE") == "1"}}}
)
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application, config=CONFIG)

CHECKS = [not_a_server_error, response_schema_conformance]


@pytest.fixture
def in_process_requests():
    """Keep the test's database connection open across requests, as django.test.Client does.

    Django closes the connection when a request finishes if it is inside a transaction;
    the test's own transaction is one, and closing it would lose the seeded rows.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def seeded(db, in_process_requests):
    """Seed an admin and one row of each kind, and return the ids path parameters can aim at."""
    team = TeamFactory(name="East")
    admin = UserFactory(role=Role.REVOPS_ADMIN, team=team)
    rep = UserFactory(role=Role.SALES_REP, team=team)
    account = AccountFactory(owner=rep)
    campaign = CampaignFactory(owner=admin)
    cost = CostEntryFactory(campaign=campaign)
    contact = ContactFactory(owner=rep, account=account, original_campaign=campaign)
    discovery = PipelineStageFactory(name="Discovery", order=1, probability="0.200")
    PipelineStageFactory(
        pipeline=discovery.pipeline, name="Won", order=2, probability="1.000", outcome="won"
    )
    deal = DealFactory(owner=rep, account=account, stage=discovery, source_campaign=campaign)
    feedback = LeadFeedbackFactory(contact=contact, by_user=rep, decision="reject", reason="no_need")
    export = start_list_export(user=admin, list_name="campaigns", params={})
    spare_token, _ = issue_api_token(user=admin, name="spare")
    # Fuzzed DELETE /tokens/{id} calls are aimed at the spare token, never at this one.
    _, secret = issue_api_token(user=admin, name="schemathesis")
    return {
        "headers": {"Authorization": f"Bearer {secret}"},
        "ids": {
            "account_id": account.pk,
            "campaign_id": campaign.pk,
            "contact_id": contact.pk,
            "cost_id": cost.pk,
            "deal_id": deal.pk,
            "feedback_id": feedback.pk,
            "job_id": export.pk,
            "token_id": spare_token.pk,
            "number": SlaVersionFactory().version,
        },
    }


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_no_input_makes_the_api_fail_with_a_server_error(case, seeded):
    for name, value in (case.path_parameters or {}).items():
        if isinstance(value, int) and 1 <= value <= MAX_ID:
            case.path_parameters[name] = seeded["ids"][name]

    case.call_and_validate(headers=seeded["headers"], checks=CHECKS)

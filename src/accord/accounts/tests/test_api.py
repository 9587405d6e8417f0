"""The API's front door: tokens, sessions, /me, token management and the one error shape."""

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from accord.accounts.models import ApiToken
from accord.accounts.services import issue_api_token, revoke_api_token
from accord.accounts.tests.factories import TeamFactory, UserFactory
from accord.accounts.tests.test_api_client import BASE, ApiClient, api_as, errors_of
from accord.core.permissions import Role

pytestmark = pytest.mark.django_db


# Authentication -------------------------------------------------------------------------


def test_a_valid_token_authenticates_and_me_names_its_user():
    rep = UserFactory(role=Role.SALES_REP, team=TeamFactory(name="West"))

    response = api_as(rep).get("/me")

    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["username"], body["role"]) == (rep.pk, rep.username, "sales_rep")
    assert body["team"]["name"] == "West"
    assert "edit_deals" in body["actions"] and "edit_campaigns" not in body["actions"]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer acc_not-a-real-token"},
        {"Authorization": "Bearer "},
        {"Authorization": "Token acc_whatever"},
    ],
    ids=["no header", "unknown token", "empty token", "wrong scheme"],
)
def test_a_request_without_a_valid_token_is_refused_with_401(headers):
    response = Client().get(f"{BASE}/me", headers=headers)

    assert response.status_code == 401
    assert errors_of(response) == [(None, "unauthenticated")]
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_revoked_token_is_refused_with_401():
    user = UserFactory(role=Role.REVOPS_ADMIN)
    token, secret = issue_api_token(user=user, name="ci")
    revoke_api_token(token=token)

    response = ApiClient(secret).get("/me")

    assert response.status_code == 401
    assert errors_of(response) == [(None, "unauthenticated")]


def test_an_expired_token_is_refused_with_401():
    user = UserFactory(role=Role.REVOPS_ADMIN)
    _, secret = issue_api_token(
        user=user, name="old", expires_at=timezone.now() - dt.timedelta(seconds=1)
    )

    response = ApiClient(secret).get("/me")

    assert response.status_code == 401


def test_a_revoked_token_cannot_write_and_nothing_changes():
    user = UserFactory(role=Role.MARKETING)
    token, secret = issue_api_token(user=user, name="ci")
    revoke_api_token(token=token)

    response = ApiClient(secret).post("/tokens", {"name": "another"})

    assert response.status_code == 401
    assert list(ApiToken.objects.values_list("name", flat=True)) == ["ci"]


def test_a_token_of_a_deactivated_user_is_refused():
    user = UserFactory(role=Role.REVOPS_ADMIN)
    api = api_as(user)
    user.is_active = False
    user.save(update_fields=["is_active"])

    assert api.get("/me").status_code == 401


def test_the_browser_session_authenticates_reads():
    client = Client()
    user = UserFactory(role=Role.MARKETING)
    client.force_login(user)

    response = client.get(f"{BASE}/me")

    assert response.status_code == 200
    assert response.json()["id"] == user.pk


def test_a_session_write_without_the_csrf_token_is_refused_and_nothing_changes():
    client = Client(enforce_csrf_checks=True)
    client.force_login(UserFactory(role=Role.MARKETING))

    response = client.post(f"{BASE}/tokens", {"name": "ci"}, content_type="application/json")

    assert response.status_code == 403
    assert errors_of(response) == [(None, "forbidden")]
    assert "CSRF" in response.json()["errors"][0]["message"]
    assert not ApiToken.objects.exists()


def test_a_session_write_with_the_csrf_token_succeeds():
    client = Client(enforce_csrf_checks=True)
    client.force_login(UserFactory(role=Role.MARKETING))
    secret = "a" * 32
    client.cookies["csrftoken"] = secret

    response = client.post(
        f"{BASE}/tokens",
        {"name": "ci"},
        content_type="application/json",
        headers={"X-CSRFToken": secret},
    )

    assert response.status_code == 201
    assert ApiToken.objects.get().name == "ci"


# Tokens ---------------------------------------------------------------------------------


def test_creating_a_token_returns_its_secret_once_and_the_secret_works():
    user = UserFactory(role=Role.EXECUTIVE)
    api = api_as(user)

    created = api.post("/tokens", {"name": "  laptop  "})

    assert created.status_code == 201
    body = created.json()
    assert body["name"] == "laptop"
    assert body["token"].startswith(body["prefix"])
    assert ApiClient(body["token"]).get("/me").json()["id"] == user.pk
    listed = api.get("/tokens").json()
    assert listed["count"] == 2
    assert all("token" not in item for item in listed["items"])


def test_the_token_list_holds_only_the_callers_own_tokens():
    user = UserFactory(role=Role.SALES_REP)
    issue_api_token(user=UserFactory(role=Role.SALES_REP), name="someone else's")
    api = api_as(user)

    items = api.get("/tokens").json()["items"]

    assert [item["name"] for item in items] == ["tests"]


def test_revoking_a_token_stops_it_working():
    user = UserFactory(role=Role.SALES_REP)
    api = api_as(user)
    token, secret = issue_api_token(user=user, name="old laptop")

    response = api.delete(f"/tokens/{token.pk}")

    assert response.status_code == 200
    assert response.json()["revoked_at"] is not None
    assert ApiClient(secret).get("/me").status_code == 401


def test_revoking_someone_elses_token_is_not_found_and_changes_nothing():
    other_token, _ = issue_api_token(user=UserFactory(), name="theirs")
    api = api_as(UserFactory(role=Role.REVOPS_ADMIN))

    response = api.delete(f"/tokens/{other_token.pk}")

    assert response.status_code == 404
    other_token.refresh_from_db()
    assert other_token.revoked_at is None


def test_a_token_that_would_expire_in_the_past_is_refused():
    user = UserFactory()
    api = api_as(user)

    response = api.post("/tokens", {"name": "x", "expires_at": "2000-01-01T00:00:00Z"})

    assert response.status_code == 422
    assert errors_of(response) == [("expires_at", "invalid")]
    assert ApiToken.objects.filter(user=user).count() == 1


def test_a_blank_token_name_is_refused():
    response = api_as(UserFactory()).post("/tokens", {"name": "   "})

    assert response.status_code == 422
    assert errors_of(response) == [("name", "invalid")]


def test_the_token_list_costs_a_fixed_number_of_queries(django_assert_num_queries):
    user = UserFactory()
    for n in range(5):
        issue_api_token(user=user, name=f"token {n}")
    api = api_as(user)
    api.get("/me")  # stamps last_used_at, which happens once a minute

    # token lookup, count, page
    with django_assert_num_queries(3):
        response = api.get("/tokens")

    assert response.json()["count"] == 6


# The error shape ------------------------------------------------------------------------


def test_malformed_json_is_a_400_saying_so():
    response = api_as(UserFactory(role=Role.MARKETING)).post("/tokens", raw='{"name": ')

    assert response.status_code == 400
    assert errors_of(response) == [(None, "malformed_json")]
    assert "not valid JSON" in response.json()["errors"][0]["message"]


def test_a_body_that_is_not_an_object_is_a_422_for_the_whole_body():
    response = api_as(UserFactory(role=Role.MARKETING)).post("/tokens", [1, 2])

    assert response.status_code == 422
    assert errors_of(response) == [(None, "invalid")]


def test_text_no_database_can_store_is_refused_before_it_reaches_one():
    user = UserFactory(role=Role.MARKETING)
    api = api_as(user)

    in_body = api.post("/tokens", {"name": "a\x00b"})
    in_query = api.get("/tokens", {"limit": "1\x00"})
    lone_surrogate = api.post("/tokens", raw='{"name": "\\ud800"}')

    assert errors_of(in_body) == [("name", "invalid")]
    assert errors_of(in_query) == [("limit", "invalid")]
    assert errors_of(lone_surrogate) == [("name", "invalid")]
    assert ApiToken.objects.filter(user=user).count() == 1


def test_an_unknown_path_is_a_404_in_the_error_shape():
    response = api_as(UserFactory()).get("/nothing-here")

    assert response.status_code == 404
    assert errors_of(response) == [(None, "not_found")]


def test_an_unsupported_method_is_a_405_in_the_error_shape():
    api = api_as(UserFactory(role=Role.REVOPS_ADMIN))

    response = api.client.put(
        f"{BASE}/tokens", "{}", content_type="application/json", headers=api.headers
    )

    assert response.status_code == 405
    assert errors_of(response) == [(None, "method_not_allowed")]
    assert set(response["Allow"].split(", ")) == {"GET", "POST"}


def test_the_openapi_document_describes_the_error_shape_on_every_operation():
    schema = Client().get(f"{BASE}/openapi.json").json()

    assert "ErrorOut" in schema["components"]["schemas"]
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            documented = set(operation["responses"])
            assert {"401", "403", "422"} <= documented, (method, path)
            if "{" in path:
                assert "404" in documented, (method, path)
            if method in {"post", "patch"}:
                assert {"400", "409"} <= documented, (method, path)

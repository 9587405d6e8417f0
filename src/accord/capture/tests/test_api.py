"""Accounts (companies), contacts and campaigns through the HTTP API."""

import datetime as dt

import pytest
from django.utils import timezone

from accord.accounts.selectors import assignable_owners, may_leave_unassigned
from accord.accounts.tests.factories import TeamFactory, UserFactory
from accord.accounts.tests.test_api_client import api_as, errors_of
from accord.capture.models import Account, Campaign, Contact
from accord.capture.selectors import contacts_visible_to
from accord.capture.tests.factories import AccountFactory, CampaignFactory, ContactFactory
from accord.core.permissions import Role

pytestmark = pytest.mark.django_db


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["items"]]


# Contacts: create, read, update ---------------------------------------------------------


def test_a_marketer_creates_a_contact_with_a_normalised_email():
    marketer = UserFactory(role=Role.MARKETING)
    account = AccountFactory()

    response = api_as(marketer).post(
        "/contacts",
        {
            "email": "  Ada@Example.COM ",
            "first_name": "Ada",
            "account_id": account.pk,
            "country": "GB",
        },
    )

    assert response.status_code == 201
    body = response.json()
    assert body["email"] == "ada@example.com"
    assert body["account"] == {"id": account.pk, "name": account.name}
    assert body["lifecycle_stage"] == "lead"
    assert body["owner"] is None
    assert Contact.objects.get().email == "ada@example.com"


def test_a_rep_who_names_no_owner_owns_the_contact_they_create():
    rep = UserFactory(role=Role.SALES_REP)

    response = api_as(rep).post("/contacts", {"first_name": "Grace"})

    assert response.status_code == 201
    assert response.json()["owner"]["id"] == rep.pk


def test_a_contact_is_retrieved_and_patched_field_by_field():
    marketer = UserFactory(role=Role.MARKETING)
    contact = ContactFactory(first_name="Ada", last_name="Byron", title="Analyst")
    api = api_as(marketer)

    fetched = api.get(f"/contacts/{contact.pk}")
    patched = api.patch(f"/contacts/{contact.pk}", {"last_name": "Lovelace", "email": "ADA@x.org"})

    assert fetched.json()["last_name"] == "Byron"
    assert patched.status_code == 200
    contact.refresh_from_db()
    assert (contact.first_name, contact.last_name, contact.title) == ("Ada", "Lovelace", "Analyst")
    assert contact.email == "ada@x.org"


def test_patching_null_into_a_nullable_field_clears_it():
    contact = ContactFactory(account=AccountFactory())

    response = api_as(UserFactory(role=Role.MARKETING)).patch(
        f"/contacts/{contact.pk}", {"account_id": None}
    )

    assert response.status_code == 200
    contact.refresh_from_db()
    assert contact.account is None


def test_patching_null_into_a_required_text_field_is_refused():
    contact = ContactFactory(first_name="Ada")

    response = api_as(UserFactory(role=Role.MARKETING)).patch(
        f"/contacts/{contact.pk}", {"first_name": None}
    )

    assert response.status_code == 422
    assert errors_of(response) == [("first_name", "invalid")]
    contact.refresh_from_db()
    assert contact.first_name == "Ada"


# Contacts: bad input is a 4xx naming the field, never a 500 ------------------------------


def test_an_email_already_taken_in_another_case_is_a_409_on_email():
    ContactFactory(email="ada@example.com")

    response = api_as(UserFactory(role=Role.MARKETING)).post(
        "/contacts", {"email": "ADA@example.com"}
    )

    assert response.status_code == 409
    assert errors_of(response) == [("email", "conflict")]
    assert Contact.objects.count() == 1


def test_changing_an_email_to_one_already_taken_is_a_409_and_changes_nothing():
    ContactFactory(email="ada@example.com")
    contact = ContactFactory(email="grace@example.com")

    response = api_as(UserFactory(role=Role.MARKETING)).patch(
        f"/contacts/{contact.pk}", {"email": "Ada@Example.com"}
    )

    assert response.status_code == 409
    contact.refresh_from_db()
    assert contact.email == "grace@example.com"


def test_keeping_ones_own_email_in_a_patch_is_not_a_conflict():
    contact = ContactFactory(email="ada@example.com")

    response = api_as(UserFactory(role=Role.MARKETING)).patch(
        f"/contacts/{contact.pk}", {"email": "ADA@example.com"}
    )

    assert response.status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"first_name": "A", "account_id": 999999}, "account_id"),
        ({"first_name": "A", "owner_id": 999999}, "owner_id"),
        ({"first_name": "A", "original_campaign_id": 999999}, "original_campaign_id"),
        ({"email": "not-an-email"}, "email"),
        ({"first_name": 42}, "first_name"),
        ({"first_name": "A", "account_id": "seven"}, "account_id"),
        ({"first_name": "A", "seniority": "overlord"}, "seniority"),
        ({"first_name": "A", "country": "gbr"}, "country"),
        ({"first_name": "A", "favourite_colour": "blue"}, "favourite_colour"),
        ({"first_name": "A", "lifecycle_stage": "customer"}, "lifecycle_stage"),
        ({"first_name": "x" * 101}, "first_name"),
        ({}, "email"),
    ],
    ids=[
        "unknown account",
        "unknown owner",
        "unknown campaign",
        "bad email",
        "number for text",
        "text for id",
        "unknown choice",
        "bad country",
        "unknown field",
        "read-only stage",
        "too long",
        "no email or name",
    ],
)
def test_bad_contact_input_is_a_422_naming_the_field_and_creates_nothing(body, field):
    response = api_as(UserFactory(role=Role.REVOPS_ADMIN)).post("/contacts", body)

    assert response.status_code == 422
    assert [f for f, _ in errors_of(response)] == [field]
    assert not Contact.objects.exists()


def test_an_unknown_field_is_reported_as_unknown_or_read_only():
    response = api_as(UserFactory(role=Role.MARKETING)).post(
        "/contacts", {"first_name": "A", "lifecycle_stage": "customer"}
    )

    assert errors_of(response) == [("lifecycle_stage", "unknown_field")]


def test_a_missing_contact_is_a_404():
    response = api_as(UserFactory(role=Role.MARKETING)).get("/contacts/424242")

    assert response.status_code == 404
    assert errors_of(response) == [(None, "not_found")]


def test_an_account_outside_the_reps_scope_is_unknown_to_them():
    rep = UserFactory(role=Role.SALES_REP)
    someone_elses = AccountFactory(owner=UserFactory(role=Role.SALES_REP))

    response = api_as(rep).post("/contacts", {"first_name": "A", "account_id": someone_elses.pk})

    assert response.status_code == 422
    assert errors_of(response) == [("account_id", "invalid")]
    assert not Contact.objects.exists()


# Contacts: scope and ownership ----------------------------------------------------------


def test_a_rep_sees_only_their_own_contacts():
    rep, other_rep = UserFactory(role=Role.SALES_REP), UserFactory(role=Role.SALES_REP)
    own = ContactFactory(owner=rep)
    others = ContactFactory(owner=other_rep)
    ContactFactory(owner=None)
    api = api_as(rep)

    assert ids(api.get("/contacts")) == [own.pk]
    assert api.get(f"/contacts/{others.pk}").status_code == 404


def test_a_rep_cannot_edit_another_reps_contact_and_it_stays_unchanged():
    rep = UserFactory(role=Role.SALES_REP)
    others = ContactFactory(owner=UserFactory(role=Role.SALES_REP), title="CFO")

    response = api_as(rep).patch(f"/contacts/{others.pk}", {"title": "Intern"})

    assert response.status_code == 404
    others.refresh_from_db()
    assert others.title == "CFO"


def test_a_manager_sees_their_teams_and_unassigned_contacts_only():
    team = TeamFactory(name="East")
    manager = UserFactory(role=Role.SALES_MANAGER, team=team)
    teammate = UserFactory(role=Role.SALES_REP, team=team)
    outsider = UserFactory(role=Role.SALES_REP, team=TeamFactory(name="West"))
    teams = ContactFactory(owner=teammate)
    unassigned = ContactFactory(owner=None)
    ContactFactory(owner=outsider)

    assert set(ids(api_as(manager).get("/contacts"))) == {teams.pk, unassigned.pk}


def test_a_rep_may_not_create_a_contact_for_someone_else():
    rep, other_rep = UserFactory(role=Role.SALES_REP), UserFactory(role=Role.SALES_REP)

    response = api_as(rep).post("/contacts", {"first_name": "A", "owner_id": other_rep.pk})

    assert response.status_code == 403
    assert errors_of(response) == [("owner_id", "forbidden")]
    assert not Contact.objects.exists()


def test_a_rep_may_not_hand_their_contact_to_someone_else():
    rep, other_rep = UserFactory(role=Role.SALES_REP), UserFactory(role=Role.SALES_REP)
    contact = ContactFactory(owner=rep)
    api = api_as(rep)

    to_other = api.patch(f"/contacts/{contact.pk}", {"owner_id": other_rep.pk})
    to_nobody = api.patch(f"/contacts/{contact.pk}", {"owner_id": None})

    assert (to_other.status_code, to_nobody.status_code) == (403, 403)
    contact.refresh_from_db()
    assert contact.owner == rep


def test_a_manager_may_hand_a_contact_to_a_teammate_but_not_outside_the_team():
    team = TeamFactory(name="East")
    manager = UserFactory(role=Role.SALES_MANAGER, team=team)
    teammate = UserFactory(role=Role.SALES_REP, team=team)
    outsider = UserFactory(role=Role.SALES_REP, team=TeamFactory(name="West"))
    contact = ContactFactory(owner=None)
    api = api_as(manager)

    inside = api.patch(f"/contacts/{contact.pk}", {"owner_id": teammate.pk})
    outside = api.patch(f"/contacts/{contact.pk}", {"owner_id": outsider.pk})

    assert (inside.status_code, outside.status_code) == (200, 403)
    contact.refresh_from_db()
    assert contact.owner == teammate


# Who may own a record -------------------------------------------------------------------


@pytest.mark.parametrize("role", list(Role))
def test_the_owners_a_user_may_assign_are_exactly_those_whose_records_they_see(role):
    team = TeamFactory(name="North")
    user = UserFactory(role=role, team=team)
    teammate = UserFactory(team=team)
    outsider = UserFactory(team=TeamFactory(name="South"))
    for owner in (user, teammate, outsider, None):
        ContactFactory(owner=owner)

    visible_owner_ids = set(contacts_visible_to(user=user).values_list("owner_id", flat=True))
    assignable_ids = set(assignable_owners(user=user).values_list("pk", flat=True))

    assert visible_owner_ids - {None} == assignable_ids & {user.pk, teammate.pk, outsider.pk}
    assert (None in visible_owner_ids) == may_leave_unassigned(user=user)


# Contacts: list, pagination and filters -------------------------------------------------


def test_the_contact_list_pages_newest_first_with_a_total_count():
    marketer = UserFactory(role=Role.MARKETING)
    contacts = ContactFactory.create_batch(5)
    newest_first = [
        c.pk for c in sorted(contacts, key=lambda c: (c.created_at, c.pk), reverse=True)
    ]

    response = api_as(marketer).get("/contacts", {"limit": 2, "offset": 2})

    assert response.json()["count"] == 5
    assert ids(response) == newest_first[2:4]


def test_a_page_larger_than_the_maximum_is_refused(settings):
    response = api_as(UserFactory(role=Role.MARKETING)).get(
        "/contacts", {"limit": settings.NINJA_PAGINATION_MAX_LIMIT + 1}
    )

    assert response.status_code == 422
    assert errors_of(response) == [("limit", "invalid")]


def test_contacts_filter_by_stage_source_owner_and_account():
    marketer = UserFactory(role=Role.MARKETING)
    owner = UserFactory()
    account = AccountFactory()
    mql = ContactFactory(lifecycle_stage="mql")
    webinar = ContactFactory(lead_source="webinar")
    owned = ContactFactory(owner=owner)
    at_account = ContactFactory(account=account)
    api = api_as(marketer)

    assert ids(api.get("/contacts", {"lifecycle_stage": "mql"})) == [mql.pk]
    assert ids(api.get("/contacts", {"lead_source": "webinar"})) == [webinar.pk]
    assert ids(api.get("/contacts", {"owner_id": owner.pk})) == [owned.pk]
    assert ids(api.get("/contacts", {"account_id": account.pk})) == [at_account.pk]


def test_contacts_filter_by_exact_email_in_any_case():
    ada = ContactFactory(email="ada@example.com")
    ContactFactory(email="ada@example.com.au")

    response = api_as(UserFactory(role=Role.MARKETING)).get(
        "/contacts", {"email": " ADA@Example.com"}
    )

    assert ids(response) == [ada.pk]


def test_contacts_filter_by_name_or_email_prefix():
    ada = ContactFactory(first_name="Ada", last_name="Lovelace", email="countess@example.com")
    grace = ContactFactory(first_name="Grace", last_name="Hopper", email="ghopper@example.com")
    ContactFactory(first_name="Alan", last_name="Turing", email="alan@example.com")
    api = api_as(UserFactory(role=Role.MARKETING))

    assert ids(api.get("/contacts", {"q": "love"})) == [ada.pk]
    assert ids(api.get("/contacts", {"q": "GHOP"})) == [grace.pk]
    assert ids(api.get("/contacts", {"q": "ada lov"})) == [ada.pk]


def test_contacts_filter_by_creation_time():
    old, recent = ContactFactory(), ContactFactory()
    now = timezone.now()
    Contact.objects.filter(pk=old.pk).update(created_at=now - dt.timedelta(days=30))
    api = api_as(UserFactory(role=Role.MARKETING))
    cutoff = (now - dt.timedelta(days=1)).isoformat()

    assert ids(api.get("/contacts", {"created_after": cutoff})) == [recent.pk]
    assert ids(api.get("/contacts", {"created_before": cutoff})) == [old.pk]


def test_an_out_of_range_time_filter_is_a_422_not_a_500():
    response = api_as(UserFactory(role=Role.MARKETING)).get(
        "/contacts", {"created_after": "0001-01-01T00:00:00+05:00"}
    )

    assert response.status_code == 422
    assert errors_of(response) == [("created_after", "invalid")]


def test_a_wrongly_typed_filter_is_a_422_naming_it():
    response = api_as(UserFactory(role=Role.MARKETING)).get("/contacts", {"owner_id": "me"})

    assert response.status_code == 422
    assert errors_of(response) == [("owner_id", "invalid")]


# Accounts -------------------------------------------------------------------------------


def test_a_rep_creates_reads_and_patches_an_account_they_own():
    rep = UserFactory(role=Role.SALES_REP)
    api = api_as(rep)

    created = api.post(
        "/accounts", {"name": "Acme", "domain": "https://www.Acme.example/", "region": "emea"}
    )
    account_id = created.json()["id"]
    patched = api.patch(f"/accounts/{account_id}", {"industry": "retail"})

    assert created.status_code == 201
    assert created.json()["domain"] == "acme.example"
    assert created.json()["owner"]["id"] == rep.pk
    assert patched.json()["industry"] == "retail"
    assert api.get(f"/accounts/{account_id}").json()["region"] == "emea"


def test_a_domain_already_taken_is_a_409_on_domain():
    AccountFactory(domain="acme.example")

    response = api_as(UserFactory(role=Role.MARKETING)).post(
        "/accounts", {"name": "Acme again", "domain": "ACME.example"}
    )

    assert response.status_code == 409
    assert errors_of(response) == [("domain", "conflict")]
    assert Account.objects.count() == 1


def test_accounts_filter_by_segment_region_industry_owner_domain_and_name():
    marketer = UserFactory(role=Role.MARKETING)
    owner = UserFactory()
    b2c = AccountFactory(name="Homes", segment="b2c", region="apac", industry="consumer")
    owned = AccountFactory(name="Zeta", owner=owner, region="emea", industry="retail")
    api = api_as(marketer)

    assert ids(api.get("/accounts", {"segment": "b2c"})) == [b2c.pk]
    assert ids(api.get("/accounts", {"region": "apac"})) == [b2c.pk]
    assert ids(api.get("/accounts", {"industry": "retail"})) == [owned.pk]
    assert ids(api.get("/accounts", {"owner_id": owner.pk})) == [owned.pk]
    assert ids(api.get("/accounts", {"domain": owned.domain.upper()})) == [owned.pk]
    assert ids(api.get("/accounts", {"q": "hom"})) == [b2c.pk]


def test_accounts_list_by_name():
    marketer = UserFactory(role=Role.MARKETING)
    beta, alpha = AccountFactory(name="Beta"), AccountFactory(name="Alpha")

    assert ids(api_as(marketer).get("/accounts")) == [alpha.pk, beta.pk]


def test_a_rep_sees_accounts_they_own_or_hold_a_contact_in():
    rep = UserFactory(role=Role.SALES_REP)
    owned = AccountFactory(name="A owned", owner=rep)
    via_contact = AccountFactory(name="B via contact")
    ContactFactory(owner=rep, account=via_contact)
    hidden = AccountFactory(name="C hidden", owner=UserFactory())
    api = api_as(rep)

    assert ids(api.get("/accounts")) == [owned.pk, via_contact.pk]
    assert api.get(f"/accounts/{hidden.pk}").status_code == 404


# Campaigns ------------------------------------------------------------------------------


def test_a_marketer_creates_and_patches_a_campaign():
    marketer = UserFactory(role=Role.MARKETING)
    api = api_as(marketer)

    created = api.post(
        "/campaigns",
        {
            "name": "Spring webinar",
            "channel": "webinar",
            "budget": "2500.50",
            "start_date": "2026-03-01",
        },
    )
    campaign_id = created.json()["id"]
    patched = api.patch(f"/campaigns/{campaign_id}", {"status": "active", "currency": "EUR"})

    assert created.status_code == 201
    assert created.json()["budget"] == "2500.50"
    assert created.json()["owner"]["id"] == marketer.pk
    assert (patched.json()["status"], patched.json()["currency"]) == ("active", "EUR")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "X", "channel": "webinar", "budget": "-1"}, "budget"),
        ({"name": "X", "channel": "webinar", "budget": "1.234"}, "budget"),
        ({"name": "X", "channel": "webinar", "currency": "euro"}, "currency"),
        ({"name": "X", "channel": "carrier_pigeon"}, "channel"),
        (
            {
                "name": "X",
                "channel": "webinar",
                "start_date": "2026-03-02",
                "end_date": "2026-03-01",
            },
            "end_date",
        ),
        ({"channel": "webinar"}, "name"),
    ],
    ids=[
        "negative budget",
        "fractions of cents",
        "bad currency",
        "unknown channel",
        "ends before start",
        "no name",
    ],
)
def test_bad_campaign_input_is_a_422_naming_the_field(body, field):
    response = api_as(UserFactory(role=Role.MARKETING)).post("/campaigns", body)

    assert response.status_code == 422
    assert [f for f, _ in errors_of(response)] == [field]
    assert not Campaign.objects.exists()


def test_a_utm_campaign_already_used_is_a_409():
    CampaignFactory(utm_campaign="spring-26")

    response = api_as(UserFactory(role=Role.MARKETING)).post(
        "/campaigns", {"name": "X", "channel": "email", "utm_campaign": "Spring-26"}
    )

    assert response.status_code == 409
    assert errors_of(response) == [("utm_campaign", "conflict")]


def test_campaigns_filter_by_channel_status_and_owner():
    owner = UserFactory(role=Role.MARKETING)
    email = CampaignFactory(channel="email", status="planned")
    paused = CampaignFactory(status="paused")
    owned = CampaignFactory(owner=owner)
    api = api_as(UserFactory(role=Role.SALES_REP))

    assert ids(api.get("/campaigns", {"channel": "email"})) == [email.pk]
    assert ids(api.get("/campaigns", {"status": "paused"})) == [paused.pk]
    assert ids(api.get("/campaigns", {"owner_id": owner.pk})) == [owned.pk]


def test_a_rep_reads_campaigns_but_cannot_create_or_edit_them():
    rep = UserFactory(role=Role.SALES_REP)
    campaign = CampaignFactory(name="Original")
    api = api_as(rep)

    listed = api.get("/campaigns")
    created = api.post("/campaigns", {"name": "Mine", "channel": "email"})
    edited = api.patch(f"/campaigns/{campaign.pk}", {"name": "Changed"})

    assert ids(listed) == [campaign.pk]
    assert api.get(f"/campaigns/{campaign.pk}").status_code == 200
    assert (created.status_code, edited.status_code) == (403, 403)
    assert errors_of(created) == [(None, "forbidden")]
    assert list(Campaign.objects.values_list("name", flat=True)) == ["Original"]


# Executives read everything and write nothing -------------------------------------------


def test_an_executive_reads_every_record():
    executive = UserFactory(role=Role.EXECUTIVE)
    contact = ContactFactory(owner=UserFactory(role=Role.SALES_REP))
    api = api_as(executive)

    assert ids(api.get("/contacts")) == [contact.pk]
    assert api.get(f"/contacts/{contact.pk}").status_code == 200


def test_an_executive_cannot_create_or_edit_anything_in_capture():
    executive = UserFactory(role=Role.EXECUTIVE)
    account = AccountFactory(name="Acme")
    contact = ContactFactory(first_name="Ada")
    campaign = CampaignFactory(name="Spring")
    api = api_as(executive)

    statuses = [
        api.post("/accounts", {"name": "New"}).status_code,
        api.patch(f"/accounts/{account.pk}", {"name": "Changed"}).status_code,
        api.post("/contacts", {"first_name": "New"}).status_code,
        api.patch(f"/contacts/{contact.pk}", {"first_name": "Changed"}).status_code,
        api.post("/campaigns", {"name": "New", "channel": "email"}).status_code,
        api.patch(f"/campaigns/{campaign.pk}", {"name": "Changed"}).status_code,
    ]

    assert statuses == [403] * 6
    assert list(Account.objects.values_list("name", flat=True)) == ["Acme"]
    assert list(Contact.objects.values_list("first_name", flat=True)) == ["Ada"]
    assert list(Campaign.objects.values_list("name", flat=True)) == ["Spring"]


# Query counts ---------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.MARKETING, Role.SALES_REP])
def test_the_capture_lists_cost_a_fixed_number_of_queries(role, django_assert_num_queries):
    user = UserFactory(role=role)
    for _ in range(4):
        account = AccountFactory(owner=user)
        campaign = CampaignFactory(owner=UserFactory())
        ContactFactory(owner=user, account=account, original_campaign=campaign)
    api = api_as(user)
    api.get("/me")  # stamps last_used_at, which happens once a minute

    for path in ("/contacts", "/accounts", "/campaigns"):
        # token lookup, count, page (related rows joined in)
        with django_assert_num_queries(3):
            response = api.get(path)
        assert response.json()["count"] == 4

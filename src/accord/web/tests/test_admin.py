import pytest
from django.apps import apps
from django.contrib import admin
from django.test import Client, RequestFactory
from django.urls import reverse

from accord.accounts.tests.factories import UserFactory
from accord.capture.tests.factories import AccountFactory, ContactFactory
from accord.core.permissions import Role
from accord.deals.tests.factories import DealFactory

pytestmark = pytest.mark.django_db

ADMINISTERED_APPS = (
    "accounts", "core", "capture", "lifecycle", "deals", "planning", "sla", "notifications", "collaboration",
    "scoring",
)
ACCORD_MODELS = [
    model for label in ADMINISTERED_APPS for model in apps.get_app_config(label).get_models()
]


@pytest.fixture
def admin_client_for_revops():
    client = Client()
    client.force_login(UserFactory(role=Role.REVOPS_ADMIN, is_staff=True, is_superuser=True))
    return client


def admin_url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def test_every_model_of_every_app_has_an_admin():
    missing = [model._meta.label for model in ACCORD_MODELS if not admin.site.is_registered(model)]

    assert missing == []


@pytest.mark.parametrize("model", ACCORD_MODELS, ids=lambda m: m._meta.label)
def test_every_admin_list_and_add_page_opens_for_a_revops_admin(admin_client_for_revops, model):
    model_admin = admin.site._registry[model]

    assert admin_client_for_revops.get(admin_url(model, "changelist")).status_code == 200
    expected_add = 200 if model_admin.has_add_permission(_request_as_superuser()) else 403
    assert admin_client_for_revops.get(admin_url(model, "add")).status_code == expected_add


def _request_as_superuser():
    request = RequestFactory().get("/")
    request.user = UserFactory.build(is_superuser=True, is_staff=True, is_active=True)
    return request


def test_the_change_pages_of_the_busiest_records_open(admin_client_for_revops):
    contact = ContactFactory(account=AccountFactory(), owner=UserFactory())
    deal = DealFactory(owner=UserFactory())
    user = UserFactory(role=Role.MARKETING)

    for obj in (contact, contact.account, deal, user):
        assert admin_client_for_revops.get(admin_url(type(obj), "change", obj.pk)).status_code == 200


@pytest.mark.parametrize("role", [Role.SALES_REP, Role.SALES_MANAGER, Role.MARKETING, Role.EXECUTIVE])
def test_only_staff_reach_the_admin(role):
    client = Client()
    client.force_login(UserFactory(role=role))

    response = client.get(reverse("admin:index"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


@pytest.mark.parametrize("rows", [3, 30])
def test_the_contact_changelist_runs_the_same_queries_whatever_the_number_of_rows(
    admin_client_for_revops, rows, django_assert_num_queries
):
    account = AccountFactory()
    for _ in range(rows):
        ContactFactory(account=account, owner=UserFactory())

    # Session, user, the page's count and the page: no second count of the whole table.
    with django_assert_num_queries(4):
        admin_client_for_revops.get(admin_url(ContactFactory._meta.model, "changelist"))


def test_stage_and_owner_are_read_only_on_the_contact_admin(admin_client_for_revops):
    contact = ContactFactory()

    html = admin_client_for_revops.get(admin_url(type(contact), "change", contact.pk)).content.decode()

    assert 'name="lifecycle_stage"' not in html
    assert 'name="owner"' not in html
    assert 'name="email"' in html

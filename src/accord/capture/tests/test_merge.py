"""Merging duplicate contacts: every related row moves, and the merge is recorded."""

import pytest
from django.apps import apps

from accord.accounts.tests.factories import UserFactory
from accord.capture.models import Consent, Contact, ContactMerge, IdentityLink, Touchpoint
from accord.capture.selectors import duplicate_candidates
from accord.capture.services import merge_by_rule, merge_contacts
from accord.capture.tests.factories import (
    AccountFactory,
    ActivityFactory,
    CommentFactory,
    ConsentFactory,
    ContactFactory,
    DealRoleFactory,
    DealRowFactory,
    IdentityLinkFactory,
    LeadAssignmentFactory,
    LeadFeedbackFactory,
    StageTransitionFactory,
    TouchpointFactory,
)
from accord.core.errors import PermissionDenied, ValidationFailed
from accord.core.permissions import Role

pytestmark = pytest.mark.django_db

RELATED = [
    ("capture", "Touchpoint"),
    ("capture", "Consent"),
    ("capture", "IdentityLink"),
    ("lifecycle", "Activity"),
    ("lifecycle", "StageTransition"),
    ("lifecycle", "LeadAssignment"),
    ("lifecycle", "LeadFeedback"),
    ("deals", "DealContact"),
    ("collaboration", "Comment"),
]


def row_counts() -> dict[str, int]:
    return {name: apps.get_model(app, name).objects.count() for app, name in RELATED}


def give_everything(contact, *, deal=None):
    TouchpointFactory.create_batch(2, contact=contact)
    ConsentFactory(contact=contact)
    IdentityLinkFactory(contact=contact)
    ActivityFactory(contact=contact)
    StageTransitionFactory(contact=contact)
    LeadAssignmentFactory(contact=contact)
    LeadFeedbackFactory(contact=contact)
    DealRoleFactory(contact=contact)
    if deal is not None:
        DealRoleFactory(contact=contact, deal=deal)
    CommentFactory(target=contact)


def test_a_merge_moves_every_related_row_to_the_survivor_and_records_it():
    admin = UserFactory(role=Role.REVOPS_ADMIN)
    shared_deal = DealRowFactory()
    survivor = ContactFactory(email="ada@example.org", phone="", title="CTO")
    duplicate = ContactFactory(email="ada.l@example.org", phone="+44 1", title="Engineer", external_id="crm-1")
    give_everything(survivor, deal=shared_deal)
    give_everything(duplicate, deal=shared_deal)
    before = row_counts()

    merge = merge_contacts(survivor=survivor, duplicate=duplicate, by=admin)

    after = row_counts()
    # Both were on the shared deal: the survivor keeps its place, the duplicate's role goes.
    assert after == {**before, "DealContact": before["DealContact"] - 1}
    for app, name in RELATED:
        model = apps.get_model(app, name)
        if name == "Comment":
            assert model.objects.filter(target_id=duplicate.pk).count() == 0
        else:
            assert model.objects.filter(contact_id=duplicate.pk).count() == 0
    assert not Contact.objects.filter(pk=duplicate.pk).exists()
    survivor.refresh_from_db()
    assert (survivor.email, survivor.phone, survivor.title, survivor.external_id) == (
        "ada@example.org", "+44 1", "CTO", "crm-1"
    )
    assert survivor.touchpoints.count() == 4
    assert (merge.survivor_id, merge.duplicate_id, merge.duplicate_email, merge.by_id, merge.rule) == (
        survivor.pk, duplicate.pk, "ada.l@example.org", admin.pk, "manual"
    )
    assert merge.snapshot["email"] == "ada.l@example.org" and merge.snapshot["id"] == duplicate.pk
    assert merge.moved["capture.Touchpoint"] == 2
    assert merge.moved["deals.DealContact (already on survivor)"] == 1


def test_field_choices_take_the_duplicates_values_and_email():
    admin = UserFactory(role=Role.REVOPS_ADMIN)
    survivor = ContactFactory(email="old@example.org", title="CTO")
    duplicate = ContactFactory(email="new@example.org", title="CEO")

    merge_contacts(
        survivor=survivor, duplicate=duplicate, by=admin, field_choices={"title": "duplicate", "email": "duplicate"}
    )

    survivor.refresh_from_db()
    assert (survivor.title, survivor.email) == ("CEO", "new@example.org")


def test_merging_a_contact_into_itself_is_refused_and_changes_nothing():
    contact = ContactFactory()
    give_everything(contact)
    before = row_counts()

    with pytest.raises(ValidationFailed):
        merge_contacts(survivor=contact, duplicate=contact, by=UserFactory(role=Role.REVOPS_ADMIN))

    assert row_counts() == before
    assert ContactMerge.objects.count() == 0


def test_a_viewer_may_not_merge():
    survivor, duplicate = ContactFactory(), ContactFactory()

    with pytest.raises(PermissionDenied):
        merge_contacts(survivor=survivor, duplicate=duplicate, by=UserFactory(role=Role.EXECUTIVE))

    assert Contact.objects.count() == 2


def test_the_name_and_domain_rule_finds_namesakes_at_one_company_but_not_at_gmail():
    acme = AccountFactory(domain="acme.example")
    a = ContactFactory(first_name="Ada", last_name="Lovelace", account=acme, email="ada@acme.example")
    b = ContactFactory(first_name=" ada", last_name="LOVELACE", account=None, email="a.l@acme.example")
    ContactFactory(first_name="Ada", last_name="Lovelace", email="ada1@gmail.com")
    ContactFactory(first_name="Ada", last_name="Lovelace", email="ada2@gmail.com")

    groups = duplicate_candidates(user=UserFactory(role=Role.MARKETING), rule="name_and_domain")

    assert [[c.pk for c in group] for group in groups] == [[a.pk, b.pk]]


def test_the_phone_rule_compares_digits_only():
    a = ContactFactory(phone="+1 (555) 010-9999")
    b = ContactFactory(phone="15550109999")
    ContactFactory(phone="555")
    ContactFactory(phone="555")

    groups = duplicate_candidates(user=UserFactory(role=Role.MARKETING), rule="phone")

    assert [[c.pk for c in group] for group in groups] == [[a.pk, b.pk]]


def test_candidates_are_scoped_to_what_the_user_sees():
    rep, other = UserFactory(role=Role.SALES_REP), UserFactory(role=Role.SALES_REP)
    ContactFactory(phone="5550109999", owner=other)
    ContactFactory(phone="5550109999", owner=other)

    assert duplicate_candidates(user=rep, rule="phone") == []


def test_merge_by_rule_folds_each_group_into_its_oldest_contact():
    admin = UserFactory(role=Role.REVOPS_ADMIN)
    oldest = ContactFactory(phone="5550109999")
    TouchpointFactory(contact=ContactFactory(phone="555-010-9999"))
    ContactFactory(phone="555.010.9999")

    merges = merge_by_rule(rule="phone", by=admin)

    assert len(merges) == 2
    assert list(Contact.objects.values_list("pk", flat=True)) == [oldest.pk]
    assert Touchpoint.objects.get().contact_id == oldest.pk
    assert set(ContactMerge.objects.values_list("rule", flat=True)) == {"phone"}


def test_an_unknown_rule_is_refused():
    with pytest.raises(ValidationFailed):
        duplicate_candidates(user=UserFactory(role=Role.MARKETING), rule="vibes")


def test_consents_and_identity_links_follow_the_survivor():
    survivor, duplicate = ContactFactory(), ContactFactory()
    ConsentFactory(contact=duplicate)
    IdentityLinkFactory(contact=duplicate, anonymous_id="vid-1")

    merge_contacts(survivor=survivor, duplicate=duplicate, by=UserFactory(role=Role.MARKETING))

    assert Consent.objects.get().contact_id == survivor.pk
    assert IdentityLink.objects.get().contact_id == survivor.pk

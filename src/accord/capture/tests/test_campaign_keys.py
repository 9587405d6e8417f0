"""A touchpoint's campaign has no foreign-key constraint: the writers and the deletion keep it true.

The constraint cost PostgreSQL a query per touchpoint at commit, each locking the campaign's row
again (see Touchpoint.campaign). What replaces it: every writer of touches checks (and on
PostgreSQL locks) the batch's campaigns in one statement, and campaigns are deleted only through
delete_campaigns, which locks them first.
"""

import datetime as dt
import threading

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accord.accounts.tests.factories import UserFactory
from accord.capture.ingestion import Event, _stored_event_ids, ingest, prepare, store
from accord.capture.models import Campaign, Contact, CostEntry, Touchpoint
from accord.capture.services import delete_campaigns
from accord.capture.tests.factories import (
    CampaignFactory,
    CaptureSourceFactory,
    ContactFactory,
    CostEntryFactory,
    TouchpointFactory,
)
from accord.capture.tests.test_forms import post_json
from accord.core.errors import PermissionDenied
from accord.core.permissions import Role

NOW = dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC)


def _events(n: int, *, code: str, prefix: str = "e") -> list[Event]:
    return [
        Event(kind="page_view", occurred_at=NOW, email=f"p{i}@example.org", utm_campaign=code, event_id=f"{prefix}{i}")
        for i in range(n)
    ]


def _dangling() -> int:
    return Touchpoint.objects.filter(campaign_id__isnull=False).exclude(campaign_id__in=Campaign.objects.values("id")).count()


def test_the_database_holds_no_constraint_on_a_touchpoints_campaign_but_keeps_the_contacts(db):
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, Touchpoint._meta.db_table)
    keys = {tuple(c["columns"]) for c in constraints.values() if c["foreign_key"]}
    assert ("campaign_id",) not in keys
    assert ("contact_id",) in keys


@pytest.mark.django_db
def test_a_batch_whose_campaign_is_deleted_after_it_was_read_stores_its_touches_without_it():
    # Given a batch read while its campaign existed
    campaign = CampaignFactory(utm_campaign="autumn")
    plan = prepare(_events(3, code="autumn"), now=timezone.now())
    assert {row[2] for row in plan.rows} == {campaign.pk}

    # When the campaign is deleted before the batch is stored
    delete_campaigns(campaign_ids=[campaign.pk], by=UserFactory(role=Role.MARKETING))
    with transaction.atomic():
        outcome = store(plan)

    # Then every touch is stored, none naming the campaign that is gone, nor its new people
    assert outcome.stored == 3
    assert list(Touchpoint.objects.values_list("campaign_id", flat=True)) == [None, None, None]
    assert list(Contact.objects.values_list("original_campaign_id", flat=True)) == [None, None, None]
    assert _dangling() == 0


@pytest.mark.django_db
def test_a_form_post_whose_sources_default_campaign_was_deleted_meanwhile_is_stored_without_it():
    # Given a source whose default campaign the endpoint has read (and keeps for a few seconds)
    campaign = CampaignFactory()
    source = CaptureSourceFactory(default_campaign=campaign)
    assert post_json(source, {"email": "first@example.org"}).status_code == 201
    assert Touchpoint.objects.get().campaign_id == campaign.pk

    # When the campaign is deleted and someone else posts within those seconds
    delete_campaigns(campaign_ids=[campaign.pk], by=UserFactory(role=Role.MARKETING))
    response = post_json(source, {"email": "second@example.org"})

    # Then the post is stored, without the campaign, on the touch and on the new contact
    assert response.status_code == 201
    contact = Contact.objects.get(email="second@example.org")
    assert contact.original_campaign_id is None
    assert Touchpoint.objects.get(contact=contact).campaign_id is None
    assert _dangling() == 0


@pytest.mark.django_db
def test_deleting_campaigns_clears_their_touches_drops_their_costs_and_leaves_other_campaigns_alone():
    # Given two campaigns with touches and costs
    gone, kept = CampaignFactory(), CampaignFactory()
    TouchpointFactory.create_batch(2, campaign=gone)
    TouchpointFactory(campaign=kept)
    CostEntryFactory(campaign=gone)

    # When one is deleted
    deleted = delete_campaigns(campaign_ids=[gone.pk, 999_999], by=UserFactory(role=Role.MARKETING))

    # Then its touches stay, without a campaign, and its costs go with it
    assert deleted == 1
    assert Touchpoint.objects.count() == 3
    assert Touchpoint.objects.filter(campaign=None).count() == 2
    assert Touchpoint.objects.filter(campaign=kept).count() == 1
    assert not CostEntry.objects.exists()


@pytest.mark.django_db
def test_a_sales_rep_may_not_delete_campaigns():
    campaign = CampaignFactory()
    with pytest.raises(PermissionDenied):
        delete_campaigns(campaign_ids=[campaign.pk], by=UserFactory(role=Role.SALES_REP))
    assert Campaign.objects.filter(pk=campaign.pk).exists()


@pytest.mark.django_db
def test_the_admin_deletes_a_campaign_through_the_service_and_its_touches_lose_it(admin_client):
    campaign = CampaignFactory()
    TouchpointFactory(campaign=campaign)

    response = admin_client.post(f"/admin/capture/campaign/{campaign.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not Campaign.objects.filter(pk=campaign.pk).exists()
    assert Touchpoint.objects.get().campaign_id is None


@pytest.mark.django_db
def test_the_admin_deletes_selected_campaigns_through_the_service(admin_client):
    campaigns = CampaignFactory.create_batch(2)
    TouchpointFactory(campaign=campaigns[0])

    response = admin_client.post(
        "/admin/capture/campaign/",
        {"action": "delete_selected", "_selected_action": [c.pk for c in campaigns], "post": "yes"},
    )

    assert response.status_code == 302
    assert not Campaign.objects.exists()
    assert Touchpoint.objects.get().campaign_id is None


@pytest.mark.django_db
def test_staff_whose_role_may_not_edit_campaigns_are_not_offered_their_deletion_in_the_admin(client):
    campaign = CampaignFactory()
    client.force_login(UserFactory(role=Role.SALES_REP, is_staff=True, is_superuser=False))

    response = client.post(f"/admin/capture/campaign/{campaign.pk}/delete/", {"post": "yes"})

    assert response.status_code == 403
    assert Campaign.objects.filter(pk=campaign.pk).exists()


@pytest.mark.django_db
def test_a_touch_saved_in_the_admin_with_a_campaign_deleted_meanwhile_keeps_no_campaign(rf):
    from django.contrib.admin.sites import site

    campaign = CampaignFactory()
    touch = TouchpointFactory.build(campaign=campaign, contact=ContactFactory())
    Campaign.objects.filter(pk=campaign.pk).delete()  # as a deletion committed after the form was checked

    request = rf.post("/admin/capture/touchpoint/add/")
    request.user = UserFactory(is_staff=True, is_superuser=True)
    with transaction.atomic():
        site._registry[Touchpoint].save_model(request, touch, form=None, change=False)

    assert Touchpoint.objects.get().campaign_id is None


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks between two PostgreSQL connections")
@pytest.mark.django_db(transaction=True)
def test_a_deletion_waits_for_a_batch_holding_its_campaign_and_then_clears_the_batchs_touches_too():
    # Given a batch that has stored its touches of a campaign but not committed yet
    campaign = CampaignFactory(utm_campaign="winter")
    marketer = UserFactory(role=Role.MARKETING)
    stored, release, deleted = threading.Event(), threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def batch() -> None:
        try:
            with transaction.atomic():
                ingest(_events(5, code="winter"), now=timezone.now())
                stored.set()
                release.wait(10)
        except BaseException as error:  # reported by the test below
            errors.append(error)
        finally:
            connection.close()

    def deletion() -> None:
        try:
            delete_campaigns(campaign_ids=[campaign.pk], by=marketer)
            deleted.set()
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    writer = threading.Thread(target=batch)
    writer.start()
    assert stored.wait(10)

    # When the campaign is deleted meanwhile
    remover = threading.Thread(target=deletion)
    remover.start()
    held = not deleted.wait(0.5)  # the deletion waits on the batch's lock
    release.set()
    writer.join(10)
    remover.join(10)

    # Then the deletion went through after the batch committed, and cleared its touches as well
    assert errors == []
    assert held
    assert deleted.is_set()
    assert Touchpoint.objects.count() == 5
    assert _dangling() == 0


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's plans")
@pytest.mark.django_db
def test_stored_event_ids_are_found_by_index_probes_even_before_the_table_has_statistics():
    # Given touches whose table was never analysed (a new install's first minute of events)
    ids = {f"sent-{n}" for n in range(3)}
    for external_id in ids:
        TouchpointFactory(external_id=external_id)

    with CaptureQueriesContext(connection) as captured:
        found = _stored_event_ids(ids | {"never-sent"})
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + captured.captured_queries[-1]["sql"])
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert found == ids
    assert "touchpoint_external_id_unique" in plan
    assert "Seq Scan on capture_touchpoint" not in plan

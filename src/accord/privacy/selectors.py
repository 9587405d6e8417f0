"""Reads for data-subject requests: every row Accord holds on one person, table by table.

Each table is read with one query, rows as plain dicts streamed from the database cursor
(`iterator`), so a contact with fifty thousand touchpoints costs the same memory as one
with five. The pages and the API stream the JSON these rows are written into.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from accord.capture.models import Consent, Contact, ContactMerge, IdentityLink, Touchpoint
from accord.capture.selectors import contacts_visible_to, with_scores
from accord.collaboration.models import Comment
from accord.core.errors import NotFound
from accord.core.permissions import owner_scope
from accord.deals.models import DealContact
from accord.handoff.models import LeadWait
from accord.lifecycle.models import Activity, LeadAssignment, LeadFeedback, StageTransition
from accord.notifications.models import Event, Notification
from accord.privacy.models import Erasure
from accord.scoring.models import LeadScore
from accord.sla.models import Handover, SlaClock

SCHEMA = 1
CHUNK = 2000
PIECE = 64 * 1024

# Output name -> ORM path, per table. Plain values, not model instances: the export never
# needs behaviour, and a dict per row is a fraction of a model's memory.
CONTACT_FIELDS = {
    "id": "id", "email": "email", "first_name": "first_name", "last_name": "last_name", "phone": "phone",
    "title": "title", "seniority": "seniority", "lifecycle_stage": "lifecycle_stage",
    "stage_changed_at": "stage_changed_at", "lead_source": "lead_source", "country": "country", "region": "region",
    "external_id": "external_id", "score": "score", "owner": "owner__username",
    "original_campaign": "original_campaign__name", "created_at": "created_at", "updated_at": "updated_at",
}
ACCOUNT_FIELDS = {
    "id": "account_id", "name": "account__name", "domain": "account__domain", "industry": "account__industry",
    "size_band": "account__size_band", "segment": "account__segment", "region": "account__region",
    "country": "account__country",
}
ERASURE_FIELDS = {"erased_at": "erasure__erased_at", "erased_by": "erasure__erased_by__username",
                  "reason": "erasure__reason", "counts": "erasure__counts"}
SECTIONS: dict[str, dict[str, str]] = {
    "touchpoints": {
        "id": "id", "occurred_at": "occurred_at", "kind": "kind", "channel": "channel", "campaign_id": "campaign_id",
        "campaign": "campaign__name", "utm_source": "utm_source", "utm_medium": "utm_medium",
        "utm_campaign": "utm_campaign", "utm_term": "utm_term", "utm_content": "utm_content", "url": "url",
        "referrer": "referrer", "anonymous_id": "anonymous_id", "external_id": "external_id",
        "recorded_at": "created_at",
    },
    "consents": {
        "id": "id", "at": "at", "granted": "granted", "text": "text", "source": "source__name",
        "ip_hash": "ip_hash", "user_agent": "user_agent",
    },
    "identity_links": {"anonymous_id": "anonymous_id", "first_seen_at": "first_seen_at", "linked_at": "linked_at"},
    "stage_transitions": {
        "occurred_at": "occurred_at", "from_stage": "from_stage", "to_stage": "to_stage", "by": "by_user__username",
        "by_rule": "by_rule", "reason": "reason",
    },
    "lead_assignments": {
        "assigned_at": "assigned_at", "owner": "owner__username", "assigned_by": "assigned_by__username",
        "rule": "rule", "reason": "reason",
    },
    "sales_feedback": {
        "id": "id", "created_at": "created_at", "decision": "decision", "reason": "reason",
        "reason_label": "reason_label", "note": "note", "by": "by_user__username", "handed_over_at": "handed_over_at",
        "campaign": "campaign__name", "channel": "channel", "source": "source", "content": "content",
        "is_current": "is_current",
    },
    "activities": {
        "id": "id", "occurred_at": "occurred_at", "kind": "kind", "outcome": "outcome", "subject": "subject",
        "body": "body", "duration_minutes": "duration_minutes", "by": "user__username", "deal_id": "deal_id",
    },
    "comments": {
        "id": "id", "created_at": "created_at", "edited_at": "edited_at", "author": "author__username",
        "on": "target_type__model", "on_id": "target_id", "body": "body",
    },
    "scores": {
        "computed_at": "run__computed_at", "total": "total", "fit": "fit", "engagement": "engagement",
        "predicted_probability": "predicted_probability", "model_version": "run__model_version",
        "rule_version": "run__rule_version", "explanation": "explanation",
    },
    "deals": {
        "deal_id": "deal_id", "name": "deal__name", "role": "role", "is_primary": "is_primary",
        "status": "deal__status", "stage": "deal__stage__name", "amount": "deal__amount",
        "currency": "deal__currency", "close_date": "deal__close_date",
    },
    "merges": {
        "at": "at", "rule": "rule", "by": "by__username", "duplicate_id": "duplicate_id",
        "duplicate_email": "duplicate_email", "snapshot": "snapshot", "moved": "moved",
    },
    "handovers": {
        "at": "at", "sla_version": "sla_version__version", "owner": "owner__username",
        "missing_fields": "missing_fields", "complete": "complete",
    },
    "sla_clocks": {
        "kind": "kind", "tier": "tier", "owner": "owner__username", "sla_version": "sla_version__version",
        "started_at": "started_at", "due_at": "due_at", "met_at": "met_at", "breached_at": "breached_at",
        "cancelled_at": "cancelled_at", "cancel_reason": "cancel_reason", "attempts_done": "attempts_done",
        "attempts_required": "attempts_required",
    },
    "waits": {"started_at": "started_at", "ended_at": "ended_at", "note": "note", "end_reason": "end_reason"},
    "notifications": {"created_at": "created_at", "kind": "kind", "title": "title", "body": "body", "url": "url"},
    "webhook_events": {
        "id": "public_id", "event_type": "event_type", "occurred_at": "occurred_at", "payload": "payload",
    },
}


def contact_for_request(*, user, contact_id: int, for_update: bool = False) -> Contact:
    """Return the contact if the user may see it, else raise NotFound (a hidden contact does not exist)."""
    contacts = contacts_visible_to(user=user)
    if for_update:
        contacts = contacts.select_for_update(of=("self",))
    contact = contacts.filter(pk=contact_id).first()
    if contact is None:
        raise NotFound(f"No contact {contact_id}.")
    return contact


def erasure_of(*, contact_id: int) -> Erasure | None:
    return Erasure.objects.select_related("erased_by").filter(contact_id=contact_id).first()


def lead_record_key(contact_id: int) -> str:
    """Return the `record_key` the lead.* and sla.* webhook events of this contact carry."""
    return f"lead:{contact_id}"


def person_urls(*, contact_id: int, feedback_ids: Iterable[int]) -> list[str]:
    """Return the pages about the person that notifications link to: contact, lead, feedback threads."""
    return [reverse("contact", args=[contact_id]), reverse("lead", args=[contact_id]),
            *(reverse("quality-feedback-detail", args=[pk]) for pk in feedback_ids)]


def comments_about(*, contact_id: int) -> QuerySet[Comment]:
    """Return comments on the contact and on the threads of sales' verdicts on it, in one query."""
    on_contact = Q(target_type__app_label="capture", target_type__model="contact", target_id=contact_id)
    on_feedback = Q(target_type__app_label="lifecycle", target_type__model="leadfeedback",
                    target_id__in=LeadFeedback.objects.filter(contact_id=contact_id).values("id"))
    return Comment.objects.filter(on_contact | on_feedback)


def _table(name: str, contact_id: int, user) -> QuerySet:
    tables: dict[str, QuerySet] = {
        "touchpoints": Touchpoint.objects.filter(contact_id=contact_id).order_by("occurred_at", "id"),
        "consents": Consent.objects.filter(contact_id=contact_id).order_by("at", "id"),
        "identity_links": IdentityLink.objects.filter(contact_id=contact_id).order_by("linked_at", "id"),
        "stage_transitions": StageTransition.objects.filter(contact_id=contact_id).order_by("occurred_at", "id"),
        "lead_assignments": LeadAssignment.objects.filter(contact_id=contact_id).order_by("assigned_at", "id"),
        "sales_feedback": LeadFeedback.objects.labelled().filter(contact_id=contact_id).order_by("created_at", "id"),
        "activities": Activity.objects.filter(contact_id=contact_id).order_by("occurred_at", "id"),
        "comments": comments_about(contact_id=contact_id).order_by("created_at", "id"),
        "scores": LeadScore.objects.filter(contact_id=contact_id).order_by("run__computed_at", "id"),
        "deals": DealContact.objects.filter(owner_scope(user, field="deal__owner"), contact_id=contact_id)
        .order_by("deal_id"),
        "merges": ContactMerge.objects.filter(survivor_id=contact_id).order_by("at", "id"),
        "handovers": Handover.objects.filter(contact_id=contact_id).order_by("at", "id"),
        "sla_clocks": SlaClock.objects.filter(contact_id=contact_id).order_by("started_at", "id"),
        "waits": LeadWait.objects.filter(contact_id=contact_id).order_by("started_at", "id"),
        "webhook_events": Event.objects.filter(record_key=lead_record_key(contact_id)).order_by("id"),
    }
    return tables[name]


def _rows(queryset: QuerySet, fields: dict[str, str]) -> Iterator[dict[str, Any]]:
    for row in queryset.values_list(*fields.values()).iterator(chunk_size=CHUNK):
        yield dict(zip(fields, row, strict=True))


def personal_data_json(*, contact_id: int, user) -> Iterator[str]:
    """Yield, piece by piece, one JSON document of everything held on a contact the user may see.

    The first query (the contact, its account and any erasure) runs before the first piece is
    yielded, so a contact the user may not see raises NotFound before anything is sent.
    """
    head = with_scores(contacts_visible_to(user=user)).filter(pk=contact_id).values_list(
        *CONTACT_FIELDS.values(), *ACCOUNT_FIELDS.values(), *ERASURE_FIELDS.values()
    )
    row = _first(head, contact_id)
    contact = dict(zip(CONTACT_FIELDS, row[:len(CONTACT_FIELDS)], strict=True))
    account = dict(zip(ACCOUNT_FIELDS, row[len(CONTACT_FIELDS):len(CONTACT_FIELDS) + len(ACCOUNT_FIELDS)],
                       strict=True))
    erasure = dict(zip(ERASURE_FIELDS, row[len(CONTACT_FIELDS) + len(ACCOUNT_FIELDS):], strict=True))
    return _document(contact=contact, account=account if account["id"] else None,
                     erasure=erasure if erasure["erased_at"] else None, user=user)


def _first(head: QuerySet, contact_id: int) -> tuple:
    rows = list(head[:1])
    if not rows:
        raise NotFound(f"No contact {contact_id}.")
    return rows[0]


def _document(*, contact: dict, account: dict | None, erasure: dict | None, user) -> Iterator[str]:
    encode = DjangoJSONEncoder(ensure_ascii=False).encode
    contact_id = contact["id"]
    yield "{" + ",".join(f"{encode(key)}:{encode(value)}" for key, value in {
        "schema": SCHEMA, "generated_at": timezone.now(), "generated_by": user.get_username(),
        "erased": erasure is not None, "erasure": erasure, "contact": contact, "account": account,
    }.items())
    feedback_ids: list[int] = []
    for name, fields in SECTIONS.items():
        if name == "notifications":
            rows = _rows(Notification.objects.filter(url__in=person_urls(contact_id=contact_id,
                                                                         feedback_ids=feedback_ids))
                         .order_by("created_at", "id"), fields)
        else:
            rows = _rows(_table(name, contact_id, user).select_related(None), fields)
        # Rows are sent in pieces of about PIECE characters: one write per row would cost a
        # system call each under a WSGI server.
        batch = [f",{encode(name)}:["]
        length, first = 0, True
        for item in rows:
            if name == "sales_feedback":
                feedback_ids.append(item["id"])
            text = ("" if first else ",") + encode(item)
            batch.append(text)
            length += len(text)
            first = False
            if length >= PIECE:
                yield "".join(batch)
                batch, length = [], 0
        batch.append("]")
        yield "".join(batch)
    yield "}\n"


def personal_data(*, contact_id: int, user) -> dict[str, Any]:
    """Return the whole export as one dict (tests and small contacts; pages and the API stream it)."""
    return json.loads("".join(personal_data_json(contact_id=contact_id, user=user)))

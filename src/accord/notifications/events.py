"""The domain events webhooks carry: their names, and one payload builder per family.

Domains build an event here from plain values and hand it to `services.publish_events`
inside the transaction that made the change; this module imports no domain. Every payload
carries `schema` (bumped only when a field changes meaning or goes away; new fields may be
added within a version), the record's key fields, the actor, `occurred_at` and a `url`.
docs/notifications.md lists each type's fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings

SCHEMA = 1

# type -> what it means, for the subscription page and the docs.
CATALOGUE: dict[str, str] = {
    "lead.mql": "A lead's score reached the MQL threshold and it was handed to sales.",
    "lead.assigned": "A new MQL was given an owner.",
    "lead.reassigned": "A lead moved to another owner (by hand, by the rules, or after an SLA breach).",
    "lead.accepted": "Sales accepted a lead (it became SAL).",
    "lead.rejected": "Sales rejected a lead, with the reason code and note.",
    "lead.waiting": "A rep marked a lead as waiting on the customer.",
    "lead.resumed": "A lead stopped waiting on the customer.",
    "sla.warning": "An SLA clock on a lead passed its warn share.",
    "sla.breached": "An SLA clock on a lead ran out before it was met.",
    "deal.created": "A deal was opened.",
    "deal.stage_changed": "A deal moved to another pipeline stage.",
    "deal.won": "A deal was won.",
    "deal.lost": "A deal was lost.",
}
FAMILIES: tuple[str, ...] = tuple(sorted({f"{name.split('.')[0]}.*" for name in CATALOGUE}))


def known_filter(pattern: str) -> bool:
    """Tell whether a subscription filter entry names a known type, a known family, or everything."""
    return pattern == "*" or pattern in CATALOGUE or pattern in FAMILIES


# What in a stored payload names or describes the person a lead event is about: blanked when
# the person's data is erased (accord.privacy). Reason codes, stages and ids are kept.
PERSONAL_FIELDS = ("email", "first_name", "last_name")
FREE_TEXT_DETAILS = ("note",)


def redacted_payload(payload: Mapping[str, Any]) -> dict[str, Any]:
    """Return the payload with the person's name, email and free-text notes blanked, marked `redacted`."""
    out = dict(payload)
    lead = out.get("lead")
    if isinstance(lead, Mapping):
        out["lead"] = {**lead, **{key: None for key in PERSONAL_FIELDS if key in lead}}
    for key in FREE_TEXT_DETAILS:
        if isinstance(out.get(key), str):
            out[key] = ""
    out["redacted"] = True
    return out


@dataclass(frozen=True)
class DomainEvent:
    """One event ready to publish: its type, the record it is about, and its payload."""

    event_type: str
    record_key: str
    payload: dict[str, Any]
    occurred_at: datetime


def record_link(path: str) -> str:
    """Return an absolute link to a page, for messages read outside the app."""
    if not path or path.startswith(("http://", "https://")):
        return path
    return settings.ACCORD_PUBLIC_URL.rstrip("/") + "/" + path.lstrip("/")


def actor(user=None, *, system: str = "") -> dict[str, Any]:
    """Describe who did it: a person (`user`), or a part of Accord acting on its own (`system`)."""
    if user is not None:
        return {"type": "user", "id": user.pk, "username": user.get_username()}
    return {"type": "system", "name": system or "accord"}


def _envelope(*, record: dict[str, Any], name: str, by: dict[str, Any], occurred_at: datetime,
              url: str, details: Mapping[str, Any]) -> dict[str, Any]:
    return {"schema": SCHEMA, name: record, "actor": by, "occurred_at": occurred_at.isoformat(),
            "url": url, **details}


def lead_event(event_type: str, *, lead: Mapping[str, Any], by: dict[str, Any], occurred_at: datetime,
               **details: Any) -> DomainEvent:
    """Build a lead.* or sla.* event; `lead` holds id, email, first_name, last_name, account_id,
    score, lifecycle_stage and owner_id."""
    record = {key: lead.get(key) for key in
              ("id", "email", "first_name", "last_name", "account_id", "score", "lifecycle_stage", "owner_id")}
    return DomainEvent(
        event_type=event_type, record_key=f"lead:{record['id']}", occurred_at=occurred_at,
        payload=_envelope(record=record, name="lead", by=by, occurred_at=occurred_at,
                          url=record_link(f"/leads/{record['id']}/"), details=details),
    )


def deal_event(event_type: str, *, deal: Mapping[str, Any], by: dict[str, Any], occurred_at: datetime,
               **details: Any) -> DomainEvent:
    """Build a deal.* event; `deal` holds id, name, amount, currency, status, stage (id and name),
    pipeline_id, account_id and owner_id."""
    record = {key: deal.get(key) for key in
              ("id", "name", "amount", "currency", "status", "stage", "pipeline_id", "account_id", "owner_id")}
    # Money as a two-place decimal string, as the API writes it, whatever type the caller held.
    record["amount"] = None if record["amount"] is None else f"{Decimal(str(record['amount'])):.2f}"
    return DomainEvent(
        event_type=event_type, record_key=f"deal:{record['id']}", occurred_at=occurred_at,
        payload=_envelope(record=record, name="deal", by=by, occurred_at=occurred_at,
                          url=record_link(f"/deals/{record['id']}/"), details=details),
    )

"""Data-subject requests: export everything held on a person, or erase it by anonymising in place.

Erasure blanks what identifies or describes the person and keeps every row, so the
incrementally kept figures (lead quality, SLA compliance, funnel, attribution, scores)
stay exactly what they were: deleting rows would make those rollups drift. docs/privacy.md
lists what is blanked, what is kept and why.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import partial
from pathlib import Path

from django.db import IntegrityError, transaction
from django.db.models import Q, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from accord.capture.models import (
    Account,
    Consent,
    Contact,
    ContactMerge,
    IdempotencyRecord,
    IdentityLink,
    Touchpoint,
)
from accord.core.errors import Conflict, ValidationFailed
from accord.core.models import Job
from accord.core.permissions import Action, require
from accord.core.vocabulary import Segment
from accord.handoff.models import LeadWait
from accord.lifecycle.models import Activity, LeadAssignment, LeadFeedback, StageTransition
from accord.notifications.services import redact_record
from accord.privacy import files, selectors
from accord.privacy.models import Erasure
from accord.scoring.models import LeadScore

# What the admin may type to confirm instead of the contact's email (people with no email).
CONFIRM_WORD = "erase"
# Shorter values ("Al", "VP") would match inside unrelated text and blank it for nothing.
MIN_QUOTED_LENGTH = 3
ERASED_HOUSEHOLD = "Erased household {id}"


def export_personal_data(*, contact_id: int, by) -> Iterator[str]:
    """Return the JSON document of everything held on one contact, as pieces to stream.

    Raise PermissionDenied unless `by` may export personal data, NotFound unless they may
    see the contact; both before the first piece, so nothing leaks on refusal.
    """
    require(by, Action.EXPORT_PERSONAL_DATA)
    return selectors.personal_data_json(contact_id=contact_id, user=by)


def _check_confirmation(contact: Contact, confirm: str) -> None:
    typed = confirm.strip().lower()
    accepted = {CONFIRM_WORD} | ({contact.email.lower()} if contact.email else set())
    if typed not in accepted:
        raise ValidationFailed(
            f"Type the contact's email{' ' + contact.email if contact.email else ''} or the word "
            f"“{CONFIRM_WORD}” to confirm the erasure.",
            field="confirm",
        )


def _identifying_values(contact: Contact) -> list[str]:
    values = {contact.email or "", contact.first_name, contact.last_name, contact.full_name, contact.phone,
              contact.title, contact.external_id}
    return sorted({value.strip().lower() for value in values if len(value.strip()) >= MIN_QUOTED_LENGTH})


def _quotes(value, needles: list[str]) -> bool:
    text = json.dumps(value, ensure_ascii=False).lower()
    return any(needle in text for needle in needles)


def erase_contact(*, contact_id: int, by, reason: str = "", confirm: str) -> Erasure:
    """Anonymise one contact in place and record who erased it, when and why; return the record.

    `confirm` must be the contact's email or the word "erase". A contact already erased is
    refused (Conflict). One transaction: either every table is blanked and the Erasure
    written, or nothing changes. Stored files that name the person (import uploads, error
    reports, list exports) are found before the transaction, so its locks are not held
    while files are read, and deleted once it commits.
    """
    require(by, Action.ERASE_PERSONAL_DATA)
    contact = selectors.contact_for_request(user=by, contact_id=contact_id)
    previous = selectors.erasure_of(contact_id=contact.pk)
    if previous is not None:
        raise Conflict(_already_erased(previous))
    _check_confirmation(contact, confirm)
    paths = files.files_naming([contact.email or "", contact.phone, contact.external_id, contact.full_name])
    return _erase(contact_id=contact.pk, by=by, reason=reason, confirm=confirm, paths=paths)


@transaction.atomic
def _erase(*, contact_id: int, by, reason: str, confirm: str, paths: list[Path]) -> Erasure:
    contact = selectors.contact_for_request(user=by, contact_id=contact_id, for_update=True)
    previous = selectors.erasure_of(contact_id=contact.pk)
    if previous is not None:
        raise Conflict(_already_erased(previous))
    _check_confirmation(contact, confirm)
    now = timezone.now()
    needles = _identifying_values(contact)
    counts = _blank_rows(contact, needles)
    counts["account"] = _anonymise_household(contact)
    feedback_ids = list(LeadFeedback.objects.filter(contact_id=contact.pk).values_list("id", flat=True))
    counts.update(redact_record(record_key=selectors.lead_record_key(contact.pk),
                                urls=selectors.person_urls(contact_id=contact.pk, feedback_ids=feedback_ids)))
    counts["files"] = len(paths)
    try:
        with transaction.atomic():
            erasure = Erasure.objects.create(contact_id=contact.pk, erased_at=now, erased_by=by,
                                             reason=reason.strip()[:500], counts=counts)
    except IntegrityError:
        # Another request erased it between our check and our insert (SQLite serialises
        # writers, PostgreSQL's row lock above makes this all but impossible): same answer.
        raise Conflict(f"Contact {contact.pk} was already erased.") from None
    transaction.on_commit(partial(files.delete, paths))
    return erasure


def purge_expired_files(*, days: int) -> int:
    """Delete stored files older than `days` days, except an upload a queued or running import still reads."""
    reading = {Path(path) for path in Job.objects.filter(
        kind__startswith="import.", status__in=(Job.Status.QUEUED, Job.Status.RUNNING),
    ).values_list("params__path", flat=True) if path}
    return files.delete(files.expired(days=days, keep=reading))


def _already_erased(erasure: Erasure) -> str:
    who = erasure.erased_by.get_username() if erasure.erased_by else "a user since removed"
    return f"Contact {erasure.contact_id} was already erased on {erasure.erased_at:%Y-%m-%d %H:%M} UTC by {who}."


def _blank_rows(contact: Contact, needles: list[str]) -> dict[str, int]:
    pk = contact.pk
    linked = list(IdentityLink.objects.filter(contact_id=pk).values_list("anonymous_id", flat=True))
    counts = {
        "contact": Contact.objects.filter(pk=pk).update(
            email=None, first_name="", last_name="", phone="", title="", external_id="", updated_at=timezone.now(),
        ),
        # URLs and referrers can carry an email in their query string; the anonymous id and
        # the caller's event id would let a later visit or a partner's log be tied back.
        "touchpoints": Touchpoint.objects.filter(
            Q(contact_id=pk) | Q(contact__isnull=True, anonymous_id__in=linked)
        ).update(anonymous_id="", url="", referrer="", external_id=""),
        "identity_links": IdentityLink.objects.filter(contact_id=pk).delete()[0],
        "consents": Consent.objects.filter(contact_id=pk).update(ip_hash="", user_agent=""),
        # Reasons hold free text (a rejection's note, a deal's name); stages, times and rules stay.
        "stage_transitions": StageTransition.objects.filter(contact_id=pk).exclude(reason="").update(reason=""),
        "lead_assignments": LeadAssignment.objects.filter(contact_id=pk).exclude(reason="").update(reason=""),
        "sales_feedback": LeadFeedback.objects.filter(contact_id=pk).exclude(note="").update(note=""),
        "activities": Activity.objects.filter(contact_id=pk).update(subject="", body=""),
        "comments": selectors.comments_about(contact_id=pk).update(body=""),
        "merges": ContactMerge.objects.filter(survivor_id=pk).update(snapshot={}, duplicate_email=""),
        "waits": LeadWait.objects.filter(contact_id=pk).exclude(note="").update(note=""),
        "scores": _blank_quoting_scores(pk, needles),
        "idempotency_records": _drop_idempotency_records(contact),
    }
    return counts


def _blank_quoting_scores(contact_id: int, needles: list[str]) -> int:
    # Explanations are worded from the rules, but a rule's label or a model's feature may
    # quote the person's title or domain; those explanations go, the numbers stay.
    if not needles:
        return 0
    quoting = [pk for pk, explanation in LeadScore.objects.filter(contact_id=contact_id)
               .values_list("id", "explanation").iterator(chunk_size=2000) if _quotes(explanation, needles)]
    return LeadScore.objects.filter(pk__in=quoting).update(explanation={}) if quoting else 0


def _drop_idempotency_records(contact: Contact) -> int:
    # A stored answer replayed on a retry would hand the erased email back. The records live
    # a day (capture.services.IDEMPOTENCY_TTL), so the scan is over a day's API writes.
    names = [value for value in (contact.email, contact.external_id) if value]
    if not names:
        return 0
    match = Q()
    for value in names:
        match |= Q(response_text__icontains=value) | Q(key__icontains=value)
    stored = IdempotencyRecord.objects.annotate(response_text=Cast("response", TextField()))
    return stored.filter(match).delete()[0]


def _anonymise_household(contact: Contact) -> int:
    # A B2C account is a household, named after the person; when nobody else is on it, its
    # name and domain identify the erased person and go too. A company (B2B) stays: its
    # deals and account-level figures need it (docs/privacy.md, "the account link").
    if contact.account_id is None:
        return 0
    others = Contact.objects.filter(account_id=contact.account_id).exclude(pk=contact.pk)
    return Account.objects.filter(pk=contact.account_id, segment=Segment.B2C).exclude(
        pk__in=others.values("account_id")
    ).update(name=ERASED_HOUSEHOLD.format(id=contact.account_id), domain="", external_id="",
             updated_at=timezone.now())

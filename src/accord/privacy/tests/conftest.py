"""A person with a row in every table that holds personal data, and a second person beside them."""

from dataclasses import dataclass

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from accord.accounts.tests.factories import UserFactory
from accord.capture.models import Contact
from accord.capture.tests.factories import (
    AccountFactory,
    ActivityFactory,
    CampaignFactory,
    CommentFactory,
    ConsentFactory,
    ContactFactory,
    DealRoleFactory,
    IdentityLinkFactory,
    LeadAssignmentFactory,
    LeadFeedbackFactory,
    StageTransitionFactory,
    TouchpointFactory,
)
from accord.core.permissions import Role
from accord.lifecycle.models import LeadFeedback
from accord.notifications.events import lead_event
from accord.notifications.tests.factories import EventFactory, NotificationFactory
from accord.privacy.tests.factories import (
    ContactMergeFactory,
    LeadScoreFactory,
    LeadWaitFactory,
)
from accord.sla.tests.factories import HandoverFactory, SlaClockFactory

EMAIL = "dana.reyes@smallco.example"


@dataclass
class Person:
    contact: Contact
    other: Contact
    admin: object
    rep: object


def _footprint(contact, *, owner, campaign, tag: str) -> None:
    for n in range(2):
        TouchpointFactory(contact=contact, campaign=campaign, utm_source="newsletter",
                          url=f"https://www.example.com/pricing?email={contact.email}",
                          referrer="https://mail.example/inbox", anonymous_id=f"anon-{tag}",
                          external_id=f"evt-{tag}-{n}")
    ConsentFactory(contact=contact, ip_hash=f"hash-{tag}", user_agent="Mozilla/5.0 (X11)")
    IdentityLinkFactory(contact=contact, anonymous_id=f"anon-{tag}")
    StageTransitionFactory(contact=contact, reason=f"Rejected by sales: wrong fit. {tag} is a student.")
    LeadAssignmentFactory(contact=contact, owner=owner, reason=f"Given by hand: {tag} asked for a call.")
    feedback = LeadFeedbackFactory(contact=contact, by_user=owner, note=f"{tag} said they have no budget")
    ActivityFactory(contact=contact, user=owner, subject=f"Call with {tag}", body=f"{tag}'s mobile is 555-0100")
    CommentFactory(target=contact, body=f"Met {tag} at the booth")
    CommentFactory(target=feedback, target_type=ContentType.objects.get_for_model(LeadFeedback),
                   body=f"Was {tag} really a student?")
    LeadScoreFactory(contact=contact)
    LeadScoreFactory(contact=contact, explanation={"summary": f"Title {contact.title} matched", "up": []})
    DealRoleFactory(contact=contact, deal__owner=owner, deal__amount=5000)
    ContactMergeFactory(survivor=contact)
    HandoverFactory(contact=contact)
    SlaClockFactory(contact=contact, owner=owner)
    LeadWaitFactory(contact=contact, note=f"{tag} reviews the contract Monday")
    NotificationFactory(recipient=owner, url=reverse("lead", args=[contact.pk]), title=f"New MQL for you: {tag}",
                        body=f"{tag} downloaded the guide")
    NotificationFactory(recipient=owner, url=reverse("quality-feedback-detail", args=[feedback.pk]),
                        title=f"Reply on the rejection of {tag}", body="Was it?")
    record = {"id": contact.pk, "email": contact.email, "first_name": contact.first_name,
              "last_name": contact.last_name, "score": 64}
    event = lead_event("lead.rejected", lead=record, by={"type": "system", "name": "test"},
                       occurred_at=contact.created_at, reason="no_budget", note=f"{tag} has no budget")
    EventFactory(event_type=event.event_type, record_key=event.record_key, payload=event.payload)


@pytest.fixture
def person(db) -> Person:
    admin = UserFactory(role=Role.REVOPS_ADMIN, username="ops")
    rep = UserFactory(role=Role.SALES_REP)
    campaign = CampaignFactory(name="Spring webinar")
    contact = ContactFactory(email=EMAIL, first_name="Dana", last_name="Reyes", phone="+1 555 0100",
                             title="Head of Finance", external_id="crm-77", owner=rep,
                             account=AccountFactory(name="Smallco", domain="smallco.example"))
    other = ContactFactory(email="sam.other@elsewhere.example", first_name="Sam", last_name="Other", owner=rep)
    _footprint(contact, owner=rep, campaign=campaign, tag="Dana")
    _footprint(other, owner=rep, campaign=campaign, tag="Sam")
    return Person(contact=contact, other=other, admin=admin, rep=rep)

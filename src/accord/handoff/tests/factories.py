"""Factories for the handoff: a hot lead that crosses the default threshold, content, sales teams."""

from datetime import timedelta

import factory
from django.utils import timezone

from accord.accounts.tests.factories import TeamFactory, UserFactory
from accord.capture.models import Touchpoint
from accord.capture.tests.factories import AccountFactory, ContactFactory, TouchpointFactory
from accord.collaboration.models import ContentAsset
from accord.core.permissions import Role
from accord.core.vocabulary import LifecycleStage

# Always inside 09:00–17:00 in the default document: routing tests must not depend on the hour they run.
ALL_HOURS = 'working_hours: {days: [mon, tue, wed, thu, fri, sat, sun], start: "00:00", end: "23:59"}\n'


class ContentAssetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContentAsset

    title = factory.Sequence(lambda n: f"Case study {n}")
    kind = ContentAsset.Kind.CASE_STUDY
    stage = LifecycleStage.MQL
    url = factory.Sequence(lambda n: f"https://content.example/{n}")


def sales_team(name: str = "Sales NA", *, region: str = "na", reps: int = 2, capacity: int = 10, **team):
    """Create a sales team with a manager and `reps` reps; return (team, manager, reps)."""
    team = TeamFactory(name=name, region=region, **team)
    manager = UserFactory(role=Role.SALES_MANAGER, team=team)
    team.manager = manager
    team.save(update_fields=["manager"])
    members = [UserFactory(role=Role.SALES_REP, team=team, capacity=capacity) for _ in range(reps)]
    return team, manager, members


def hot_lead(*, region: str = "na", account=None, **fields):
    """Create a contact whose default-rules score is well over 60: a software VP who asked for a demo."""
    account = account or AccountFactory(industry="software", size_band="51-200", region=region)
    contact = ContactFactory(account=account, seniority="vp", title="VP Sales", region=region, **fields)
    # A minute ago: scoring reads event times in whole seconds (PostgreSQL rounds them), so a
    # touch in the same second as the scoring could count as in the future and be left out.
    moment = timezone.now() - timedelta(minutes=1)
    TouchpointFactory(contact=contact, kind=Touchpoint.Kind.DEMO_REQUEST, occurred_at=moment)
    TouchpointFactory(contact=contact, kind=Touchpoint.Kind.WEBINAR_ATTEND, occurred_at=moment)
    return contact


def cold_lead(**fields):
    """Create a contact that stays far below the threshold: a student with no activity."""
    return ContactFactory(seniority="student", title="Student", **fields)

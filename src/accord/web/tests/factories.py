"""A small revenue team with known figures, shared by the view tests and the browser test."""

import datetime as dt
from dataclasses import dataclass

import factory
from django.utils import timezone

from accord.accounts.models import Team, User
from accord.accounts.tests.factories import TeamFactory, UserFactory
from accord.analytics.tests.factories import GoalFactory, StageTransitionFactory
from accord.capture.models import Campaign
from accord.capture.tests.factories import (
    AccountFactory,
    CampaignFactory,
    ContactFactory,
    CostEntryFactory,
)
from accord.core.models import Job
from accord.core.permissions import Role
from accord.core.vocabulary import Channel, LifecycleStage
from accord.deals.models import Deal
from accord.deals.tests.factories import DealFactory, PipelineStageFactory


class JobFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Job

    kind = "contacts_export"
    title = factory.Sequence(lambda n: f"Export contacts {n}")
    status = Job.Status.SUCCEEDED
    progress_done = 10
    progress_total = 10


@dataclass
class Company:
    """Who is who, and the figures each role's home page must show."""

    team: Team
    marketer: User
    manager: User
    ana: User
    ben: User
    outsider: User
    admin: User
    executive: User
    ana_contact_ids: list[int]
    outsider_contact_id: int
    outsider_deal_id: int

    def user_for(self, role: str) -> User:
        return {
            Role.MARKETING: self.marketer,
            Role.SALES_REP: self.ana,
            Role.SALES_MANAGER: self.manager,
            Role.REVOPS_ADMIN: self.admin,
            Role.EXECUTIVE: self.executive,
        }[role]


# The figures build_company() produces, as each home page prints them.
FIGURES = {
    # Company-wide: 4 open deals worth 10,000 + 20,000 + 6,000 + 100,000.
    "company_pipeline": "$136,000",
    # 10,000×0.2 + 20,000×0.5 (its own probability) + 6,000×0.6 + 100,000×0.2.
    "company_weighted": "$35,600",
    # Won now: Ana 7,000 and the outsider 50,000, against a 100,000 goal.
    "company_won": "$57,000",
    "goal_percent": "57%",
    "ana_pipeline": "$30,000",
    "ana_weighted": "$12,000",
    "ana_won": "$7,000",
    "ana_open_leads": 3,
    # Ana's and Ben's open deals: 10,000 + 20,000 + 6,000.
    "team_pipeline": "$36,000",
    "team_weighted": "$15,600",
    # 9 contacts captured this month; 1,800 spent → 200 a lead.
    "new_leads": 9,
    "mqls": 4,
    "spend": "$1,800",
    "cost_per_lead": "$200",
}


def build_company() -> Company:
    """Create a team, one user per role, contacts, deals, costs and a goal covering today."""
    now = timezone.now()
    today = timezone.localdate()
    team = TeamFactory(name="North")
    manager = UserFactory(username="morgan", role=Role.SALES_MANAGER, team=team, first_name="Morgan", last_name="Hale")
    ana = UserFactory(username="ana", role=Role.SALES_REP, team=team, first_name="Ana", last_name="Lee")
    ben = UserFactory(username="ben", role=Role.SALES_REP, team=team, first_name="Ben", last_name="Ortiz")
    outsider = UserFactory(
        username="olga", role=Role.SALES_REP, team=TeamFactory(name="South"), first_name="Olga", last_name="Nash"
    )
    marketer = UserFactory(username="mia", role=Role.MARKETING, first_name="Mia", last_name="Chen")
    admin = UserFactory(
        username="rory", role=Role.REVOPS_ADMIN, first_name="Rory", last_name="Park", is_staff=True, is_superuser=True
    )
    executive = UserFactory(username="eve", role=Role.EXECUTIVE, first_name="Eve", last_name="Stone")

    acme = AccountFactory(name="Acme Robotics", owner=ana)
    webinar = CampaignFactory(name="Spring webinar", channel=Channel.WEBINAR, kind=Campaign.Kind.WEBINAR)
    search = CampaignFactory(name="Brand search", channel=Channel.PAID_SEARCH)
    CostEntryFactory(campaign=webinar, date=today, amount=1200)
    CostEntryFactory(campaign=search, date=today, amount=600)
    CostEntryFactory(campaign=search, date=today - dt.timedelta(days=400), amount=9999)

    ana_contacts = [
        ContactFactory(owner=ana, account=acme, lifecycle_stage=LifecycleStage.MQL, score=80,
                       lead_source=Channel.WEBINAR, original_campaign=webinar),
        ContactFactory(owner=ana, account=acme, lifecycle_stage=LifecycleStage.MQL, score=60,
                       lead_source=Channel.WEBINAR, original_campaign=webinar),
        ContactFactory(owner=ana, lifecycle_stage=LifecycleStage.SAL, score=70,
                       lead_source=Channel.PAID_SEARCH, original_campaign=search),
        ContactFactory(owner=ana, lifecycle_stage=LifecycleStage.SQL, lead_source=Channel.PAID_SEARCH),
    ]
    ContactFactory.create_batch(2, owner=ben, lifecycle_stage=LifecycleStage.MQL, lead_source=Channel.EMAIL)
    outsider_contact = ContactFactory(owner=outsider, lifecycle_stage=LifecycleStage.MQL, lead_source=Channel.EVENT)
    ContactFactory.create_batch(2, lifecycle_stage=LifecycleStage.LEAD, lead_source=Channel.WEBINAR,
                                original_campaign=webinar)
    for contact in ana_contacts[:3]:
        StageTransitionFactory(contact=contact, from_stage=LifecycleStage.LEAD, to_stage=LifecycleStage.MQL,
                               occurred_at=now)
    StageTransitionFactory(contact=outsider_contact, from_stage=LifecycleStage.LEAD, to_stage=LifecycleStage.MQL,
                           occurred_at=now)
    StageTransitionFactory(contact=ana_contacts[2], from_stage=LifecycleStage.MQL, to_stage=LifecycleStage.SAL,
                           occurred_at=now, by_user=ana)

    discovery = PipelineStageFactory(name="Discovery", order=1, probability="0.200")
    proposal = PipelineStageFactory(name="Proposal", order=2, probability="0.600")
    DealFactory(name="Acme pilot", owner=ana, account=acme, stage=discovery, amount=10000)
    DealFactory(name="Acme rollout", owner=ana, account=acme, stage=proposal, amount=20000, probability="0.500")
    DealFactory(name="Ben's deal", owner=ben, stage=proposal, amount=6000)
    outsider_deal = DealFactory(name="Southern giant", owner=outsider, stage=discovery, amount=100000)
    DealFactory(name="Acme starter", owner=ana, account=acme, stage=proposal, amount=7000,
                status=Deal.Status.WON, closed_at=now)
    DealFactory(name="Southern win", owner=outsider, stage=proposal, amount=50000,
                status=Deal.Status.WON, closed_at=now)
    DealFactory(name="Lost cause", owner=ana, stage=discovery, amount=3000,
                status=Deal.Status.LOST, closed_at=now)
    GoalFactory(name="This quarter's revenue", period_start=today.replace(day=1),
                period_end=today.replace(day=1) + dt.timedelta(days=89), target=100000)
    JobFactory(created_by=admin, title="Nightly export")
    return Company(
        team=team, marketer=marketer, manager=manager, ana=ana, ben=ben, outsider=outsider, admin=admin,
        executive=executive, ana_contact_ids=[c.pk for c in ana_contacts],
        outsider_contact_id=outsider_contact.pk, outsider_deal_id=outsider_deal.pk,
    )

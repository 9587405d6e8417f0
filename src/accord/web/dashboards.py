"""What each role's home page shows: the figures from analytics.selectors, arranged per role.

Every home page shares one summary (the funnel this month and this quarter, open pipeline,
revenue won this quarter, the company's revenue goal); each role then gets the section
for the work it does. The figures are scoped to the viewer by the selectors, so a rep's
summary is their own book and a manager's their team's.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from accord.analytics import selectors as figures
from accord.core.permissions import Role
from accord.core.selectors import jobs_visible_to
from accord.core.vocabulary import LifecycleStage


@dataclass(frozen=True)
class Heading:
    title: str
    lede: str
    scope: str  # how the summary figures are scoped, in words: "My", "Team", "Company"


HEADINGS = {
    Role.MARKETING: Heading(
        "Marketing dashboard", "Leads, channels and what they cost, against the shared revenue goal.", "Company"
    ),
    Role.SALES_REP: Heading("My sales desk", "Your open leads and deals, and what you have won.", "My"),
    Role.SALES_MANAGER: Heading(
        "Team pipeline", "Your team's pipeline by rep, and revenue won against goal.", "Team"
    ),
    Role.REVOPS_ADMIN: Heading(
        "Revenue operations", "The whole funnel, background jobs and administration.", "Company"
    ),
    Role.EXECUTIVE: Heading(
        "Revenue overview", "Revenue against goal, pipeline coverage and the funnel.", "Company"
    ),
}

# Admin pages a revenue-ops admin reaches for most, as (label, admin URL name).
ADMIN_LINKS = (
    ("Users and roles", "admin:accounts_user_changelist"),
    ("Teams", "admin:accounts_team_changelist"),
    ("Revenue goals", "admin:planning_goal_changelist"),
    ("Pipelines and stages", "admin:deals_pipeline_changelist"),
    ("SLA versions", "admin:sla_slaversion_changelist"),
    ("Campaigns", "admin:capture_campaign_changelist"),
)


def bar_chart(*, labels: list[str], datasets: list[tuple[str, list]], money: bool = False) -> dict:
    """Describe a bar chart for static/accord/accord.js; the page embeds it with json_script."""
    return {
        "type": "bar",
        "labels": labels,
        "money": money,
        "datasets": [{"label": label, "data": [float(v) for v in data]} for label, data in datasets],
    }


# Chart axes have room for the short names only; tables spell the stages out.
SHORT_STAGE_NAMES = {
    LifecycleStage.LEAD: "Lead",
    LifecycleStage.MQL: "MQL",
    LifecycleStage.SAL: "SAL",
    LifecycleStage.SQL: "SQL",
    LifecycleStage.OPPORTUNITY: "Opportunity",
    LifecycleStage.CUSTOMER: "Customer",
}


def _funnel(*, user, month: figures.Period, quarter: figures.Period) -> dict[str, Any]:
    this_month = figures.stage_entries(visible_to=user, period=month)
    this_quarter = figures.stage_entries(visible_to=user, period=quarter)
    labels = dict(LifecycleStage.choices)
    rows = [
        {"stage": stage, "label": labels[stage], "month": this_month[stage], "quarter": this_quarter[stage]}
        for stage in this_month
    ]
    return {
        "funnel_rows": rows,
        "funnel_empty": not any(r["month"] or r["quarter"] for r in rows),
        "funnel_chart": bar_chart(
            labels=[SHORT_STAGE_NAMES[r["stage"]] for r in rows],
            datasets=[
                (month.label, [r["month"] for r in rows]),
                (quarter.label, [r["quarter"] for r in rows]),
            ],
        ),
    }


def _won_chart(months: list[figures.MonthAmount]) -> dict[str, Any]:
    return {
        "won_months": months,
        "won_months_empty": not any(m.amount for m in months),
        "won_chart": bar_chart(
            labels=[m.label for m in months],
            datasets=[("Revenue won", [m.amount for m in months])],
            money=True,
        ),
    }


def _marketing(*, user, today, month, quarter) -> dict[str, Any]:
    channels = figures.leads_and_mqls_by_channel(visible_to=user, period=month)
    leads = sum(row.leads for row in channels)
    return {
        "channels": channels,
        "new_leads": leads,
        "new_mqls": sum(row.mqls for row in channels),
        "cost_per_lead": figures.cost_per_lead(period=month, leads=leads),
        "top_campaigns": figures.top_campaigns(visible_to=user, period=month),
        "channel_chart": bar_chart(
            labels=[row.label for row in channels],
            datasets=[("New leads", [r.leads for r in channels]), ("MQLs", [r.mqls for r in channels])],
        ),
    }


def _sales_rep(*, user, today, month, quarter) -> dict[str, Any]:
    open_lead_count, open_leads = figures.open_leads_owned_by(user=user)
    return {
        "open_lead_count": open_lead_count,
        "open_leads": open_leads,
        "open_deals": list(figures.open_deals_owned_by(user=user)),
        **_won_chart(figures.won_by_month(visible_to=user, today=today)),
    }


def _sales_manager(*, user, today, month, quarter) -> dict[str, Any]:
    reps = figures.pipeline_by_rep(visible_to=user, period=quarter)
    return {
        "reps": reps,
        "team_goal": figures.revenue_vs_goal(on=today, team=user.team) if user.team_id else None,
        "rep_chart": bar_chart(
            labels=[r.name for r in reps],
            datasets=[("Open pipeline", [r.open_amount for r in reps]), ("Won this quarter", [r.won for r in reps])],
            money=True,
        ),
    }


def _revops_admin(*, user, today, month, quarter) -> dict[str, Any]:
    labels = dict(LifecycleStage.choices)
    now = figures.contacts_by_stage(visible_to=user)
    return {
        "stage_now": [{"stage": s, "label": labels[s], "contacts": n} for s, n in now.items()],
        "stage_now_total": sum(now.values()),
        "recent_jobs": list(jobs_visible_to(user=user)[:5]),
        "admin_links": ADMIN_LINKS,
    }


def _executive(*, user, today, month, quarter) -> dict[str, Any]:
    return _won_chart(figures.won_by_month(visible_to=user, today=today, months=12))


SECTIONS = {
    Role.MARKETING: _marketing,
    Role.SALES_REP: _sales_rep,
    Role.SALES_MANAGER: _sales_manager,
    Role.REVOPS_ADMIN: _revops_admin,
    Role.EXECUTIVE: _executive,
}


def home_for(*, user, today: dt.date) -> dict[str, Any]:
    """Return the template context of the user's home page as of `today`."""
    role = Role(user.role) if user.role in Role.values else Role.EXECUTIVE
    month = figures.month_to_date(today)
    quarter = figures.quarter_to_date(today)
    goal = figures.revenue_vs_goal(on=today)
    context: dict[str, Any] = {
        "role": role.value,
        "heading": HEADINGS[role],
        "today": today,
        "month": month,
        "quarter": quarter,
        "pipeline": figures.open_pipeline(visible_to=user),
        "won_quarter": figures.revenue_won(visible_to=user, period=quarter),
        "goal": goal,
        "coverage": figures.pipeline_coverage(progress=goal) if goal and role == Role.EXECUTIVE else None,
        **_funnel(user=user, month=month, quarter=quarter),
    }
    context.update(SECTIONS[role](user=user, today=today, month=month, quarter=quarter))
    context["section_template"] = f"web/home/{role.value}.html"
    return context

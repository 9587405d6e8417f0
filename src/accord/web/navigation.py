"""Role-aware navigation: each role sees the sections it can use."""

from __future__ import annotations

from dataclasses import dataclass

from accord.core.permissions import Action, can


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    action: Action | None = None


ITEMS = (
    NavItem("Home", "home"),
    NavItem("My leads", "leads", Action.GIVE_LEAD_FEEDBACK),
    NavItem("Contacts", "contacts", Action.VIEW_RECORDS),
    NavItem("Accounts", "accounts", Action.VIEW_RECORDS),
    NavItem("Campaigns", "campaigns", Action.VIEW_CAMPAIGNS),
    NavItem("Deals", "deals", Action.VIEW_RECORDS),
    NavItem("SLA", "sla", Action.VIEW_RECORDS),
    NavItem("Lead quality", "quality", Action.VIEW_ANALYTICS),
    NavItem("SLA compliance", "sla-compliance", Action.VIEW_ANALYTICS),
    NavItem("Forms", "capture-sources", Action.EDIT_CAMPAIGNS),
    NavItem("Routing", "routing", Action.ASSIGN_LEADS),
    NavItem("Duplicates", "contact-duplicates", Action.EDIT_CONTACTS),
    NavItem("Import", "imports", Action.IMPORT_DATA),
    NavItem("Scoring", "scoring-rules", Action.EDIT_SCORING),
    NavItem("Jobs", "jobs"),
    NavItem("Integrations", "notification-webhooks", Action.USE_ADMIN),
    NavItem("API tokens", "tokens", Action.MANAGE_OWN_TOKENS),
    NavItem("Admin", "admin:index", Action.USE_ADMIN),
)


def items_for(user) -> list[NavItem]:
    return [item for item in ITEMS if item.action is None or can(user, item.action)]

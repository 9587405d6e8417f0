"""Shared vocabularies: the words every app uses for the same things.

They live in the shared kernel because capture, lifecycle, deals and analytics all
filter and group by them; the rules about them live in the owning apps.
The channel taxonomy is documented in docs/channels.md.
"""

from django.db import models


class Channel(models.TextChoices):
    PAID_SEARCH = "paid_search", "Paid search"
    PAID_SOCIAL = "paid_social", "Paid social"
    DISPLAY = "display", "Display"
    EMAIL = "email", "Email"
    WEBINAR = "webinar", "Webinar"
    EVENT = "event", "Event / trade show"
    CONTENT_SEO = "content_seo", "Content / SEO"
    REFERRAL = "referral", "Referral"
    PARTNER = "partner", "Partner"
    OUTBOUND = "outbound", "Outbound"
    DIRECT_OFFLINE = "direct_offline", "Direct / offline retail"
    ORGANIC_SOCIAL = "organic_social", "Organic social"
    DIRECT = "direct", "Direct (web)"


# Marketing-paid channels carry media cost; the rest are mostly people's time.
PAID_CHANNELS = frozenset(
    {Channel.PAID_SEARCH, Channel.PAID_SOCIAL, Channel.DISPLAY, Channel.EVENT, Channel.WEBINAR}
)


class LifecycleStage(models.TextChoices):
    SUBSCRIBER = "subscriber", "Subscriber"
    LEAD = "lead", "Lead"
    MQL = "mql", "Marketing qualified (MQL)"
    SAL = "sal", "Sales accepted (SAL)"
    SQL = "sql", "Sales qualified (SQL)"
    OPPORTUNITY = "opportunity", "Opportunity"
    CUSTOMER = "customer", "Customer"
    NURTURE = "nurture", "Nurture / recycled"
    DISQUALIFIED = "disqualified", "Disqualified"


# The forward funnel, in order; nurture and disqualified sit outside it.
FUNNEL_STAGES = (
    LifecycleStage.LEAD,
    LifecycleStage.MQL,
    LifecycleStage.SAL,
    LifecycleStage.SQL,
    LifecycleStage.OPPORTUNITY,
    LifecycleStage.CUSTOMER,
)


class Segment(models.TextChoices):
    B2B = "b2b", "B2B"
    B2C = "b2c", "B2C"


class Region(models.TextChoices):
    NORTH_AMERICA = "na", "North America"
    EMEA = "emea", "Europe, Middle East & Africa"
    APAC = "apac", "Asia-Pacific"
    LATAM = "latam", "Latin America"

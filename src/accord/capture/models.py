"""What marketing brings in: companies, people, campaigns with their cost, and every touch.

One person is one Contact (email unique regardless of case); companies are Accounts.
Lifecycle stage and owner live on the Contact for fast lists and filters, but only
lifecycle.services changes them, recording each change.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower

from accord.core.models import TimeStampedModel
from accord.core.vocabulary import Channel, LifecycleStage, Region, Segment


class SizeBand(models.TextChoices):
    S1_10 = "1-10", "1–10"
    S11_50 = "11-50", "11–50"
    S51_200 = "51-200", "51–200"
    S201_1000 = "201-1000", "201–1,000"
    S1001_5000 = "1001-5000", "1,001–5,000"
    S5000_PLUS = "5000+", "5,000+"


class Industry(models.TextChoices):
    SOFTWARE = "software", "Software"
    FINANCIAL = "financial", "Financial services"
    HEALTHCARE = "healthcare", "Healthcare"
    MANUFACTURING = "manufacturing", "Manufacturing"
    RETAIL = "retail", "Retail"
    EDUCATION = "education", "Education"
    PROFESSIONAL = "professional", "Professional services"
    HOSPITALITY = "hospitality", "Hospitality"
    LOGISTICS = "logistics", "Logistics"
    PUBLIC = "public", "Public sector"
    CONSUMER = "consumer", "Consumer (household)"
    OTHER = "other", "Other"


class Account(TimeStampedModel):
    """A company, or for B2C a household, that buys or might buy."""

    class TradeChannel(models.TextChoices):
        DIRECT = "direct", "Direct"
        RETAIL = "retail", "Retail"
        WHOLESALE = "wholesale", "Wholesale"

    class Presence(models.TextChoices):
        ONLINE = "online", "Online"
        OFFLINE = "offline", "Offline"
        BOTH = "both", "Online and offline"

    name = models.CharField(max_length=200)
    domain = models.CharField(max_length=253, blank=True)
    industry = models.CharField(max_length=32, choices=Industry.choices, blank=True)
    size_band = models.CharField(max_length=16, choices=SizeBand.choices, blank=True)
    region = models.CharField(max_length=8, choices=Region.choices, blank=True)
    country = models.CharField(max_length=2, blank=True)
    segment = models.CharField(max_length=8, choices=Segment.choices, default=Segment.B2B)
    trade_channel = models.CharField(
        max_length=16, choices=TradeChannel.choices, default=TradeChannel.DIRECT
    )
    presence = models.CharField(max_length=8, choices=Presence.choices, default=Presence.ONLINE)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_accounts",
    )
    external_id = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                Lower("domain"), name="account_domain_unique_ci", condition=~models.Q(domain="")
            ),
            models.UniqueConstraint(
                fields=["external_id"],
                name="account_external_id_unique",
                condition=~models.Q(external_id=""),
            ),
        ]
        indexes = [
            models.Index(fields=["owner", "name"], name="account_owner_name"),
            models.Index(fields=["segment", "region"], name="account_segment_region"),
            models.Index(fields=["industry"], name="account_industry"),
            models.Index(Lower("name"), name="account_name_ci"),
        ]

    def __str__(self) -> str:
        return self.name


class Contact(TimeStampedModel):
    """One person, whatever the number of forms, imports and devices they came in through."""

    class Seniority(models.TextChoices):
        EXECUTIVE = "executive", "C-level / owner"
        VP = "vp", "VP"
        DIRECTOR = "director", "Director"
        MANAGER = "manager", "Manager"
        INDIVIDUAL = "individual", "Individual contributor"
        STUDENT = "student", "Student"
        CONSUMER = "consumer", "Consumer"
        UNKNOWN = "", "Unknown"

    # Null, not blank, for people known only offline: the unique index ignores NULLs.
    email = models.EmailField(null=True, blank=True)
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    title = models.CharField(max_length=150, blank=True)
    seniority = models.CharField(
        max_length=16, choices=Seniority.choices, blank=True, default=Seniority.UNKNOWN
    )
    account = models.ForeignKey(
        Account, null=True, blank=True, on_delete=models.SET_NULL, related_name="contacts"
    )
    # Indexed through contact_owner_stage, whose first column it is: every index costs each insert.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_contacts",
        db_index=False,
    )
    lifecycle_stage = models.CharField(
        max_length=16, choices=LifecycleStage.choices, default=LifecycleStage.LEAD
    )
    stage_changed_at = models.DateTimeField(null=True, blank=True)
    lead_source = models.CharField(max_length=32, choices=Channel.choices, blank=True)
    # Not indexed: no list or filter looks contacts up by their first campaign (analytics counts
    # a period's contacts through created_at), and every index costs each insert.
    original_campaign = models.ForeignKey(
        "capture.Campaign",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="sourced_contacts",
        db_index=False,
    )
    country = models.CharField(max_length=2, blank=True)
    region = models.CharField(max_length=8, choices=Region.choices, blank=True)
    external_id = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="contact_email_unique_ci"),
            models.UniqueConstraint(
                fields=["external_id"],
                name="contact_external_id_unique",
                condition=~models.Q(external_id=""),
            ),
        ]
        indexes = [
            models.Index(fields=["owner", "lifecycle_stage", "-created_at"], name="contact_owner_stage"),
            models.Index(fields=["lifecycle_stage", "-created_at"], name="contact_stage_recent"),
            models.Index(fields=["lead_source", "-created_at"], name="contact_source_recent"),
            models.Index(Lower("last_name"), Lower("first_name"), name="contact_name_ci"),
        ]

    def __str__(self) -> str:
        name = f"{self.first_name} {self.last_name}".strip()
        return name or self.email or f"Contact {self.pk}"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class Campaign(TimeStampedModel):
    """A marketing effort with a channel, a budget and the costs it actually ran up."""

    class Kind(models.TextChoices):
        ADS = "ads", "Advertising"
        NEWSLETTER = "newsletter", "Newsletter"
        NURTURE = "nurture", "Nurture sequence"
        WEBINAR = "webinar", "Webinar"
        TRADE_SHOW = "trade_show", "Trade show"
        CONTENT = "content", "Content offer"
        REFERRAL_PROGRAM = "referral_program", "Referral programme"
        PARTNER_PROGRAM = "partner_program", "Partner programme"
        OUTBOUND = "outbound", "Outbound sequence"
        IN_STORE = "in_store", "In-store promotion"
        OTHER = "other", "Other"

    class Status(models.TextChoices):
        PLANNED = "planned", "Planned"
        ACTIVE = "active", "Active"
        COMPLETED = "completed", "Completed"
        PAUSED = "paused", "Paused"

    name = models.CharField(max_length=200)
    channel = models.CharField(max_length=32, choices=Channel.choices)
    kind = models.CharField(max_length=32, choices=Kind.choices, default=Kind.OTHER)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PLANNED)
    segment = models.CharField(max_length=8, choices=Segment.choices, blank=True)
    start_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)
    budget = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    currency = models.CharField(max_length=3, default="USD")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_campaigns",
    )
    utm_source = models.CharField(max_length=100, blank=True)
    utm_medium = models.CharField(max_length=100, blank=True)
    utm_campaign = models.CharField(max_length=100, blank=True)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["-start_date", "name", "id"]
        constraints = [
            models.UniqueConstraint(
                Lower("utm_campaign"),
                name="campaign_utm_unique_ci",
                condition=~models.Q(utm_campaign=""),
            ),
            models.CheckConstraint(condition=models.Q(budget__gte=0), name="campaign_budget_not_negative"),
            models.CheckConstraint(
                condition=models.Q(end_date__isnull=True)
                | models.Q(start_date__isnull=True)
                | models.Q(end_date__gte=models.F("start_date")),
                name="campaign_ends_after_start",
            ),
        ]
        indexes = [
            models.Index(fields=["channel", "-start_date"], name="campaign_channel_recent"),
            models.Index(fields=["owner"], name="campaign_owner"),
            models.Index(fields=["status"], name="campaign_status"),
        ]

    def __str__(self) -> str:
        return self.name


class CostEntry(models.Model):
    """Money a campaign spent on one day (or one month, dated to its first day)."""

    class Source(models.TextChoices):
        MANUAL = "manual", "Entered by hand"
        IMPORT = "import", "Imported"

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="costs")
    date = models.DateField()
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3, default="USD")
    impressions = models.PositiveBigIntegerField(null=True, blank=True)
    clicks = models.PositiveBigIntegerField(null=True, blank=True)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.MANUAL)
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-date", "-id"]
        verbose_name_plural = "cost entries"
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="cost_not_negative"),
        ]
        indexes = [models.Index(fields=["campaign", "date"], name="cost_campaign_date")]

    def __str__(self) -> str:
        return f"{self.campaign} {self.date}: {self.amount} {self.currency}"


class Touchpoint(models.Model):
    """One interaction of a person with the company: a visit, a click, a form, a booth scan."""

    class Kind(models.TextChoices):
        PAGE_VIEW = "page_view", "Page view"
        AD_CLICK = "ad_click", "Ad click"
        FORM_SUBMIT = "form_submit", "Form submission"
        EMAIL_OPEN = "email_open", "Email opened"
        EMAIL_CLICK = "email_click", "Email clicked"
        CONTENT_DOWNLOAD = "content_download", "Content download"
        WEBINAR_REGISTER = "webinar_register", "Webinar registration"
        WEBINAR_ATTEND = "webinar_attend", "Webinar attended"
        EVENT_VISIT = "event_visit", "Event / booth visit"
        DEMO_REQUEST = "demo_request", "Demo request"
        CHAT = "chat", "Chat"
        STORE_VISIT = "store_visit", "Store visit"
        PURCHASE = "purchase", "Purchase"
        REFERRAL = "referral", "Referral"
        UNSUBSCRIBE = "unsubscribe", "Unsubscribe"

    # contact and campaign are indexed through touch_contact_time and touch_campaign_time.
    contact = models.ForeignKey(
        Contact,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="touchpoints",
        db_index=False,
    )
    # Visitor id from before the person identified themselves; capture stitches it.
    anonymous_id = models.CharField(max_length=64, blank=True)
    # No foreign-key constraint in the database: every event of a campaign names the same few
    # rows, and PostgreSQL checked the key with a query per touchpoint at commit, each locking
    # that shared row again (a fifth of a 1,000-event batch's database time, and contention
    # between concurrent batches). Writers check the batch's campaigns in one locking query
    # instead (ingestion.lock_campaigns), and campaigns are deleted only through
    # capture.services.delete_campaigns, which takes the rows first; Django's collector still
    # clears the touches (SET_NULL) as it did.
    campaign = models.ForeignKey(
        Campaign,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="touchpoints",
        db_index=False,
        db_constraint=False,
    )
    channel = models.CharField(max_length=32, choices=Channel.choices)
    kind = models.CharField(max_length=32, choices=Kind.choices)
    occurred_at = models.DateTimeField()
    utm_source = models.CharField(max_length=100, blank=True)
    utm_medium = models.CharField(max_length=100, blank=True)
    utm_campaign = models.CharField(max_length=100, blank=True)
    utm_term = models.CharField(max_length=100, blank=True)
    utm_content = models.CharField(max_length=100, blank=True)
    url = models.URLField(max_length=1000, blank=True)
    referrer = models.URLField(max_length=1000, blank=True)
    # Caller-supplied event id: a retried ingestion with the same id is not stored twice.
    external_id = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["external_id"],
                name="touchpoint_external_id_unique",
                condition=~models.Q(external_id=""),
            ),
        ]
        indexes = [
            models.Index(fields=["contact", "occurred_at"], name="touch_contact_time"),
            models.Index(fields=["campaign", "occurred_at"], name="touch_campaign_time"),
            models.Index(fields=["occurred_at"], name="touch_time"),
            # What stitching looks for: anonymous touches not yet attached to anyone. Every
            # reader by visitor id (linking, stitching) wants only those, so there is no index on
            # all of them; and none on channel, which no list or report filters touchpoints by
            # (every index costs each of the event API's inserts).
            models.Index(
                fields=["anonymous_id"],
                name="touch_anonymous_orphan",
                condition=models.Q(contact__isnull=True) & ~models.Q(anonymous_id=""),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} at {self.occurred_at:%Y-%m-%d %H:%M}"


# Forms, webhooks and the event API ------------------------------------------------------


def new_public_key() -> str:
    """Return a fresh random key for a capture source's public URL."""
    return secrets.token_urlsafe(24)


class CaptureSource(models.Model):
    """A form, webhook or integration that posts people and touches to the public endpoint."""

    class Kind(models.TextChoices):
        WEB_FORM = "web_form", "Web form"
        WEBHOOK = "webhook", "Webhook"
        API = "api", "API"

    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.WEB_FORM)
    # Not a secret: it sits in every page that embeds the form. It names the source,
    # and rotating it retires copies of the snippet that spread where they should not.
    public_key = models.CharField(max_length=64, unique=True, default=new_public_key)
    default_campaign = models.ForeignKey(
        Campaign, null=True, blank=True, on_delete=models.SET_NULL, related_name="capture_sources"
    )
    # One origin (scheme://host[:port]) per line; empty allows posts from anywhere but
    # redirects nowhere.
    allowed_origins = models.TextField(blank=True)
    consent_text = models.TextField(blank=True)
    # Posts per minute this source accepts from all visitors together, and from one IP.
    rate_limit_per_minute = models.PositiveIntegerField(default=600)
    ip_rate_limit_per_minute = models.PositiveIntegerField(default=20)
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="capture_sources",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def origins(self) -> list[str]:
        return [line.strip().rstrip("/").lower() for line in self.allowed_origins.splitlines() if line.strip()]


class Consent(models.Model):
    """What a person agreed to (or declined), when, and through which source."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="consents")
    source = models.ForeignKey(
        CaptureSource, null=True, blank=True, on_delete=models.SET_NULL, related_name="consents"
    )
    text = models.TextField()
    granted = models.BooleanField()
    at = models.DateTimeField()
    # A keyed hash, not the address: enough to tell repeated posts apart, not to locate anyone.
    ip_hash = models.CharField(max_length=64, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["contact", "at"], name="consent_contact_time")]

    def __str__(self) -> str:
        return f"{'Granted' if self.granted else 'Declined'} by {self.contact_id} at {self.at:%Y-%m-%d}"


class IdentityLink(models.Model):
    """An anonymous visitor id known to belong to a contact, from the moment they identified."""

    anonymous_id = models.CharField(max_length=64, unique=True)
    # Its foreign-key index serves a contact's links (merging, erasure, the timeline).
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="identity_links")
    first_seen_at = models.DateTimeField(null=True, blank=True)
    linked_at = models.DateTimeField()

    class Meta:
        ordering = ["-linked_at", "-id"]

    def __str__(self) -> str:
        return f"{self.anonymous_id} → {self.contact_id}"


class IdempotencyRecord(models.Model):
    """The answer given to a request sent with an Idempotency-Key, replayed on a retry."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="idempotency_records"
    )
    key = models.CharField(max_length=200)
    request_hash = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField()
    response = models.JSONField()
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_user_key_unique"),
        ]
        indexes = [models.Index(fields=["created_at"], name="idempotency_created")]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.key}"


class ContactMerge(models.Model):
    """A duplicate contact folded into a survivor, with what the duplicate held."""

    survivor = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="merges")
    duplicate_id = models.BigIntegerField()
    duplicate_email = models.CharField(max_length=254, blank=True)
    snapshot = models.JSONField()
    # What moved, per related table, so a reviewer sees the merge's reach.
    moved = models.JSONField(default=dict)
    rule = models.CharField(max_length=32, default="manual")
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="contact_merges",
    )
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["duplicate_id"], name="merge_duplicate")]

    def __str__(self) -> str:
        return f"{self.duplicate_id} into {self.survivor_id}"


class RateLimitCounter(models.Model):
    """Requests counted in one fixed window for one bucket (an IP or a source key).

    A table rather than the cache: gunicorn's worker processes share the database, not
    memory, and a limit each worker counted alone would be the limit times the workers.
    """

    bucket = models.CharField(max_length=200)
    window_start = models.BigIntegerField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["bucket", "window_start"], name="ratelimit_bucket_window"
            ),
        ]
        indexes = [models.Index(fields=["window_start"], name="ratelimit_window")]

    def __str__(self) -> str:
        return f"{self.bucket}@{self.window_start}: {self.count}"

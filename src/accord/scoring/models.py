"""Lead scores: the rules they come from, the predictive models, and each contact's score history.

ContactScore holds each contact's latest total, narrow, for the queues and lists that sort by it
(other apps reach it through the reverse relation `contact.current_score`); the history, with
the explanation of every score, lives in LeadScore. Only scoring.services writes these tables.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ScoringRuleSet(models.Model):
    """One version of the rules document, as written and as parsed; at most one is active."""

    version = models.PositiveIntegerField(unique=True)
    source = models.TextField()
    parsed = models.JSONField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="scoring_rule_sets",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    is_active = models.BooleanField(default=False)

    class Meta:
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"], condition=models.Q(is_active=True), name="one_active_rule_set"
            ),
        ]

    def __str__(self) -> str:
        return f"Scoring rules v{self.version}" + (" (active)" if self.is_active else "")


class PredictiveModelVersion(models.Model):
    """A trained conversion model with its model card.

    `artifact` is a pickled scikit-learn estimator. Unpickling runs code, so only Accord
    itself writes this column (services.train_model); nothing imports a model from outside.
    """

    version = models.PositiveIntegerField(unique=True)
    trained_at = models.DateTimeField()
    trained_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="scoring_models",
    )
    outcome = models.CharField(max_length=200)
    horizon_days = models.PositiveIntegerField()
    train_start = models.DateTimeField(null=True, blank=True)
    train_end = models.DateTimeField(null=True, blank=True)
    eval_start = models.DateTimeField(null=True, blank=True)
    eval_end = models.DateTimeField(null=True, blank=True)
    train_size = models.PositiveIntegerField(default=0)
    eval_size = models.PositiveIntegerField(default=0)
    positive_rate = models.FloatField(null=True, blank=True)
    roc_auc = models.FloatField(null=True, blank=True)
    pr_auc = models.FloatField(null=True, blank=True)
    brier = models.FloatField(null=True, blank=True)
    # Held-out comparison against the rules active at training time, on the same rows.
    rules_roc_auc = models.FloatField(null=True, blank=True)
    rules_pr_auc = models.FloatField(null=True, blank=True)
    lift_by_decile = models.JSONField(default=list, blank=True)
    rules_lift_by_decile = models.JSONField(default=list, blank=True)
    calibration = models.JSONField(default=dict, blank=True)
    features = models.JSONField(default=list, blank=True)
    params = models.JSONField(default=dict, blank=True)
    artifact = models.BinaryField(null=True, blank=True)
    # Why no model could be trained (too little history): the card says so and rules stay in charge.
    unavailable_reason = models.CharField(max_length=500, blank=True)
    is_active = models.BooleanField(default=False)

    class Meta:
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"], condition=models.Q(is_active=True), name="one_active_model"
            ),
            models.CheckConstraint(
                condition=~models.Q(is_active=True, artifact__isnull=True),
                name="active_model_has_artifact",
            ),
        ]

    def __str__(self) -> str:
        return f"Predictive model v{self.version}" + (" (active)" if self.is_active else "")

    @property
    def is_usable(self) -> bool:
        return self.artifact is not None and not self.unavailable_reason


class ScoreOrderIndex(models.Index):
    """The score lists' index: (total, contact) on PostgreSQL, (total) alone on SQLite.

    The contact is ContactScore's key, which on SQLite is the table's rowid, and SQLite ends
    every index entry with the rowid already: `(total)` walked backwards reads the scores
    highest first and ties newest contact first, exactly `ORDER BY total DESC, contact_id
    DESC`, with no sort (EXPLAIN QUERY PLAN: `SCAN … USING COVERING INDEX`). Naming the
    contact again stored it twice in every entry, and building the index for a first
    scoring of 787k contacts took a third more CPU (1.0–1.4 s against 0.7).
    """

    def create_sql(self, model, schema_editor, using="", **kwargs):
        if schema_editor.connection.vendor == "sqlite":
            index = models.Index(fields=["total"], name=self.name)
            return index.create_sql(model, schema_editor, using=using, **kwargs)
        return super().create_sql(model, schema_editor, using=using, **kwargs)


class ContactScore(models.Model):
    """A contact's current rule score: one narrow row per contact whose score is or was above 0.

    A contact without a row scores 0, as a new contact did when the score was a column of
    the contact (default 0): never scored yet, or scored 0 every time. Lists show it as 0 and
    sort it after every contact with a row. A rescore writes a row only when the score moves,
    so a first scoring of a million contacts writes the ones that score above 0, not all.
    The score lived on the wide contact row until a rescore moving 800k scores spent 5 s
    rewriting nearly every page of that table (a new tuple and nine index entries each on
    PostgreSQL); here a row is two integers.
    """

    contact = models.OneToOneField(
        "capture.Contact", primary_key=True, on_delete=models.CASCADE, related_name="current_score"
    )
    total = models.SmallIntegerField()

    class Meta:
        # "Highest score" lists and a rep's best leads walk this index and fetch each contact
        # by its key; the contact id breaks ties newest first, as the lists order them.
        indexes = [ScoreOrderIndex(fields=["-total", "-contact"], name="contactscore_total")]

    def __str__(self) -> str:
        return f"{self.contact_id}: {self.total}"


class ScoreRun(models.Model):
    """One scoring of some contacts: the instant it scored them as of, and its rules and model versions.

    History rows name their run instead of repeating these: a whole-base rescore writes a
    row for each of hundreds of thousands of contacts, and the instant alone (26 characters
    of text on SQLite) was half of each row.
    """

    computed_at = models.DateTimeField()
    rule_version = models.PositiveIntegerField(null=True, blank=True)
    model_version = models.PositiveIntegerField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Scoring as of {self.computed_at:%Y-%m-%d %H:%M} (rules v{self.rule_version})"


class LeadScoreManager(models.Manager["LeadScore"]):
    def get_queryset(self) -> models.QuerySet[LeadScore]:
        # Every reader of a score reads its instant and versions: the run comes in the same query.
        return super().get_queryset().select_related("run")


class LeadScore(models.Model):
    """A contact's score at one moment, with the factors that made it, as a rep would read them."""

    # One index, on the contact alone: it serves a contact's history (newest first: a
    # contact has a row per change of score, a few hundred at most, sorted on read), the
    # foreign key's lookups and cascades. With the instant in it as well (26 characters of
    # text on SQLite) the entries were three times as wide: a first scoring's 787k history
    # rows wrote a fifth more pages. A second index cost a whole-base rescore 1.7 s of CPU.
    contact = models.ForeignKey(
        "capture.Contact", on_delete=models.CASCADE, related_name="lead_scores", db_index=False
    )
    # No index: nothing lists a run's rows, and runs are never deleted (PROTECT).
    run = models.ForeignKey(ScoreRun, on_delete=models.PROTECT, related_name="scores", db_index=False)
    total = models.IntegerField()
    fit = models.IntegerField()
    engagement = models.IntegerField()
    predicted_probability = models.FloatField(null=True, blank=True)
    explanation = models.JSONField(default=dict)

    objects = LeadScoreManager()

    class Meta:
        ordering = ["-run__computed_at", "-id"]
        indexes = [models.Index(fields=["contact"], name="leadscore_contact")]

    def __str__(self) -> str:
        return f"{self.contact_id}: {self.total}"

    @property
    def computed_at(self):
        return self.run.computed_at

    @property
    def rule_version(self) -> int | None:
        return self.run.rule_version

    @property
    def model_version(self) -> int | None:
        return self.run.model_version


class EngagementRollup(models.Model):
    """Every contact's engagement weight per kind of touch, decayed to one instant, in parts.

    A nightly rescore decays these weights to the scoring instant (exponential decay
    composes) and reads only the touchpoints and activities added since the watermarks,
    instead of every touch ever made. Each part holds arrays (contact id, kind code, weight)
    and the touches still in the future at `valued_at`, as bytes written by
    services.rescore only. Touches moved or deleted after the fact (a merge, an erasure) are
    caught by the full rebuild every `services.ROLLUP_MAX_AGE`; new ones by the watermarks.
    """

    part = models.PositiveIntegerField(unique=True)
    valued_at = models.DateTimeField()
    built_at = models.DateTimeField()  # when every touch was last read in full
    half_life_days = models.FloatField()
    touchpoint_watermark = models.BigIntegerField()  # every touchpoint with id ≤ this is counted
    activity_watermark = models.BigIntegerField()
    data = models.BinaryField()

    class Meta:
        ordering = ["part"]

    def __str__(self) -> str:
        return f"Engagement rollup part {self.part} as of {self.valued_at:%Y-%m-%d %H:%M}"

"""Load (and reset) the simulated demo company.

The demo is a data generator, not a user action: it writes every table directly with
`bulk_create` (and, for the high-volume tables, a plain multi-row INSERT) instead of
going through each app's services, because replaying 18 months of a company one service
call at a time would take an hour, and the history it writes (transitions, assignments,
feedback) is what those services would have recorded.
"""

from __future__ import annotations

import contextlib
import functools
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import numpy as np
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX, make_password
from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.db.models import Max

from accord.accounts.models import Team, User
from accord.capture.ingestion import lock_campaigns
from accord.capture.models import Account, Campaign, Contact, CostEntry, Touchpoint
from accord.collaboration.models import ContentAsset
from accord.core import services as jobs
from accord.core.models import Job
from accord.core.permissions import Role
from accord.deals.models import Deal, DealContact, DealStageChange, Pipeline, PipelineStage
from accord.demo import world as W
from accord.demo.simulation import (
    IdCounters,
    Instants,
    World,
    ascii_slug,
    goal_rows,
    simulate_chunk,
)
from accord.demo.tables import CLEARED_MODELS, EVENT_MODELS, WRITTEN_MODELS, InfluencingCampaign
from accord.lifecycle import services as lifecycle
from accord.lifecycle.models import Activity, LeadAssignment, LeadFeedback, StageTransition
from accord.planning.models import Goal
from accord.scoring import services as scoring
from accord.scoring.models import PredictiveModelVersion, ScoringRuleSet
from accord.sla.backfill import backfill_history
from accord.sla.models import SlaVersion

DEMO_PASSWORD = "accord-demo"
JOB_KIND = "demo.load"
BATCH_SIZE = 2_000

@dataclass(frozen=True)
class Login:
    """A demo login to print: who to sign in as, and what they may do."""

    username: str
    role_label: str


def demo_logins() -> list[Login]:
    people = {p.username: p for p in W.PEOPLE}
    return [Login(username, Role(people[username].role).label) for username in W.LOGIN_USERNAMES]


def load_demo(*, seed: int = 1, scale: float = 1.0, reset: bool = False, progress: bool = False,
              as_of: date | None = None, now: datetime | None = None) -> list[Login]:
    """Load the simulated company: 18 months of marketing and sales ending on `as_of`.

    Nothing happens after `now` (the clock, unless given): an as-of date of today ends the
    history at the moment of loading. The same seed, scale and as-of date in the past give
    the same rows, primary keys included, once the tables start empty. Without `reset`, a
    finished earlier load is kept as it is; a load that stopped half-way is cleared and run
    again.
    """
    if scale <= 0:
        raise ValueError("scale must be positive")
    now = now or datetime.now(UTC)
    as_of = as_of or now.date()
    say = _Console(progress)
    last = Job.objects.filter(kind=JOB_KIND).order_by("-id").first()
    if not reset and last is not None and last.status == Job.Status.SUCCEEDED:
        params = last.params
        say(f"The demo company is already loaded (seed {params.get('seed')}, scale "
            f"{params.get('scale')}, as of {params.get('as_of')}); use --reset to load it again.")
        _reset_login_passwords()
        return demo_logins()
    if not reset and (last is not None or User.objects.filter(email__iendswith="@" + W.STAFF_DOMAIN).exists()):
        say("An earlier demo load did not finish; clearing it and loading again.")
        reset = True
    if reset:
        clear_demo()

    job = jobs.create_job(
        kind=JOB_KIND, title="Load the demo company",
        params={"seed": seed, "scale": scale, "as_of": as_of.isoformat()},
    )
    jobs.start_job(job=job)
    try:
        with _manual_timestamps(WRITTEN_MODELS), _fast_sqlite(), say.bar() as bar:
            counts = _load(seed=seed, scale=scale, as_of=as_of, now=now, job=job, bar=bar)
    except BaseException as error:
        jobs.fail_job(job=job, error=f"{type(error).__name__}: {error}")
        raise
    jobs.finish_job(job=job, result=counts, message=f"{sum(counts.values()):,} rows")
    return demo_logins()


def clear_demo() -> None:
    """Empty the CRM tables and remove the demo's staff, teams and load records."""
    with transaction.atomic():
        # Taken first, as delete_campaigns does: the touchpoint's campaign has no foreign-key
        # constraint, and an ingestion storing touches of a demo campaign meanwhile must finish
        # (and be cleared below) or wait and find the campaign gone.
        list(Campaign.objects.select_for_update().order_by("pk").values_list("pk", flat=True))
        cleared = set(CLEARED_MODELS)
        for model in CLEARED_MODELS:
            _release_outside_references(model, cleared)
            with connection.cursor() as cursor:
                cursor.execute(f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)}")  # noqa: S608
        User.objects.filter(email__iendswith="@" + W.STAFF_DOMAIN).delete()
        Team.objects.filter(name__in=_team_names()).delete()
        # The history backfill publishes the shipped SLA when none exists: leave no orphan of it.
        SlaVersion.objects.filter(created_by__isnull=True, clocks__isnull=True, handovers__isnull=True).delete()
        # The load trains a model on the history it wrote, and scoring publishes the shipped rules
        # when none exist: with the history gone, neither describes anything. Versions someone
        # published or trained by hand (they carry who) stay.
        PredictiveModelVersion.objects.filter(trained_by__isnull=True).delete()
        ScoringRuleSet.objects.filter(created_by__isnull=True).delete()
        Job.objects.filter(kind=JOB_KIND).delete()


def _release_outside_references(model: type[models.Model], cleared: set) -> None:
    """Let rows of other apps' tables that point at `model` go before its rows are deleted.

    Raw DELETEs skip Django's cascade collector (which would read every row into memory),
    so references from tables this module does not know are handled here, as Django would:
    CASCADE deletes, SET_NULL clears.
    """
    existing = set(connection.introspection.table_names())
    for relation in model._meta.related_objects:
        related = relation.related_model
        # A table not created yet (an app between model and migration) holds no references.
        if related in cleared or related._meta.db_table not in existing:
            continue
        if relation.many_to_many:
            # Every row of that link table points at a row about to go.
            if relation.through not in cleared:
                relation.through._base_manager.all().delete()
            continue
        name = relation.field.name
        rows = related._base_manager.filter(**{f"{name}__isnull": False})
        if relation.on_delete is models.SET_NULL:
            rows.update(**{name: None})
        elif relation.on_delete is models.CASCADE:
            rows.delete()


def _team_names() -> list[str]:
    return [team[0] for team in W.SALES_TEAMS] + [team[0] for team in W.OTHER_TEAMS]


@functools.cache
def _login_hash() -> str:
    # One hash for every login and every load in the process: PBKDF2 is slow on purpose,
    # and this password is printed on the screen anyway.
    return make_password(DEMO_PASSWORD)


def _reset_login_passwords() -> None:
    encoded = _login_hash()
    User.objects.filter(username__in=W.LOGIN_USERNAMES, email__iendswith="@" + W.STAFF_DOMAIN).update(
        password=encoded
    )


def _load(*, seed: int, scale: float, as_of: date, now: datetime, job: Job, bar: _Bar) -> dict[str, int]:
    counts: dict[str, int] = {}
    ids = IdCounters({model._meta.label: _max_pk(model) for model in WRITTEN_MODELS})
    reporter = jobs.ProgressReporter(job)

    bar.describe("Staff and teams")
    user_ids = _insert_staff(ids=ids, as_of=as_of, counts=counts)
    bar.describe("Campaigns and their costs")
    world = World(seed=seed, scale=scale, as_of=as_of, ids=ids, user_ids=user_ids, now=now)
    total = world.n_contacts
    bar.start(total)
    reporter.update(done=0, total=total, message="Campaigns and costs", force=True)
    pipelines, stages = world.pipeline_rows()
    campaigns = world.campaign_rows()
    campaign_ids = set(campaigns["id"])
    with transaction.atomic():
        _insert(Campaign, campaigns, counts)
        _insert(CostEntry, world.cost_rows(), counts)
        _insert(Pipeline, pipelines, counts)
        _insert(PipelineStage, stages, counts)

    totals: dict[tuple[str, int], float] = {}
    done = 0
    for k in range(world.n_chunks):
        bar.describe(f"Contacts and their history ({done:,} of {total:,})")
        chunk = simulate_chunk(world, k)
        with transaction.atomic():
            # The touches name the campaigns committed above; one deleted since (the touchpoint's
            # campaign has no foreign-key constraint) would leave them naming nothing.
            if len(lock_campaigns(campaign_ids)) != len(campaign_ids):
                raise RuntimeError("a demo campaign was deleted while the demo was loading; clear and load again")
            for model in (Account, Contact, Deal, DealStageChange, DealContact, InfluencingCampaign,
                          StageTransition, LeadAssignment, LeadFeedback, Activity, Touchpoint):
                _insert(model, chunk.tables[model._meta.label], counts)
        for key, value in chunk.totals.items():
            totals[key] = totals.get(key, 0.0) + value
        step = len(chunk.tables["capture.Contact"]["id"])
        done += step
        bar.advance(step)
        reporter.update(done=done, message=f"{done:,} of {total:,} contacts")

    bar.describe("Goals and content")
    with transaction.atomic():
        _insert(Goal, goal_rows(world, totals, ids, created_by=user_ids["revops"]), counts)
        _insert(ContentAsset, _content_rows(world, ids, user_ids), counts)
    _reset_sequences()
    # The history went in as bulk rows: give its feedback the handover and origin the live path
    # records, and count the lead-quality rollup from it.
    bar.describe("Lead quality")
    reporter.update(done=done, message="Lead quality", force=True)
    lifecycle.rebuild_feedback_rollup()
    # The history's end: the as-of day's, or the moment of loading if that is earlier.
    end = min(now, datetime.combine(as_of, time.max, tzinfo=UTC))
    bar.describe("SLA clocks, handovers and compliance")
    sla = backfill_history(now=end)
    counts["sla.SlaClock"], counts["sla.Handover"] = sla["clocks"], sla["handovers"]
    # The simulation writes no scores: score everybody the way a live install does, with the
    # shipped rules and a model trained on the simulated history (it has ample outcomes), each
    # score explainable.
    bar.describe("Scores: training the model")
    reporter.update(done=done, message="Training the scoring model", force=True)
    model = scoring.train_model(as_of=end)
    bar.describe("Scores: scoring every contact")
    reporter.update(done=done, message="Scoring every contact", force=True)
    scored = scoring.rescore(as_of=end, always_record=True)
    counts["scoring.LeadScore"] = scored["changed"]
    counts["scoring.PredictiveModelVersion"] = 0 if model.unavailable_reason else 1
    bar.describe("Done")
    return counts


def _max_pk(model: type[models.Model]) -> int:
    return model._base_manager.aggregate(top=Max("pk"))["top"] or 0


def _insert(model: type[models.Model], columns: dict[str, list], counts: dict[str, int]) -> None:
    """Insert rows given as columns of field values (attnames, primary key included)."""
    n = len(columns["id"])
    if model in EVENT_MODELS:
        _insert_raw(model, columns)
    else:
        names = list(columns)
        values = [v.datetimes() if isinstance(v, Instants) else v for v in columns.values()]
        objects = [model(**dict(zip(names, row, strict=True))) for row in zip(*values, strict=True)]
        model._base_manager.bulk_create(objects, batch_size=BATCH_SIZE)
    label = model._meta.label
    counts[label] = counts.get(label, 0) + n


def _insert_raw(model: type[models.Model], columns: dict[str, list]) -> None:
    """Insert rows with COPY on PostgreSQL, or one prepared INSERT run over many rows on SQLite.

    bulk_create prepares every value through its field, about 30 µs a row for a touchpoint:
    at 200,000 touchpoints that alone would take the load past its one-minute budget. The
    simulation already produces values of the right Python type, so only datetimes need
    adapting, done here column by column.
    """
    fields = {f.attname: f for f in model._meta.concrete_fields}
    n = len(columns["id"])
    # A field added to the model later, and not simulated yet, gets its default, as in bulk_create.
    columns = {**{name: [f.get_default()] * n for name, f in fields.items() if name not in columns}, **columns}
    names = list(columns)
    adapted = [_adapt_column(fields[name], columns[name]) for name in names]
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    column_list = ", ".join(quote(fields[name].column) for name in names)
    rows = zip(*adapted, strict=True)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # COPY streams rows with binary-safe adaptation; a multi-row INSERT of this size
            # spends most of its time in the driver splitting the query text.
            with cursor.cursor.copy(f"COPY {table} ({column_list}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        sql = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608 - names come from model metadata
            table, column_list, ", ".join(["%s"] * len(names))
        )
        rows = list(rows)
        for start in range(0, len(rows), BATCH_SIZE):
            cursor.executemany(sql, rows[start:start + BATCH_SIZE])


def _adapt_column(model_field: models.Field, values: list | Instants) -> list:
    if isinstance(values, Instants):
        if connection.vendor != "sqlite":
            return values.datetimes()
        # What Django's SQLite backend stores for an aware datetime: naive UTC as text.
        text = np.datetime_as_string(values.seconds.astype("datetime64[s]"))
        text = np.char.replace(text, "T", " ").astype(object)
        text[values.seconds < 0] = None
        return text.tolist()
    if isinstance(model_field, models.DateTimeField | models.CharField | models.TextField
                  | models.IntegerField | models.BooleanField | models.ForeignKey):
        return values
    return [model_field.get_db_prep_save(v, connection) for v in values]


def _insert_staff(*, ids: IdCounters, as_of: date, counts: dict[str, int]) -> dict[str, int]:
    """Create the teams and the staff; return each username's primary key."""
    people = W.PEOPLE
    user_pks = ids.take("accounts.User", len(people)).tolist()
    user_ids = {p.username: pk for p, pk in zip(people, user_pks, strict=True)}
    team_specs = [
        (name, Team.Function.SALES, manager, region, tz)
        for (name, region, _, tz, _, _), manager in zip(W.SALES_TEAMS, ("manager", "lars.vogel"), strict=True)
    ] + [(name, function, manager, "", "UTC") for name, function, manager in W.OTHER_TEAMS]
    team_pks = ids.take("accounts.Team", len(team_specs)).tolist()
    team_ids = {spec[0]: pk for spec, pk in zip(team_specs, team_pks, strict=True)}
    team_tz = {spec[0]: spec[4] for spec in team_specs}
    joined = datetime.combine(as_of, datetime.min.time(), UTC) - timedelta(days=W.MONTHS * 31 + 60)
    login_hash = _login_hash()
    teams = {
        "id": team_pks,
        "name": [spec[0] for spec in team_specs],
        "function": [spec[1] for spec in team_specs],
        "manager_id": [user_ids[spec[2]] for spec in team_specs],
        "region": [spec[3] for spec in team_specs],
        "segment": [""] * len(team_specs),
        "timezone": [spec[4] for spec in team_specs],
    }
    users = {
        "id": user_pks,
        "username": [p.username for p in people],
        "email": [f"{p.username}@{W.STAFF_DOMAIN}" for p in people],
        # Staff other than the five logins cannot sign in: they exist to own records.
        "password": [login_hash if p.username in W.LOGIN_USERNAMES else f"{UNUSABLE_PASSWORD_PREFIX}demo"
                     for p in people],
        "first_name": [p.first_name for p in people],
        "last_name": [p.last_name for p in people],
        "role": [p.role for p in people],
        "team_id": [team_ids[p.team] for p in people],
        "timezone": [team_tz[p.team] for p in people],
        "is_staff": [p.role == Role.REVOPS_ADMIN for p in people],
        "is_superuser": [p.role == Role.REVOPS_ADMIN for p in people],
        "date_joined": [joined] * len(people),
    }
    # Teams and users point at each other; foreign keys are checked at commit.
    with transaction.atomic():
        _insert(Team, teams, counts)
        _insert(User, users, counts)
    return user_ids


def _content_rows(world: World, ids: IdCounters, user_ids: dict[str, int]) -> dict[str, list]:
    campaign_by_name = {spec.name: int(pk) for spec, pk in zip(W.CAMPAIGNS, world.campaign_ids, strict=True)}
    specs = W.CONTENT_ASSETS
    start = datetime.combine(world.start, datetime.min.time(), UTC)
    return {
        "id": ids.take("collaboration.ContentAsset", len(specs)).tolist(),
        "title": [s[0] for s in specs],
        "kind": [s[1] for s in specs],
        "url": [f"{W.WEBSITE}/resources/{ascii_slug(s[0], '-')}" for s in specs],
        "summary": [f"{s[0]}. Use it at the {s[2].upper()} stage." for s in specs],
        "stage": [s[2] for s in specs],
        "campaign_id": [campaign_by_name.get(s[3]) for s in specs],
        "owner_id": [user_ids[s[4]] for s in specs],
        "created_at": [start + timedelta(days=17 * i, hours=10) for i in range(len(specs))],
    }


def _reset_sequences() -> None:
    """Move PostgreSQL's id sequences past the explicit ids the demo wrote (no-op on SQLite)."""
    statements = connection.ops.sequence_reset_sql(no_style(), list(WRITTEN_MODELS))
    if statements:
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)


@contextlib.contextmanager
def _manual_timestamps(model_list: tuple[type[models.Model], ...]) -> Iterator[None]:
    """Let the demo set created_at/updated_at itself: a lead from last March was created then.

    auto_now and auto_now_add overwrite any value on save, bulk_create included, so they are
    switched off for the load and back on after. Loading runs before the server starts, in
    its own process, so no request sees the switched-off fields.
    """
    switched = []
    for model in model_list:
        for model_field in model._meta.concrete_fields:
            if getattr(model_field, "auto_now", False) or getattr(model_field, "auto_now_add", False):
                switched.append((model_field, model_field.auto_now, model_field.auto_now_add))
                model_field.auto_now = model_field.auto_now_add = False
    try:
        yield
    finally:
        for model_field, auto_now, auto_now_add in switched:
            model_field.auto_now, model_field.auto_now_add = auto_now, auto_now_add


@contextlib.contextmanager
def _fast_sqlite() -> Iterator[None]:
    """Sync SQLite's write-ahead log at checkpoints only while loading.

    In WAL mode NORMAL cannot corrupt the file; a power cut can only lose the last chunks,
    and a load that did not finish is cleared and repeated by the next run.
    """
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA synchronous")
        previous = cursor.fetchone()[0]
        cursor.execute("PRAGMA synchronous=NORMAL")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA synchronous={int(previous)}")


class _Bar:
    """The progress bar's interface; this one shows nothing."""

    def describe(self, text: str) -> None: ...

    def start(self, total: int) -> None: ...

    def advance(self, step: int) -> None: ...


class _RichBar(_Bar):
    def __init__(self, progress) -> None:
        self.progress = progress
        self.task = progress.add_task("Preparing", total=None)

    def describe(self, text: str) -> None:
        self.progress.update(self.task, description=text)

    def start(self, total: int) -> None:
        self.progress.update(self.task, total=total, completed=0)

    def advance(self, step: int) -> None:
        self.progress.advance(self.task, step)


class _Console:
    """Talk to the person at the terminal, or stay silent when loading from code or tests."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, text: str) -> None:
        if self.enabled:
            print(text, file=sys.stdout, flush=True)

    @contextlib.contextmanager
    def bar(self) -> Iterator[_Bar]:
        if not self.enabled:
            yield _Bar()
            return
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        columns = (TextColumn("[bold]Demo[/] {task.description:<48}"), BarColumn(),
                   MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns) as progress:
            yield _RichBar(progress)

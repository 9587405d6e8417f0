"""Writes for scoring: publish rules, rescore contacts, train and activate predictive models.

ContactScore (each contact's current score) changes here and nowhere else. A rescore computes
every contact's score in numpy from columnar reads, upserts the scores that moved, and
appends a LeadScore row, with its explanation, only for contacts whose score changed:
a history row per contact per nightly run would grow the table by the whole contact base
every day without telling anyone anything new.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from functools import partial

import numpy as np
from django.db import connection, connections, transaction
from django.db.models import Max
from django.utils import timezone

from accord.capture.models import Contact
from accord.core import sqlite
from accord.core.models import Job
from accord.core.permissions import Action, require
from accord.core.services import ProgressReporter, create_job
from accord.scoring import predictive, selectors
from accord.scoring.domain import (
    events_for,
    explain_rows,
    explanation_json,
    join_events,
    packed_ids,
    rollup_events,
    rollup_weights,
    score_rules,
)
from accord.scoring.models import (
    ContactScore,
    EngagementRollup,
    LeadScore,
    PredictiveModelVersion,
    ScoreRun,
    ScoringRuleSet,
)
from accord.scoring.rules import RulesDocument, parse_rules

DEFAULT_RULES = selectors.DEFAULT_RULES
NO_MODEL = selectors.NO_MODEL
Progress = Callable[[int, int, str], None]
logger = logging.getLogger(__name__)


def _quiet(done: int, total: int, message: str) -> None:
    return None


# -- rules --------------------------------------------------------------------------------


@transaction.atomic
def publish_rule_set(*, source: str, by=None) -> ScoringRuleSet:
    """Validate a rules document, store it as the next version and make it the active one.

    Raises core.yamldoc.InvalidDocument (with lines) and stores nothing when it is invalid.
    """
    if by is not None:
        require(by, Action.EDIT_SCORING)
    document = parse_rules(source)
    latest = ScoringRuleSet.objects.select_for_update().aggregate(top=Max("version"))["top"] or 0
    ScoringRuleSet.objects.filter(is_active=True).update(is_active=False)
    return ScoringRuleSet.objects.create(
        version=latest + 1, source=source, parsed=document.model_dump(mode="json"),
        created_by=by, is_active=True,
    )


@transaction.atomic
def activate_rule_set(*, version: int, by=None) -> ScoringRuleSet:
    if by is not None:
        require(by, Action.EDIT_SCORING)
    chosen = ScoringRuleSet.objects.select_for_update().get(version=version)
    ScoringRuleSet.objects.filter(is_active=True).exclude(pk=chosen.pk).update(is_active=False)
    chosen.is_active = True
    chosen.save(update_fields=["is_active"])
    return chosen


def active_rules() -> tuple[RulesDocument, int | None]:
    """Return the active rules, publishing the shipped defaults the first time none exist."""
    active = selectors.active_rule_set()
    if active is None:
        active = publish_rule_set(source=DEFAULT_RULES.read_text(encoding="utf-8"))
    return RulesDocument.model_validate(active.parsed), active.version


# -- rescoring ----------------------------------------------------------------------------

# Above this many changed scores, a rescore stores the numbers of each score but not its
# worded explanation: wording and storing 800,000 explanations cost more than all the rest
# of a rescore, and selectors.score_explanation words any score on read, from the same rules
# or model version and as of the same instant.
EXPLAIN_EAGERLY_UP_TO = 20_000


# The rollup is rebuilt from every touch at least this often, so touches moved or deleted
# after the fact (a merge, an erasure, a correction) stop counting within a week.
ROLLUP_MAX_AGE = timedelta(days=7)
# A rescore that read the rollup reads the real touches of changed contacts for their
# explanations and the model's features: by id up to this many, else all of them.
REAL_EVENTS_BY_ID_UP_TO = 50_000
ROLLUP_PART_ROWS = 4_000_000
DAY_S = 86_400


# Rows per statement when numbers travel to SQLite as one JSON list.
HISTORY_CHUNK = 200_000


# SQLite page cache while every contact is rescored. Saving hundreds of thousands of scores
# inserts history rows all over the (contact, computed_at) index of a table of millions and
# moves as many entries of the score index: with the connection's usual 64 MiB most of those
# pages are re-read from the OS. Measured on 1M contacts (332k changes, while the score was
# still a column of the contact): saving 8.8–9.1 s with 64 MiB, 7.5 s with 256 MiB. The cache
# only grows as pages are used, and shrinks back after.
RESCORE_CACHE_KIB = 256 * 1024


def rescore(*, contact_ids: list[int] | None = None, as_of: datetime | None = None,
            progress: Progress = _quiet, always_record: bool = False, full: bool = False) -> dict:
    """Score contacts (all, or the given ones) with the active rules and model; return counts.

    Scoring every contact starts from the engagement rollup when one serves (same half-life,
    not older than ROLLUP_MAX_AGE, valued no later than `as_of`) and reads only the touches
    added since; `full=True`, or no usable rollup, reads every touch and rebuilds it.
    """
    run = partial(_rescore, contact_ids=contact_ids, as_of=as_of, progress=progress,
                  always_record=always_record, full=full)
    if contact_ids is None:
        with sqlite.pragmas(cache_size=-RESCORE_CACHE_KIB):
            return run()
    return run()


def _rescore(*, contact_ids: list[int] | None, as_of: datetime | None, progress: Progress,
             always_record: bool, full: bool) -> dict:
    as_of = as_of or timezone.now()
    as_of_s = int(as_of.timestamp())
    rules, rule_version = active_rules()
    half_life = rules.engagement.half_life_days
    whole_base = contact_ids is None
    model = selectors.active_model()
    # An active version always has its artifact (a database constraint), so the bytes are
    # not read just to check.
    model_usable = model is not None and not model.unavailable_reason
    read_columns = partial(selectors.contact_columns, rules=rules, contact_ids=contact_ids, created=model_usable)
    rollup = selectors.engagement_rollup() if whole_base and not full else None
    # A rollup stored before counts were kept is rebuilt too: its events would count once each.
    if rollup is not None and not (rollup.half_life_days == half_life and rollup.valued_s <= as_of_s
                                   and timezone.now() - rollup.built_at < ROLLUP_MAX_AGE
                                   and rollup.count is not None):
        rollup = None
    marks = selectors.event_watermarks() if whole_base else None
    if rollup is None:
        read_events = partial(selectors.engagement_events, contact_ids=contact_ids, until=marks)
        if whole_base:
            progress(0, 4, "Reading every contact and every touch")
            columns, raw_events = selectors.side_by_side(read_columns, read_events)
        else:
            progress(0, 4, "Reading contacts")
            columns = read_columns()
            progress(1, 4, "Reading their engagement")
            raw_events = read_events()
        fresh = raw_events
        leads, current = columns.leads, columns.score
        events = events_for(leads.contact_id, raw_events, as_of_s)
    else:
        progress(0, 4, "Reading contacts")
        columns = read_columns()
        leads, current = columns.leads, columns.score
        progress(1, 4, "Reading the engagement added since the last rescore")
        added = selectors.engagement_events(since=rollup.watermarks, until=marks)
        fresh = tuple(np.concatenate([old, new]) for old, new in zip(rollup.pending, added, strict=True))
        events = join_events(
            rollup_events(leads.contact_id, rollup.contact, rollup.kind, rollup.weight,
                          elapsed_days=(as_of_s - rollup.valued_s) / DAY_S, half_life_days=half_life,
                          count=rollup.count, latest_days=rollup.latest_days),
            events_for(leads.contact_id, fresh, as_of_s))
        raw_events = None
    # A rollup that nothing was added to stays as it is: rewriting it costs a full write.
    keep_rollup = rollup is not None and len(fresh[0]) == len(rollup.pending[0])
    progress(2, 4, f"Scoring {len(leads):,} contacts")
    scores = score_rules(rules, leads, events, explain=False)
    changed = np.flatnonzero((scores.total != current) | always_record)
    eager = len(changed) <= EXPLAIN_EAGERLY_UP_TO

    predicting = model_usable and len(changed)
    detail_events = events
    # The rollup's events carry counts and latest times, so they explain scores and feed the
    # model exactly, and the real touches are not read; only a model trained with another
    # half-life than the rules' needs them, for its rule-engagement feature.
    model_half_life = model.params["rules"]["engagement"]["half_life_days"] if predicting else half_life
    if raw_events is None and predicting and model_half_life != half_life:
        raw_events = selectors.engagement_events(
            contact_ids=leads.contact_id[changed].tolist()) if len(changed) <= REAL_EVENTS_BY_ID_UP_TO \
            else selectors.engagement_events(until=marks)
        detail_events = events_for(leads.contact_id, raw_events, as_of_s)
    if predicting and raw_events is None:
        # (contact, kind, epoch s, count, latest epoch s): each rolled-up event is dated at the
        # instant whose decay gives its weight, which is all the rule features read of it.
        with np.errstate(invalid="ignore"):
            raw_events = (leads.contact_id[events.row], events.kind, as_of_s - events.age_days * DAY_S,
                          events.counts(), as_of_s - np.rint(events.latest() * DAY_S).astype(np.int64))

    probability, model_parts, model_version = None, None, None
    if predicting:
        progress(2, 4, f"Predicting {len(changed):,} conversion probabilities")
        probability, model_parts = _predict(model, rules, columns, raw_events, changed, as_of_s,
                                            contact_ids=contact_ids, eager=eager)
        model_version = model.version
        note = None
    else:
        latest = PredictiveModelVersion.objects.only("unavailable_reason").first()
        note = latest.unavailable_reason if latest is not None and latest.unavailable_reason else NO_MODEL

    explanations = None
    if eager and len(changed):
        progress(3, 4, f"Explaining {len(changed):,} changed scores")
        explained, explained_leads = explain_rows(rules, leads, detail_events, changed)
        explanations = _with_model(explanation_json(explained, explained_leads, rule_version=rule_version),
                                   model_parts, note)
    progress(3, 4, f"Saving {len(changed):,} changed scores")
    moved = np.flatnonzero(scores.total != current)
    with ThreadPoolExecutor(1, thread_name_prefix="scoring-rollup") as pool:
        # The rollup is packed on another thread while the scores are written (SQLite lets go
        # of the GIL while it runs a statement): 0.5 s of a million contacts' save.
        new_rollup = pool.submit(
            _rollup_parts, leads.contact_id, events, fresh, as_of=as_of, half_life=half_life, watermarks=marks,
            built_at=rollup.built_at if rollup is not None else timezone.now(),
        ) if whole_base and not keep_rollup else None
        with _whole_base_save(whole_base), transaction.atomic():
            # `always_record` records unchanged scores too, but only moved ones are written back.
            _save_current_scores(leads.contact_id[moved], scores.total[moved],
                                 most=whole_base and len(moved) >= REBUILD_SCORE_INDEX_FROM
                                 and len(moved) > len(leads) * REBUILD_SCORE_INDEX_ABOVE)
            _insert_history(
                contact_ids=leads.contact_id[changed], total=scores.total[changed],
                fit=scores.fit[changed], engagement=scores.engagement[changed],
                probability=probability, model_version=model_version,
                rule_version=rule_version, explanations=explanations, computed_at=as_of,
            )
            if whole_base and (len(moved) or len(changed)):
                _forget_deleted_contacts(leads.contact_id)
            if new_rollup is not None:
                EngagementRollup.objects.all().delete()
                EngagementRollup.objects.bulk_create(new_rollup.result())
    progress(4, 4, "Done")
    return {"contacts": len(leads), "changed": len(changed), "rule_version": rule_version,
            "model_version": model_version, "read_every_touch": rollup is None}


# Checkpoints started by whole-base saves and not yet finished (see _whole_base_save).
_checkpoints: list[threading.Thread] = []


@contextlib.contextmanager
def _whole_base_save(whole_base: bool) -> Iterator[None]:
    """On SQLite, save a whole base's scores without per-row key checks, and checkpoint after.

    Foreign keys: each score and history row names a contact the rescore has just read, so
    the check (a search of the wide contact table per row) only ever catches a contact
    deleted since the read, and that cost 1.1 s of a million contacts' first scoring. The
    save looks for such contacts itself instead (`_forget_deleted_contacts`). The pragma only
    takes effect outside a transaction, so a caller's transaction keeps the checks.

    Checkpoint: the commit is durable once the WAL is synced; SQLite then copies the pages
    back into the database file (a checkpoint) in the committing connection, and a first
    scoring of a million contacts waited 0.8 s for 130 MB it did not need. With the
    connection's automatic checkpoint off for the save, a thread of its own runs it after
    the commit, as capture's group commit does (SQLite's WAL documentation suggests exactly
    this). Readers and writers carry on meanwhile; the thread is not a daemon, so a command
    exits only once it is done.
    """
    if not whole_base or connection.vendor != "sqlite" or connection.in_atomic_block:
        yield
        return
    with sqlite.pragmas(foreign_keys=0, wal_autocheckpoint=0):
        yield
    thread = threading.Thread(target=_checkpoint, name="scoring-checkpoint")
    _checkpoints.append(thread)
    thread.start()


def _checkpoint() -> None:
    # On this thread's own connection (Django's are per thread), closed when done.
    try:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
    except Exception:
        # Nothing is lost: the next commit past the threshold checkpoints instead.
        logger.exception("The checkpoint after a whole-base rescore failed.")
    finally:
        connections.close_all()
        _checkpoints.remove(threading.current_thread())


def wait_for_checkpoints() -> None:
    """Wait until the checkpoints started by whole-base saves are done (benchmarks, tests)."""
    for thread in list(_checkpoints):
        thread.join()


def _forget_deleted_contacts(read: np.ndarray) -> None:
    """Delete the scores just written for contacts that were deleted after `read` (sorted ids) was read.

    Ids only grow: if as many contacts remain up to the highest id read as were read, none
    of them went. Before, a merge or erasure during a whole-base rescore failed it at commit
    (the foreign key). On SQLite the save's transaction holds the write lock, so no contact
    goes while it looks; on PostgreSQL one deleted between this look and the commit still
    fails the rescore's commit, and the next run scores the rest.
    """
    if not len(read):
        return
    highest = int(read[-1])
    if selectors.count_contacts_up_to(highest) == len(read):
        return
    gone = np.setdiff1d(read, selectors.contact_ids_up_to(highest), assume_unique=True).tolist()
    for start in range(0, len(gone), 500):
        some = gone[start:start + 500]
        ContactScore.objects.filter(contact_id__in=some).delete()
        LeadScore.objects.filter(contact_id__in=some).delete()


def _rollup_parts(contact_id: np.ndarray, events, raw, *, as_of: datetime, half_life: float,
                  watermarks: tuple[int, int], built_at: datetime) -> list[EngagementRollup]:
    """Pack every contact's engagement weights as of `as_of`, and the touches still to come, for storing."""
    row, kind, weight, count, latest_days = rollup_weights(events, half_life)
    contact, pending_kind, occurred = raw
    # What events_for left out as not yet happened: kept, and counted once it has.
    later = occurred - int(as_of.timestamp()) >= 60
    contacts = contact_id[row]
    # Compact types keep the rollup small (a million contacts, 3.1M weights: 47 MB, was 65;
    # every byte is written twice, to the WAL and at the checkpoint): the latest touch is
    # stored to the second since 2000, counts in a byte when they fit, and the contact ids,
    # which ascend, as steps of a byte from the part's first id when they fit.
    arrays = {"kind": kind.astype(np.uint8), "weight": weight,
              "count": count.astype(np.uint8 if len(count) and count.max() < 256 else np.uint32),
              "latest_s": (int(as_of.timestamp()) - selectors.EPOCH_2000 - np.rint(latest_days * DAY_S)).astype(np.uint32)}
    pending = {"pending_contact": contact[later], "pending_kind": pending_kind[later].astype(np.uint8),
               "pending_s": occurred[later]}
    parts = []
    for number, start in enumerate(range(0, max(len(row), 1), ROLLUP_PART_ROWS)):
        buffer = io.BytesIO()
        np.savez(buffer, **{name: values[start:start + ROLLUP_PART_ROWS] for name, values in arrays.items()},
                 **packed_ids(contacts[start:start + ROLLUP_PART_ROWS]),
                 **(pending if number == 0 else {name: values[:0] for name, values in pending.items()}))
        parts.append(EngagementRollup(part=number, valued_at=as_of, built_at=built_at, half_life_days=half_life,
                                      touchpoint_watermark=watermarks[0], activity_watermark=watermarks[1],
                                      data=buffer.getvalue()))
    return parts


def score_contact(*, contact: Contact, as_of: datetime | None = None) -> LeadScore:
    """Score one contact now and record the score with its explanation, changed or not."""
    rescore(contact_ids=[contact.pk], as_of=as_of, always_record=True)
    # A current score read before (select_related) would be stale now: drop it from the
    # instance's relation cache, through the relation's own cache API.
    cached = Contact.current_score.related
    if cached.is_cached(contact):
        cached.delete_cached_value(contact)
    return selectors.latest_score(contact_id=contact.pk)


# When at least REBUILD_SCORE_INDEX_FROM scores move and they are more than this share of
# all contacts' (new rules over a large base),
# SQLite drops the sort index for the upsert and builds it again after, in the same
# transaction (readers keep seeing the old index until the commit): one sort of every entry
# instead of moving each one. Measured on 807k moves of 1M: 1.6 s of CPU instead of 1.9.
REBUILD_SCORE_INDEX_ABOVE = 0.25
REBUILD_SCORE_INDEX_FROM = 100_000


def _save_current_scores(contact_ids: np.ndarray, totals: np.ndarray, *, most: bool = False) -> None:
    """Write the new totals to ContactScore: insert a contact's first score, update the others.

    One upsert per chunk, its rows in contact id order, so each page of the narrow table and
    each stretch of its index is visited once. Updating the same scores on the contact row
    rewrote nearly every page of that wide table: 5 s for 807k changes of 1M contacts.
    Scores are 0..100 (10 bits kept); the id and the score travel as one integer. `most`:
    these are most of the contacts' scores (see REBUILD_SCORE_INDEX_ABOVE).
    """
    if not len(contact_ids):
        return
    table = ContactScore._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"INSERT INTO {table} (contact_id, total) SELECT * FROM unnest(%s::bigint[], %s::int[]) "  # noqa: S608
                "ON CONFLICT (contact_id) DO UPDATE SET total = EXCLUDED.total",
                [contact_ids.tolist(), totals.tolist()],
            )
            return
        packed = (contact_ids.astype(np.int64) << 10) | totals
        rebuild = None
        if most:
            cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s "
                           "AND sql IS NOT NULL", [table])
            rebuild = cursor.fetchall()
            for name, _ in rebuild:
                cursor.execute(f'DROP INDEX "{name}"')
        # `WHERE true` tells SQLite's parser the ON CONFLICT belongs to the INSERT, not a join.
        for (numbers,) in _built_ahead(lambda start: (_json_list(packed[start:start + HISTORY_CHUNK]),),
                                       range(0, len(packed), HISTORY_CHUNK)):
            cursor.execute(
                f"INSERT INTO {table} (contact_id, total) SELECT value >> 10, value & 1023 "  # noqa: S608
                "FROM json_each(%s) WHERE true ON CONFLICT (contact_id) DO UPDATE SET total = excluded.total",
                [numbers])
        for _, sql in rebuild or ():
            cursor.execute(sql)


def _json_list(values: np.ndarray) -> str:
    return "[" + ",".join(map(str, values.tolist())) + "]"


def _insert_history(*, contact_ids, total, fit, engagement, probability, model_version, rule_version,
                    explanations: list[str] | None, computed_at: datetime) -> None:
    """Append LeadScore rows under a new ScoreRun: one statement per chunk of numbers, or per row with explanations.

    Without explanations each row is one integer (contact id, total, fit and engagement
    packed) in a JSON array that SQLite unpacks in C (PostgreSQL: arrays and unnest), which
    is several times faster than binding seven parameters per row.
    """
    if len(contact_ids) == 0:
        return
    run = ScoreRun.objects.create(computed_at=computed_at, rule_version=rule_version, model_version=model_version)
    table = LeadScore._meta.db_table
    columns = "contact_id, total, fit, engagement, predicted_probability, explanation, run_id"
    pg = connection.vendor == "postgresql"
    probabilities = probability.tolist() if probability is not None else [None] * len(contact_ids)
    with connection.cursor() as cursor:
        if explanations is not None:
            cast = "%s::jsonb" if pg else "%s"
            rows = zip(contact_ids.tolist(), total.tolist(), fit.tolist(), engagement.tolist(), probabilities,
                       explanations, [run.pk] * len(contact_ids), strict=True)
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES (%s, %s, %s, %s, %s, {cast}, %s)",  # noqa: S608
                               list(rows))
            return
        # Points are −100..100: offset by 128 into a byte each.
        packed = (contact_ids.astype(np.int64) << 24) | ((total + 128) << 16) | ((fit + 128) << 8) | (engagement + 128)
        chunks = range(0, len(packed), HISTORY_CHUNK)
        if pg:
            for start in chunks:
                cursor.execute(
                    f"INSERT INTO {table} ({columns}) SELECT p >> 24, ((p >> 16) & 255) - 128, "  # noqa: S608
                    "((p >> 8) & 255) - 128, (p & 255) - 128, q, '{}'::jsonb, %s "
                    "FROM unnest(%s::bigint[], %s::float8[]) AS u(p, q)",
                    [run.pk, packed[start:start + HISTORY_CHUNK].tolist(), probabilities[start:start + HISTORY_CHUNK]],
                )
            return

        def texts(start: int) -> tuple[str, str | None]:
            numbers = _json_list(packed[start:start + HISTORY_CHUNK])
            if probability is None:
                return numbers, None
            return numbers, "[" + ",".join(map(repr, probabilities[start:start + HISTORY_CHUNK])) + "]"

        if probability is not None:
            # SQLite cannot walk two lists side by side: the probabilities go into a temporary
            # table keyed by position, which the numbers join. A list of [packed, probability]
            # pairs read with json_extract cost 30 % more CPU.
            cursor.execute("CREATE TEMP TABLE scoring_new_chance (position INTEGER PRIMARY KEY, q REAL)")
        for numbers, chances in _built_ahead(texts, chunks):
            if chances is None:
                cursor.execute(
                    f"INSERT INTO {table} ({columns}) SELECT value >> 24, ((value >> 16) & 255) - 128, "  # noqa: S608
                    "((value >> 8) & 255) - 128, (value & 255) - 128, NULL, '{}', %s "
                    "FROM json_each(%s)",
                    [run.pk, numbers],
                )
                continue
            cursor.execute("DELETE FROM temp.scoring_new_chance")
            cursor.execute("INSERT INTO temp.scoring_new_chance SELECT key, value FROM json_each(%s)", [chances])
            cursor.execute(
                f"INSERT INTO {table} ({columns}) SELECT j.value >> 24, ((j.value >> 16) & 255) - 128, "  # noqa: S608
                "((j.value >> 8) & 255) - 128, (j.value & 255) - 128, c.q, '{}', %s "
                "FROM json_each(%s) AS j JOIN temp.scoring_new_chance AS c ON c.position = j.key",
                [run.pk, numbers],
            )
        if probability is not None:
            cursor.execute("DROP TABLE temp.scoring_new_chance")


def _built_ahead(build: Callable[[int], tuple], starts: range) -> Iterator[tuple]:
    """Yield build(start) for each start, building the next chunks on another thread.

    Writing a million numbers as JSON text holds the GIL (a second per million
    probabilities); SQLite lets go of it while it runs a statement, so the two overlap.
    """
    if len(starts) < 2:
        yield from map(build, starts)
        return
    with ThreadPoolExecutor(1, thread_name_prefix="scoring-json") as pool:
        yield from pool.map(build, starts)


def _with_model(explanations: list[str], parts: list[str] | None, note: str | None) -> list[str]:
    if parts is None:
        tail = f',"predictive":{json.dumps(note, ensure_ascii=False)}}}'
        return [text[:-1] + tail for text in explanations]
    return [text[:-1] + ',"predictive":' + part + "}" for text, part in zip(explanations, parts, strict=True)]


# -- predictive ---------------------------------------------------------------------------


PREDICT_CHUNK = 250_000
# Slices of a bulk prediction in flight at once, one thread each. Splitting each tree's pass
# over two OpenMP threads instead left the features, a third of the work, on one core, and
# its waiting threads spin on a busy machine (predictive.Config.threads).
BULK_THREADS = 2


def _predict(model: PredictiveModelVersion, rules: RulesDocument, columns: selectors.ContactColumns, raw_events,
             rows: np.ndarray, as_of_s: int, *, contact_ids: list[int] | None,
             eager: bool) -> tuple[np.ndarray, list[str] | None]:
    """Predict the chosen rows' conversion probability as of now, with worded factors when eager."""
    trained_rules = RulesDocument.model_validate(model.params["rules"])
    # The lead columns depend on the rules only through title and email-domain matches:
    # when those are the model's, the columns already read serve as they are.
    same = (trained_rules.fit.title_keywords == rules.fit.title_keywords
            and trained_rules.fit.email_domains == rules.fit.email_domains)
    leads = columns.leads
    history = selectors.load_history(rules=trained_rules, contact_ids=contact_ids,
                                     columns=columns if same else None, events=raw_events)
    # History rows follow contact id order, as `leads` does, so `rows` map by position.
    positions = rows if same else np.searchsorted(history.leads.contact_id, leads.contact_id[rows])
    estimator = predictive.estimator_for(model)
    if not eager:
        # In slices, so the feature matrices stay a few hundred megabytes at most whatever the
        # contact base, each computed and predicted on one thread, BULK_THREADS slices at a
        # time: numpy and the trees let go of the GIL, so computing one slice's features
        # overlaps predicting another's. The slices are equal and as many as the threads, or
        # a multiple: 200,000 rows are two slices of 100,000, so neither thread waits alone.
        slices = max(BULK_THREADS, BULK_THREADS * -(-len(rows) // (BULK_THREADS * PREDICT_CHUNK)))
        size = max(1, -(-len(rows) // slices))

        def one_slice(start: int) -> np.ndarray:
            part = positions[start:start + size]
            X, _ = predictive.features_as_of(history, part, np.full(len(part), as_of_s), trained_rules)
            return predictive.predict(estimator, X, threads=1)

        with ThreadPoolExecutor(BULK_THREADS, thread_name_prefix="scoring-predict") as pool:
            parts = list(pool.map(one_slice, range(0, len(rows), size)))
        return (np.concatenate(parts) if parts else np.zeros(0)), None
    X, _ = predictive.features_as_of(history, positions, np.full(len(rows), as_of_s), trained_rules)
    probability = predictive.predict(estimator, X)
    factors = predictive.explain(estimator, X, probability, baseline=np.array(model.params["baseline"], dtype=float),
                                 names=model.features)
    return probability, [json.dumps({"model_version": model.version, **item}, ensure_ascii=False)
                         for item in factors]


def train_model(*, by=None, as_of: datetime | None = None, config: predictive.Config | None = None,
                progress: Progress = _quiet, activate: bool = True) -> PredictiveModelVersion:
    """Train a model on the history, store its card and, when it is usable, make it active.

    With too little history the stored version carries the reason instead of a model,
    and rule scores stay in charge.
    """
    if by is not None:
        require(by, Action.EDIT_SCORING)
    config = config or predictive.Config()
    as_of = as_of or timezone.now()
    rules, _ = active_rules()
    progress(0, 4, "Reading the history")
    history = selectors.load_history(rules=rules)
    progress(1, 4, "Computing features as of each snapshot")
    data = predictive.training_set(history, rules, config, as_of_s=int(as_of.timestamp()))
    progress(2, 4, f"Training on {len(data.y):,} snapshots")
    params = {"rules": rules.model_dump(mode="json"), "horizon_days": config.horizon_days,
              "snapshot_ages_days": list(config.snapshot_ages_days),
              "rejection_weight": config.rejection_weight, "method": config.method,
              "outcome": config.label, "outcome_code": config.outcome}
    try:
        trained = predictive.train(data, config)
    except predictive.NotEnoughHistory as reason:
        trained, unavailable = None, str(reason)
    else:
        unavailable = ""
    progress(3, 4, "Saving the model card")

    def moment(seconds: int | None) -> datetime | None:
        return datetime.fromtimestamp(seconds, UTC) if seconds is not None else None

    card = trained.card if trained else {}
    if trained is not None:
        params["trees"] = card["trees"]
        params["baseline"] = [None if v != v else float(v) for v in trained.baseline.tolist()]
    with transaction.atomic():
        latest = PredictiveModelVersion.objects.select_for_update().aggregate(top=Max("version"))["top"] or 0
        if activate and trained is not None:
            PredictiveModelVersion.objects.filter(is_active=True).update(is_active=False)
        version = PredictiveModelVersion.objects.create(
            version=latest + 1, trained_at=timezone.now(), trained_by=by,
            outcome=params["outcome"], horizon_days=config.horizon_days,
            train_start=moment(card.get("train_start")), train_end=moment(card.get("train_end")),
            eval_start=moment(card.get("eval_start")), eval_end=moment(card.get("eval_end")),
            train_size=card.get("train_size", len(data.y)), eval_size=card.get("eval_size", 0),
            positive_rate=card.get("positive_rate", float(data.y.mean()) if len(data.y) else None),
            roc_auc=card.get("roc_auc"), pr_auc=card.get("pr_auc"), brier=card.get("brier"),
            rules_roc_auc=card.get("rules_roc_auc"), rules_pr_auc=card.get("rules_pr_auc"),
            lift_by_decile=card.get("lift_by_decile", []),
            rules_lift_by_decile=card.get("rules_lift_by_decile", []),
            calibration=card.get("calibration", {}), features=data.names, params=params,
            artifact=predictive.dumps(trained.model) if trained else None,
            unavailable_reason=unavailable[:500], is_active=bool(activate and trained is not None),
        )
    progress(4, 4, unavailable or f"Model v{version.version}: ROC AUC {version.roc_auc}")
    return version


@transaction.atomic
def activate_model(*, version: int, by=None) -> PredictiveModelVersion:
    """Make a stored model version the active one (a rollback is activating an older one)."""
    if by is not None:
        require(by, Action.EDIT_SCORING)
    chosen = PredictiveModelVersion.objects.select_for_update().defer("artifact").get(version=version)
    if chosen.unavailable_reason or not PredictiveModelVersion.objects.filter(
        pk=chosen.pk, artifact__isnull=False
    ).exists():
        raise ValueError(f"model v{version} cannot be activated: {chosen.unavailable_reason or 'no model'}")
    PredictiveModelVersion.objects.filter(is_active=True).exclude(pk=chosen.pk).update(is_active=False)
    PredictiveModelVersion.objects.filter(pk=chosen.pk).update(is_active=True)
    chosen.is_active = True
    return chosen


# -- background jobs ----------------------------------------------------------------------


def _reporter(progress: ProgressReporter) -> Progress:
    def report(done: int, total: int, message: str) -> None:
        progress.update(done=done, total=total, message=message, force=done in (0, total))
    return report


def start_training(*, user, outcome: str = "sql", horizon_days: int = 90) -> Job:
    """Queue a training run for an outcome (a predictive.OUTCOMES code) within `horizon_days`.

    Raises ValueError naming the field when the outcome or horizon is not allowed; the job
    reports progress and the new model's version.
    """
    require(user, Action.EDIT_SCORING)
    predictive.Config(outcome=outcome, horizon_days=horizon_days)
    from accord.scoring.tasks import train_predictive_model

    with transaction.atomic():
        job = create_job(kind="scoring.train", title=f"Train the predictive lead score: "
                         f"{predictive.OUTCOMES[outcome]} within {horizon_days} days", created_by=user,
                         params={"outcome": outcome, "horizon_days": horizon_days})
        transaction.on_commit(partial(train_predictive_model.enqueue, job_id=job.pk))
    return job


def start_rescore(*, user) -> Job:
    """Queue a rescore of every contact with the active rules and model."""
    require(user, Action.EDIT_SCORING)
    from accord.scoring.tasks import rescore_contacts

    with transaction.atomic():
        job = create_job(kind="scoring.rescore", title="Rescore every contact", created_by=user)
        transaction.on_commit(partial(rescore_contacts.enqueue, job_id=job.pk))
    return job


def run_training_job(job: Job, progress: ProgressReporter) -> dict:
    config = predictive.Config(outcome=job.params.get("outcome", "sql"),
                               horizon_days=job.params.get("horizon_days", 90))
    version = train_model(by=job.created_by, config=config, progress=_reporter(progress))
    return {"version": version.version, "active": version.is_active, "roc_auc": version.roc_auc,
            "unavailable": version.unavailable_reason}


def run_rescore_job(job: Job, progress: ProgressReporter) -> dict:
    return rescore(progress=_reporter(progress))


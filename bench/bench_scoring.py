"""Benchmark lead scoring: rules rescore, model training and model scoring, on synthetic rows.

    .venv/bin/python bench/bench_scoring.py [--contacts 1000000] [--train-contacts 200000]
        [--database-url postgresql://…] [--reuse DIR]

Builds a fresh SQLite database in a temporary folder (or migrates the empty PostgreSQL
database given) with bulk INSERTs (setup is not timed), then prints each run's wall and
process CPU time with the load average, since wall figures mean little on a machine busy
with other work, and under it the split by step (reading contacts, engagement, scoring,
predicting, saving). `--reuse DIR` scores an earlier run's database again (generating
1M contacts takes minutes). Contacts get 3 touchpoints and 0.5 activities on average,
and lifecycle history whose conversion depends on seniority, industry and webinars.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta

import numpy as np

DAY = 86_400
AS_OF = datetime(2026, 6, 1, tzinfo=UTC)
START = int(AS_OF.timestamp()) - 540 * DAY


def text_times(seconds: np.ndarray) -> list[str]:
    stamps = np.datetime_as_string(seconds.astype("datetime64[s]"))
    return np.char.replace(stamps, "T", " ").tolist()


def insert(cursor, table: str, columns: dict[str, list]) -> None:
    names = list(columns)
    sql = f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join(['%s'] * len(names))})"
    rows = list(zip(*columns.values(), strict=True))
    for start in range(0, len(rows), 50_000):
        cursor.executemany(sql, rows[start:start + 50_000])


def synthesise(first_id: int, n: int, seed: int) -> None:
    from django.db import connection, transaction

    from accord.scoring.rules import INDUSTRIES, SENIORITIES, SIZE_BANDS, TOUCHPOINT_KINDS

    rng = np.random.default_rng(seed)
    ids = np.arange(first_id, first_id + n)
    n_accounts = max(1, n // 5)
    account_ids = np.arange(first_id, first_id + n_accounts)
    industry = rng.integers(0, 11, n_accounts)
    size = rng.integers(0, 6, n_accounts)
    seniority = rng.integers(0, 6, n)
    account = account_ids[rng.integers(0, n_accounts, n)]
    created = START + np.sort(rng.integers(0, 520 * DAY, n))
    now = text_times(np.full(n, int(AS_OF.timestamp())))
    k = 3
    touches = rng.poisson(k, n)
    owner = np.repeat(np.arange(n), touches)
    when = created[owner] + (rng.random(len(owner)) ** 2 * 200 * DAY).astype(np.int64)
    when = np.minimum(when, int(AS_OF.timestamp()) - 60)
    kind = np.array(TOUCHPOINT_KINDS)[rng.integers(0, len(TOUCHPOINT_KINDS), len(owner))]
    webinar = np.zeros(n, bool)
    webinar[owner[(kind == "webinar_attend") & (when < created[owner] + 10 * DAY)]] = True
    logit = (-4.0 + 0.7 * (seniority <= 2) + 0.5 * np.isin(industry[account - first_id], [0, 1])
             + 1.2 * webinar + 0.4 * (size[account - first_id] == 2))
    converts = rng.random(n) < 1 / (1 + np.exp(-logit))
    sql_at = created + rng.integers(5, 80, n) * DAY
    converts &= sql_at < int(AS_OF.timestamp())
    acts = rng.poisson(0.5, n)
    act_owner = np.repeat(np.arange(n), acts)
    act_when = np.minimum(created[act_owner] + rng.integers(1, 30 * DAY, len(act_owner)),
                          int(AS_OF.timestamp()) - 60)
    with transaction.atomic(), connection.cursor() as cursor:
        insert(cursor, "capture_account", {
            "id": account_ids.tolist(), "name": [f"Company {i}" for i in account_ids.tolist()],
            "domain": [f"c{i}.example" for i in account_ids.tolist()],
            "industry": np.array(INDUSTRIES)[industry].tolist(), "size_band": np.array(SIZE_BANDS)[size].tolist(),
            "region": ["na"] * n_accounts, "country": ["US"] * n_accounts, "segment": ["b2b"] * n_accounts,
            "trade_channel": ["direct"] * n_accounts, "presence": ["online"] * n_accounts, "external_id": [""] * n_accounts,
            "created_at": now[:n_accounts], "updated_at": now[:n_accounts]})
        insert(cursor, "capture_contact", {
            "id": ids.tolist(), "email": [f"p{i}@c{a}.example" for i, a in zip(ids.tolist(), account.tolist(), strict=True)],
            "first_name": ["A"] * n, "last_name": ["B"] * n, "phone": [""] * n,
            "title": np.where(seniority == 2, "Director of Marketing", "Analyst").tolist(),
            "seniority": np.array(SENIORITIES)[seniority].tolist(), "account_id": account.tolist(),
            "lifecycle_stage": ["lead"] * n, "lead_source": ["paid_search"] * n, "country": ["US"] * n,
            "region": ["na"] * n, "external_id": [""] * n,
            "created_at": text_times(created), "updated_at": now})
        insert(cursor, "capture_touchpoint", {
            "contact_id": ids[owner].tolist(), "anonymous_id": [""] * len(owner), "channel": ["direct"] * len(owner),
            "kind": kind.tolist(), "occurred_at": text_times(when), "utm_source": [""] * len(owner),
            "utm_medium": [""] * len(owner), "utm_campaign": [""] * len(owner), "utm_term": [""] * len(owner),
            "utm_content": [""] * len(owner), "url": [""] * len(owner), "referrer": [""] * len(owner),
            "external_id": [""] * len(owner), "created_at": text_times(when)})
        insert(cursor, "lifecycle_activity", {
            "contact_id": ids[act_owner].tolist(), "kind": ["call"] * len(act_owner), "outcome": [""] * len(act_owner),
            "subject": [""] * len(act_owner), "body": [""] * len(act_owner), "occurred_at": text_times(act_when)})
        sql_rows = np.flatnonzero(converts)
        insert(cursor, "lifecycle_stagetransition", {
            "contact_id": np.r_[ids, ids[sql_rows]].tolist(),
            "from_stage": [""] * n + ["sal"] * len(sql_rows),
            "to_stage": ["lead"] * n + ["sql"] * len(sql_rows),
            "occurred_at": text_times(np.r_[created, sql_at[sql_rows]]),
            "by_rule": [""] * (n + len(sql_rows)), "reason": [""] * (n + len(sql_rows))})


PHASES: list[tuple[float, float, str]] = []


def phase(done: int, total: int, message: str) -> None:
    """Note when each step of a rescore starts (its progress callback), for the split printed after it."""
    PHASES.append((time.perf_counter(), time.process_time(), message))


def timed(label: str, work):
    # CPU time beside wall time: on a shared machine the wall clock mostly measures the queue
    # for a core. SQLite runs in this process, so its work is in the CPU figure; PostgreSQL's is not.
    PHASES.clear()
    started, cpu = time.perf_counter(), time.process_time()
    result = work()
    ended, ended_cpu = time.perf_counter(), time.process_time()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"{label:<62} {ended - started:7.1f} s  cpu {ended_cpu - cpu:6.1f} s"
          f"   load {load}   {result}", flush=True)
    # A whole-base save leaves SQLite's checkpoint to a thread once it has committed: the
    # run is done and durable, but the next one is only timed once the copy is over.
    from accord.scoring import services

    services.wait_for_checkpoints()
    if (tail := time.perf_counter() - ended) >= 0.05:
        print(f"    (then the WAL checkpoint in the background, {tail:.1f} s; not part of the run)", flush=True)
    steps = [(started, cpu, "(before the first step)"), *PHASES, (ended, ended_cpu, "")] if PHASES else []
    for (wall, clock, message), (next_wall, next_clock, _) in itertools.pairwise(steps):
        if next_wall - wall >= 0.05:
            print(f"    {message[:56]:<58} {next_wall - wall:7.1f} s  cpu {next_clock - clock:6.1f} s", flush=True)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--train-contacts", type=int, default=200_000)
    parser.add_argument("--reuse", metavar="DIR", help="time the scoring runs on an earlier run's database")
    parser.add_argument("--database-url", help="an empty PostgreSQL database instead of a new SQLite one")
    args = parser.parse_args()
    folder = args.reuse or tempfile.mkdtemp(prefix="accord-bench-scoring-")
    os.environ["ACCORD_DATA_DIR"] = folder
    if args.database_url:
        os.environ["ACCORD_DATABASE_URL"] = args.database_url
        os.environ.setdefault("ACCORD_SECRET_KEY", "bench")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "accord.config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from accord.scoring import services

    call_command("migrate", interactive=False, verbosity=0)
    print(f"PostgreSQL at {args.database_url}" if args.database_url else f"SQLite database in {folder}", flush=True)
    if args.reuse:
        return score_runs(args.contacts)
    timed(f"setup: synthesise {args.train_contacts:,} contacts (not a target)",
          lambda: synthesise(1, args.train_contacts, seed=1))
    version = timed(f"train on {args.train_contacts:,} leads (target < 60 s)",
                    lambda: services.train_model(as_of=AS_OF))
    print(f"  model v{version.version}: ROC AUC {version.roc_auc} (rules {version.rules_roc_auc}), "
          f"{version.train_size:,} training snapshots, {version.unavailable_reason}")
    rest = args.contacts - args.train_contacts
    if rest > 0:
        timed(f"setup: synthesise {rest:,} more contacts (not a target)",
              lambda: synthesise(args.train_contacts + 1, rest, seed=2))
    return score_runs(args.contacts)


def score_runs(contacts: int) -> int:
    from accord.scoring import services
    from accord.scoring.models import (
        ContactScore,
        EngagementRollup,
        LeadScore,
        PredictiveModelVersion,
    )

    model = PredictiveModelVersion.objects.filter(artifact__isnull=False).order_by("-version").first()
    PredictiveModelVersion.objects.filter(is_active=True).update(is_active=False)
    ContactScore.objects.all().delete()
    LeadScore.objects.all().delete()
    EngagementRollup.objects.all().delete()
    # The shipped rules, published again, so a reused database starts where a fresh one does
    # and the rules change below changes something.
    source = services.DEFAULT_RULES.read_text(encoding="utf-8")
    services.publish_rule_set(source=source)
    timed(f"rules: rescore {contacts:,} leads, every score new, every touch read",
          lambda: services.rescore(as_of=AS_OF, progress=phase))
    timed(f"rules: nightly rescore of {contacts:,} leads, nothing new (target < 10 s)",
          lambda: services.rescore(as_of=AS_OF, progress=phase))
    timed(f"rules: nightly rescore of {contacts:,} leads a day later (decay)",
          lambda: services.rescore(as_of=AS_OF + timedelta(days=1), progress=phase))
    services.publish_rule_set(source=source.replace("vp: 12", "vp: 14").replace("director: 10", "director: 11"))
    timed(f"rules: new rules version, {contacts:,} leads (target < 10 s)",
          lambda: services.rescore(as_of=AS_OF + timedelta(days=1), progress=phase))
    # Every synthetic contact is in North America: a new weight for the region moves nearly
    # every score, from the rollup (the first scoring above also reads every touch).
    services.publish_rule_set(source=source.replace("vp: 12", "vp: 14").replace("director: 10", "director: 11")
                              .replace("    na: 2\n", "    na: 5\n"))
    timed(f"rules: new rules version moving nearly every score, {contacts:,} leads (target < 10 s)",
          lambda: services.rescore(as_of=AS_OF + timedelta(days=1), progress=phase))
    timed(f"rules: rescore {contacts:,} leads reading every touch (weekly rebuild)",
          lambda: services.rescore(as_of=AS_OF + timedelta(days=1), full=True, progress=phase))
    if model is not None:
        services.activate_model(version=model.version)
        timed(f"model: score {contacts:,} leads (target < 20 s)",
              lambda: services.rescore(as_of=AS_OF + timedelta(days=1), always_record=True, progress=phase))
    return 0


if __name__ == "__main__":
    sys.exit(main())

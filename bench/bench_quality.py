"""Benchmark the closed loop: the lead-quality report, its drill-down, one verdict, and the rollup rebuild.

    .venv/bin/python bench/bench_quality.py [--contacts 200000] [--mql-share 0.2] [--verdicts 200]

Builds a fresh SQLite database with the scoring benchmark's bulk synthesiser (not timed), spreads
the contacts over 60 campaigns, hands a share of them over to sales (MQL transitions over 18
months) with a verdict on 85% of those (bulk rows, as the demo writes them), then times:
`accord feedback rebuild` (every feedback row's handover and origin, and the rollup), the report
for the last 90 days by each dimension (marketing: the rollup only), the first page of a
campaign's rejections, and `record_feedback` one verdict at a time (with the rollup upsert).
Prints medians and p99 with the load average, and the query plan of the drill-down.
"""

from __future__ import annotations

import argparse
import atexit
import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_scoring import AS_OF, DAY, insert, synthesise, text_times, timed

REASONS = ["bad_data", "not_decision_maker", "no_budget", "no_need", "competitor", "student", "bad_timing"]


def load_history(n: int, share: float, seed: int) -> tuple[int, list[int]]:
    """Hand a share of the contacts over and give 85% of those a verdict; return (MQLs, rep ids)."""
    from django.db import connection, transaction

    from accord.accounts.models import User
    from accord.capture.models import Campaign
    from accord.core.permissions import Role

    rng = np.random.default_rng(seed)
    campaigns = [Campaign.objects.create(name=f"Campaign {i}", channel=("webinar", "paid_search", "email")[i % 3],
                                         kind="ads", start_date=AS_OF.date(), utm_campaign=f"c{i}").pk
                 for i in range(60)]
    reps = [User.objects.create(username=f"rep{i}", role=Role.SALES_REP).pk for i in range(20)]
    ids = np.arange(1, n + 1)
    handed = np.sort(rng.choice(ids, int(n * share), replace=False))
    at = int(AS_OF.timestamp()) - rng.integers(0, 540 * DAY, len(handed))
    decided = rng.random(len(handed)) < 0.85
    accept = rng.random(len(handed)) < 0.6
    reason = np.array(REASONS)[rng.integers(0, len(REASONS), len(handed))]
    with transaction.atomic(), connection.cursor() as cursor:
        campaign_of = np.array(campaigns)[rng.integers(0, len(campaigns), n)]
        for start in range(0, n, 50_000):
            cursor.executemany("UPDATE capture_contact SET original_campaign_id = %s WHERE id = %s",
                               list(zip(campaign_of[start:start + 50_000].tolist(),
                                        ids[start:start + 50_000].tolist(), strict=True)))
        insert(cursor, "lifecycle_stagetransition", {
            "contact_id": handed.tolist(), "from_stage": ["lead"] * len(handed), "to_stage": ["mql"] * len(handed),
            "occurred_at": text_times(at), "by_rule": ["score_threshold"] * len(handed), "reason": [""] * len(handed)})
        rows = np.flatnonzero(decided)
        insert(cursor, "lifecycle_leadfeedback", {
            "contact_id": handed[rows].tolist(), "by_user_id": np.array(reps)[rows % len(reps)].tolist(),
            "decision": np.where(accept[rows], "accept", "reject").tolist(),
            "reason": np.where(accept[rows], "", reason[rows]).tolist(), "note": ["Bench note"] * len(rows),
            "created_at": text_times(at[rows] + 3600), "channel": [""] * len(rows), "source": [""] * len(rows),
            "content": [""] * len(rows), "is_current": [True] * len(rows)})
    return len(handed), reps


def summary(values: list[float]) -> str:
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return f"p50 {statistics.median(values):.1f} ms   p99 {p99:.1f} ms"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=200_000)
    parser.add_argument("--mql-share", type=float, default=0.2)
    parser.add_argument("--verdicts", type=int, default=200, help="verdicts timed one by one")
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="accord-bench-quality-")
    atexit.register(shutil.rmtree, folder, True)
    os.environ["ACCORD_DATA_DIR"] = folder
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "accord.config.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from accord.accounts.models import User
    from accord.analytics import quality
    from accord.capture.models import Contact
    from accord.core.permissions import Role
    from accord.core.vocabulary import LifecycleStage as S
    from accord.lifecycle import domain
    from accord.lifecycle import services as lifecycle
    from accord.lifecycle.models import FeedbackDaily, LeadFeedback
    from accord.sla import services as sla

    call_command("migrate", interactive=False, verbosity=0)
    print(f"SQLite database in {folder}", flush=True)
    timed(f"setup: synthesise {args.contacts:,} contacts (not a target)", lambda: synthesise(1, args.contacts, seed=1))
    handed, reps = timed("setup: handovers and verdicts in bulk (not a target)",
                         lambda: load_history(args.contacts, args.mql_share, seed=2))
    result = timed(f"accord feedback rebuild ({handed:,} handovers, {LeadFeedback.objects.count():,} verdicts)",
                   lambda: lifecycle.rebuild_feedback_rollup())
    print(f"  rollup rows: {FeedbackDaily.objects.count():,} ({result})")

    marketer = User.objects.create(username="marketer", role=Role.MARKETING)
    sla.sla_in_force()
    end = AS_OF.date()
    start = end - timedelta(days=89)
    for dimension in quality.DIMENSIONS:
        durations = []
        for _ in range(20):
            began = time.perf_counter()
            with CaptureQueriesContext(connection) as queries:
                report = quality.lead_quality(user=marketer, dimension=dimension, start=start, end=end)
            durations.append((time.perf_counter() - began) * 1000)
        print(f"report by {dimension:<8} 90 days: {len(report.rows)} rows, {report.total.handed_over:,} handed over, "
              f"{len(queries)} queries   {summary(durations)}", flush=True)
    campaign = report and LeadFeedback.objects.exclude(campaign=None).values_list("campaign_id", flat=True).first()
    durations = []
    for _ in range(20):
        began = time.perf_counter()
        rows = list(quality.feedback_list(user=marketer, start=start, end=end, dimension="campaign",
                                          value=str(campaign), decision="reject")[:25])
        durations.append((time.perf_counter() - began) * 1000)
    print(f"drill-down: first 25 of a campaign's rejections ({len(rows)} shown)   {summary(durations)}")
    sql, params = quality.feedback_list(user=marketer, start=start, end=end, dimension="campaign",
                                        value=str(campaign), decision="reject")[:25].query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        print("  plan: " + " | ".join(row[-1] for row in cursor.fetchall()))

    pending = list(Contact.objects.filter(stage_transitions__to_stage=S.MQL, feedback__isnull=True)
                   .values_list("pk", flat=True)[:args.verdicts])
    rep = User.objects.get(pk=reps[0])
    durations = []
    for n, pk in enumerate(pending):
        contact = Contact(pk=pk)
        began = time.perf_counter()
        lifecycle.record_feedback(contact=contact, by=rep, decision="reject" if n % 2 else "accept",
                                  reason="no_budget" if n % 2 else "")
        durations.append((time.perf_counter() - began) * 1000)
    print(f"record_feedback with origin and rollup upsert: {len(durations)} verdicts   {summary(durations)}")
    began = time.perf_counter()
    lifecycle.change_stages_by_rule(contact_ids=list(range(args.contacts - 5_000 + 1, args.contacts + 1)),
                                    to_stage=S.MQL, rule=domain.SCORE_THRESHOLD)
    print(f"5,000 handovers in one batch (change_stages_by_rule, counted into the rollup): "
          f"{(time.perf_counter() - began):.2f} s")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

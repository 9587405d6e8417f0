"""Reads for scoring: the active rules and model, score history, and columnar lead data.

Scoring a million contacts cannot afford a Python object per value, so the columnar
readers ask the database to join each chunk of rows into one comma-separated string
(group_concat on SQLite, string_agg on PostgreSQL) that numpy parses in C.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime

import numpy as np
from django.db import connection

from accord.scoring.domain import EVENT_KINDS, LeadColumns, domain_flags, title_flags
from accord.scoring.models import LeadScore, PredictiveModelVersion, ScoringRuleSet
from accord.scoring.rules import (
    CHANNELS,
    INDUSTRIES,
    REGIONS,
    SENIORITIES,
    SIZE_BANDS,
    RulesDocument,
)

CHUNK_ROWS = 250_000
SQL_STAGES = ("sql", "opportunity", "customer")


def active_rule_set() -> ScoringRuleSet | None:
    return ScoringRuleSet.objects.filter(is_active=True).first()


def rule_set(*, version: int) -> ScoringRuleSet:
    return ScoringRuleSet.objects.get(version=version)


def rule_sets() -> list[ScoringRuleSet]:
    return list(ScoringRuleSet.objects.select_related("created_by"))


def active_model() -> PredictiveModelVersion | None:
    return PredictiveModelVersion.objects.filter(is_active=True).first()


def model_version(*, version: int) -> PredictiveModelVersion:
    return PredictiveModelVersion.objects.get(version=version)


def model_versions() -> list[PredictiveModelVersion]:
    return list(PredictiveModelVersion.objects.defer("artifact"))


def latest_score(*, contact_id: int) -> LeadScore | None:
    return LeadScore.objects.filter(contact_id=contact_id).first()


def score_history(*, contact_id: int, limit: int = 50) -> list[LeadScore]:
    return list(LeadScore.objects.filter(contact_id=contact_id)[:limit])


# -- columnar readers ---------------------------------------------------------------------


def _vendor() -> str:
    return "pg" if connection.vendor == "postgresql" else "sqlite"


def _epoch(column: str) -> str:
    if _vendor() == "pg":
        return f"CAST(EXTRACT(EPOCH FROM {column}) AS BIGINT)"
    return f"unixepoch({column})"


def _code(column: str, vocabulary: Sequence[str], params: list) -> str:
    """Map a text column to its index in `vocabulary` (−1 when missing or unknown)."""
    whens = []
    for index, value in enumerate(vocabulary):
        whens.append(f"WHEN %s THEN {index}")
        params.append(value)
    return f"(CASE {column} {' '.join(whens)} ELSE -1 END)"


def _email_domain() -> str:
    if _vendor() == "pg":
        return "LOWER(SUBSTRING(c.email FROM POSITION('@' IN c.email) + 1))"
    return "LOWER(SUBSTR(c.email, INSTR(c.email, '@') + 1))"


def _flag_table(name: str, values: dict[str, int]) -> None:
    """Fill a temporary (value, flags) table with the values that match at least one rule.

    Rules are matched once per distinct title or email domain, in Python, and the contact
    query joins this small table, instead of testing every rule against every contact in SQL.
    """
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMPORARY TABLE IF NOT EXISTS {name} (value TEXT PRIMARY KEY, flags BIGINT)")
        cursor.execute(f"DELETE FROM {name}")  # noqa: S608 - a constant table name
        flagged = [(value, flags) for value, flags in values.items() if flags]
        if flagged:
            cursor.executemany(f"INSERT INTO {name} (value, flags) VALUES (%s, %s)", flagged)  # noqa: S608


def _prepare_flags(rules: RulesDocument, where: str) -> None:
    keyword_rules = [r.keywords for r in rules.fit.title_keywords]
    domain_rules = [r.domains for r in rules.fit.email_domains]
    condition = f" WHERE {where}" if where else ""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT DISTINCT c.title FROM capture_contact c{condition}")  # noqa: S608
        titles = {row[0]: title_flags(row[0], keyword_rules) for row in cursor.fetchall() if row[0]}
        cursor.execute(f"SELECT DISTINCT {_email_domain()} FROM capture_contact c "  # noqa: S608
                       f"WHERE c.email IS NOT NULL{' AND ' + where if where else ''}")
        domains = {row[0]: domain_flags(row[0], domain_rules) for row in cursor.fetchall() if row[0]}
    _flag_table("scoring_title_flags", titles)
    _flag_table("scoring_domain_flags", domains)


def _packed(select: list[str], source: str, params: list, *, key: str, where: str = "",
            chunk: int | None = CHUNK_ROWS) -> Iterator[np.ndarray]:
    """Yield chunks of rows as int64 arrays (rows × columns), by ranges of the `key` column.

    `chunk=None` reads everything in one range. Ranges of the primary key, not ORDER BY … LIMIT pages: the database then only walks
    the table, which made reading events four times faster on SQLite. Expressions must
    not be NULL (CASE … ELSE −1, COALESCE).
    """
    width = len(select)
    if _vendor() == "pg":
        row = " || ',' || ".join(f"({e})::bigint::text" for e in select)
        aggregate = f"string_agg({row}, ',')"
    else:
        row = " || ',' || ".join(f"({e})" for e in select)
        aggregate = f"group_concat({row}, ',')"
    extra = f" AND ({where})" if where else ""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT MIN({key}), MAX({key}) FROM {source} WHERE 1 = 1{extra}")  # noqa: S608
        low, high = cursor.fetchone()
        if low is None:
            return
        sql = f"SELECT {aggregate} FROM {source} WHERE {key} >= %s AND {key} < %s{extra}"  # noqa: S608
        # A read of a few named contacts is one query, whatever the spread of their ids.
        chunk = chunk or int(high) - int(low) + 1
        for start in range(int(low), int(high) + 1, chunk):
            cursor.execute(sql, [*params, start, start + chunk])
            text = cursor.fetchone()[0]
            if text:
                yield np.fromstring(text, dtype=np.int64, sep=",").reshape(-1, width)


def lead_columns(*, rules: RulesDocument, contact_ids: Sequence[int] | None = None,
                 chunk: int = CHUNK_ROWS) -> tuple[LeadColumns, np.ndarray, np.ndarray]:
    """Return every contact's scoring columns, its current score and its creation time (epoch s)."""
    params: list = []
    select = [
        "c.id",
        _code("a.industry", INDUSTRIES, params),
        _code("a.size_band", SIZE_BANDS, params),
        _code("COALESCE(NULLIF(c.region, ''), a.region)", REGIONS, params),
        _code("c.seniority", SENIORITIES, params),
        "COALESCE(tf.flags, 0)",
        "COALESCE(df.flags, 0)",
        "c.score",
        _epoch("c.created_at"),
    ]
    where = ""
    if contact_ids is not None:
        ids = [int(i) for i in contact_ids] or [-1]
        where = f"c.id IN ({', '.join(str(i) for i in ids)})"
    _prepare_flags(rules, where)
    source = ("capture_contact c LEFT JOIN capture_account a ON a.id = c.account_id"
              " LEFT JOIN scoring_title_flags tf ON tf.value = c.title"
              f" LEFT JOIN scoring_domain_flags df ON df.value = {_email_domain()}")
    parts = list(_packed(select, source, params, key="c.id", where=where,
                         chunk=None if contact_ids is not None else chunk))
    data = np.concatenate(parts) if parts else np.zeros((0, len(select)), np.int64)
    data = data[np.argsort(data[:, 0], kind="stable")]
    leads = LeadColumns(*(data[:, i] for i in range(7)))
    return leads, data[:, 7], data[:, 8]


def engagement_events(*, contact_ids: Sequence[int] | None = None,
                      chunk: int = CHUNK_ROWS) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return every touchpoint and activity of known contacts as (contact id, kind code, epoch s)."""
    out = []
    touch_kinds = [k for k in EVENT_KINDS if not k.startswith("activity:")]
    activity_kinds = [k.removeprefix("activity:") for k in EVENT_KINDS if k.startswith("activity:")]
    for table, kinds, offset in (("capture_touchpoint", touch_kinds, 0),
                                 ("lifecycle_activity", activity_kinds, len(touch_kinds))):
        params: list = []
        kind = _code("t.kind", kinds, params)
        select = ["t.contact_id", f"{kind} + {offset}", _epoch("t.occurred_at")]
        where = "t.contact_id IS NOT NULL"
        if contact_ids is not None:
            ids = [int(i) for i in contact_ids] or [-1]
            where += f" AND t.contact_id IN ({', '.join(str(i) for i in ids)})"
        step = None if contact_ids is not None else chunk * 4
        for part in _packed(select, f"{table} t", params, key="t.id", where=where, chunk=step):
            out.append(part[part[:, 1] >= offset])
    data = np.concatenate(out) if out else np.zeros((0, 3), np.int64)
    return data[:, 0], data[:, 1], data[:, 2]


def lifecycle_history(*, contact_ids: Sequence[int] | None = None) -> dict[str, np.ndarray]:
    """Return stage transitions (contact, stage code, epoch s) and feedback (contact, rejected, epoch s)."""
    stages = ("subscriber", "lead", "mql", "sal", "sql", "opportunity", "customer", "nurture", "disqualified")
    where_ids = ""
    if contact_ids is not None:
        ids = [int(i) for i in contact_ids] or [-1]
        where_ids = f"t.contact_id IN ({', '.join(str(i) for i in ids)})"
    params: list = []
    select = ["t.contact_id", _code("t.to_stage", stages, params), _epoch("t.occurred_at")]
    step = None if contact_ids is not None else CHUNK_ROWS * 4
    parts = list(_packed(select, "lifecycle_stagetransition t", params, key="t.id", where=where_ids,
                         chunk=step))
    transitions = np.concatenate(parts) if parts else np.zeros((0, 3), np.int64)
    params = []
    select = ["t.contact_id", "CASE WHEN t.decision = %s THEN 1 ELSE 0 END", _epoch("t.created_at")]
    params.append("reject")
    parts = list(_packed(select, "lifecycle_leadfeedback t", params, key="t.id", where=where_ids,
                         chunk=step))
    feedback = np.concatenate(parts) if parts else np.zeros((0, 3), np.int64)
    return {"stages": np.array(stages), "transitions": transitions, "feedback": feedback}


def contact_channels(*, contact_ids: Sequence[int] | None = None) -> np.ndarray:
    """Return (contact id, lead-source channel code, segment code) for every contact."""
    params: list = []
    select = ["c.id", _code("c.lead_source", CHANNELS, params), _code("a.segment", ("b2b", "b2c"), params)]
    where = ""
    if contact_ids is not None:
        ids = [int(i) for i in contact_ids] or [-1]
        where = f"c.id IN ({', '.join(str(i) for i in ids)})"
    parts = list(_packed(select, "capture_contact c LEFT JOIN capture_account a ON a.id = c.account_id",
                         params, key="c.id", where=where, chunk=None if contact_ids is not None else CHUNK_ROWS))
    data = np.concatenate(parts) if parts else np.zeros((0, 3), np.int64)
    return data[np.argsort(data[:, 0], kind="stable")]


def epoch_seconds(moment: datetime) -> int:
    return int(moment.timestamp())


def model_comparison(*, first: int, second: int) -> list[tuple[str, str, str]]:
    """Return (metric, value in `first`, value in `second`) rows of two model cards."""
    a, b = model_version(version=first), model_version(version=second)

    def show(version: PredictiveModelVersion, name: str) -> str:
        if version.unavailable_reason:
            return "unavailable"
        value = getattr(version, name)
        if name in {"lift_by_decile", "rules_lift_by_decile"}:
            return f"{value[0]:.2f}" if value else "—"
        if isinstance(value, float):
            return f"{value:.4f}"
        if isinstance(value, datetime):
            return f"{value:%Y-%m-%d}"
        return "—" if value is None else f"{value}"

    names = ("trained_at", "train_size", "eval_start", "eval_end", "eval_size", "positive_rate", "roc_auc",
             "pr_auc", "brier", "lift_by_decile", "rules_roc_auc", "rules_lift_by_decile", "is_active")
    labels = {"lift_by_decile": "top-decile lift", "rules_lift_by_decile": "rules top-decile lift"}
    return [(labels.get(n, n.replace("_", " ")), show(a, n), show(b, n)) for n in names]

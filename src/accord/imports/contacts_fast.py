"""The contacts import's fast path: whole columns checked at once, clean rows written set-based.

The per-row path (`ContactImporter.prepare` and `apply`) costs ~130 µs of Python per row; a
million-row file needs ~20. Here a block of ~50,000 records is checked column by column in
polars (trimmed, emptied, length-checked, emails matched against the same pattern, dates parsed
in their common forms, every repetitive column mapped through the very parser the per-row path
uses, once per distinct value), and its clean rows go to the database as one staging table:
new contacts, their first stage transitions and owner assignments are each one
`INSERT … SELECT`; rows matching a stored contact are compared in SQL, and the unchanged ones
only counted.

Every row this path is not sure about takes the per-row path, in the same transaction, so its
errors, row numbers and outcome stay exactly what they are there: a cell a vectorised check
flags; a date in a form other than YYYY-MM-DD[ HH:MM[:SS]]; a key (email or external id) that
occurs more than once in the file (found by a first pass over the key columns, so both rows
go to the per-row path, which decides which is the repeat); a row whose email and external id
belong to two contacts, or that matches a contact another row of the chunk matches; a row that
would change a stored contact (rare on a re-import, and the history it writes is the per-row
path's to write). Rows of both paths link to accounts through one `Accounts.resolve` call in
row order, so the account a new company gets is the same either way.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from accord.capture.freemail import is_free_mail
from accord.core.vocabulary import LifecycleStage
from accord.imports import vocabularies as vocab
from accord.imports.columnar import Block, ColumnarFile, column_name
from accord.imports.directories import CompanyRef
from accord.imports.engine import EMPTY_CELLS, Batch, Outcome

# The per-row path's email pattern (values._EMAIL), anchored: the Rust engine has no fullmatch.
EMAIL_PATTERN = (
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z][A-Za-z0-9-]{0,62}$"
)
# Python's str.strip() also strips these; Rust's trim does not. Rows holding one take the
# per-row path rather than risk a different value.
_PYTHON_ONLY_SPACE = r"[\x1c-\x1f]"
# Date forms checked here: the common ones of HubSpot and generic exports. fromisoformat
# reads others (T, fractions, offsets) that the per-row path handles.
_DATE_FORMATS = (
    (r"^[12]\d{3}-\d{2}-\d{2}$", "%Y-%m-%d"),
    (r"^[12]\d{3}-\d{2}-\d{2} \d{2}:\d{2}$", "%Y-%m-%d %H:%M"),
    (r"^[12]\d{3}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$", "%Y-%m-%d %H:%M:%S"),
)
_TEXT_LIMITS = {
    "external_id": 100, "first_name": 100, "last_name": 100, "phone": 40, "title": 150, "company": 200,
}
# Columns mapped through the per-row parser once per distinct value.
_MAPPED = ("owner", "lifecycle_stage", "lead_status", "lead_source", "campaign", "country",
           "industry", "employees", "company_domain")
_INTEGER = frozenset({"owner", "campaign"})
STAGE_COLUMNS = (
    "email", "external_id", "first_name", "last_name", "phone", "title", "account_id", "owner_id",
    "lifecycle_stage", "lead_source", "original_campaign_id", "country", "region", "created_at",
)
_REF_COLUMNS = ("domain", "company", "name_key", "industry", "employees", "country", "region")
_STAGE_TABLE = "accord_import_stage"


def _empty_to_null(raw: pl.Expr) -> pl.Expr:
    stripped = raw.str.strip_chars()
    empty = (stripped == "") | (
        (stripped.str.len_chars() <= 4) & stripped.str.to_lowercase().is_in(list(EMPTY_CELLS))
    )
    return pl.when(empty).then(None).otherwise(stripped)


@dataclass
class FastChunk:
    """A block split into clean rows (a frame) and the records the per-row path must take."""

    clean: pl.DataFrame
    records: list[tuple[int, list[str]]]
    rows: int
    bytes_read: int
    # The block's raw cells and lines, for clean rows the database sends back (see apply).
    raw: pl.DataFrame
    lines: np.ndarray
    seconds: float = 0.0


@dataclass
class Phases:
    """CPU seconds per phase of the fast path, for bench/bench_import.py."""

    read_check: float = 0.0  # the reading thread: polars parse and vectorised checks
    per_row: float = 0.0  # rows the per-row path took: prepare and apply
    write: float = 0.0  # staging, matching, set-based inserts
    fast_rows: int = 0
    per_row_rows: int = 0
    # Wall seconds per index rebuilt or key validated after a bulk load (Bulk.rebuilt).
    extra: dict[str, float] = field(default_factory=dict)
    # The Bulk that rebuilt them, for the whole rebuild's wall time (Bulk.rebuilt_wall).
    bulk: Any = None


class ContactColumns:
    """Check a contacts file's blocks column-wise and write their clean rows set-based."""

    def __init__(self, importer, file: ColumnarFile) -> None:
        self.importer = importer
        self.file = file
        self.layout = importer.layout
        self.columns = {target: index for target, index, _, _ in importer.steps}
        self.parsers = {target: parse for target, _, _, parse in importer.steps}
        self.tz_name = str(importer.context.tz)
        self.sqlite = importer.bulk.sqlite
        self._maps: dict[str, dict[str, Any]] = {name: {} for name in (*_MAPPED, "name_key", "mail_domain", "region")}
        self._bad: dict[str, dict[str, str]] = {name: {} for name in _MAPPED}
        self.repeated: dict[str, set[str]] = {}
        self.phases = Phases(extra=importer.bulk.rebuilt, bulk=importer.bulk)
        # Into a table empty when the import starts, a clean row can match no stored contact:
        # its keys occur once in the file (find_repeated_keys), so no other row of the import
        # wrote them. Only another writer could have, meanwhile, and then the insert breaks a
        # unique index and the chunk runs again with the matching on (`forget`).
        (self.match_stored,) = importer.bulk.fetch("SELECT EXISTS (SELECT 1 FROM capture_contact)")[0]

    def forget(self) -> None:
        """Forget what a rolled-back chunk left behind, and match every later chunk's rows."""
        self.importer.forget()
        self.match_stored = True

    # --- first pass: the keys that occur more than once ----------------------------------

    def find_repeated_keys(self) -> None:
        """Read the key columns of the whole file; remember the keys that occur twice or more."""
        keys = [target for target in ("email", "external_id") if target in self.columns]
        if not keys:
            return
        indexes = [self.columns[target] for target in keys]
        parts: dict[str, list[pl.Series]] = {target: [] for target in keys}
        for block in self.file.blocks(indexes):
            for target in keys:
                value = _empty_to_null(pl.col(column_name(self.columns[target])))
                if target == "email":
                    value = value.str.to_lowercase()
                parts[target].append(block.table.select(value.alias("k")).to_series().drop_nulls())
        for target, series in parts.items():
            if not series:
                continue
            values = pl.concat(series)
            self.repeated[target] = set(values.filter(values.is_duplicated()).unique().to_list())

    # --- in the reading thread: no database -----------------------------------------------

    def chunks(self) -> Iterator[FastChunk]:
        for block in self.file.blocks():
            started = time.thread_time()
            chunk = self.check(block)
            chunk.seconds = time.thread_time() - started
            yield chunk

    def check(self, block: Block) -> FastChunk:
        table = block.table
        cols = self.columns
        exprs: list[pl.Expr] = []
        flags: list[pl.Expr] = []
        for target, index in cols.items():
            raw = pl.col(column_name(index))
            flags.append(raw.str.contains(_PYTHON_ONLY_SPACE).fill_null(False))
            exprs.append(_empty_to_null(raw).alias(target))
        values = table.select(*exprs, pl.any_horizontal(flags).alias("bad") if flags else pl.lit(False).alias("bad"))
        values.insert_column(0, pl.Series("line", block.lines))
        bad = values["bad"]
        derived: dict[str, pl.Series] = {}
        for target, limit in _TEXT_LIMITS.items():
            if target in cols:
                bad = bad | (values[target].str.len_chars() > limit).fill_null(False)
        if "email" in cols:
            email = values["email"]
            valid = email.str.contains(EMAIL_PATTERN).fill_null(True) & (email.str.len_chars() <= 254).fill_null(True)
            bad = bad | ~valid
            derived["email"] = email.str.to_lowercase()
        for target in _MAPPED:
            if target in cols:
                mapped, flagged = self._map(target, values[target])
                derived[target] = mapped
                bad = bad | flagged
        if "created_at" in cols:
            at, flagged = self._datetimes(values["created_at"])
            derived["created_at"] = at
            bad = bad | flagged
        for target in ("external_id", "first_name", "last_name", "phone", "title", "company"):
            if target in cols:
                derived[target] = values[target]
        frame = pl.DataFrame({"line": values["line"], **derived})
        if "email" not in frame.columns and "external_id" not in frame.columns:
            bad = bad | True
        else:
            has_key = pl.lit(False)
            for target in ("email", "external_id"):
                if target in frame.columns:
                    has_key = has_key | pl.col(target).is_not_null()
                    repeated = self.repeated.get(target)
                    if repeated:
                        bad = bad | frame[target].is_in(list(repeated)).fill_null(False)
            bad = bad | ~frame.select(has_key).to_series()
        bad = bad.fill_null(True)
        records = []
        if bad.any():
            positions = np.flatnonzero(bad.to_numpy())
            lines = block.lines[positions].tolist()
            cells = table[positions.tolist()].rows()
            records = [(line, list(row)) for line, row in zip(lines, cells, strict=True)]
        clean = self._shape(frame.filter(~bad))
        return FastChunk(clean=clean, records=records, rows=table.height, bytes_read=block.bytes_read,
                         raw=table, lines=block.lines)

    def _map(self, target: str, column: pl.Series) -> tuple[pl.Series, pl.Series]:
        """Map a column through its per-row parser, once per distinct value; flag its errors."""
        parser = self.parsers[target]
        parse = getattr(parser, "inner", parser)
        memo, bad = self._maps[target], self._bad[target]
        if len(memo) > 200_000:
            memo.clear()
        plain = int if target in _INTEGER else str  # enum members would make polars build an Enum
        present = column.drop_nulls().unique().to_list()
        for raw in present:
            if raw in memo or raw in bad:
                continue
            try:
                value = parse(raw)
            except ValueError as error:
                bad[raw] = str(error)
            else:
                memo[raw] = None if value is None else plain(value)
        dtype = pl.Int64 if target in _INTEGER else pl.String
        mapped = column.replace_strict(_subset(memo, present), default=None, return_dtype=dtype)
        flagged = column.is_in(list(bad)).fill_null(False) if bad else pl.Series([False] * len(column))
        return mapped, flagged

    def _datetimes(self, column: pl.Series) -> tuple[pl.Series, pl.Series]:
        parsed = pl.Series([None] * len(column), dtype=pl.Datetime("us"))
        for pattern, form in _DATE_FORMATS:
            matches = column.str.contains(pattern).fill_null(False)
            if matches.any():
                parsed = pl.select(
                    pl.when(matches).then(column.str.to_datetime(form, strict=False, time_unit="us"))
                    .otherwise(parsed)
                ).to_series()
        local = parsed.dt.replace_time_zone(self.tz_name, ambiguous="earliest", non_existent="null")
        utc = local.dt.convert_time_zone("UTC")
        flagged = column.is_not_null() & utc.is_null()
        if self.sqlite:
            # As Bulk.datetime stores them: naive UTC text.
            return utc.dt.strftime("%Y-%m-%d %H:%M:%S"), flagged
        return utc, flagged

    def _shape(self, frame: pl.DataFrame) -> pl.DataFrame:
        """Derive what ContactImporter.check derives: stage from status, region, company."""
        height = frame.height

        def get(name: str, dtype=pl.String) -> pl.Series:
            return frame[name] if name in frame.columns else pl.Series(name, [None] * height, dtype=dtype)

        stage = get("lifecycle_stage").fill_null(get("lead_status"))
        source = get("lead_source")
        source = pl.select(pl.when(source == "").then(None).otherwise(source)).to_series()
        country = get("country")
        region = self._python_map("region", country, vocab.region_of)
        domain = get("company_domain")
        if "email" in frame.columns:
            mail_domain = frame["email"].str.extract(r"@([^@]*)$", 1)
            work = self._python_map("mail_domain", mail_domain, lambda d: None if is_free_mail(d) else d)
            domain = domain.fill_null(work)
        company = get("company")
        name_key = self._python_map("name_key", company, str.lower)
        has_company = domain.is_not_null() | company.is_not_null()
        return pl.DataFrame({
            "line": frame["line"],
            "email": get("email"),
            "external_id": get("external_id"),
            "first_name": get("first_name"),
            "last_name": get("last_name"),
            "phone": get("phone"),
            "title": get("title"),
            "owner_id": get("owner", pl.Int64),
            "lifecycle_stage": stage,
            "lead_source": source,
            "original_campaign_id": get("campaign", pl.Int64),
            "country": country,
            "region": region,
            "created_at": frame["created_at"] if "created_at" in frame.columns
            else pl.Series([None] * height, dtype=pl.String if self.sqlite else pl.Datetime("us", "UTC")),
            "domain": domain,
            "company": company,
            "name_key": name_key,
            "industry": get("industry").fill_null(""),
            "employees": get("employees").fill_null(""),
            "has_company": has_company,
        })

    def _python_map(self, memo_name: str, column: pl.Series, function: Callable[[str], Any]) -> pl.Series:
        memo = self._maps[memo_name]
        if len(memo) > 200_000:
            memo.clear()
        present = column.drop_nulls().unique().to_list()
        for raw in present:
            if raw not in memo:
                value = function(raw)
                memo[raw] = None if value is None else str(value)
        return column.replace_strict(_subset(memo, present), default=None, return_dtype=pl.String)

    # --- in the writing thread, inside the chunk's transaction ---------------------------

    def prepare(self, chunk: FastChunk) -> Batch:
        """Check the records the per-row path takes, once, before the chunk's transaction."""
        started = time.thread_time()
        batch = self.importer.prepare(chunk.records) if chunk.records else Batch()
        self.phases.per_row += time.thread_time() - started
        return batch

    def apply(self, chunk: FastChunk, prepared: Batch, *, write: bool) -> tuple[Outcome, int]:
        """Apply a chunk in the caller's transaction; return the outcome and the repeats found."""
        importer = self.importer
        started = time.thread_time()
        slow = Batch(rows=list(prepared.rows), rejected=list(prepared.rejected), repeats=prepared.repeats)
        clean = chunk.clean
        clean = clean.with_columns(account_id=self._resolve_accounts(clean, slow, write=write))
        outcome = Outcome()
        self.phases.per_row += time.thread_time() - started
        started = time.thread_time()
        sent_back: list[int] = []
        if clean.height:
            sent_back, unchanged, created = self._write(clean, write=write)
            outcome.unchanged += unchanged
            outcome.created += created
        self.phases.write += time.thread_time() - started
        started = time.thread_time()
        if sent_back:
            # Their keys occur once in the file (see find_repeated_keys): nothing to compare
            # with earlier rows, and a retried transaction must not find them as repeats.
            back = importer.prepare(self._records_of(chunk, sent_back), repeats=False)
            slow.rows = sorted([*slow.rows, *back.rows], key=lambda item: item.row)
            slow.rejected.extend(back.rejected)
        if slow.rows:
            done = importer.apply(slow, write=write)
            outcome.created += done.created
            outcome.updated += done.updated
            outcome.unchanged += done.unchanged
            outcome.rejected.extend(done.rejected)
        outcome.rejected.extend(slow.rejected)
        self.phases.per_row += time.thread_time() - started
        self.phases.fast_rows += clean.height - len(sent_back)
        self.phases.per_row_rows += len(chunk.records) + len(sent_back)
        return outcome, slow.repeats

    @staticmethod
    def _records_of(chunk: FastChunk, lines: list[int]) -> list[tuple[int, list[str]]]:
        lines = sorted(lines)
        positions = np.searchsorted(chunk.lines, lines).tolist()
        return [(line, list(cells)) for line, cells in zip(lines, chunk.raw[positions].rows(), strict=True)]

    def _resolve_accounts(self, clean: pl.DataFrame, slow: Batch, *, write: bool) -> pl.Series:
        """Resolve both paths' companies in row order; return each clean row's account id."""
        refs: list[tuple[int, CompanyRef]] = [
            (item.row, item.values["company"]) for item in slow.rows if "company" in item.values
        ]
        with_company = clean.filter(pl.col("has_company"))
        firsts = with_company.unique(subset=["domain", "name_key"], keep="first", maintain_order=True)
        fast_refs = [
            (line, CompanyRef(domain, company, name_key, industry, employees, country or "", region or ""))
            for line, domain, company, name_key, industry, employees, country, region in firsts.select(
                "line", *_REF_COLUMNS).rows()
        ]
        refs.extend(fast_refs)
        if not refs:
            return pl.Series("account_id", [None] * clean.height, dtype=pl.Int64)
        refs.sort(key=lambda pair: pair[0])
        found = self.importer.accounts.resolve([ref for _, ref in refs], write=write)
        ids = pl.DataFrame(
            {"domain": [ref.domain for _, ref in fast_refs], "name_key": [ref.name_key for _, ref in fast_refs],
             "account_id": [found.get(ref) for _, ref in fast_refs]},
            schema={"domain": pl.String, "name_key": pl.String, "account_id": pl.Int64},
        )
        joined = clean.select("domain", "name_key", "has_company").with_row_index("i").join(
            ids, on=["domain", "name_key"], how="left", nulls_equal=True
        ).sort("i")
        return pl.select(
            pl.when(joined["has_company"]).then(joined["account_id"]).otherwise(None)
        ).to_series().alias("account_id")

    def _write(self, clean: pl.DataFrame, *, write: bool) -> tuple[list[int], int, int]:
        """Stage the clean rows; return (lines sent back to the per-row path, unchanged, created)."""
        bulk = self.importer.bulk
        context = self.importer.context
        cursor = bulk.cursor()
        stage = _STAGE_TABLE
        try:
            if not self.sqlite:
                # The estimates of a million-row table pass jit_above_cost, and compiling
                # costs ~0.3 s a statement, more than running any of these.
                cursor.execute("SET LOCAL jit = off")
            _create_stage(cursor, sqlite=self.sqlite)
            staged = clean.select("line", *STAGE_COLUMNS)
            if self.sqlite:
                marks = ", ".join("?" * (len(STAGE_COLUMNS) + 1))
                cursor.executemany(
                    f"INSERT INTO {stage} (line, {', '.join(STAGE_COLUMNS)}) VALUES ({marks})",  # noqa: S608 (fixed names)
                    staged.rows(),
                )
            else:
                buffer = io.BytesIO()
                staged.with_columns(
                    pl.col("created_at").dt.strftime("%Y-%m-%d %H:%M:%S+00")
                ).write_csv(buffer, include_header=False, null_value="")
                with cursor.copy(
                    f"COPY {stage} (line, {', '.join(STAGE_COLUMNS)}) FROM STDIN WITH (FORMAT csv)"
                ) as copy:
                    copy.write(buffer.getvalue())
            run = lambda sql, params=(): cursor.execute(bulk.param(sql), params)  # noqa: E731
            sent_back: list[int] = []
            unchanged = 0
            if self.match_stored:
                sent_back, unchanged = self._match(cursor, run)
            created = clean.height - len(sent_back) - unchanged
            if write and created:
                self._insert_new(cursor, run, created, context)
            return sent_back, unchanged, created
        finally:
            cursor.close()

    def _match(self, cursor, run) -> tuple[list[int], int]:
        """Match staged rows to stored contacts; return (lines sent back to the per-row path, unchanged)."""
        bulk = self.importer.bulk
        stage = _STAGE_TABLE
        # The same words as the unique indexes' expressions and conditions, so both serve.
        if self.sqlite:
            # A correlated look-up per staged row, through the index. The staged column's
            # TEXT affinity would apply to lower(), and the expression index then no
            # longer matches: a unary + drops the affinity.
            run(f"UPDATE {stage} SET by_email = (SELECT c.id FROM capture_contact c"  # noqa: S608
                f" WHERE lower(c.email) = +{stage}.email) WHERE email IS NOT NULL")
            run(f"UPDATE {stage} SET by_external = (SELECT c.id FROM capture_contact c"  # noqa: S608
                f" WHERE c.external_id = {stage}.external_id AND NOT (c.external_id = ''))"
                " WHERE external_id IS NOT NULL")
        else:
            # A join, so only matched rows get a new version (on a first import, none). Left
            # to itself the planner hashes the whole contacts table for every chunk (a
            # million lower(email) a chunk, 1.5 s); probing the unique indexes once per staged
            # row costs ~5 µs a row whatever the table's size.
            run("SET LOCAL enable_hashjoin = off")
            run("SET LOCAL enable_mergejoin = off")
            run(f"UPDATE {stage} AS s SET by_email = c.id FROM capture_contact c"  # noqa: S608
                " WHERE lower(c.email) = s.email")
            run(f"UPDATE {stage} AS s SET by_external = c.id FROM capture_contact c"  # noqa: S608
                " WHERE c.external_id = s.external_id AND NOT (c.external_id = '')")
            run("RESET enable_hashjoin")
            run("RESET enable_mergejoin")
        run(f"UPDATE {stage} SET matched = coalesce(by_external, by_email)"  # noqa: S608
            " WHERE by_external IS NOT NULL OR by_email IS NOT NULL")
        differs = "IS NOT" if self.sqlite else "IS DISTINCT FROM"
        changed = " OR ".join([
            f"(s.email IS NOT NULL AND s.email {differs} lower(c.email))",
            "(s.external_id IS NOT NULL AND coalesce(c.external_id, '') = '')",
            *(f"(s.{name} IS NOT NULL AND s.{name} {differs} c.{name})" for name in (
                "first_name", "last_name", "phone", "title", "owner_id", "lead_source",
                "original_campaign_id", "country", "region", "account_id", "lifecycle_stage")),
            "(s.created_at IS NOT NULL AND s.created_at < c.created_at)",
        ])
        cursor.execute(
            f"SELECT s.line FROM {stage} s WHERE s.by_email <> s.by_external"  # noqa: S608
            f" OR s.matched IN (SELECT matched FROM {stage} WHERE matched IS NOT NULL"
            " GROUP BY matched HAVING count(*) > 1)"
            f" UNION SELECT s.line FROM {stage} s JOIN capture_contact c ON c.id = s.matched"
            f" WHERE {changed}"
        )
        sent_back = [line for (line,) in cursor.fetchall()]
        if sent_back:
            run(f"DELETE FROM {stage} WHERE " + bulk.any_of("line"), [bulk.list_param(sent_back)])  # noqa: S608
        cursor.execute(f"SELECT count(*) FROM {stage} WHERE matched IS NOT NULL")  # noqa: S608
        (unchanged,) = cursor.fetchone()
        return sent_back, unchanged

    def _insert_new(self, cursor, run, created: int, context) -> None:
        bulk = self.importer.bulk
        stage = _STAGE_TABLE
        now = bulk.datetime(context.now)
        by_user = context.by.pk if context.by is not None else None
        reason = context.reason
        lead = LifecycleStage.LEAD.value
        contact_columns = (
            "email, first_name, last_name, phone, title, seniority, account_id, owner_id, lifecycle_stage,"
            " stage_changed_at, lead_source, original_campaign_id, country, region, external_id,"
            " created_at, updated_at"
        )
        new_values = (
            "email, coalesce(first_name, ''), coalesce(last_name, ''), coalesce(phone, ''),"
            " coalesce(title, ''), '', account_id, owner_id, coalesce(lifecycle_stage, %s),"
            " coalesce(created_at, %s), coalesce(lead_source, ''), original_campaign_id,"
            " coalesce(country, ''), coalesce(region, ''), coalesce(external_id, ''),"
            " coalesce(created_at, %s), %s"
        )
        if not self.sqlite:
            # One statement: the new contacts' ids come back from the insert and feed their
            # transitions and assignments, with no ids staged or reserved.
            run(
                f"WITH new AS (INSERT INTO capture_contact ({contact_columns})"  # noqa: S608
                f" SELECT {new_values.replace('%s', '%s::text', 1)} FROM {stage} WHERE matched IS NULL"
                " ORDER BY line RETURNING id, lifecycle_stage, created_at, owner_id),"
                " transitions AS (INSERT INTO lifecycle_stagetransition (contact_id, from_stage,"
                " to_stage, occurred_at, by_user_id, by_rule, reason) SELECT id, '', lifecycle_stage,"
                " created_at, %s::bigint, 'import', %s::text FROM new)"
                " INSERT INTO lifecycle_leadassignment (contact_id, owner_id, assigned_at,"
                " assigned_by_id, rule, reason) SELECT id, owner_id, %s::timestamptz, %s::bigint,"
                " 'import', %s::text FROM new WHERE owner_id IS NOT NULL",
                [lead, now, now, now, by_user, reason, now, by_user, reason],
            )
            return
        (first,) = bulk.reserve_ids(_contact_model(), 1)
        run(f"UPDATE {stage} SET new_id = %s + r.n FROM (SELECT line, row_number() OVER (ORDER BY line) - 1 AS n"  # noqa: S608
            f" FROM {stage} WHERE matched IS NULL) AS r WHERE {stage}.line = r.line", [first])
        run(
            f"INSERT INTO capture_contact (id, {contact_columns}) SELECT new_id, {new_values}"  # noqa: S608
            f" FROM {stage} WHERE new_id IS NOT NULL ORDER BY new_id",
            [lead, now, now, now],
        )
        run(
            "INSERT INTO lifecycle_stagetransition (contact_id, from_stage, to_stage, occurred_at,"  # noqa: S608
            " by_user_id, by_rule, reason) SELECT new_id, '', coalesce(lifecycle_stage, %s),"
            f" coalesce(created_at, %s), %s, 'import', %s FROM {stage} WHERE new_id IS NOT NULL ORDER BY new_id",
            [lead, now, by_user, reason],
        )
        run(
            "INSERT INTO lifecycle_leadassignment (contact_id, owner_id, assigned_at, assigned_by_id,"  # noqa: S608
            f" rule, reason) SELECT new_id, owner_id, %s, %s, 'import', %s FROM {stage}"
            " WHERE new_id IS NOT NULL AND owner_id IS NOT NULL ORDER BY new_id",
            [now, by_user, reason],
        )


def _subset(memo: dict[str, Any], present: list[str]) -> dict[str, Any]:
    # replace_strict turns its mapping into two Series on every call: the memo of a column of
    # companies or email domains grows to ~50,000 values, a block holds a few thousand.
    return {raw: memo[raw] for raw in present if raw in memo}


def _contact_model():
    from accord.capture.models import Contact

    return Contact


def _create_stage(cursor, *, sqlite: bool) -> None:
    stamp = "TEXT" if sqlite else "timestamptz"
    integer = "INTEGER" if sqlite else "bigint"
    text = "TEXT"
    columns = ", ".join([
        f"line {integer} PRIMARY KEY", f"email {text}", f"external_id {text}", f"first_name {text}",
        f"last_name {text}", f"phone {text}", f"title {text}", f"account_id {integer}",
        f"owner_id {integer}", f"lifecycle_stage {text}", f"lead_source {text}",
        f"original_campaign_id {integer}", f"country {text}", f"region {text}", f"created_at {stamp}",
        f"by_email {integer}", f"by_external {integer}", f"matched {integer}", f"new_id {integer}",
    ])
    cursor.execute(f"DROP TABLE IF EXISTS {_STAGE_TABLE}")
    cursor.execute(f"CREATE TEMP TABLE {_STAGE_TABLE} ({columns})")



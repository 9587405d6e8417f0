"""Import people: upsert contacts by external id or email, link them to accounts, record
each stage change and owner assignment the import makes.

A cell left empty never blanks a stored value: exports are often partial, and a column
missing from one file must not erase what another file brought in. The external id is set
when a contact has none and is never overwritten by an email match, so importing a HubSpot
and a Salesforce export of the same people does not flip the id back and forth.
"""

from __future__ import annotations

from typing import Any

from accord.capture.models import Contact
from accord.core.vocabulary import Channel, LifecycleStage
from accord.imports import values as v
from accord.imports import vocabularies as vocab
from accord.imports.bulk import Bulk
from accord.imports.columnar import ColumnarFile, NotColumnar
from accord.imports.contacts_fast import ContactColumns
from accord.imports.directories import Accounts, Campaigns, CompanyRef, Owners
from accord.imports.engine import Batch, Importer, Outcome, Prepared, Rejection
from accord.imports.values import Parser, cached, text
from accord.lifecycle.models import LeadAssignment, StageTransition

INSERT_COLUMNS = (
    "id", "email", "first_name", "last_name", "phone", "title", "seniority", "account_id",
    "owner_id", "lifecycle_stage", "stage_changed_at", "lead_source", "original_campaign_id",
    "country", "region", "external_id", "created_at", "updated_at",
)
# What an import may change on an existing contact, in the order `_existing` selects them.
UPDATE_COLUMNS = (
    "email", "external_id", "first_name", "last_name", "phone", "title", "account_id",
    "owner_id", "lifecycle_stage", "stage_changed_at", "lead_source", "original_campaign_id",
    "country", "region", "created_at", "updated_at",
)
_E = {name: i + 1 for i, name in enumerate(UPDATE_COLUMNS)}  # position in an existing row
_EMAIL, _EXTERNAL_ID, _ACCOUNT, _OWNER = _E["email"], _E["external_id"], _E["account_id"], _E["owner_id"]
_STAGE, _STAGE_AT = _E["lifecycle_stage"], _E["stage_changed_at"]
_CREATED_AT, _UPDATED_AT = _E["created_at"], _E["updated_at"]
# Fields copied from a row onto the contact as they are, with their position in an existing row.
_PLAIN_AT = tuple((name, _E[name]) for name in (
    "first_name", "last_name", "phone", "title", "owner_id", "lead_source",
    "original_campaign_id", "country", "region",
))
_ABSENT = object()
TRANSITION_COLUMNS = ("contact_id", "from_stage", "to_stage", "occurred_at", "by_user_id", "by_rule", "reason")
ASSIGNMENT_COLUMNS = ("contact_id", "owner_id", "assigned_at", "assigned_by_id", "rule", "reason")

# A file this large loads with the indexes built afterwards (Bulk.built_after_load), when
# it holds more rows than the table: rebuilding costs per row of the table, keeping the
# indexes up to date per row of the file, and several times more.
BULK_LOAD_BYTES = 16 << 20
# Bytes per row to estimate a file's rows from its size; on the high side (HubSpot's exports
# run 150-250), so the estimate errs towards keeping the indexes.
_ESTIMATED_ROW_BYTES = 250
_BULK_MODELS = (Contact, StageTransition, LeadAssignment)

# Distinct email domains remembered while checking rows (a million-row file has ~50,000).
_DOMAIN_MEMO = 200_000

_STAGES = ", ".join(LifecycleStage.values)
_CHANNELS = ", ".join(Channel.values)


class ContactImporter(Importer):
    kind = "contacts"

    def load(self) -> None:
        self._regions: dict[str, str] = {}
        self._company_domains: dict[str, str | None] = {}
        self.bulk = Bulk()
        self.owners = Owners()
        self.campaigns = Campaigns()
        self.accounts = Accounts(bulk=self.bulk, context=self.context)
        if not self.context.dry_run:
            # A bulk load killed half-way left its indexes (and foreign keys) dropped.
            self.bulk.restore(_BULK_MODELS)
        super().load()

    def columnar(self, source):
        """Return the fast path for a UTF-8 file polars reads as the per-row reader would."""
        try:
            file = ColumnarFile(source.path, codec=source.encoding.codec, delimiter=source.delimiter,
                                header_line=source.header_line, width=len(self.layout.header))
            fast = ContactColumns(self, file)
            fast.find_repeated_keys()
        except NotColumnar:
            return None
        return fast

    def writing(self, *, file_bytes: int):
        if self.context.dry_run or file_bytes < BULK_LOAD_BYTES:
            return super().writing(file_bytes=file_bytes)
        (table_rows,) = self.bulk.fetch("SELECT coalesce(max(id), 0) FROM capture_contact")[0]
        if table_rows > file_bytes // _ESTIMATED_ROW_BYTES:
            return super().writing(file_bytes=file_bytes)
        return self.bulk.built_after_load(_BULK_MODELS)

    def parsers(self) -> dict[str, Parser]:
        tz = self.context.tz
        to_database = self.bulk.datetime
        return {
            "email": v.parse_email,
            "external_id": text(100),
            "first_name": text(100),
            "last_name": text(100),
            "phone": text(40),
            "title": text(150),
            "company": text(200),
            "company_domain": cached(v.parse_domain),
            "owner": cached(self.owners.parse),
            "lifecycle_stage": v.vocabulary(
                vocab.STAGES, "lifecycle stage",
                f"{_STAGES}, or HubSpot's stages (subscriber … marketingqualifiedlead … evangelist, other)",
            ),
            "lead_status": v.vocabulary(
                vocab.LEAD_STATUSES, "lead status",
                "Salesforce's Open - Not Contacted, Working - Contacted, Closed - Converted, "
                "Closed - Not Converted; HubSpot's NEW, OPEN, IN_PROGRESS, OPEN_DEAL, UNQUALIFIED, "
                "ATTEMPTED_TO_CONTACT, CONNECTED, BAD_TIMING",
            ),
            "lead_source": v.vocabulary(
                vocab.CHANNELS, "source",
                f"{_CHANNELS}, HubSpot's original sources (ORGANIC_SEARCH, PAID_SEARCH, "
                "EMAIL_MARKETING, SOCIAL_MEDIA, REFERRALS, OTHER_CAMPAIGNS, DIRECT_TRAFFIC, "
                "OFFLINE, PAID_SOCIAL) or Salesforce's lead sources (Web, Phone Inquiry, "
                "Partner Referral, Purchased List, Trade Show, Other …)",
            ),
            "campaign": cached(self.campaigns.parse),
            "country": cached(vocab.country),
            # Converted to the database's form here, in the reader thread, not per row while
            # the chunk's transaction holds the write lock.
            "created_at": lambda raw: to_database(v.parse_datetime(raw, tz)),
            "industry": cached(vocab.industry),
            "employees": cached(vocab.size_band),
        }

    def check(self, values: dict[str, Any]) -> list[tuple[str, str]] | None:
        if "email" not in values and "external_id" not in values:
            column = self.layout.column("email" if "email" in self.layout.columns else "external_id")
            return [(column, "a contact needs an email or an external id; this row has neither")]
        pop = values.pop
        if values.get("lead_source") == "":
            # A source that names no channel (HubSpot's OTHER_CAMPAIGNS) leaves the field as is.
            del values["lead_source"]
        status_stage = pop("lead_status", None)
        if status_stage and "lifecycle_stage" not in values:
            values["lifecycle_stage"] = status_stage
        if "owner" in values:
            values["owner_id"] = pop("owner")
        if "campaign" in values:
            values["original_campaign_id"] = pop("campaign")
        country = values.get("country")
        if country is not None:
            region = self._regions.get(country)
            if region is None:
                region = self._regions[country] = vocab.region_of(country)
            values["region"] = region
        domain = pop("company_domain", None)
        if domain is None and "email" in values:
            mail_domain = values["email"].rpartition("@")[2]
            try:
                domain = self._company_domains[mail_domain]
            except KeyError:
                if len(self._company_domains) > _DOMAIN_MEMO:
                    self._company_domains.clear()
                domain = self._company_domains[mail_domain] = v.email_domain(values["email"])
        name = pop("company", None)
        if domain or name:
            # Positional: a NamedTuple built by keyword costs several times more, on every row.
            values["company"] = CompanyRef(
                domain or None, name, name.lower() if name else None, pop("industry", ""),
                pop("employees", ""), country or "", values.get("region", ""),
            )
        else:
            pop("industry", None)
            pop("employees", None)
        return None

    def identities(self, values: dict[str, Any]) -> list[tuple[str, Any]]:
        keys = []
        if "email" in values:
            keys.append(("email", values["email"]))
        if "external_id" in values:
            keys.append(("external_id", values["external_id"]))
        return keys

    def forget(self) -> None:
        self.accounts.forget()

    def _existing(self, rows: list[Prepared]) -> tuple[dict[str, tuple], dict[str, tuple]]:
        bulk = self.bulk
        # SQLite returns "datetime" columns through Django's slow converter; text is enough here.
        stamp = "{} || ''" if bulk.sqlite else "{}"
        select = (
            "SELECT id, lower(email), external_id, first_name, last_name, phone, title, account_id,"  # noqa: S608 (table and column names come from model metadata)
            " owner_id, lifecycle_stage, " + stamp.format("stage_changed_at") + ", lead_source,"
            " original_campaign_id, country, region, " + stamp.format("created_at") + ","
            " " + stamp.format("updated_at") + " FROM capture_contact WHERE "
        )
        emails = [item.values["email"] for item in rows if "email" in item.values]
        ids = [item.values["external_id"] for item in rows if "external_id" in item.values]
        conditions, params = [], []
        if emails:
            conditions.append(bulk.any_of("lower(email)"))
            params.append(bulk.list_param(emails))
        if ids:
            # The same words as the partial unique index's condition: SQLite uses the index
            # only when the query repeats them.
            conditions.append("(" + bulk.any_of("external_id") + " AND NOT (external_id = ''))")
            params.append(bulk.list_param(ids))
        by_email: dict[str, tuple] = {}
        by_external: dict[str, tuple] = {}
        if not conditions:
            return by_email, by_external
        # One query for both keys: both indexes serve the OR, and a row found by both
        # comes back once instead of twice.
        for found in bulk.fetch(select + " OR ".join(conditions), params):
            if found[1] is not None:
                by_email[found[1]] = found
            if found[2]:
                by_external[found[2]] = found
        return by_email, by_external

    def apply(self, batch: Batch, *, write: bool) -> Outcome:
        outcome = Outcome()
        rows = batch.rows
        if not rows:
            return outcome
        bulk = self.bulk
        context = self.context
        refs = [item.values["company"] for item in rows if "company" in item.values]
        account_of = self.accounts.resolve(refs, write=write) if refs else {}
        by_email, by_external = self._existing(rows)
        now = bulk.datetime(context.now)
        by_user = context.by.pk if context.by is not None else None
        reason = context.reason
        inserts: list[list] = []
        updates: list[list] = []
        transitions: list[list] = []
        assignments: list[list] = []
        touched: dict[int, int] = {}
        plain = _PLAIN_AT
        lead = LifecycleStage.LEAD.value
        for item in rows:
            values = item.values
            get = values.get
            email = get("email")
            external_id = get("external_id")
            same_id = by_external.get(external_id) if external_id else None
            same_email = by_email.get(email) if email else None
            if same_id and same_email and same_id[0] != same_email[0]:
                outcome.rejected.append(Rejection(item.row, item.cells, [(
                    self.layout.column("email"),
                    f"{email} belongs to another contact than external id {external_id}",
                )]))
                continue
            existing = same_id or same_email
            company = get("company")
            account_id = account_of.get(company) if company else None
            stage = get("lifecycle_stage")
            # Already in the database's form: the parser converts it in the reader thread.
            created_at = get("created_at")
            if existing is None:
                stage = stage or lead
                at = created_at or now
                owner_id = get("owner_id")
                # The placeholder id is replaced once ids are reserved, below.
                placeholder = -len(inserts) - 1
                inserts.append([
                    placeholder, email, get("first_name", ""), get("last_name", ""),
                    get("phone", ""), get("title", ""), "", account_id, owner_id,
                    stage, at, get("lead_source", ""), get("original_campaign_id"),
                    get("country", ""), get("region", ""), external_id or "",
                    at, now,
                ])
                transitions.append([placeholder, "", stage, at, by_user, "import", reason])
                if owner_id:
                    assignments.append([placeholder, owner_id, now, by_user, "import", reason])
                continue
            pk = existing[0]
            if pk in touched:
                outcome.rejected.append(Rejection(item.row, item.cells, [(
                    self.layout.column("email" if email else "external_id"),
                    f"same contact as row {touched[pk]}; keep one row per person",
                )]))
                continue
            touched[pk] = item.row
            # Compare first and copy only on a difference: most rows of a re-import are unchanged.
            changes: dict[int, Any] = {}
            if email and existing[_EMAIL] != email:
                changes[_EMAIL] = email
            if external_id and not existing[_EXTERNAL_ID]:
                changes[_EXTERNAL_ID] = external_id
            for name, position in plain:
                value = get(name, _ABSENT)
                if value is not _ABSENT and value != existing[position]:
                    changes[position] = value
            if account_id is not None and account_id != existing[_ACCOUNT]:
                changes[_ACCOUNT] = account_id
            if created_at is not None and created_at < existing[_CREATED_AT]:
                changes[_CREATED_AT] = created_at
            if stage and stage != existing[_STAGE]:
                changes[_STAGE] = stage
                changes[_STAGE_AT] = now
                transitions.append([pk, existing[_STAGE], stage, now, by_user, "import", reason])
            owner_id = changes.get(_OWNER)
            if owner_id:
                assignments.append([pk, owner_id, now, by_user, "import", reason])
            if not changes:
                outcome.unchanged += 1
                continue
            merged = list(existing)
            for position, value in changes.items():
                merged[position] = value
            merged[_UPDATED_AT] = now
            updates.append(merged)
        outcome.created = len(inserts)
        outcome.updated = len(updates)
        if write:
            self._write(inserts, updates, transitions, assignments)
        return outcome

    def _write(self, inserts: list[list], updates: list[list], transitions: list[list],
               assignments: list[list]) -> None:
        bulk = self.bulk
        if inserts:
            ids = bulk.reserve_ids(Contact, len(inserts))
            for row, pk in zip(inserts, ids, strict=True):
                row[0] = pk
            for row in (*transitions, *assignments):
                if row[0] < 0:
                    row[0] = ids[-row[0] - 1]
            bulk.insert(Contact, INSERT_COLUMNS, inserts)
        if updates:
            bulk.update(Contact, UPDATE_COLUMNS, updates)
        bulk.insert(StageTransition, TRANSITION_COLUMNS, transitions)
        bulk.insert(LeadAssignment, ASSIGNMENT_COLUMNS, assignments)

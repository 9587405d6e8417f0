"""Import accounts, campaign costs, touchpoints and deals.

These files are thousands of rows, not millions, so each chunk goes through the ORM's
bulk_create and bulk_update after one query for the chunk's existing rows; the parsing,
repeat handling and per-chunk transactions are the same as for contacts.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.conf import settings
from django.db.models.functions import Lower

from accord.capture.ingestion import lock_campaigns
from accord.capture.models import Account, Campaign, Contact, CostEntry, Touchpoint
from accord.core.vocabulary import Channel
from accord.deals.models import Deal, DealContact, DealStageChange, Pipeline, PipelineStage
from accord.imports import values as v
from accord.imports import vocabularies as vocab
from accord.imports.bulk import Bulk
from accord.imports.directories import Accounts, Campaigns, Owners, company
from accord.imports.engine import Batch, Importer, Outcome, Prepared, Rejection
from accord.imports.values import Parser, cached, text

_CURRENCY = re.compile(r"[A-Za-z]{3}")


def _currency(raw: str) -> str:
    if not _CURRENCY.fullmatch(raw):
        raise ValueError(f"{raw!r} is not a three-letter currency code (USD, EUR …)")
    return raw.upper()


def _reject(outcome: Outcome, item: Prepared, column: str, message: str) -> None:
    outcome.rejected.append(Rejection(item.row, item.cells, [(column, message)]))


def _changed(obj, values: dict[str, Any]) -> list[str]:
    """Set the values that differ on obj; return the names of the fields it changed."""
    fields = []
    for name, value in values.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            fields.append(name)
    return fields


def _update(model, changed: list[tuple[Any, list[str]]], now: dt.datetime) -> None:
    fields = sorted({name for _, names in changed for name in names})
    if not fields:
        return
    objs = [obj for obj, _ in changed]
    if any(f.name == "updated_at" for f in model._meta.concrete_fields):
        for obj in objs:
            obj.updated_at = now
        fields.append("updated_at")
    model.objects.bulk_update(objs, fields, batch_size=1000)


class AccountImporter(Importer):
    """Upsert companies by external id, then domain, then name."""

    kind = "accounts"

    def load(self) -> None:
        self.owners = Owners()
        super().load()

    def parsers(self) -> dict[str, Parser]:
        tz = self.context.tz
        return {
            "external_id": text(100),
            "name": text(200),
            "domain": cached(v.parse_domain),
            "industry": cached(vocab.industry),
            "employees": cached(vocab.size_band),
            "country": cached(vocab.country),
            "owner": cached(self.owners.parse),
            "created_at": lambda raw: v.parse_datetime(raw, tz),
        }

    def check(self, values: dict[str, Any]) -> list[tuple[str, str]] | None:
        if values.get("domain", "") is None:
            del values["domain"]
        if not {"external_id", "domain", "name"} & values.keys():
            return [(self.layout.column("name"), "an account needs a name, domain or external id")]
        if "employees" in values:
            values["size_band"] = values.pop("employees")
        if "owner" in values:
            values["owner_id"] = values.pop("owner")
        if "country" in values:
            values["region"] = vocab.region_of(values["country"])
        return None

    def identities(self, values: dict[str, Any]) -> list[tuple[str, Any]]:
        keys = [(name, values[name]) for name in ("external_id", "domain") if name in values]
        return keys or [("name", values["name"].lower())]

    def apply(self, batch: Batch, *, write: bool) -> Outcome:
        outcome = Outcome()
        rows = batch.rows
        ids = {r.values["external_id"] for r in rows if "external_id" in r.values}
        domains = {r.values["domain"] for r in rows if "domain" in r.values}
        names = {r.values["name"].lower() for r in rows if "name" in r.values}
        keyed = Account.objects.annotate(domain_key=Lower("domain"), name_key=Lower("name"))
        found = [
            *keyed.filter(external_id__in=ids).exclude(external_id=""),
            *keyed.filter(domain_key__in=domains).exclude(domain=""),
            *keyed.filter(name_key__in=names).order_by("id"),
        ]
        by_id, by_domain, by_name = {}, {}, {}
        for account in found:
            if account.external_id:
                by_id[account.external_id] = account
            if account.domain:
                by_domain[account.domain_key] = account
            by_name.setdefault(account.name_key, account)
        creates, changed, touched = [], [], {}
        for item in rows:
            values = dict(item.values)
            created_at = values.pop("created_at", None)
            account = by_id.get(values.get("external_id"))
            by_dom = by_domain.get(values.get("domain"))
            if account and by_dom and account.pk != by_dom.pk:
                _reject(outcome, item, self.layout.column("domain"),
                        f"domain {values['domain']} belongs to another account than external id "
                        f"{values['external_id']}")
                continue
            account = account or by_dom
            if account is None and "name" in values and not ({"domain", "external_id"} & values.keys()):
                account = by_name.get(values["name"].lower())
            if account is None:
                if "name" not in values:
                    values["name"] = values.get("domain") or values["external_id"]
                account = Account(**values, created_at=created_at or self.context.now)
                creates.append(account)
                for key, index in ((values.get("external_id"), by_id), (values.get("domain"), by_domain)):
                    if key:
                        index[key] = account
                by_name.setdefault(values["name"].lower(), account)
                continue
            if account.pk is None or account.pk in touched:
                _reject(outcome, item, self.layout.column("name"),
                        f"same account as row {touched.get(account.pk, '?')}; keep one row per company")
                continue
            touched[account.pk] = item.row
            if account.external_id and values.get("external_id") not in (None, account.external_id):
                values.pop("external_id")
            if created_at and created_at < account.created_at:
                values["created_at"] = created_at
            names = _changed(account, values)
            if names:
                changed.append((account, names))
            else:
                outcome.unchanged += 1
        outcome.created, outcome.updated = len(creates), len(changed)
        if write:
            Account.objects.bulk_create(creates, batch_size=1000)
            _update(Account, changed, self.context.now)
        return outcome


class CostImporter(Importer):
    """Upsert a campaign's imported cost for a day: a second import of that day replaces it."""

    kind = "costs"

    def load(self) -> None:
        self.campaigns = Campaigns()
        super().load()

    def parsers(self) -> dict[str, Parser]:
        tz = self.context.tz
        return {
            "date": cached(lambda raw: v.parse_date(raw, tz)),
            "campaign": cached(self.campaigns.parse),
            "amount": v.parse_amount,
            "currency": cached(_currency),
            "impressions": v.parse_count,
            "clicks": v.parse_count,
        }

    def check(self, values: dict[str, Any]) -> list[tuple[str, str]] | None:
        for target in ("date", "campaign", "amount"):
            if target not in values:
                return [(self.layout.column(target), f"the {target} is missing")]
        values.setdefault("currency", self.layout.defaults.get("currency", settings.ACCORD_CURRENCY))
        return None

    def identities(self, values: dict[str, Any]) -> list[tuple[str, Any]]:
        return [("campaign", (values["campaign"], values["date"]))]

    def apply(self, batch: Batch, *, write: bool) -> Outcome:
        outcome = Outcome()
        rows = batch.rows
        existing = {
            (cost.campaign_id, cost.date): cost
            for cost in CostEntry.objects.filter(
                source=CostEntry.Source.IMPORT,
                campaign_id__in={r.values["campaign"] for r in rows},
                date__in={r.values["date"] for r in rows},
            ).order_by("-id")
        }
        creates, changed = [], []
        for item in rows:
            values = dict(item.values)
            key = (values.pop("campaign"), values.pop("date"))
            cost = existing.get(key)
            if cost is None:
                creates.append(CostEntry(
                    campaign_id=key[0], date=key[1], source=CostEntry.Source.IMPORT,
                    note=self.context.reason[:200], **values,
                ))
                continue
            names = _changed(cost, values)
            if names:
                changed.append((cost, names))
            else:
                outcome.unchanged += 1
        outcome.created, outcome.updated = len(creates), len(changed)
        if write:
            CostEntry.objects.bulk_create(creates, batch_size=1000)
            _update(CostEntry, changed, self.context.now)
        return outcome


class TouchpointImporter(Importer):
    """Upsert touches by external id, or by person, kind and time when the file has no ids."""

    kind = "touchpoints"

    def load(self) -> None:
        self.campaigns = Campaigns()
        self.channel_of = dict(Campaign.objects.values_list("id", "channel"))
        super().load()

    def parsers(self) -> dict[str, Parser]:
        tz = self.context.tz
        kinds = {v.word_key(k): k for k in Touchpoint.Kind.values}
        kinds.update({v.word_key(label): k for k, label in Touchpoint.Kind.choices})
        return {
            "external_id": text(100),
            "contact_email": v.parse_email,
            "contact_external_id": text(100),
            "anonymous_id": text(64),
            "campaign": cached(self.campaigns.parse),
            "channel": v.vocabulary(vocab.CHANNELS, "channel", ", ".join(Channel.values)),
            "kind": v.vocabulary(kinds, "kind", ", ".join(Touchpoint.Kind.values)),
            "occurred_at": lambda raw: v.parse_datetime(raw, tz),
            **{name: text(100) for name in ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")},
            "url": text(1000),
            "referrer": text(1000),
        }

    def check(self, values: dict[str, Any]) -> list[tuple[str, str]] | None:
        for target in ("occurred_at", "kind"):
            if target not in values:
                return [(self.layout.column(target), f"a touchpoint needs its {target.replace('_', ' ')}")]
        if not {"contact_email", "contact_external_id", "anonymous_id"} & values.keys():
            return [(self.layout.column("contact_email"),
                     "a touchpoint needs the person's email, contact external id or anonymous id")]
        if "campaign" in values:
            values["campaign_id"] = values.pop("campaign")
        if not values.get("channel"):
            channel = self.channel_of.get(values.get("campaign_id"))
            if not channel:
                return [(self.layout.column("channel"),
                         f"a touchpoint needs a channel (or a campaign); accepted: {', '.join(Channel.values)}")]
            values["channel"] = channel
        return None

    def identities(self, values: dict[str, Any]) -> list[tuple[str, Any]]:
        if "external_id" in values:
            return [("external_id", values["external_id"])]
        person = values.get("contact_email") or values.get("contact_external_id") or values["anonymous_id"]
        return [("occurred_at", (person, values["kind"], values["occurred_at"]))]

    def apply(self, batch: Batch, *, write: bool) -> Outcome:
        outcome = Outcome()
        rows = batch.rows
        emails = {r.values["contact_email"] for r in rows if "contact_email" in r.values}
        ext_ids = {r.values["contact_external_id"] for r in rows if "contact_external_id" in r.values}
        contact_by_email = dict(
            Contact.objects.annotate(e=Lower("email")).filter(e__in=emails).values_list("e", "id")
        )
        contact_by_ext = dict(
            Contact.objects.filter(external_id__in=ext_ids).exclude(external_id="").values_list("external_id", "id")
        )
        resolved: list[tuple[Prepared, dict[str, Any]]] = []
        for item in rows:
            values = dict(item.values)
            email, ext = values.pop("contact_email", None), values.pop("contact_external_id", None)
            contact_id = contact_by_email.get(email) if email else contact_by_ext.get(ext) if ext else None
            if (email or ext) and contact_id is None:
                column = self.layout.column("contact_email" if email else "contact_external_id")
                _reject(outcome, item, column, f"no contact has {'email' if email else 'external id'} "
                        f"{email or ext}; import the contacts first")
                continue
            values["contact_id"] = contact_id
            resolved.append((item, values))
        by_ext = {t.external_id: t for t in Touchpoint.objects.filter(
            external_id__in={val["external_id"] for _, val in resolved if "external_id" in val}
        ).exclude(external_id="")}
        natural = {
            (t.contact_id, t.anonymous_id, t.kind, t.occurred_at): t
            for t in Touchpoint.objects.filter(
                occurred_at__in={val["occurred_at"] for _, val in resolved if "external_id" not in val}
            ).order_by("-id")
        }
        creates, changed = [], []
        for _item, values in resolved:
            if "external_id" in values:
                touch = by_ext.get(values["external_id"])
            else:
                touch = natural.get((values["contact_id"], values.get("anonymous_id", ""),
                                     values["kind"], values["occurred_at"]))
            if touch is None:
                creates.append(Touchpoint(**values))
                continue
            names = _changed(touch, values)
            if names:
                changed.append((touch, names))
            else:
                outcome.unchanged += 1
        outcome.created, outcome.updated = len(creates), len(changed)
        if write:
            _drop_deleted_campaigns(creates + [touch for touch, _ in changed])
            Touchpoint.objects.bulk_create(creates, batch_size=1000)
            _update(Touchpoint, changed, self.context.now)
        return outcome


def _drop_deleted_campaigns(touches: list[Touchpoint]) -> None:
    # A touch's campaign has no foreign-key constraint (capture's model): check the chunk's
    # campaigns, held until the chunk commits, and leave out any deleted since the file was read.
    live = lock_campaigns({touch.campaign_id for touch in touches} - {None})
    for touch in touches:
        if touch.campaign_id is not None and touch.campaign_id not in live:
            touch.campaign_id = None


_WON_WORDS = frozenset({"closedwon", "won"})
_LOST_WORDS = frozenset({"closedlost", "lost"})


class DealImporter(Importer):
    """Upsert deals by external id, or by name and account; record every stage they enter."""

    kind = "deals"

    def load(self) -> None:
        self.bulk = Bulk()
        self.owners = Owners()
        self.campaigns = Campaigns()
        self.accounts = Accounts(bulk=self.bulk, context=self.context)
        self.pipelines = {v.word_key(p.name): p for p in Pipeline.objects.all()}
        default = Pipeline.objects.filter(is_default=True).first() or Pipeline.objects.order_by("id").first()
        self.default_pipeline = default
        self.stages: dict[int, dict[str, PipelineStage]] = {}
        for stage in PipelineStage.objects.order_by("pipeline_id", "order"):
            table = self.stages.setdefault(stage.pipeline_id, {})
            table[v.word_key(stage.name)] = stage
            words = _WON_WORDS if stage.outcome == "won" else _LOST_WORDS if stage.outcome == "lost" else ()
            for word in words:
                table.setdefault(word, stage)
        super().load()

    def parsers(self) -> dict[str, Parser]:
        tz = self.context.tz
        return {
            "external_id": text(100),
            "name": text(200),
            "account": text(200),
            "pipeline": text(100),
            "stage": text(100),
            "amount": v.parse_amount,
            "currency": cached(_currency),
            "close_date": cached(lambda raw: v.parse_date(raw, tz)),
            "owner": cached(self.owners.parse),
            "probability": v.parse_probability,
            "campaign": cached(self.campaigns.parse),
            "contact_email": v.parse_email,
            "created_at": lambda raw: v.parse_datetime(raw, tz),
        }

    def check(self, values: dict[str, Any]) -> list[tuple[str, str]] | None:
        if "stage" not in values:
            return [(self.layout.column("stage"), "a deal needs a stage")]
        if "name" not in values and "external_id" not in values:
            return [(self.layout.column("name"), "a deal needs a name or an external id")]
        pipeline = self.default_pipeline
        if "pipeline" in values:
            pipeline = self.pipelines.get(v.word_key(values.pop("pipeline")))
            if pipeline is None:
                names = ", ".join(p.name for p in self.pipelines.values())
                return [(self.layout.column("pipeline"), f"unknown pipeline; accepted: {names}")]
        if pipeline is None:
            return [(self.layout.column("stage"), "no pipeline exists yet; create one before importing deals")]
        stage = self.stages.get(pipeline.pk, {}).get(v.word_key(values["stage"]))
        if stage is None:
            names = ", ".join(sorted({s.name for s in self.stages.get(pipeline.pk, {}).values()}))
            return [(self.layout.column("stage"),
                     f"unknown stage {values['stage']!r} in pipeline {pipeline.name}; accepted: {names}")]
        values["stage"] = stage
        if "owner" in values:
            values["owner_id"] = values.pop("owner")
        if "campaign" in values:
            values["source_campaign_id"] = values.pop("campaign")
        return None

    def identities(self, values: dict[str, Any]) -> list[tuple[str, Any]]:
        if "external_id" in values:
            return [("external_id", values["external_id"])]
        return [("name", (values["name"].lower(), (values.get("account") or "").lower()))]

    def forget(self) -> None:
        self.accounts.forget()

    def apply(self, batch: Batch, *, write: bool) -> Outcome:
        outcome = Outcome()
        rows = batch.rows
        context = self.context
        refs = [company(domain=None, name=r.values["account"]) for r in rows if "account" in r.values]
        account_of = self.accounts.resolve(refs, write=write) if refs else {}
        emails = {r.values["contact_email"] for r in rows if "contact_email" in r.values}
        contact_by_email = dict(
            Contact.objects.annotate(e=Lower("email")).filter(e__in=emails).values_list("e", "id")
        )
        by_ext = {d.external_id: d for d in Deal.objects.filter(
            external_id__in={r.values["external_id"] for r in rows if "external_id" in r.values}
        ).exclude(external_id="")}
        by_name = {
            (d.name_key, d.account_id): d
            for d in Deal.objects.annotate(name_key=Lower("name")).filter(
                name_key__in={r.values["name"].lower() for r in rows if "name" in r.values}
            ).order_by("-id")
        }
        creates, changed, moves, people = [], [], [], []
        for item in rows:
            values = dict(item.values)
            stage: PipelineStage = values.pop("stage")
            account = values.pop("account", None)
            email = values.pop("contact_email", None)
            created_at = values.pop("created_at", None)
            if email and email not in contact_by_email:
                _reject(outcome, item, self.layout.column("contact_email"),
                        f"no contact has email {email}; import the contacts first")
                continue
            account_id = account_of.get(company(domain=None, name=account)) if account else None
            if account_id is not None:
                values["account_id"] = account_id
            values.update(stage_id=stage.pk, pipeline_id=stage.pipeline_id, status=stage.outcome)
            if stage.outcome != "open":
                close = values.get("close_date") or context.now.date()
                values["closed_at"] = dt.datetime.combine(close, dt.time(), tzinfo=context.tz)
            deal = by_ext.get(values.get("external_id")) if "external_id" in values else None
            if deal is None and "name" in values:
                deal = by_name.get((values["name"].lower(), account_id))
            if deal is None:
                values.setdefault("name", values.get("external_id", ""))
                deal = Deal(**values, created_at=created_at or context.now)
                creates.append(deal)
                moves.append((deal, None, stage.pk, created_at or context.now))
            else:
                if deal.external_id and values.get("external_id") not in (None, deal.external_id):
                    values.pop("external_id")
                before = deal.stage_id
                names = _changed(deal, values)
                if before != deal.stage_id:
                    moves.append((deal, before, deal.stage_id, context.now))
                if names:
                    changed.append((deal, names))
                else:
                    outcome.unchanged += 1
            if email:
                people.append((deal, contact_by_email[email]))
        outcome.created, outcome.updated = len(creates), len(changed)
        if write:
            Deal.objects.bulk_create(creates, batch_size=1000)
            _update(Deal, changed, context.now)
            by_user = context.by.pk if context.by is not None else None
            DealStageChange.objects.bulk_create([
                DealStageChange(deal=deal, from_stage_id=before, to_stage_id=after, occurred_at=at,
                                by_user_id=by_user)
                for deal, before, after, at in moves
            ])
            DealContact.objects.bulk_create(
                [DealContact(deal=deal, contact_id=contact_id, is_primary=True) for deal, contact_id in people],
                ignore_conflicts=True,
            )
        return outcome

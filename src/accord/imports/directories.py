"""Look-ups an import resolves cells against: users (owners), campaigns, and accounts.

Users and campaigns are few, so they load once per import; accounts can number millions,
so they are fetched per chunk for the chunk's company names and domains, and remembered.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from django.contrib.auth import get_user_model

from accord.capture.models import Account, Campaign
from accord.imports.bulk import Bulk
from accord.imports.engine import Context

_AMBIGUOUS = -1


class Owners:
    """Find a user by email, username or full name, case-insensitively."""

    def __init__(self) -> None:
        self._ids: dict[str, int] = {}
        users = get_user_model().objects.order_by("id").values_list(
            "id", "email", "username", "first_name", "last_name"
        )
        for pk, email, username, first, last in users:
            for key in (email, username):
                if key:
                    self._ids.setdefault(key.strip().lower(), pk)
            name = " ".join(f"{first} {last}".lower().split())
            if name:
                self._ids[name] = _AMBIGUOUS if self._ids.get(name, pk) != pk else pk

    def parse(self, raw: str) -> int:
        found = self._ids.get(" ".join(raw.lower().split()))
        if found is None:
            raise ValueError(f"unknown owner {raw!r}: no user has this email, username or name")
        if found == _AMBIGUOUS:
            raise ValueError(f"owner {raw!r} names more than one user; give their email instead")
        return found


class Campaigns:
    """Find a campaign by name or UTM campaign code, case-insensitively."""

    def __init__(self) -> None:
        self._ids: dict[str, int] = {}
        for pk, name, code in Campaign.objects.order_by("id").values_list("id", "name", "utm_campaign"):
            if code:
                self._ids.setdefault(code.strip().lower(), pk)
            self._ids.setdefault(name.strip().lower(), pk)

    def parse(self, raw: str) -> int:
        found = self._ids.get(raw.strip().lower())
        if found is None:
            raise ValueError(f"unknown campaign {raw!r}: no campaign has this name or UTM code")
        return found


class CompanyRef(NamedTuple):
    """The company a contact row names: by domain (website or work email) and/or by name."""

    # A tuple rather than a dataclass: it is hashed several times per row, and tuples hash in C.
    domain: str | None
    name: str | None
    name_key: str | None
    industry: str = ""
    size_band: str = ""
    country: str = ""
    region: str = ""


def company(*, domain: str | None, name: str | None, **details: str) -> CompanyRef:
    return CompanyRef(domain, name, name.lower() if name else None, **details)


ACCOUNT_COLUMNS = (
    "id", "name", "domain", "industry", "size_band", "region", "country", "segment",
    "trade_channel", "presence", "owner_id", "external_id", "created_at", "updated_at",
)
_CACHE_LIMIT = 500_000


class Accounts:
    """Match company references to accounts, creating the missing ones that have a name.

    A domain matches first, then the name; a reference with only a domain (from a work
    email) links to an existing account but creates none, as a domain alone is no name.
    """

    def __init__(self, *, bulk: Bulk, context: Context) -> None:
        self.bulk = bulk
        self.context = context
        self._by_domain: dict[str, int] = {}
        self._by_name: dict[str, int] = {}
        self._next_planned = -1
        self.created = 0

    def forget(self) -> None:
        self._by_domain.clear()
        self._by_name.clear()

    def resolve(self, refs: list[CompanyRef], *, write: bool) -> dict[CompanyRef, int]:
        if len(self._by_domain) + len(self._by_name) > _CACHE_LIMIT:
            self.forget()
        self._load(
            {ref.domain for ref in refs if ref.domain} - self._by_domain.keys(),
            {ref.name_key for ref in refs if ref.name_key} - self._by_name.keys(),
        )
        found: dict[CompanyRef, int] = {}
        new_rows: list[list] = []
        # Where a planned (negative) id went, to put the real one there: walking the whole
        # caches instead would cost more with every chunk of a large file.
        planned: list[tuple[dict, Any]] = []
        now = self.bulk.datetime(self.context.now)
        for ref in refs:
            if ref in found:
                continue
            pk = self._by_domain.get(ref.domain) if ref.domain else None
            if pk is None and ref.name_key:
                pk = self._by_name.get(ref.name_key)
            if pk is None and ref.name:
                pk = self._next_planned
                self._next_planned -= 1
                new_rows.append([
                    pk, ref.name, ref.domain or "", ref.industry, ref.size_band, ref.region,
                    ref.country, "b2b", "direct", "online", None, "", now, now,
                ])
            if pk is None:
                continue
            if ref.domain and self._by_domain.setdefault(ref.domain, pk) < 0:
                planned.append((self._by_domain, ref.domain))
            if ref.name_key and self._by_name.setdefault(ref.name_key, pk) < 0:
                planned.append((self._by_name, ref.name_key))
            found[ref] = pk
            if pk < 0:
                planned.append((found, ref))
        if new_rows and write:
            real = dict(zip(
                (row[0] for row in new_rows),
                self.bulk.reserve_ids(Account, len(new_rows)),
                strict=True,
            ))
            for row in new_rows:
                row[0] = real[row[0]]
            self.bulk.insert(Account, ACCOUNT_COLUMNS, new_rows)
            for cache, key in planned:
                cache[key] = real.get(cache[key], cache[key])
        self.created += len(new_rows)
        return found

    def _load(self, domains: set[str], names: set[str]) -> None:
        bulk = self.bulk
        if domains:
            rows = bulk.fetch(
                f"SELECT lower(domain), id FROM capture_account WHERE {bulk.any_of('lower(domain)')}"  # noqa: S608 (table and column names come from model metadata)
                " AND NOT (domain = '')",
                [bulk.list_param(domains)],
            )
            self._by_domain.update(rows)
        if names:
            rows = bulk.fetch(
                f"SELECT lower(name), min(id) FROM capture_account WHERE {bulk.any_of('lower(name)')}"  # noqa: S608 (table and column names come from model metadata)
                " GROUP BY lower(name)",
                [bulk.list_param(names)],
            )
            self._by_name.update(rows)
